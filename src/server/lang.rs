//! `?lang=ja|en` on any page: remembered in the cookie the i18n layer reads, so the page
//! that answers this very request is already in the chosen language.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{COOKIE, SET_COOKIE};
use axum::middleware::Next;
use axum::response::Response;

/// Cookie read by leptos_i18n. Not HttpOnly on purpose: it holds no secret, and the
/// client-side i18n context rewrites it when the language changes.
pub const LANG_COOKIE: &str = "i18n_pref_locale";

/// Axum middleware applying `?lang=`.
pub async fn apply_lang_query(mut req: Request, next: Next) -> Response {
    // On the search page (and its calendar feed) `lang` is the event-language filter; `hl`
    // works everywhere.
    let search_page = matches!(req.uri().path(), "/events" | "/events.ics");
    let chosen = req.uri().query().and_then(|q| lang_from_query(q, !search_page));
    if let Some(lang) = chosen {
        let others: Vec<String> = req
            .headers()
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .map(str::trim)
            .filter(|c| !c.is_empty() && !c.starts_with(&format!("{LANG_COOKIE}=")))
            .map(str::to_string)
            .collect();
        let mut cookie = format!("{LANG_COOKIE}={lang}");
        for c in others {
            cookie.push_str("; ");
            cookie.push_str(&c);
        }
        req.headers_mut().remove(COOKIE);
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            req.headers_mut().insert(COOKIE, v);
        }
    }
    let secure = req.headers().get("x-forwarded-proto").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"https"));
    let mut res = next.run(req).await;
    if let Some(lang) = chosen {
        let mut set = format!("{LANG_COOKIE}={lang}; Path=/; Max-Age=31536000; SameSite=Lax");
        if secure {
            set.push_str("; Secure");
        }
        if let Ok(v) = HeaderValue::from_str(&set) {
            res.headers_mut().append(SET_COOKIE, v);
        }
    }
    res
}

/// The supported language named by `hl` (or `lang`, when `lang_too`) in a query string.
pub fn lang_from_query(query: &str, lang_too: bool) -> Option<&'static str> {
    query.split('&').find_map(|pair| match pair.split_once('=') {
        Some((k, v)) if k == "hl" || (lang_too && k == "lang") => match v {
            "ja" => Some("ja"),
            "en" => Some("en"),
            _ => None,
        },
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::lang_from_query;

    #[test]
    fn only_supported_languages_are_taken() {
        assert_eq!(lang_from_query("page=2&lang=en", true), Some("en"));
        assert_eq!(lang_from_query("lang=ja", true), Some("ja"));
        assert_eq!(lang_from_query("lang=fr", true), None);
        assert_eq!(lang_from_query("language=en", true), None);
        assert_eq!(lang_from_query("lang=en", false), None, "the search page's filter");
        assert_eq!(lang_from_query("lang=en&hl=ja", false), Some("ja"));
    }
}
