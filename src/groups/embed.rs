//! `/embed/groups/{slug}`: a group's upcoming events as a small page for an `<iframe>` on the
//! community's own website. Plain server-rendered HTML with its styles and a few lines of
//! script inline (no app, no WebAssembly): the whole page weighs a few kilobytes. Seat counts
//! follow the live stream. The only pages that may be framed, by the sites the group chose
//! (CSP `frame-ancestors`; any site by default).
//!
//! Query: `theme` = `light` | `dark` | `auto` (the reader's system setting; default),
//! `lang` = `ja` | `en` (default: the reader's `Accept-Language`), `limit` = 1–20 (default 5).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use crate::events::model::EventCard;
use crate::server::state::AppState;
use crate::time::Lang;

#[derive(Debug, Default, Deserialize)]
pub struct EmbedQuery {
    theme: Option<String>,
    lang: Option<String>,
    limit: Option<String>,
}

/// Most events the widget lists.
pub const MAX_LIMIT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Theme {
    Light,
    Dark,
    Auto,
}

/// Escapes text for HTML content and quoted attributes.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn lang_of(q: &EmbedQuery, headers: &HeaderMap) -> Lang {
    match q.lang.as_deref() {
        Some("en") => Lang::En,
        Some("ja") => Lang::Ja,
        _ => {
            let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or_default();
            let first = accept.split(',').next().unwrap_or_default().trim().to_ascii_lowercase();
            if first.starts_with("en") { Lang::En } else { Lang::Ja }
        }
    }
}

/// The copy-paste `<iframe>` of a group's widget, escaped like the widget itself.
pub fn snippet(public_url: &str, slug: &str, title: &str) -> String {
    format!(
        "<iframe src=\"{}/embed/groups/{}\" title=\"{}\" width=\"100%\" height=\"420\" style=\"border:0\" \
         loading=\"lazy\"></iframe>",
        esc(public_url),
        esc(slug),
        esc(title)
    )
}

/// The widget's Content-Security-Policy: its own inline style and script (by nonce), the
/// seat stream, framed only by `origins` (`*`: any site).
pub fn embed_policy(nonce: &str, origins: Option<&str>) -> String {
    format!(
        "default-src 'none'; style-src 'nonce-{nonce}'; script-src 'nonce-{nonce}'; connect-src 'self'; \
         img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {}",
        origins.unwrap_or("*")
    )
}

/// `GET /embed/groups/{slug}`.
pub async fn group_widget(
    State(state): State<AppState>,
    Path(slug): Path<String>,
    Query(q): Query<EmbedQuery>,
    headers: HeaderMap,
) -> Response {
    let not_found =
        || (StatusCode::NOT_FOUND, Html("<!doctype html><title>404</title><p>Not found</p>")).into_response();
    let origins = match state.store.embed_origins(&slug).await {
        Ok(Some(origins)) => origins,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "embed: group lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><p>Error</p>")).into_response();
        }
    };
    let group = match state.store.fetch_group(&slug, crate::time::now()).await {
        Ok(Some(g)) => g,
        Ok(None) => return not_found(),
        Err(e) => {
            tracing::error!(error = %e, "embed: group lookup failed");
            return (StatusCode::INTERNAL_SERVER_ERROR, Html("<!doctype html><p>Error</p>")).into_response();
        }
    };
    let lang = lang_of(&q, &headers);
    let theme = match q.theme.as_deref() {
        Some("light") => Theme::Light,
        Some("dark") => Theme::Dark,
        _ => Theme::Auto,
    };
    let limit = q.limit.as_deref().and_then(|l| l.trim().parse::<usize>().ok()).unwrap_or(5).clamp(1, MAX_LIMIT);
    let nonce = crate::server::secret::new_hex(16);
    let cards: Vec<&EventCard> = group.upcoming.iter().take(limit).collect();
    let html = render(&state.config.public_url, &group.slug, &group.title, &cards, lang, theme, &nonce);
    let mut res = Html(html).into_response();
    let h = res.headers_mut();
    if let Ok(policy) = HeaderValue::from_str(&embed_policy(&nonce, origins.as_deref())) {
        h.insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    // Seat counts are live; the list itself may be a minute old.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"));
    h.insert(header::VARY, HeaderValue::from_static("accept-language"));
    res
}

fn render(
    public_url: &str,
    slug: &str,
    title: &str,
    cards: &[&EventCard],
    lang: Lang,
    theme: Theme,
    nonce: &str,
) -> String {
    let (heading, empty, all, html_lang) = match lang {
        Lang::Ja => ("開催予定のイベント", "開催予定のイベントはありません", "すべて見る", "ja"),
        Lang::En => ("Upcoming events", "No upcoming events", "See all", "en"),
    };
    let light = "--bg:#fff;--ink:#1d2433;--soft:#505a6e;--line:#dde2ea;--link:#1d4ed8;--full:#b91c1c";
    let dark = "--bg:#161b26;--ink:#e8ebf2;--soft:#a9b1c2;--line:#2d3546;--link:#8fb3ff;--full:#f87171";
    let vars = match theme {
        Theme::Light => format!(":root{{{light}}}"),
        Theme::Dark => format!(":root{{{dark}}}"),
        Theme::Auto => format!(":root{{{light}}}@media(prefers-color-scheme:dark){{:root{{{dark}}}}}"),
    };
    let mut items = String::new();
    for card in cards {
        let title = match lang {
            Lang::En if !card.title_en.is_empty() => &card.title_en,
            _ => &card.title,
        };
        let seats = &card.seats;
        let count =
            if seats.limit > 0 { format!("{}/{}", seats.accepted, seats.limit) } else { seats.accepted.to_string() };
        let full = if seats.is_full() { " full" } else { "" };
        items.push_str(&format!(
            "<li data-event=\"{id}\"><a href=\"{url}/events/{id}\" target=\"_blank\" rel=\"noopener\">{t}</a>\
             <span class=\"when\">{when}</span><span class=\"seats{full}\" title=\"{label}\">{count}</span></li>",
            id = card.id,
            url = esc(public_url),
            t = esc(title),
            when = esc(&format!("{} {}", card.span.label(lang), card.span.zone_abbr)),
            label = if lang == Lang::Ja { "参加者/定員" } else { "attending/capacity" },
        ));
    }
    let list = if items.is_empty() { format!("<p class=\"empty\">{empty}</p>") } else { format!("<ul>{items}</ul>") };
    format!(
        "<!doctype html><html lang=\"{html_lang}\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
         <link rel=\"icon\" type=\"image/svg+xml\" href=\"/favicon.svg\">\
         <title>{title}</title><style nonce=\"{nonce}\">{vars}{STYLE}</style></head><body>\
         <h1><a href=\"{url}/groups/{slug}\" target=\"_blank\" rel=\"noopener\">{title}</a></h1>\
         <h2>{heading}</h2>{list}\
         <p class=\"foot\"><a href=\"{url}/groups/{slug}\" target=\"_blank\" rel=\"noopener\">{all} →</a> · Tsudoi</p>\
         <script nonce=\"{nonce}\">{SCRIPT}</script></body></html>",
        title = esc(title),
        url = esc(public_url),
        slug = esc(slug),
    )
}

const STYLE: &str = "*{box-sizing:border-box}body{margin:0;padding:12px;font:14px/1.5 system-ui,-apple-system,\
\"Segoe UI\",\"Hiragino Sans\",\"Noto Sans JP\",Meiryo,sans-serif;background:var(--bg);color:var(--ink)}\
a{color:var(--link)}h1{font-size:16px;margin:0 0 4px}h1 a{color:var(--ink);text-decoration:none}\
h2{font-size:12px;font-weight:600;color:var(--soft);margin:0 0 8px}ul{list-style:none;margin:0;padding:0}\
li{display:grid;grid-template-columns:1fr auto;gap:0 8px;padding:8px 0;border-top:1px solid var(--line)}\
li a{font-weight:600;overflow-wrap:anywhere}.when{grid-column:1;color:var(--soft);font-size:12px}\
.seats{grid-column:2;grid-row:1/3;align-self:center;font-variant-numeric:tabular-nums;font-weight:600}\
.seats.full{color:var(--full)}.empty,.foot{color:var(--soft);font-size:12px}.foot{margin:8px 0 0}";

/// Follows the seat stream of the listed events and updates their counts.
const SCRIPT: &str = "(function(){var l=document.querySelectorAll('[data-event]'),ids=[];\
for(var i=0;i<l.length;i++)ids.push(l[i].getAttribute('data-event'));if(!ids.length||!window.EventSource)return;\
var s=new EventSource('/live/events?ids='+ids.join(','));s.addEventListener('seats',function(e){try{\
var d=JSON.parse(e.data),el=document.querySelector('[data-event=\"'+d.event_id+'\"] .seats');if(!el)return;\
el.textContent=d.limit>0?d.accepted+'/'+d.limit:String(d.accepted);\
el.className='seats'+(d.limit>0&&d.accepted>=d.limit?' full':'');}catch(_){}});})();";

#[cfg(test)]
mod tests {
    use super::embed_policy;

    #[test]
    fn text_cannot_break_out_of_the_markup() {
        assert_eq!(super::esc(r#"<b a="1">'&'"#), "&lt;b a=&quot;1&quot;&gt;&#39;&amp;&#39;");
    }

    #[test]
    fn the_widget_may_be_framed_by_the_chosen_sites_and_runs_only_its_own_script() {
        let any = embed_policy("n1", None);
        assert!(any.ends_with("frame-ancestors *"), "{any}");
        assert!(any.contains("script-src 'nonce-n1';") && any.contains("default-src 'none'"));
        let some = embed_policy("n2", Some("https://example.com https://*.example.org"));
        assert!(some.ends_with("frame-ancestors https://example.com https://*.example.org"), "{some}");
    }
}
