//! Records for the public read surfaces: calendars (`.ics`), Atom feeds, the
//! connpass-compatible API and the sitemap. Server-only: the API and feeds serialise these
//! themselves, choosing every field they expose (the online URL is not among them).

use chrono::{DateTime, Utc};

use crate::events::model::{EventStatus, FrameSummary, Speaker, SpokenLanguage, VenueKind};
use crate::tags::model::TagRef;

/// A public (published or cancelled) event with everything the public surfaces show.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicEvent {
    pub id: i64,
    pub title: String,
    pub catch: String,
    /// Markdown as written (rendered and sanitised by the consumer).
    pub description: String,
    /// The English text of a bilingual event (empty title: none).
    pub english: crate::events::model::EnglishText,
    pub image_url: Option<String>,
    pub hashtag: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA name.
    pub time_zone: String,
    pub venue_kind: VenueKind,
    pub place: String,
    pub address: String,
    pub prefecture: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub language: SpokenLanguage,
    pub status: EventStatus,
    /// `participation` or `advertisement` (connpass's event_type).
    pub event_type: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// iCalendar SEQUENCE: grows on every change a calendar shows.
    pub sequence: i64,
    pub group: PublicGroupRef,
    /// The group's first owner (connpass's owner_*).
    pub owner: Option<PublicUserRef>,
    pub tags: Vec<TagRef>,
    pub frames: Vec<FrameSummary>,
    pub speakers: Vec<Speaker>,
}

impl PublicEvent {
    /// The event's text in Japanese and in English: `(title, catch, description)` each,
    /// empty where it has none (see [`crate::events::model::bilingual`]).
    pub fn texts(&self) -> ((String, String, String), (String, String, String)) {
        crate::events::model::bilingual(&self.title, &self.catch, &self.description, &self.english, self.language)
    }

    /// This event as a reader of `lang` sees it: its title, catch and description in that
    /// language when it has them (feeds and calendars with `?hl=`).
    pub fn in_language(mut self, lang: crate::time::Lang) -> Self {
        let (ja, en) = self.texts();
        let chosen = match lang {
            crate::time::Lang::En => en,
            crate::time::Lang::Ja => ja,
        };
        if !chosen.0.is_empty() {
            (self.title, self.catch, self.description) = chosen;
        }
        self
    }

    /// Seat totals over the frames: (accepted, limit, waiting).
    pub fn seat_totals(&self) -> (i64, i64, i64) {
        self.frames
            .iter()
            .fold((0, 0, 0), |(a, l, w), f| (a + f.seats.accepted, l + f.seats.limit, w + f.seats.waiting))
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicGroupRef {
    pub id: i64,
    pub slug: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicUserRef {
    pub id: i64,
    pub nickname: String,
    pub display_name: String,
}

/// Order of an event listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EventOrder {
    /// Most recently updated first (connpass `order=1`, its default).
    #[default]
    Updated,
    /// Soonest start first (connpass `order=2`).
    Start,
    /// Newest created first (connpass `order=3`; Atom feeds).
    Created,
}

/// Which public events to list. Empty lists do not filter; non-empty lists match any of
/// their values (the keywords excepted: `keywords` must all match).
/// Which events a path may show, by visibility.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Reach {
    /// Lists, search, feeds, the sitemap and the API: public events of listed groups.
    #[default]
    Listed,
    /// A group's own page and feed (reachable by its link even when the group is unlisted):
    /// its public events.
    GroupPage,
    /// Whatever the visibility: the caller has checked the event's gate.
    Admitted,
}

#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub ids: Vec<i64>,
    /// Substrings that must all occur (NFKC, case-insensitive) in the event's text.
    pub keywords: Vec<String>,
    /// Substrings of which at least one must occur.
    pub keywords_or: Vec<String>,
    /// Start instant in any of these half-open ranges.
    pub starts_in: Vec<(DateTime<Utc>, DateTime<Utc>)>,
    /// Events these users are confirmed for (and waitlisted for, with
    /// `include_waitlisted`).
    pub participants: Vec<String>,
    pub include_waitlisted: bool,
    /// Events of groups these users own or administer.
    pub owners: Vec<String>,
    pub group_ids: Vec<i64>,
    pub group_slugs: Vec<String>,
    /// Prefecture codes; `online` means online or hybrid events.
    pub prefectures: Vec<String>,
    /// Events with any of these tags (by slug).
    pub tag_slugs: Vec<String>,
    /// Only events that end after this instant.
    pub ends_after: Option<DateTime<Utc>>,
    /// Which events a path may show (lists by default).
    pub reach: Reach,
    pub order: EventOrder,
    pub offset: u32,
    pub limit: u32,
}

/// A group as the public API shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct PublicGroup {
    pub id: i64,
    pub slug: String,
    pub title: String,
    /// Markdown.
    pub description: String,
    pub website: Option<String>,
    pub image_url: Option<String>,
    pub owner: Option<PublicUserRef>,
    pub member_count: i64,
    pub updated_at: DateTime<Utc>,
}

/// Which groups to list.
#[derive(Debug, Clone, Default)]
pub struct GroupFilter {
    pub ids: Vec<i64>,
    pub slugs: Vec<String>,
    /// Groups these users are members of.
    pub members: Vec<String>,
    /// Unlisted groups too (a group opened by its slug); lists and the API leave them out.
    pub include_unlisted: bool,
    pub offset: u32,
    pub limit: u32,
}

/// A user as the public API shows it (never the email).
#[derive(Debug, Clone, PartialEq)]
pub struct PublicUser {
    pub id: i64,
    pub nickname: String,
    pub display_name: String,
    pub bio: String,
    pub created_at: DateTime<Utc>,
    pub attended_event_count: i64,
    pub organize_event_count: i64,
    pub presenter_event_count: i64,
}

/// Which users to list.
#[derive(Debug, Clone, Default)]
pub struct UserFilter {
    pub nicknames: Vec<String>,
    pub offset: u32,
    pub limit: u32,
}

/// A material (資料) attached to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaterialRow {
    pub id: i64,
    pub event_id: i64,
    pub user: PublicUserRef,
    pub url: String,
    pub title: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

/// A material to attach.
#[derive(Debug, Clone)]
pub struct NewMaterial {
    pub event_id: i64,
    pub user_id: i64,
    pub url: String,
    pub title: String,
    pub kind: String,
    pub created_at: DateTime<Utc>,
}

/// One URL of the sitemap.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SitemapEntry {
    Event { id: i64, updated_at: DateTime<Utc> },
    Group { slug: String, updated_at: DateTime<Utc> },
}
