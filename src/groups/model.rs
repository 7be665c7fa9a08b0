//! Group wire types.

use serde::{Deserialize, Serialize};

use crate::events::model::EventCard;

/// A group's public page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// Markdown rendered and sanitised on the server.
    pub description_html: String,
    pub website: Option<String>,
    pub image_url: Option<String>,
    pub member_count: i64,
    /// Reachable by link only: the page asks search engines not to index it.
    pub unlisted: bool,
    pub upcoming: Vec<EventCard>,
    pub past: Vec<EventCard>,
}

/// Followers of a group and whether I follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Following {
    pub followers: i64,
    pub following: bool,
    pub signed_in: bool,
}

/// Most origins a group may allow to frame its widget.
pub const MAX_EMBED_ORIGINS: usize = 10;

/// The origins allowed to frame a group's widget (`/embed/groups/{slug}`), as typed by its
/// organizers: separated by spaces, commas or lines, each `https://host[:port]` (or `http://`),
/// the host optionally starting with `*.`. Empty or `*` means any site (`None`). The answer is
/// the CSP `frame-ancestors` source list, normalised; nothing else can get into the header.
pub fn parse_embed_origins(raw: &str) -> Result<Option<String>, crate::error::FieldError> {
    let bad = |msg: &str| crate::error::FieldError::new("embed_origins", "invalid_origin", msg);
    let items: Vec<&str> = raw.split(|c: char| c.is_whitespace() || c == ',').filter(|s| !s.is_empty()).collect();
    if items.is_empty() || items == ["*"] {
        return Ok(None);
    }
    if items.len() > MAX_EMBED_ORIGINS {
        return Err(bad("at most 10 sites"));
    }
    let mut out: Vec<String> = Vec::new();
    for item in items {
        let lower = item.trim_end_matches('/').to_ascii_lowercase();
        let Some((scheme, rest)) = lower.split_once("://") else {
            return Err(bad("each site is an origin such as https://example.com"));
        };
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => (h, Some(p)),
            _ => (rest, None),
        };
        let bare = host.strip_prefix("*.").unwrap_or(host);
        let label_ok = |l: &str| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        };
        if !matches!(scheme, "https" | "http") || bare.len() > 253 || !bare.split('.').all(label_ok) {
            return Err(bad("each site is an origin such as https://example.com (no path)"));
        }
        let origin = match port {
            Some(p) => format!("{scheme}://{host}:{p}"),
            None => format!("{scheme}://{host}"),
        };
        if !out.contains(&origin) {
            out.push(origin);
        }
    }
    Ok(Some(out.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::parse_embed_origins;

    #[test]
    fn embed_origins_are_a_clean_source_list_or_any_site() {
        assert_eq!(parse_embed_origins("").unwrap(), None);
        assert_eq!(parse_embed_origins(" * ").unwrap(), None);
        assert_eq!(
            parse_embed_origins(
                "https://Example.com/, https://*.example.org:8443\nhttp://localhost:3000 https://example.com"
            )
            .unwrap()
            .as_deref(),
            Some("https://example.com https://*.example.org:8443 http://localhost:3000")
        );
        for bad in [
            "example.com",
            "ftp://example.com",
            "https://example.com/path",
            "https://exa mple.com",
            "https://example.com; script-src *",
            "https://'self'",
            "https://-bad.com",
        ] {
            assert!(parse_embed_origins(bad).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..11).map(|i| format!("https://s{i}.example.com")).collect();
        assert!(parse_embed_origins(&many.join(" ")).is_err());
    }
}
