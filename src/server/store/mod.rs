//! The storage interface. Pages and server functions talk to `dyn Store`; each backend
//! (SQLite today, PostgreSQL beside it) implements the same semantics, and the store test
//! suite runs against every backend.

pub mod sqlite;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::events::model::{EventCard, EventDetail, EventStatus, FrameMethod, Page, SpokenLanguage, VenueKind};
use crate::groups::model::GroupDetail;
use crate::tags::model::{TagCount, TagKind};

pub type StoreResult<T> = Result<T, AppError>;

/// Shared handle to the configured backend.
pub type DynStore = Arc<dyn Store>;

/// Opens the store named by `database_url` (`sqlite://…`), creating and migrating it.
/// Fails loudly (an error, never a half-migrated start) when a migration fails.
pub async fn connect(database_url: &str) -> anyhow::Result<DynStore> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(database_url).await?))
    } else {
        anyhow::bail!("unsupported DATABASE_URL scheme (expected sqlite://…): {database_url}")
    }
}

/// Role of a member in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Owner,
    Admin,
    Staff,
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Owner => "owner",
            MemberRole::Admin => "admin",
            MemberRole::Staff => "staff",
        }
    }
}

/// Status of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistrationStatus {
    Confirmed,
    Waitlisted,
    Cancelled,
}

impl RegistrationStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegistrationStatus::Confirmed => "confirmed",
            RegistrationStatus::Waitlisted => "waitlisted",
            RegistrationStatus::Cancelled => "cancelled",
        }
    }
}

/// A user to create. `password_hash` is an argon2 PHC string, or `None` for accounts that
/// cannot sign in (generated demo attendees).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub nickname: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub bio: String,
}

/// A group to create, with its members (user ids and roles).
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub slug: String,
    pub title: String,
    pub description: String,
    pub website: Option<String>,
    pub image_url: Option<String>,
    pub members: Vec<(i64, MemberRole)>,
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
    pub status: RegistrationStatus,
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
    pub registrations: Vec<NewRegistration>,
}

#[derive(Debug, Clone)]
pub struct NewSpeaker {
    pub name: String,
    pub affiliation: String,
    pub bio: String,
    pub talk_title: String,
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
    pub status: EventStatus,
    pub beginner_ok: bool,
    pub hands_on: bool,
    pub created_at: DateTime<Utc>,
    pub tag_ids: Vec<i64>,
    pub frames: Vec<NewFrame>,
    pub speakers: Vec<NewSpeaker>,
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

/// A frame's cached counters next to the counts of its registration rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterCheck {
    pub frame_id: i64,
    pub accepted_count: i64,
    pub accepted_rows: i64,
    pub waiting_count: i64,
    pub waiting_rows: i64,
}

/// Everything Tsudoi persists, behind one interface per backend.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers when the database does (for `/healthz`).
    async fn ping(&self) -> StoreResult<()>;

    /// True when no event and no group exist yet (demo data is loaded only then).
    async fn is_empty(&self) -> StoreResult<bool>;

    /// Published events that have not ended at `now`, soonest first; `page` is 1-based.
    async fn list_upcoming(&self, now: DateTime<Utc>, page: u32, per_page: u32) -> StoreResult<Page<EventCard>>;

    /// A published or cancelled event by id (drafts are not public).
    async fn fetch_event(&self, id: i64) -> StoreResult<Option<EventDetail>>;

    /// A group with its upcoming and past public events.
    async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>>;

    /// Every tag with its count of upcoming published events, topics first, in list order.
    async fn list_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>>;

    /// Creates users, returning their ids in order.
    async fn insert_users(&self, users: &[NewUser]) -> StoreResult<Vec<i64>>;

    /// Creates groups with their members, returning ids in order.
    async fn insert_groups(&self, groups: &[NewGroup]) -> StoreResult<Vec<i64>>;

    /// Creates tags with their aliases, returning ids in order.
    async fn insert_tags(&self, tags: &[NewTag]) -> StoreResult<Vec<i64>>;

    /// Creates events with frames, tags, speakers and registrations in one transaction,
    /// batched for bulk loading; frame counters are set from the inserted rows.
    async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<i64>>;

    /// What exists, for generators.
    async fn directory(&self) -> StoreResult<Directory>;

    /// Cached frame counters beside the real row counts, for every frame of `event_ids`
    /// (all frames when empty).
    async fn counter_check(&self, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>>;
}
