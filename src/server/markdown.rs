//! Markdown for descriptions: rendered by pulldown-cmark, then cleaned by ammonia's
//! allow-list, so no script, style or event handler reaches a page.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::{Arc, LazyLock, Mutex};

use pulldown_cmark::{Event, LinkType, Options, Parser, Tag, TagEnd};

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS
}

/// True for an image this site serves itself (a path on this origin). Other images would let
/// whoever hosts them see every reader of the page (a tracking pixel); the page policy
/// (`csp.rs`) would block them anyway.
fn own_image(url: &str) -> bool {
    url.starts_with('/') && !url.starts_with("//") && !url.starts_with("/\\")
}

/// Markdown → sanitised HTML. Links get `rel="noopener noreferrer nofollow"`; a remote image
/// becomes a link to it, labelled with its alt text. Pages and the API render the same few
/// descriptions again and again, so answers are kept (see [`RENDERED`]).
pub fn to_safe_html(markdown: &str) -> String {
    let key = RENDERED_KEYS.hash_one(markdown);
    if let Some((len, html)) = rendered().get(&key)
        && *len == markdown.len()
    {
        return html.to_string();
    }
    let html = render(markdown);
    let mut kept = rendered();
    if kept.len() >= RENDERED_MAX {
        kept.clear();
    }
    kept.insert(key, (markdown.len(), Arc::from(html.as_str())));
    html
}

/// Rendered descriptions kept: at most this many (then they start over).
const RENDERED_MAX: usize = 2_048;

/// Rendered descriptions by a hash of their Markdown (SipHash keyed at random per process, so
/// nobody can make two texts collide on purpose) and its length.
static RENDERED: LazyLock<Mutex<Rendered>> = LazyLock::new(Default::default);
/// Hash of the Markdown → (its length, the HTML).
type Rendered = HashMap<u64, (usize, Arc<str>)>;
static RENDERED_KEYS: LazyLock<RandomState> = LazyLock::new(RandomState::new);

fn rendered() -> std::sync::MutexGuard<'static, Rendered> {
    RENDERED.lock().unwrap_or_else(|p| p.into_inner())
}

/// The allow-list, built once (building it is most of the cost of a short description).
static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.link_rel(Some("noopener noreferrer nofollow"));
    b
});

fn render(markdown: &str) -> String {
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    // Images do not nest: at most one is open at a time.
    let mut remote_image_open = false;
    let events = Parser::new_ext(markdown, options()).map(|event| match event {
        Event::Start(Tag::Image { dest_url, title, id, .. }) if !own_image(&dest_url) => {
            remote_image_open = true;
            Event::Start(Tag::Link { link_type: LinkType::Inline, dest_url, title, id })
        }
        Event::End(TagEnd::Image) if remote_image_open => {
            remote_image_open = false;
            Event::End(TagEnd::Link)
        }
        other => other,
    });
    pulldown_cmark::html::push_html(&mut html, events);
    SANITIZER.clean(&html).to_string()
}

/// Markdown → plain text (calendar descriptions, meta tags): text and code kept,
/// block ends become line breaks, markup dropped.
pub fn to_plain_text(markdown: &str) -> String {
    let mut out = String::with_capacity(markdown.len());
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) | Event::Code(t) => out.push_str(&t),
            Event::SoftBreak | Event::HardBreak => out.push(' '),
            Event::End(TagEnd::Paragraph | TagEnd::Heading(_) | TagEnd::Item | TagEnd::CodeBlock) => out.push('\n'),
            _ => {}
        }
    }
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_answers_are_the_rendering_of_exactly_their_text() {
        // Same length, different texts; each asked twice, interleaved.
        let texts = ["**a** <script>x</script>", "*b* <img src=x onerror=y>", "plain text, 24 chars ok."];
        for _ in 0..2 {
            for t in texts {
                assert_eq!(to_safe_html(t), render(t), "{t}");
            }
        }
        assert!(!to_safe_html(texts[0]).contains("<script"), "still sanitised");
        assert_ne!(to_safe_html(texts[0]), to_safe_html(texts[1]));
    }

    #[test]
    fn a_remote_image_becomes_a_link_and_an_own_image_stays() {
        let html = to_safe_html("![pixel](https://tracker.example/p.gif) and ![logo](/favicon.svg)");
        assert!(!html.contains("<img src=\"https://tracker.example"), "{html}");
        assert!(html.contains("<a href=\"https://tracker.example/p.gif\""), "{html}");
        assert!(html.contains(">pixel</a>"), "{html}");
        assert!(html.contains("<img src=\"/favicon.svg\" alt=\"logo\""), "{html}");
        let html = to_safe_html("![x](//evil.example/p.gif)");
        assert!(!html.contains("<img"), "{html}");
    }

    #[test]
    fn script_tags_are_removed() {
        let html = to_safe_html("Hello <script>alert(1)</script> **world**");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("<strong>world</strong>"));
    }

    #[test]
    fn event_handlers_and_javascript_links_are_removed() {
        let html = to_safe_html("<img src=x onerror=alert(1)> [x](javascript:alert(1))");
        assert!(!html.contains("onerror"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
    }

    #[test]
    fn links_get_safe_rel() {
        let html = to_safe_html("[site](https://example.com)");
        assert!(html.contains(r#"rel="noopener noreferrer nofollow""#), "{html}");
    }

    #[test]
    fn plain_text_drops_markup() {
        assert_eq!(to_plain_text("## 概要\n\n**Rust** を学ぶ"), "概要\nRust を学ぶ");
    }
}
