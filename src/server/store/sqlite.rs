//! The embedded default backend: one SQLite file, WAL mode, migrated on start.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::{
    CounterCheck, Directory, DrawOutcome, DueDraw, NewEvent, NewGroup, NewTag, NewUser, RegisterRequest,
    RegistrationChange, SessionRow, Store, StoreResult, accounts, messages as msg_sql, public as pub_,
    registrations as regs,
};
use crate::accounts::model::{CurrentUser, MyProfile, UserProfile};
use crate::events::model::{EventCard, EventDetail, EventStatus, Page};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{MyEventRegistration, MyRegistration, Question, SeatSnapshot};
use crate::tags::model::TagCount;
use crate::time::ZonedSpan;

/// Rows per multi-row INSERT: well under SQLite's 32,766 bound variables for every table.
const BATCH_ROWS: usize = 1_000;

pub struct SqliteStore {
    /// Readers: WAL lets them run beside the writer.
    pool: SqlitePool,
    /// The one writer connection. SQLite admits one writer at a time anyway; queueing the
    /// writers on this pool (a fair, async wait) instead of letting eight connections race
    /// for the file lock avoids SQLite's busy handler, which sleeps 1, 2, 5, 10… ms between
    /// retries and so leaves the lock idle under a rush.
    writer: SqlitePool,
    /// In-memory search index (see search_index/).
    search_index: Arc<super::search_index::SearchIndex>,
    /// Messages wait here for the writer and commit in batches (see `message_queue`).
    messages: tokio::sync::mpsc::UnboundedSender<QueuedMessage>,
    /// The runtime the hot write transactions run on (see `WriterRuntime`).
    writer_rt: WriterRuntime,
}

/// A single-threaded runtime on its own OS thread for the hot write transactions
/// (registrations, cancellations, message batches). A transaction is a chain of statements,
/// each a hop to the connection's thread and back; on the shared runtime each hop back
/// queues behind every ready HTTP task, so under a rush the write lock was held mostly by
/// a transaction waiting for its turn to run. Here the next statement runs as soon as the
/// previous answers. The thread ends when the store is dropped.
struct WriterRuntime {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl WriterRuntime {
    fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("tsudoi-writer".into()).spawn(move || {
            let _ = runtime.block_on(stopped);
        })?;
        Ok(WriterRuntime { handle, _stop: stop })
    }

    /// Runs `work` on the writer thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        self.handle.spawn(work).await.map_err(|e| {
            tracing::error!(error = %e, "write task failed");
            crate::error::AppError::Internal
        })?
    }
}

type QueuedMessage = (super::NewMessage, tokio::sync::oneshot::Sender<StoreResult<i64>>);

/// Most messages committed in one transaction.
const MESSAGE_BATCH: usize = 256;

/// Group commit for messages: each automatic message (a confirmation per registration in a
/// rush) would be a write transaction of its own, queueing behind the registrations for the
/// one writer. Instead the caller's message joins whatever is waiting and all commit in one
/// transaction; the caller still gets its id only after that commit, so nothing changes for
/// it. A batch that fails is retried message by message, so one bad message fails alone.
fn message_queue(
    runtime: &tokio::runtime::Handle,
    db: super::db::Db,
) -> tokio::sync::mpsc::UnboundedSender<QueuedMessage> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<QueuedMessage>();
    runtime.spawn(async move {
        while let Some(first) = rx.recv().await {
            // Wait for the writer first (BEGIN IMMEDIATE): whatever arrives meanwhile joins this batch.
            let mut write = match db.begin().await {
                Ok(write) => write,
                Err(e) => {
                    let _ = first.1.send(Err(e.into()));
                    continue;
                }
            };
            let mut batch = vec![first];
            while batch.len() < MESSAGE_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let messages: Vec<super::NewMessage> = batch.iter().map(|(m, _)| m.clone()).collect();
            // The transaction ends (committed, or rolled back when dropped) before any retry.
            let stored: StoreResult<Vec<i64>> = async move {
                let ids = msg_sql::insert_messages(&mut write, &messages).await?;
                write.commit().await?;
                Ok(ids)
            }
            .await;
            match stored {
                Ok(ids) => {
                    for ((_, reply), id) in batch.into_iter().zip(ids) {
                        let _ = reply.send(Ok(id));
                    }
                }
                Err(_) => {
                    for (m, reply) in batch {
                        let _ = reply.send(msg_sql::create_message(&db, &m).await);
                    }
                }
            }
        }
    });
    tx
}

/// Databases with more events than this build their search index in the background
/// (searches use SQL meanwhile); smaller ones build it before the store is returned.
const INLINE_INDEX_BUILD: i64 = 20_000;

impl SqliteStore {
    /// This store's database for the queries written once (see `db.rs`).
    pub(crate) fn db(&self) -> super::db::Db {
        super::db::Db::Sqlite { reader: self.pool.clone(), writer: self.writer.clone() }
    }

    /// Opens (creating if missing) and migrates the database at `url`.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        sqlx::migrate!("migrations/sqlite").run(&writer).await?;
        let db = super::db::Db::Sqlite { reader: writer.clone(), writer: writer.clone() };
        let indexed = super::search_sql::index_missing(&db).await?;
        if indexed > 0 {
            tracing::info!(events = indexed, "search index built for existing events");
        }
        // Readers: each sqlx SQLite connection is a thread, and every statement is a hand-off
        // to it; more connections than cores mostly add context switches.
        let readers = std::env::var("TSUDOI_SQLITE_READERS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
        let pool = SqlitePoolOptions::new().max_connections(readers).connect_with(options).await?;
        let search_index = Arc::new(super::search_index::SearchIndex::new());
        let (events,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events").fetch_one(&pool).await?;
        let inline = std::env::var("TSUDOI_SEARCH_INDEX").is_ok_and(|v| v == "inline");
        if inline || events <= INLINE_INDEX_BUILD {
            search_index.build(&pool).await?;
        } else {
            let (index, pool) = (search_index.clone(), pool.clone());
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                match index.build(&pool).await {
                    Ok(()) => tracing::info!(events, seconds = started.elapsed().as_secs_f64(), "search index built"),
                    Err(e) => tracing::error!(error = %e, "search index not built; searches use SQL"),
                }
            });
        }
        let writer_rt = WriterRuntime::start()?;
        let db = super::db::Db::Sqlite { reader: pool.clone(), writer: writer.clone() };
        let messages = message_queue(&writer_rt.handle, db);
        Ok(SqliteStore { pool, writer, search_index, messages, writer_rt })
    }

    /// The underlying pool (tests inspect rows directly).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The page of cards and the echo of the query, around what a search found.
    async fn results(
        &self,
        found: super::search_sql::Searched,
        query: &crate::search::model::SearchQuery,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let mut cards = Vec::with_capacity(found.ids.len());
        if !found.ids.is_empty() {
            let mut by_id: HashMap<i64, EventCard> =
                super::events::cards_by_ids(&self.db(), &found.ids, "").await?.into_iter().map(|c| (c.id, c)).collect();
            cards.extend(found.ids.iter().filter_map(|id| by_id.remove(id)));
        }
        let mut query = query.clone();
        // The canonical spelling of resolved tags and tools (aliases become names).
        query.tags = found.tags.iter().map(|t| t.name.clone()).collect();
        query.tools = found.tools.iter().map(|t| t.name.clone()).collect();
        let page = query.page;
        Ok(crate::search::model::SearchResults {
            query,
            warnings: found.warnings,
            results: Page { items: cards, page, per_page, total: found.total },
            facets: found.facets,
        })
    }

    /// The search answered by SQL alone, bypassing the in-memory index: the oracle the
    /// index is tested against, and the fallback while it builds.
    pub async fn search_with_sql(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let found = super::search_sql::search(&self.db(), query, now, crate::events::api::PER_PAGE).await?;
        self.results(found, query).await
    }

    /// Whether the in-memory search index is built (benchmarks wait for it).
    pub fn search_index_ready(&self) -> bool {
        self.search_index.is_ready()
    }

    /// Hits and misses of the search index's cache of 3+ character terms.
    pub fn search_term_cache_stats(&self) -> (u64, u64) {
        self.search_index.term_cache_stats()
    }

    /// Empties the search index's term cache (benchmarks also measure searches without it).
    pub fn clear_search_term_cache(&self) {
        self.search_index.clear_term_cache()
    }
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        super::events::ping(&self.db()).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        super::events::is_empty(&self.db()).await
    }

    async fn list_upcoming(&self, now: DateTime<Utc>, page: u32, per_page: u32) -> StoreResult<Page<EventCard>> {
        super::events::list_upcoming(&self.db(), now, page, per_page).await
    }

    async fn fetch_event(&self, id: i64) -> StoreResult<Option<EventDetail>> {
        super::events::fetch_event(&self.db(), id).await
    }

    async fn fetch_questions(&self, event_id: i64) -> StoreResult<Vec<Question>> {
        super::events::questions_of(&self.db(), event_id).await
    }

    async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>> {
        super::events::fetch_group(&self.db(), slug, now).await
    }

    async fn fetch_tag(&self, slug: &str) -> StoreResult<Option<crate::tags::model::TagDetail>> {
        super::events::fetch_tag(&self.db(), slug).await
    }

    async fn list_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>> {
        super::events::list_tags(&self.db(), now).await
    }

    async fn insert_users(&self, users: &[NewUser]) -> StoreResult<Vec<i64>> {
        super::events::insert_users(&self.db(), users).await
    }

    async fn insert_groups(&self, groups: &[NewGroup]) -> StoreResult<Vec<i64>> {
        super::events::insert_groups(&self.db(), groups).await
    }

    async fn insert_tags(&self, tags: &[NewTag]) -> StoreResult<Vec<i64>> {
        super::events::insert_tags(&self.db(), tags).await
    }

    async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<i64>> {
        // BEGIN IMMEDIATE takes the write lock up front, so the ids read below cannot be
        // taken by another writer before this transaction commits.
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let (mut next_event,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM events").fetch_one(&mut *tx).await?;
        let (mut next_frame,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(id), 0) + 1 FROM frames").fetch_one(&mut *tx).await?;

        struct FrameIns<'a> {
            id: i64,
            event_id: i64,
            position: i64,
            frame: &'a super::NewFrame,
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut frames = Vec::new();
        for e in events {
            ids.push(next_event);
            for (position, frame) in e.frames.iter().enumerate() {
                frames.push(FrameIns { id: next_frame, event_id: next_event, position: position as i64, frame });
                next_frame += 1;
            }
            next_event += 1;
        }
        let now = crate::time::now().timestamp();

        for chunk in ids.iter().zip(events).collect::<Vec<_>>().chunks(BATCH_ROWS / 2) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO events (id, group_id, title, catch, description, starts_at, ends_at, time_zone, \
                 venue_kind, place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, \
                 status, event_type, beginner_ok, hands_on, created_at, updated_at, local_dow, local_start_min) ",
            );
            qb.push_values(chunk, |mut b, (id, e)| {
                let (dow, minute) = super::search_sql::local_parts(e.starts_at, &e.time_zone);
                b.push_bind(**id)
                    .push_bind(e.group_id)
                    .push_bind(e.title.as_str())
                    .push_bind(e.catch.as_str())
                    .push_bind(e.description.as_str())
                    .push_bind(e.starts_at.timestamp())
                    .push_bind(e.ends_at.timestamp())
                    .push_bind(e.time_zone.as_str())
                    .push_bind(e.venue_kind.as_str())
                    .push_bind(e.place.as_str())
                    .push_bind(e.address.as_str())
                    .push_bind(e.prefecture.as_deref())
                    .push_bind(e.lat)
                    .push_bind(e.lon)
                    .push_bind(e.online_url.as_deref())
                    .push_bind(e.language.as_str())
                    .push_bind(e.hashtag.as_str())
                    .push_bind(e.image_url.as_deref())
                    .push_bind(e.status.as_str())
                    .push_bind("participation")
                    .push_bind(e.beginner_ok)
                    .push_bind(e.hands_on)
                    .push_bind(e.created_at.timestamp())
                    .push_bind(now)
                    .push_bind(dow)
                    .push_bind(minute);
            });
            qb.build().execute(&mut *tx).await?;
        }

        for chunk in frames.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO frames (id, event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at) ",
            );
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.id)
                    .push_bind(f.event_id)
                    .push_bind(f.position)
                    .push_bind(f.frame.name.as_str())
                    .push_bind(f.frame.capacity)
                    .push_bind(f.frame.method.as_str())
                    .push_bind(f.frame.fee)
                    .push_bind(f.frame.opens_at.map(|t| t.timestamp()))
                    .push_bind(f.frame.closes_at.map(|t| t.timestamp()))
                    .push_bind(f.frame.draw_at.map(|t| t.timestamp()));
            });
            qb.build().execute(&mut *tx).await?;
        }

        let tag_rows: Vec<(i64, i64)> =
            ids.iter().zip(events).flat_map(|(id, e)| e.tag_ids.iter().map(move |t| (*id, *t))).collect();
        for chunk in tag_rows.chunks(BATCH_ROWS * 4) {
            let mut qb = QueryBuilder::<Sqlite>::new("INSERT OR IGNORE INTO event_tags (event_id, tag_id) ");
            qb.push_values(chunk, |mut b, (e, t)| {
                b.push_bind(*e).push_bind(*t);
            });
            qb.build().execute(&mut *tx).await?;
        }

        let speaker_rows: Vec<(i64, i64, &super::NewSpeaker)> = ids
            .iter()
            .zip(events)
            .flat_map(|(id, e)| e.speakers.iter().enumerate().map(move |(p, s)| (*id, p as i64, s)))
            .collect();
        for chunk in speaker_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) ",
            );
            qb.push_values(chunk, |mut b, (e, p, s)| {
                b.push_bind(*e)
                    .push_bind(*p)
                    .push_bind(s.name.as_str())
                    .push_bind(s.affiliation.as_str())
                    .push_bind(s.bio.as_str())
                    .push_bind(s.talk_title.as_str())
                    .push_bind(s.user_id);
            });
            qb.build().execute(&mut *tx).await?;
        }

        let question_rows: Vec<(i64, i64, &super::NewQuestion)> = ids
            .iter()
            .zip(events)
            .flat_map(|(id, e)| e.questions.iter().enumerate().map(move |(p, q)| (*id, p as i64, q)))
            .collect();
        for chunk in question_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO questions (event_id, position, kind, label, options, required) ",
            );
            qb.push_values(chunk, |mut b, (e, p, q)| {
                b.push_bind(*e)
                    .push_bind(*p)
                    .push_bind(q.kind.as_str())
                    .push_bind(q.label.as_str())
                    .push_bind(serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()))
                    .push_bind(q.required);
            });
            qb.build().execute(&mut *tx).await?;
        }

        let reg_rows: Vec<(i64, i64, i64, &super::NewRegistration)> = frames
            .iter()
            .flat_map(|f| {
                f.frame.registrations.iter().enumerate().map(move |(p, r)| (f.event_id, f.id, p as i64 + 1, r))
            })
            .collect();
        for chunk in reg_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Sqlite>::new(
                "INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, (e, f, p, r)| {
                b.push_bind(*e)
                    .push_bind(*f)
                    .push_bind(r.user_id)
                    .push_bind(r.status.as_str())
                    .push_bind(*p)
                    .push_bind(r.receipt_code.as_str())
                    .push_bind(r.created_at.timestamp())
                    .push_bind(r.created_at.timestamp());
            });
            qb.build().execute(&mut *tx).await?;
        }

        super::search_sql::index_events(&mut tx, &ids).await?;

        // Counters from the rows just written, in the same transaction.
        if let (Some(first), Some(last)) = (frames.first(), frames.last()) {
            sqlx::query(
                "UPDATE frames SET \
                   accepted_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'confirmed'), \
                   waiting_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'waitlisted') \
                 WHERE id BETWEEN ? AND ?",
            )
            .bind(first.id)
            .bind(last.id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn directory(&self) -> StoreResult<Directory> {
        super::events::directory(&self.db()).await
    }

    async fn counter_check(&self, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>> {
        super::events::counter_check(&self.db(), event_ids).await
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<CurrentUser> {
        accounts::create_user(&self.db(), user).await
    }

    async fn find_login(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        accounts::find_login(&self.db(), login).await
    }

    async fn fetch_user(&self, id: i64) -> StoreResult<Option<CurrentUser>> {
        accounts::fetch_user(&self.db(), id).await
    }

    async fn fetch_my_profile(&self, id: i64) -> StoreResult<Option<MyProfile>> {
        accounts::fetch_my_profile(&self.db(), id).await
    }

    async fn fetch_user_profile(&self, nickname: &str) -> StoreResult<Option<UserProfile>> {
        super::events::fetch_user_profile(&self.db(), nickname).await
    }

    async fn update_profile(&self, id: i64, display_name: &str, bio: &str) -> StoreResult<()> {
        accounts::update_profile(&self.db(), id, display_name, bio).await
    }

    async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>> {
        accounts::fetch_password_hash(&self.db(), id).await
    }

    async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        accounts::update_password_hash(&self.db(), id, hash).await
    }

    async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool> {
        accounts::session_create(&self.db(), id, row).await
    }

    async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()> {
        accounts::session_save(&self.db(), id, row).await
    }

    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
        accounts::session_load(&self.db(), id, now).await
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        accounts::session_delete(&self.db(), id).await
    }

    async fn sessions_purge(&self, now: i64) -> StoreResult<u64> {
        accounts::sessions_purge(&self.db(), now).await
    }

    async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        // The common case is one round trip (see `register_fast`) and runs here; the full
        // path, a chain of statements under the write lock, runs on the writer thread.
        if let Some(change) = super::sqlite_fast::register_fast(&self.writer, req).await? {
            return Ok(change);
        }
        let (db, req) = (self.db(), req.clone());
        self.writer_rt.run(async move { regs::register(&db, &req).await }).await
    }

    async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        let db = self.db();
        self.writer_rt.run(async move { regs::cancel(&db, event_id, user_id, now).await }).await
    }

    async fn set_capacity(&self, frame_id: i64, capacity: i64, now: DateTime<Utc>) -> StoreResult<RegistrationChange> {
        regs::set_capacity(&self.db(), frame_id, capacity, now).await
    }

    async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>> {
        regs::due_draws(&self.db(), now).await
    }

    async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>> {
        regs::draw(&self.db(), frame_id, seed, now).await
    }

    async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>> {
        regs::fetch_my_registration(&self.db(), event_id, user_id).await
    }

    async fn online_url(&self, event_id: i64) -> StoreResult<Option<String>> {
        super::events::online_url(&self.db(), event_id).await
    }

    async fn my_registrations(&self, user_id: i64) -> StoreResult<Vec<MyEventRegistration>> {
        let mut q = super::events::card_query();
        q.push("WHERE e.status != 'draft' AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
            .push_bind(user_id)
            .push(") ORDER BY e.starts_at, e.id");
        let cards = super::events::cards(&self.db(), q).await?;
        let db = self.db();
        let mut out = Vec::with_capacity(cards.len());
        for card in cards {
            if let Some(registration) = regs::fetch_my_registration(&db, card.id, user_id).await? {
                out.push(MyEventRegistration { card, registration });
            }
        }
        Ok(out)
    }

    async fn seat_snapshot(&self, event_id: i64) -> StoreResult<Option<SeatSnapshot>> {
        regs::seat_snapshot(&self.db(), event_id).await
    }

    async fn search(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let found =
            match super::search_sql::search_indexed(&self.pool, &self.search_index, query, now, per_page).await? {
                Some(found) => found,
                None => super::search_sql::search(&self.db(), query, now, per_page).await?,
            };
        self.results(found, query).await
    }

    async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<super::RegistrationRow>> {
        regs::list_registrations(&self.db(), event_id).await
    }

    async fn search_ids(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<i64>> {
        let first = crate::search::model::SearchQuery { page: 1, ..query.clone() };
        match super::search_sql::search_indexed(&self.pool, &self.search_index, &first, now, limit).await? {
            Some(found) => Ok(found.ids),
            None => super::search_sql::search_ids(&self.db(), query, now, limit).await,
        }
    }

    async fn public_events(&self, filter: &pub_::EventFilter) -> StoreResult<(Vec<pub_::PublicEvent>, i64)> {
        super::public_sql::events(&self.db(), filter).await
    }

    async fn public_events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<pub_::PublicEvent>> {
        super::public_sql::events_by_ids(&self.db(), ids).await
    }

    async fn public_groups(&self, filter: &pub_::GroupFilter) -> StoreResult<(Vec<pub_::PublicGroup>, i64)> {
        super::public_sql::groups(&self.db(), filter).await
    }

    async fn public_users(&self, filter: &pub_::UserFilter) -> StoreResult<(Vec<pub_::PublicUser>, i64)> {
        super::public_sql::users(&self.db(), filter).await
    }

    async fn presenter_event_ids(&self, nickname: &str) -> StoreResult<Vec<i64>> {
        super::public_sql::presenter_event_ids(&self.db(), nickname).await
    }

    async fn materials(&self, event_ids: &[i64]) -> StoreResult<Vec<pub_::MaterialRow>> {
        super::public_sql::materials(&self.db(), event_ids).await
    }

    async fn material(&self, id: i64) -> StoreResult<Option<pub_::MaterialRow>> {
        super::public_sql::material_by_id(&self.db(), id).await
    }

    async fn add_material(&self, material: &pub_::NewMaterial) -> StoreResult<pub_::MaterialRow> {
        super::public_sql::add_material(&self.db(), material).await
    }

    async fn delete_material(&self, id: i64) -> StoreResult<bool> {
        super::public_sql::delete_material(&self.db(), id).await
    }

    async fn may_attach_material(&self, event_id: i64, user_id: i64) -> StoreResult<bool> {
        super::public_sql::may_attach_material(&self.db(), event_id, user_id).await
    }

    async fn member_role(&self, group_id: i64, user_id: i64) -> StoreResult<Option<crate::admin::model::Role>> {
        super::admin::member_role(&self.db(), group_id, user_id).await
    }

    async fn event_group_id(&self, event_id: i64) -> StoreResult<Option<i64>> {
        super::admin::event_group_id(&self.db(), event_id).await
    }

    async fn admin_groups(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminGroup>> {
        super::admin::admin_groups(&self.db(), user_id).await
    }

    async fn admin_events(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminEventRow>> {
        super::admin::admin_events(&self.db(), user_id).await
    }

    async fn admin_event(&self, event_id: i64) -> StoreResult<Option<crate::admin::model::AdminEvent>> {
        super::admin::admin_event(&self.db(), event_id).await
    }

    async fn update_event(&self, event_id: i64, fields: &super::EventFields, now: DateTime<Utc>) -> StoreResult<()> {
        super::admin_edit::update_event(&self.db(), event_id, fields, now).await
    }

    async fn set_event_status(&self, event_id: i64, status: EventStatus, now: DateTime<Utc>) -> StoreResult<()> {
        super::admin_edit::set_event_status(&self.db(), event_id, status, now).await
    }

    async fn attendees(&self, event_id: i64) -> StoreResult<Vec<crate::admin::model::Attendee>> {
        super::admin::attendees(&self.db(), event_id).await
    }

    async fn check_in(
        &self,
        event_id: i64,
        receipt_code: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<crate::admin::model::Attendee>> {
        super::admin::check_in(&self.db(), event_id, receipt_code, now).await
    }

    async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: crate::registrations::model::RegStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::move_registration(&self.db(), event_id, registration_id, to, now).await
    }

    async fn add_frame(&self, event_id: i64, frame: &super::FrameFields) -> StoreResult<i64> {
        super::admin_edit::add_frame(&self.db(), event_id, frame).await
    }

    async fn update_frame(&self, event_id: i64, frame_id: i64, frame: &super::FrameFields) -> StoreResult<()> {
        super::admin_edit::update_frame(&self.db(), event_id, frame_id, frame).await
    }

    async fn delete_frame(&self, event_id: i64, frame_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_frame(&self.db(), event_id, frame_id).await
    }

    async fn add_question(&self, event_id: i64, question: &super::NewQuestion) -> StoreResult<i64> {
        super::admin_edit::add_question(&self.db(), event_id, question).await
    }

    async fn delete_question(&self, event_id: i64, question_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_question(&self.db(), event_id, question_id).await
    }

    async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<i64> {
        super::admin_edit::duplicate_event(&self.db(), event_id, starts_at, now).await
    }

    async fn create_message(&self, message: &super::NewMessage) -> StoreResult<i64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.messages.send((message.clone(), reply)).is_err() {
            // The queue's task is gone (runtime shutting down): write directly.
            return msg_sql::create_message(&self.db(), message).await;
        }
        answer.await.map_err(|_| crate::error::AppError::Internal)?
    }

    async fn audience_user_ids(
        &self,
        event_id: i64,
        audience: crate::messages::model::Audience,
    ) -> StoreResult<Vec<i64>> {
        msg_sql::audience_user_ids(&self.db(), event_id, audience).await
    }

    async fn inbox(&self, user_id: i64, limit: u32) -> StoreResult<Vec<crate::messages::model::InboxMessage>> {
        msg_sql::inbox(&self.db(), user_id, limit).await
    }

    async fn mark_read(&self, user_id: i64, message_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        msg_sql::mark_read(&self.db(), user_id, message_id, now).await
    }

    async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<crate::messages::model::SentMessage>> {
        msg_sql::sent_messages(&self.db(), event_id).await
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>> {
        msg_sql::claim_due_reminders(&self.db(), now, window).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<super::MailJob>> {
        msg_sql::claim_deliveries(&self.db(), now, lease, limit).await
    }

    async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        msg_sql::record_delivery(&self.db(), message_id, user_id, outcome, retry_at).await
    }

    async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()> {
        msg_sql::set_follow(&self.db(), group_id, user_id, follow, now).await
    }

    async fn follow_state(&self, group_id: i64, user_id: Option<i64>) -> StoreResult<(i64, bool)> {
        msg_sql::follow_state(&self.db(), group_id, user_id).await
    }

    async fn follower_ids(&self, group_id: i64) -> StoreResult<Vec<i64>> {
        msg_sql::follower_ids(&self.db(), group_id).await
    }

    async fn followed_events(&self, user_id: i64, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<EventCard>> {
        let ids = msg_sql::followed_event_ids(&self.db(), user_id, now, limit).await?;
        super::events::cards_by_ids(&self.db(), &ids, " ORDER BY e.starts_at, e.id").await
    }

    async fn resolve_tag_names(&self, names: &[String]) -> StoreResult<(Vec<i64>, Vec<String>)> {
        super::admin_edit::resolve_tag_names(&self.db(), names).await
    }

    async fn add_speaker(&self, event_id: i64, speaker: &super::NewSpeaker) -> StoreResult<i64> {
        super::admin_edit::add_speaker(&self.db(), event_id, speaker).await
    }

    async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_speaker(&self.db(), event_id, speaker_id).await
    }

    async fn members(&self, group_id: i64) -> StoreResult<Vec<crate::admin::model::Member>> {
        super::admin::members(&self.db(), group_id).await
    }

    async fn add_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: crate::admin::model::Role,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        super::admin_edit::add_member(&self.db(), group_id, user_id, role, now).await
    }

    async fn set_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: Option<crate::admin::model::Role>,
    ) -> StoreResult<()> {
        super::admin_edit::set_member(&self.db(), group_id, user_id, role).await
    }

    async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> StoreResult<()> {
        super::admin_edit::transfer_ownership(&self.db(), group_id, from, to).await
    }

    async fn record_audit(&self, entry: &super::NewAudit) -> StoreResult<()> {
        super::admin::record_audit(&self.db(), entry).await
    }

    async fn audit_log(
        &self,
        group_id: i64,
        event_id: Option<i64>,
    ) -> StoreResult<Vec<crate::admin::model::AuditEntry>> {
        super::admin::audit_log(&self.db(), group_id, event_id).await
    }

    async fn organizes_event(&self, event_id: i64, user_id: i64) -> StoreResult<bool> {
        super::public_sql::organizes_event(&self.db(), event_id, user_id).await
    }

    async fn calendar_token(&self, user_id: i64) -> StoreResult<Option<String>> {
        super::public_sql::calendar_token(&self.db(), user_id).await
    }

    async fn set_calendar_token(&self, user_id: i64, token: &str) -> StoreResult<()> {
        super::public_sql::set_calendar_token(&self.db(), user_id, token).await
    }

    async fn user_by_calendar_token(&self, token: &str) -> StoreResult<Option<(i64, String)>> {
        super::public_sql::user_by_calendar_token(&self.db(), token).await
    }

    async fn sitemap(&self, limit: u32) -> StoreResult<Vec<pub_::SitemapEntry>> {
        super::public_sql::sitemap(&self.db(), limit).await
    }

    async fn message_context(&self, event_id: i64) -> StoreResult<Option<(String, ZonedSpan)>> {
        super::events::message_context(&self.db(), event_id).await
    }

    async fn registration_form(&self, event_id: i64) -> StoreResult<(Vec<Question>, Option<(String, ZonedSpan)>)> {
        super::events::registration_form(&self.db(), event_id).await
    }

    async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>> {
        super::events::fetch_card(&self.db(), event_id).await
    }
}
