//! Storage. Pages and server functions talk to one [`Store`]; its queries are written once
//! for SQLite and PostgreSQL (`db.rs`), and the store test suite runs against both.

mod accounts;
mod admin;
mod admin_edit;
mod bulk;
pub mod db;
mod events;
mod messages;
pub mod pg;
pub mod public;
mod public_sql;
mod registrations;
mod search;
mod search_index;
mod search_sql;
mod search_text;
pub mod sqlite;
mod sqlite_fast;

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::AppError;
use crate::events::model::{EventStatus, FrameMethod, SpokenLanguage, VenueKind};
use crate::registrations::model::MyRegistration;
use crate::tags::model::TagKind;

pub type StoreResult<T> = Result<T, AppError>;

/// Shared handle to the store.
pub type DynStore = Arc<Store>;

/// Opens the store named by `database_url` (`sqlite://…`, created if missing, or
/// `postgres://…` / `postgresql://…`, which must exist) and migrates it.
/// Fails loudly (an error, never a half-migrated start) when a migration fails.
pub async fn connect(database_url: &str) -> anyhow::Result<DynStore> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::connect(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(pg::connect(database_url).await?))
    } else {
        // The URL may carry a password: name the scheme only.
        let scheme = database_url.split(':').next().unwrap_or_default();
        anyhow::bail!("unsupported DATABASE_URL scheme {scheme:?} (expected sqlite://… or postgres://…)")
    }
}

/// Decodes a stored code (a status, a method) into its enum; an unknown value is an error
/// (logged, a 500), never a default.
pub(crate) fn decode<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &'static str) -> StoreResult<T> {
    parse(value).ok_or_else(|| {
        tracing::error!(value, what, "unknown value in the database");
        AppError::Internal
    })
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
    pub members: Vec<(i64, crate::admin::model::Role)>,
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
            registrations: Vec::new(),
        }
    }
}

impl NewUser {
    /// An account without a password (cannot sign in): fixtures and generated attendees.
    pub fn attendee(nickname: &str) -> Self {
        NewUser {
            nickname: nickname.into(),
            display_name: nickname.into(),
            email: None,
            password_hash: None,
            bio: String::new(),
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

/// A frame's cached counters next to the counts of its registration rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterCheck {
    pub frame_id: i64,
    pub accepted_count: i64,
    pub accepted_rows: i64,
    pub waiting_count: i64,
    pub waiting_rows: i64,
}

/// How a first-come seat is taken. `Atomic` is the only mode a running server uses;
/// `UnguardedCanary` checks capacity outside the write transaction, which oversells under
/// concurrency: the race test runs it to prove it can detect overselling. It cannot be
/// selected from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeatGuard {
    #[default]
    Atomic,
    UnguardedCanary,
}

/// A registration request, already authenticated and validated.
#[derive(Debug, Clone)]
pub struct RegisterRequest {
    pub event_id: i64,
    pub user_id: i64,
    /// Required when the event has more than one frame.
    pub frame_id: Option<i64>,
    pub answers: Vec<(i64, String)>,
    pub now: DateTime<Utc>,
    pub guard: SeatGuard,
}

/// What a registration write changed, for live updates and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationChange {
    pub event_id: i64,
    pub registration: Option<MyRegistration>,
    /// Users moved from the waitlist to confirmed by this write.
    pub promoted_user_ids: Vec<i64>,
}

/// A frame whose lottery is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDraw {
    pub frame_id: i64,
    pub event_id: i64,
}

/// The outcome of one lottery draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawOutcome {
    pub frame_id: i64,
    pub event_id: i64,
    pub seed: u64,
    /// Registration ids in drawn order.
    pub order: Vec<i64>,
    pub winners: usize,
}

/// A stored session record (tower-sessions' data as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}

/// Everything Tsudoi persists. One database handle for the queries written once (`db`, see
/// `db.rs`) and what only one backend has (`backend`). Each domain's operations are
/// `impl Store` blocks in its own file: accounts (`accounts.rs`), events and the public
/// pages (`events.rs`), registrations (`registrations.rs`), the admin (`admin.rs`,
/// `admin_edit.rs`), messages (`messages.rs`), search (`search_sql.rs`) and the public API
/// and feeds (`public_sql.rs`).
pub struct Store {
    db: db::Db,
    backend: Backend,
    /// The in-memory search index (see `search_index/`), on either backend.
    search_index: Arc<search_index::SearchIndex>,
}

/// What one backend has beside the shared queries.
enum Backend {
    /// The writer thread and the message batcher.
    Sqlite(sqlite::Sqlite),
    /// Seat announcements across instances go through LISTEN/NOTIFY on the pool.
    Pg,
}

impl Store {
    /// The SQLite reader pool (tests and benchmarks inspect rows directly); `None` on
    /// PostgreSQL.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.db {
            db::Db::Sqlite { reader, .. } => Some(reader),
            db::Db::Pg(_) => None,
        }
    }

    /// The PostgreSQL pool (tests inspect rows directly); `None` on SQLite.
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.db {
            db::Db::Pg(pool) => Some(pool),
            db::Db::Sqlite { .. } => None,
        }
    }
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
}

/// A message to store: to `recipients`, by `sender_id` (None: Tsudoi itself).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub event_id: Option<i64>,
    pub sender_id: Option<i64>,
    pub kind: crate::messages::model::MessageKind,
    pub audience: String,
    pub subject: String,
    pub body: String,
    pub recipients: Vec<i64>,
    /// Queue e-mail for recipients with an address (SMTP configured).
    pub email: bool,
    pub at: DateTime<Utc>,
}

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailJob {
    pub message_id: i64,
    pub user_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far.
    pub attempts: i64,
}

/// One audit-log line to record.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub group_id: i64,
    pub event_id: Option<i64>,
    pub user_id: i64,
    /// Stable code, e.g. `event.update`.
    pub action: String,
    /// What changed, for people.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// One registration as organizers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRow {
    pub id: i64,
    pub user_id: i64,
    pub frame_id: i64,
    pub status: crate::registrations::model::RegStatus,
    pub position: i64,
}

/// The drawn order of a lottery: a Fisher–Yates shuffle of the applications (in
/// application order) driven by ChaCha8 seeded with `seed`. Every backend uses this, so
/// anyone holding the seed and the applications can re-derive the outcome.
pub fn drawn_order(applications: &[i64], seed: u64) -> Vec<i64> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut order = applications.to_vec();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    order
}
