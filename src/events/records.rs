//! What the store takes to create and edit events, groups and tags (server only).

use chrono::{DateTime, Utc};

use super::model::{EnglishText, EventStatus, FrameMethod, FrameVenue, SpokenLanguage, VenueKind};
use crate::tags::model::TagKind;

/// A group to create, with its members (user ids and roles).
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub website: Option<String>,
    pub image_url: Option<String>,
    pub members: Vec<(i64, crate::admin::model::Role)>,
}

impl NewGroup {
    /// A group with one owner and nothing else: fixtures and tools.
    pub fn owned_by(slug: &str, title: &str, owner: i64) -> Self {
        NewGroup {
            slug: slug.into(),
            title: title.into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(owner, crate::admin::model::Role::Owner)],
        }
    }
}

/// A tag to create. Aliases are matched NFKC-lowercased.
#[derive(Debug, Clone)]
pub struct NewTag {
    pub slug: String,
    pub name: String,
    pub kind: TagKind,
    pub description: String,
    pub aliases: Vec<String>,
}

/// A registration to insert as-is (bulk loading only: live registrations go through the
/// seat-taking path of the registration module). Order within a frame is arrival order.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub user_id: i64,
    pub status: crate::registrations::model::RegStatus,
    pub receipt_code: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct NewFrame {
    pub name: String,
    pub capacity: i64,
    pub method: FrameMethod,
    pub fee: i64,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    /// Lottery frames: when the draw runs.
    pub draw_at: Option<DateTime<Utc>>,
    /// The frame's own venue and online URL (hybrid events); empty: the event's.
    pub venue: FrameVenue,
    pub online_url: Option<String>,
    pub registrations: Vec<NewRegistration>,
}

#[derive(Debug, Clone)]
pub struct NewSpeaker {
    pub name: String,
    pub affiliation: String,
    pub bio: String,
    pub talk_title: String,
    /// The speaker's account, when they have one (they may then attach materials).
    pub user_id: Option<i64>,
}

/// An event with everything hanging off it.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub group_id: i64,
    pub title: String,
    pub catch: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub venue_kind: VenueKind,
    pub place: String,
    pub address: String,
    pub prefecture: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub online_url: Option<String>,
    pub language: SpokenLanguage,
    pub hashtag: String,
    pub image_url: Option<String>,
    /// The English text of a bilingual event (empty: none).
    pub english: EnglishText,
    pub status: EventStatus,
    pub beginner_ok: bool,
    pub hands_on: bool,
    pub created_at: DateTime<Utc>,
    pub tag_ids: Vec<i64>,
    pub frames: Vec<NewFrame>,
    pub speakers: Vec<NewSpeaker>,
    /// Questions asked at registration, in order.
    pub questions: Vec<NewQuestion>,
}

impl NewEvent {
    /// A published online event of two hours in Asia/Tokyo with no frames, tags or
    /// speakers: the base that fixtures, benchmarks and generators fill in with
    /// struct-update syntax.
    pub fn minimal(group_id: i64, title: &str, starts_at: DateTime<Utc>) -> Self {
        NewEvent {
            group_id,
            title: title.into(),
            catch: String::new(),
            description: String::new(),
            starts_at,
            ends_at: starts_at + chrono::Duration::hours(2),
            time_zone: "Asia/Tokyo".into(),
            venue_kind: VenueKind::Online,
            place: String::new(),
            address: String::new(),
            prefecture: None,
            lat: None,
            lon: None,
            online_url: None,
            language: SpokenLanguage::Ja,
            hashtag: String::new(),
            image_url: None,
            english: EnglishText::default(),
            status: EventStatus::Published,
            beginner_ok: false,
            hands_on: false,
            created_at: starts_at - chrono::Duration::days(10),
            tag_ids: Vec::new(),
            frames: Vec::new(),
            speakers: Vec::new(),
            questions: Vec::new(),
        }
    }
}

impl NewFrame {
    /// A free first-come frame, open until the event starts.
    pub fn first_come(name: &str, capacity: i64) -> Self {
        NewFrame {
            name: name.into(),
            capacity,
            method: FrameMethod::FirstCome,
            fee: 0,
            opens_at: None,
            closes_at: None,
            draw_at: None,
            venue: FrameVenue::default(),
            online_url: None,
            registrations: Vec::new(),
        }
    }
}

/// A registration question to create.
#[derive(Debug, Clone)]
pub struct NewQuestion {
    pub kind: crate::registrations::model::QuestionKind,
    pub label: String,
    /// Choices of single/multiple-choice questions.
    pub options: Vec<String>,
    pub required: bool,
}

/// Ids of what exists, for generators that add events to a populated database.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    /// (id, slug)
    pub groups: Vec<(i64, String)>,
    /// (id, slug, kind)
    pub tags: Vec<(i64, String, TagKind)>,
    /// Users that may be registered to generated events (those without a password).
    pub attendee_ids: Vec<i64>,
}

/// The editor's fields, validated and resolved (instants in UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct EventFields {
    pub title: String,
    pub catch: String,
    pub description: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub time_zone: String,
    pub venue_kind: VenueKind,
    pub place: String,
    pub address: String,
    pub prefecture: Option<String>,
    pub online_url: Option<String>,
    pub language: SpokenLanguage,
    pub hashtag: String,
    pub tag_ids: Vec<i64>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub beginner_ok: bool,
    pub hands_on: bool,
    /// The English text: `None` keeps what is saved (an update that does not send it).
    pub english: Option<EnglishText>,
}

/// A frame's rules as organizers set them (instants in UTC).
#[derive(Debug, Clone, PartialEq)]
pub struct FrameFields {
    pub name: String,
    /// Used when adding; updates change capacity through `set_capacity`.
    pub capacity: i64,
    pub method: FrameMethod,
    pub fee: i64,
    pub opens_at: Option<DateTime<Utc>>,
    pub closes_at: Option<DateTime<Utc>>,
    pub draw_at: Option<DateTime<Utc>>,
    pub promotion_frozen: bool,
    /// The frame's own venue and online URL; empty: the event's.
    pub venue: FrameVenue,
    pub online_url: Option<String>,
}
