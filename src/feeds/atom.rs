//! Atom feeds of newly published events (site-wide, per group, per tag).

use atom_syndication::{Category, Content, Entry, Feed, Link, Person, Text};
use chrono::{DateTime, FixedOffset, Utc};

use crate::server::markdown;
use crate::server::store::public::PublicEvent;

/// What one feed is about.
pub struct AtomFeed<'a> {
    pub title: String,
    /// Absolute URL of the feed itself.
    pub self_url: String,
    /// Absolute URL of the page it mirrors.
    pub page_url: String,
    /// Absolute site origin (entry links are built from it).
    pub origin: String,
    pub events: &'a [PublicEvent],
    /// `updated` of an empty feed.
    pub now: DateTime<Utc>,
}

fn fixed(t: DateTime<Utc>) -> DateTime<FixedOffset> {
    t.fixed_offset()
}

fn link(href: String, rel: &str, mime: Option<&str>) -> Link {
    let mut l = Link::default();
    l.set_href(href);
    l.set_rel(rel.to_string());
    l.set_mime_type(mime.map(str::to_string));
    l
}

impl AtomFeed<'_> {
    pub fn render(&self) -> String {
        let mut feed = Feed::default();
        feed.set_title(Text::plain(self.title.clone()));
        feed.set_id(self.self_url.clone());
        feed.set_lang(Some("ja".to_string()));
        let updated = self.events.iter().map(|e| e.updated_at.max(e.created_at)).max().unwrap_or(self.now);
        feed.set_updated(fixed(updated));
        feed.set_links(vec![
            link(self.self_url.clone(), "self", Some("application/atom+xml")),
            link(self.page_url.clone(), "alternate", Some("text/html")),
        ]);
        let mut generator = atom_syndication::Generator::default();
        generator.set_value("Tsudoi".to_string());
        feed.set_generator(Some(generator));
        let entries: Vec<Entry> = self
            .events
            .iter()
            .map(|e| {
                let url = format!("{}/events/{}", self.origin, e.id);
                let mut entry = Entry::default();
                entry.set_id(url.clone());
                let title = if e.status == crate::events::model::EventStatus::Cancelled {
                    format!("【中止】{}", e.title)
                } else {
                    e.title.clone()
                };
                entry.set_title(Text::plain(title));
                entry.set_published(Some(fixed(e.created_at)));
                entry.set_updated(fixed(e.updated_at.max(e.created_at)));
                entry.set_links(vec![link(url, "alternate", Some("text/html"))]);
                let span = crate::time::ZonedSpan::resolve(e.starts_at, e.ends_at, &e.time_zone);
                let when = span.label(crate::time::Lang::Ja);
                let summary = if e.catch.trim().is_empty() {
                    format!("{when} {}", e.group.title)
                } else {
                    format!("{when} {} — {}", e.group.title, e.catch.trim())
                };
                entry.set_summary(Some(Text::plain(summary)));
                let mut content = Content::default();
                content.set_content_type(Some("html".to_string()));
                content.set_value(Some(markdown::to_safe_html(&e.description)));
                entry.set_content(Some(content));
                let mut author = Person::default();
                author.set_name(e.group.title.clone());
                author.set_uri(Some(format!("{}/groups/{}", self.origin, e.group.slug)));
                entry.set_authors(vec![author]);
                entry.set_categories(
                    e.tags
                        .iter()
                        .map(|t| {
                            let mut c = Category::default();
                            c.set_term(t.slug.clone());
                            c.set_label(Some(t.name.clone()));
                            c
                        })
                        .collect::<Vec<_>>(),
                );
                entry
            })
            .collect();
        feed.set_entries(entries);
        feed.to_string()
    }
}
