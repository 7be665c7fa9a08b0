//! The storage interface. Pages and server functions talk to `dyn Store`; each backend
//! (SQLite and PostgreSQL) implements the same semantics, and the store test
//! suite runs against every backend.

mod accounts;
mod admin;
mod admin_edit;
pub mod db;
mod events;
mod messages;
pub mod pg;
pub mod public;
mod public_sql;
mod registrations;
mod search_index;
mod search_sql;
mod search_text;
pub mod sqlite;
mod sqlite_fast;

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::accounts::model::{CurrentUser, MyProfile, UserProfile};
use crate::error::AppError;
use crate::events::model::{EventCard, EventDetail, EventStatus, FrameMethod, Page, SpokenLanguage, VenueKind};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{MyEventRegistration, MyRegistration, SeatSnapshot};
use crate::tags::model::{TagCount, TagKind};

pub type StoreResult<T> = Result<T, AppError>;

/// Shared handle to the configured backend.
pub type DynStore = Arc<dyn Store>;

/// Opens the store named by `database_url` (`sqlite://…`, created if missing, or
/// `postgres://…` / `postgresql://…`, which must exist) and migrates it.
/// Fails loudly (an error, never a half-migrated start) when a migration fails.
pub async fn connect(database_url: &str) -> anyhow::Result<DynStore> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(pg::PgStore::connect(database_url).await?))
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

    /// The questions an event asks at registration, in order.
    async fn fetch_questions(&self, event_id: i64) -> StoreResult<Vec<crate::registrations::model::Question>>;

    /// A group with its upcoming and past public events.
    async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>>;

    /// One tag by slug.
    async fn fetch_tag(&self, slug: &str) -> StoreResult<Option<crate::tags::model::TagDetail>>;

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

    // --- accounts -------------------------------------------------------------------

    /// Creates one account; `Conflict("account_exists")` when the nickname or email is taken.
    async fn create_user(&self, user: &NewUser) -> StoreResult<CurrentUser>;

    /// Id and password hash of the account whose nickname or email is `login` (lower-cased).
    async fn find_login(&self, login: &str) -> StoreResult<Option<(i64, String)>>;

    /// The account with this id.
    async fn fetch_user(&self, id: i64) -> StoreResult<Option<CurrentUser>>;

    /// My profile (with email), for `/me`.
    async fn fetch_my_profile(&self, id: i64) -> StoreResult<Option<MyProfile>>;

    /// Public profile with attended (confirmed) and organised events.
    async fn fetch_user_profile(&self, nickname: &str) -> StoreResult<Option<UserProfile>>;

    async fn update_profile(&self, id: i64, display_name: &str, bio: &str) -> StoreResult<()>;

    /// The stored password hash of an account.
    async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>>;

    async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()>;

    // --- sessions -------------------------------------------------------------------

    /// Inserts a new session; `false` when the id already exists.
    async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool>;
    async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()>;
    /// A session that has not expired at `now` (unix seconds), with the user its data
    /// signs in (`"uid"`) when that account exists: one query, so that a request's
    /// authentication costs one database round trip.
    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>>;
    async fn session_delete(&self, id: &str) -> StoreResult<()>;
    /// Removes expired sessions, returning how many.
    async fn sessions_purge(&self, now: i64) -> StoreResult<u64>;

    // --- registrations --------------------------------------------------------------

    /// Registers (or re-registers, or switches frame) in one write transaction: a seat is
    /// taken only by a conditional update, otherwise the user is waitlisted in order.
    async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange>;

    /// Cancels my registration; a freed seat goes to the first waitlisted person of the
    /// frame in the same transaction.
    async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange>;

    /// Sets a frame's capacity: raising promotes the waitlist; lowering below the
    /// confirmed count is `Conflict("capacity_below_confirmed:<n>")`.
    async fn set_capacity(&self, frame_id: i64, capacity: i64, now: DateTime<Utc>) -> StoreResult<RegistrationChange>;

    /// Lottery frames whose draw time has come and that are not drawn yet.
    async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>>;

    /// Draws a lottery frame with `seed`, exactly once: `None` when it was already drawn.
    async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>>;

    /// My registration for an event (cancelled ones included).
    async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>>;

    /// The event's online URL (server side only; see `OnlineUrl`).
    async fn online_url(&self, event_id: i64) -> StoreResult<Option<String>>;

    /// All my registrations with their events, soonest first.
    async fn my_registrations(&self, user_id: i64) -> StoreResult<Vec<MyEventRegistration>>;

    /// Seat numbers of an event and its frames.
    async fn seat_snapshot(&self, event_id: i64) -> StoreResult<Option<SeatSnapshot>>;

    /// Current card of an event (any status but draft).
    async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>>;

    /// Tells every instance sharing this database that an event's seats changed (after
    /// the commit). A single-process backend (SQLite) has nobody else to tell.
    async fn announce_seats(&self, _event_id: i64) -> StoreResult<()> {
        Ok(())
    }

    /// Seat changes announced by any instance (this one included), for the live hub; `None`
    /// for a single-process backend.
    async fn seat_announcements(&self) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<i64>>> {
        Ok(None)
    }

    /// Title and time of an event (any status but draft): what an automatic message about
    /// it says. One light query (a message follows every registration).
    async fn message_context(&self, event_id: i64) -> StoreResult<Option<(String, crate::time::ZonedSpan)>> {
        Ok(self.fetch_card(event_id).await?.map(|card| (card.title, card.span)))
    }

    /// What registering needs before the write: the event's questions (to validate the
    /// answers) and its message context (for the confirmation). Backends may answer both
    /// with one query.
    async fn registration_form(
        &self,
        event_id: i64,
    ) -> StoreResult<(Vec<crate::registrations::model::Question>, Option<(String, crate::time::ZonedSpan)>)> {
        Ok((self.fetch_questions(event_id).await?, self.message_context(event_id).await?))
    }

    /// The search page: results of `query` at `now` with facet counts (see `crate::search`).
    async fn search(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::search::model::SearchResults>;

    /// Every registration of an event, by frame and queue position (organizers, tests).
    async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<RegistrationRow>>;

    // --- public read surfaces (API, calendars, feeds, sitemap) -----------------------

    /// The ids of the first `limit` results of a search, in its order (search feeds).
    async fn search_ids(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<i64>>;

    /// Public events matching a filter, with the total number that match.
    async fn public_events(&self, filter: &public::EventFilter) -> StoreResult<(Vec<public::PublicEvent>, i64)>;

    /// Public events by id, in the given order.
    async fn public_events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<public::PublicEvent>>;

    async fn public_groups(&self, filter: &public::GroupFilter) -> StoreResult<(Vec<public::PublicGroup>, i64)>;

    async fn public_users(&self, filter: &public::UserFilter) -> StoreResult<(Vec<public::PublicUser>, i64)>;

    /// Ids of the public events where this user is a linked speaker.
    async fn presenter_event_ids(&self, nickname: &str) -> StoreResult<Vec<i64>>;

    /// Materials (資料) of these events, oldest first.
    async fn materials(&self, event_ids: &[i64]) -> StoreResult<Vec<public::MaterialRow>>;

    async fn material(&self, id: i64) -> StoreResult<Option<public::MaterialRow>>;

    async fn add_material(&self, material: &public::NewMaterial) -> StoreResult<public::MaterialRow>;

    /// `false` when there was no such material.
    async fn delete_material(&self, id: i64) -> StoreResult<bool>;

    /// True when the user may attach materials to the event: an owner or admin of its
    /// group, or one of its speakers.
    async fn may_attach_material(&self, event_id: i64, user_id: i64) -> StoreResult<bool>;

    /// True when the user is an owner or admin of the event's group.
    async fn organizes_event(&self, event_id: i64, user_id: i64) -> StoreResult<bool>;

    /// The secret of my private calendar feed, if I have asked for one.
    async fn calendar_token(&self, user_id: i64) -> StoreResult<Option<String>>;

    /// Replaces the secret (the old feed URL stops working).
    async fn set_calendar_token(&self, user_id: i64, token: &str) -> StoreResult<()>;

    /// (id, nickname) of the owner of a calendar secret.
    async fn user_by_calendar_token(&self, token: &str) -> StoreResult<Option<(i64, String)>>;

    /// Groups and public events for `/sitemap.xml`, at most `limit`.
    async fn sitemap(&self, limit: u32) -> StoreResult<Vec<public::SitemapEntry>>;

    // --- organizer admin ------------------------------------------------------------

    /// The user's role in the group, if a member.
    async fn member_role(&self, group_id: i64, user_id: i64) -> StoreResult<Option<crate::admin::model::Role>>;

    /// The group of an event of any status (drafts included).
    async fn event_group_id(&self, event_id: i64) -> StoreResult<Option<i64>>;

    /// The groups the user belongs to, with the role.
    async fn admin_groups(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminGroup>>;

    /// Events of every group the user belongs to, any status, soonest first.
    async fn admin_events(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminEventRow>>;

    /// An event of any status as the editor shows it.
    async fn admin_event(&self, event_id: i64) -> StoreResult<Option<crate::admin::model::AdminEvent>>;

    /// Saves the editor's fields (search text and local time parts follow).
    async fn update_event(&self, event_id: i64, fields: &EventFields, now: DateTime<Utc>) -> StoreResult<()>;

    async fn set_event_status(&self, event_id: i64, status: EventStatus, now: DateTime<Utc>) -> StoreResult<()>;

    /// Every registration of the event with answers, confirmed first.
    async fn attendees(&self, event_id: i64) -> StoreResult<Vec<crate::admin::model::Attendee>>;

    /// Checks in the confirmed registrant with this receipt code; `None` when there is none.
    async fn check_in(
        &self,
        event_id: i64,
        receipt_code: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<crate::admin::model::Attendee>>;

    async fn record_audit(&self, entry: &NewAudit) -> StoreResult<()>;

    /// Moves a registration by hand between confirmed and waitlisted (see the SQLite
    /// backend for the rules); returns who was promoted.
    async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: crate::registrations::model::RegStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange>;

    /// Adds a frame to an event, after the others.
    async fn add_frame(&self, event_id: i64, frame: &FrameFields) -> StoreResult<i64>;

    /// Updates a frame's rules (capacity has `set_capacity`).
    async fn update_frame(&self, event_id: i64, frame_id: i64, frame: &FrameFields) -> StoreResult<()>;

    /// Deletes a frame without registrations (never the last one).
    async fn delete_frame(&self, event_id: i64, frame_id: i64) -> StoreResult<()>;

    async fn add_question(&self, event_id: i64, question: &NewQuestion) -> StoreResult<i64>;

    async fn delete_question(&self, event_id: i64, question_id: i64) -> StoreResult<()>;

    /// Copies an event as a new draft starting at `starts_at` (everything but its
    /// registrations; the other times move with it).
    async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<i64>;

    // --- messages -------------------------------------------------------------------

    /// Stores a message with one recipient row each; returns its id.
    async fn create_message(&self, message: &NewMessage) -> StoreResult<i64>;

    /// Users a message to `audience` of the event reaches.
    async fn audience_user_ids(
        &self,
        event_id: i64,
        audience: crate::messages::model::Audience,
    ) -> StoreResult<Vec<i64>>;

    /// My latest messages, newest first.
    async fn inbox(&self, user_id: i64, limit: u32) -> StoreResult<Vec<crate::messages::model::InboxMessage>>;

    /// Marks one of my messages read; `false` when it is not mine.
    async fn mark_read(&self, user_id: i64, message_id: i64, now: DateTime<Utc>) -> StoreResult<bool>;

    /// An event's messages with reach and delivery.
    async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<crate::messages::model::SentMessage>>;

    /// Claims the events whose day-before reminder is due (each exactly once).
    async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>>;

    /// E-mails due now, each claimed for `lease` (several workers never send one twice).
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>>;

    /// Records an attempt: sent, or failed with a retry time (`None`: failed for good).
    async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()>;

    /// Follows (or unfollows) a group.
    async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()>;

    /// The group's follower count and whether `user_id` follows it.
    async fn follow_state(&self, group_id: i64, user_id: Option<i64>) -> StoreResult<(i64, bool)>;

    async fn follower_ids(&self, group_id: i64) -> StoreResult<Vec<i64>>;

    /// Upcoming published events of the groups I follow, soonest first.
    async fn followed_events(&self, user_id: i64, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<EventCard>>;

    /// Resolves tag names, slugs or aliases (NFKC, case-insensitive) of either kind;
    /// returns the ids found and the names that match no tag.
    async fn resolve_tag_names(&self, names: &[String]) -> StoreResult<(Vec<i64>, Vec<String>)>;

    /// Adds a speaker to an event, after the others.
    async fn add_speaker(&self, event_id: i64, speaker: &NewSpeaker) -> StoreResult<i64>;

    async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> StoreResult<()>;

    /// The members of a group, owners first.
    async fn members(&self, group_id: i64) -> StoreResult<Vec<crate::admin::model::Member>>;

    /// Adds a member; `Conflict("already_member")`.
    async fn add_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: crate::admin::model::Role,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Changes a member's role, or removes them with `None`; the last owner stays
    /// (`Conflict("last_owner")`).
    async fn set_member(&self, group_id: i64, user_id: i64, role: Option<crate::admin::model::Role>)
    -> StoreResult<()>;

    /// Makes `to` the owner and `from` an admin, atomically.
    async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> StoreResult<()>;

    /// The audit log of a group, or of one of its events, newest first.
    async fn audit_log(
        &self,
        group_id: i64,
        event_id: Option<i64>,
    ) -> StoreResult<Vec<crate::admin::model::AuditEntry>>;
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
