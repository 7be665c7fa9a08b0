//! The embedded default backend: one SQLite file, WAL mode, migrated on start.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::{
    CounterCheck, Directory, DrawOutcome, DueDraw, NewEvent, NewGroup, NewTag, NewUser, RegisterRequest,
    RegistrationChange, SessionRow, Store, StoreResult, public as pub_, sqlite_accounts as accounts,
    sqlite_admin as admin_sql, sqlite_messages as msg_sql, sqlite_registrations as regs,
};
use crate::accounts::model::{CurrentUser, MyProfile, UserProfile};
use crate::events::model::{
    EventCard, EventDetail, EventStatus, FrameMethod, FrameSummary, Page, Seats, Speaker, SpokenLanguage, VenueKind,
};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{MyEventRegistration, MyRegistration, Question, QuestionKind, SeatSnapshot};
use crate::server::markdown;
use crate::server::text::normalize;
use crate::tags::model::{TagCount, TagKind, TagRef};
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
    /// In-memory search index (see sqlite_search_index.rs).
    search_index: Arc<super::sqlite_search_index::SearchIndex>,
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
    writer: SqlitePool,
) -> tokio::sync::mpsc::UnboundedSender<QueuedMessage> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<QueuedMessage>();
    runtime.spawn(async move {
        while let Some(first) = rx.recv().await {
            // Wait for the writer first: whatever arrives meanwhile joins this batch.
            let mut conn = match writer.acquire().await {
                Ok(conn) => conn,
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
            let stored = msg_sql::create_messages(&mut conn, &messages).await;
            drop(conn);
            match stored {
                Ok(ids) => {
                    for ((_, reply), id) in batch.into_iter().zip(ids) {
                        let _ = reply.send(Ok(id));
                    }
                }
                Err(_) => {
                    for (m, reply) in batch {
                        let _ = reply.send(msg_sql::create_message(&writer, &m).await);
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
        let indexed = super::sqlite_search::index_missing(&writer).await?;
        if indexed > 0 {
            tracing::info!(events = indexed, "search index built for existing events");
        }
        // Readers: each sqlx SQLite connection is a thread, and every statement is a hand-off
        // to it; more connections than cores mostly add context switches.
        let readers = std::env::var("TSUDOI_SQLITE_READERS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
        let pool = SqlitePoolOptions::new().max_connections(readers).connect_with(options).await?;
        let search_index = Arc::new(super::sqlite_search_index::SearchIndex::new());
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
        let messages = message_queue(&writer_rt.handle, writer.clone());
        Ok(SqliteStore { pool, writer, search_index, messages, writer_rt })
    }

    /// The underlying pool (tests inspect rows directly).
    pub fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    /// The database for the queries written once for both backends.
    pub(crate) fn db(&self) -> super::db::Db {
        super::db::Db::Sqlite { reader: self.pool.clone(), writer: self.writer.clone() }
    }

    /// The page of cards and the echo of the query, around what a search found.
    async fn results(
        &self,
        found: super::sqlite_search::Searched,
        query: &crate::search::model::SearchQuery,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let mut cards = Vec::with_capacity(found.ids.len());
        if !found.ids.is_empty() {
            let mut qb = card_query();
            qb.push("WHERE e.id IN (");
            let mut sep = qb.separated(", ");
            for id in &found.ids {
                sep.push_bind(*id);
            }
            qb.push(")");
            let mut by_id: HashMap<i64, EventCard> = self.cards(qb).await?.into_iter().map(|c| (c.id, c)).collect();
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
        let found = super::sqlite_search::search(&self.pool, query, now, crate::events::api::PER_PAGE).await?;
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

    async fn cards(&self, mut qb: QueryBuilder<Sqlite>) -> StoreResult<Vec<EventCard>> {
        let rows: Vec<CardRow> = qb.build_query_as().fetch_all(&self.pool).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let mut tags = tags_of(&self.pool, &ids).await?;
        Ok(rows
            .into_iter()
            .map(|r| {
                let t = tags.remove(&r.id).unwrap_or_default();
                r.into_card(t)
            })
            .collect())
    }
}

/// Tags of many events in one query (topics first, in list order).
pub(super) async fn tags_of(pool: &SqlitePool, event_ids: &[i64]) -> StoreResult<HashMap<i64, Vec<TagRef>>> {
    let mut out: HashMap<i64, Vec<TagRef>> = HashMap::new();
    if event_ids.is_empty() {
        return Ok(out);
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT et.event_id, t.slug, t.name, t.kind FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id IN (",
    );
    let mut sep = qb.separated(", ");
    for id in event_ids {
        sep.push_bind(*id);
    }
    qb.push(") ORDER BY t.kind DESC, t.position, t.id");
    let rows: Vec<(i64, String, String, String)> = qb.build_query_as().fetch_all(pool).await?;
    for (event_id, slug, name, kind) in rows {
        out.entry(event_id).or_default().push(TagRef {
            slug,
            name,
            kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic),
        });
    }
    Ok(out)
}

/// The questions an event asks, in order.
pub(super) async fn questions_of(pool: &SqlitePool, event_id: i64) -> StoreResult<Vec<Question>> {
    let rows: Vec<(i64, String, String, String, bool)> = sqlx::query_as(
        "SELECT id, kind, label, options, required FROM questions WHERE event_id = ? ORDER BY position, id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, kind, label, options, required)| Question {
            id,
            kind: QuestionKind::parse(&kind).unwrap_or(QuestionKind::Text),
            label,
            options: serde_json::from_str(&options).unwrap_or_default(),
            required,
        })
        .collect())
}

/// The columns of an event card, in the order of [`card_query`].
#[derive(sqlx::FromRow)]
struct CardRow {
    id: i64,
    title: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    venue_kind: String,
    prefecture: Option<String>,
    status: String,
    group_slug: String,
    group_title: String,
    accepted: i64,
    capacity: i64,
    waiting: i64,
}

impl CardRow {
    fn into_card(self, tags: Vec<TagRef>) -> EventCard {
        EventCard {
            id: self.id,
            title: self.title,
            span: ZonedSpan::resolve(instant(self.starts_at), instant(self.ends_at), &self.time_zone),
            group_slug: self.group_slug,
            group_title: self.group_title,
            tags,
            venue_kind: VenueKind::parse(&self.venue_kind).unwrap_or(VenueKind::Online),
            prefecture: self.prefecture,
            status: EventStatus::parse(&self.status).unwrap_or(EventStatus::Published),
            seats: Seats { accepted: self.accepted, limit: self.capacity, waiting: self.waiting },
        }
    }
}

/// SELECT of card columns; the caller appends WHERE / ORDER / LIMIT. Seat sums are
/// correlated subqueries over the frames index, so only the returned rows pay for them.
fn card_query() -> QueryBuilder<Sqlite> {
    QueryBuilder::new(
        "SELECT e.id, e.title, e.starts_at, e.ends_at, e.time_zone, e.venue_kind, e.prefecture, e.status, \
         g.slug AS group_slug, g.title AS group_title, \
         (SELECT COALESCE(SUM(f.accepted_count), 0) FROM frames f WHERE f.event_id = e.id) AS accepted, \
         (SELECT COALESCE(SUM(f.capacity), 0) FROM frames f WHERE f.event_id = e.id) AS capacity, \
         (SELECT COALESCE(SUM(f.waiting_count), 0) FROM frames f WHERE f.event_id = e.id) AS waiting \
         FROM events e JOIN groups g ON g.id = e.group_id ",
    )
}

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct EventRow {
    catch: String,
    description: String,
    place: String,
    address: String,
    lat: Option<f64>,
    lon: Option<f64>,
    language: String,
    hashtag: String,
    image_url: Option<String>,
}

/// A frame as stored; [`FRAME_COLUMNS`] selects it.
#[derive(sqlx::FromRow)]
pub(super) struct FrameRow {
    pub(super) event_id: i64,
    id: i64,
    name: String,
    method: String,
    fee: i64,
    capacity: i64,
    accepted_count: i64,
    waiting_count: i64,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
    draw_at: Option<i64>,
    drawn_at: Option<i64>,
    promotion_frozen: bool,
}

/// The SELECT list of [`FrameRow`].
pub(super) const FRAME_COLUMNS: &str = "event_id, id, name, method, fee, capacity, accepted_count, waiting_count, \
     opens_at, closes_at, draw_at, drawn_at, promotion_frozen";

impl FrameRow {
    pub(super) fn into_summary(self) -> FrameSummary {
        FrameSummary {
            id: self.id,
            name: self.name,
            method: FrameMethod::parse(&self.method).unwrap_or(FrameMethod::FirstCome),
            fee: self.fee,
            seats: Seats { accepted: self.accepted_count, limit: self.capacity, waiting: self.waiting_count },
            opens_at: self.opens_at.map(instant),
            closes_at: self.closes_at.map(instant),
            draw_at: self.draw_at.map(instant),
            drawn: self.drawn_at.is_some(),
            promotion_frozen: self.promotion_frozen,
        }
    }
}

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    slug: String,
    title: String,
    description: String,
    website: Option<String>,
    image_url: Option<String>,
}

#[async_trait]
impl Store for SqliteStore {
    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        let (n,): (i64,) = sqlx::query_as("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM groups)")
            .fetch_one(&self.pool)
            .await?;
        Ok(n == 0)
    }

    async fn list_upcoming(&self, now: DateTime<Utc>, page: u32, per_page: u32) -> StoreResult<Page<EventCard>> {
        let page = page.max(1);
        let per_page = per_page.clamp(1, 100);
        let (total,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM events WHERE status = 'published' AND ends_at > ?")
            .bind(now.timestamp())
            .fetch_one(&self.pool)
            .await?;
        let mut qb = card_query();
        qb.push("WHERE e.status = 'published' AND e.ends_at > ")
            .push_bind(now.timestamp())
            .push(" ORDER BY e.starts_at, e.id LIMIT ")
            .push_bind(i64::from(per_page))
            .push(" OFFSET ")
            .push_bind(i64::from(page - 1) * i64::from(per_page));
        let items = self.cards(qb).await?;
        Ok(Page { items, page, per_page, total })
    }

    async fn fetch_event(&self, id: i64) -> StoreResult<Option<EventDetail>> {
        let mut qb = card_query();
        qb.push("WHERE e.status IN ('published', 'cancelled') AND e.id = ").push_bind(id);
        let Some(card) = self.cards(qb).await?.into_iter().next() else {
            return Ok(None);
        };
        let row: EventRow = sqlx::query_as(
            "SELECT catch, description, place, address, lat, lon, language, hashtag, image_url FROM events WHERE id = ?",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let mut fq = QueryBuilder::<Sqlite>::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = "));
        fq.push_bind(id).push(" ORDER BY position, id");
        let frames: Vec<FrameRow> = fq.build_query_as().fetch_all(&self.pool).await?;
        let speakers: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT name, affiliation, bio, talk_title FROM speakers WHERE event_id = ? ORDER BY position, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        let questions = self.fetch_questions(id).await?;
        Ok(Some(EventDetail {
            card,
            catch: row.catch,
            description_html: markdown::to_safe_html(&row.description),
            description_text: markdown::to_plain_text(&row.description),
            place: row.place,
            address: row.address,
            lat: row.lat,
            lon: row.lon,
            language: SpokenLanguage::parse(&row.language).unwrap_or(SpokenLanguage::Ja),
            hashtag: row.hashtag,
            image_url: row.image_url,
            frames: frames.into_iter().map(FrameRow::into_summary).collect(),
            speakers: speakers
                .into_iter()
                .map(|(name, affiliation, bio, talk_title)| Speaker { name, affiliation, bio, talk_title })
                .collect(),
            questions,
            ended: false,
            url: format!("/events/{id}"),
            json_ld: String::new(),
        }))
    }

    async fn fetch_questions(&self, event_id: i64) -> StoreResult<Vec<Question>> {
        questions_of(&self.pool, event_id).await
    }

    async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>> {
        let Some(g): Option<GroupRow> =
            sqlx::query_as("SELECT id, slug, title, description, website, image_url FROM groups WHERE slug = ?")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let (member_count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM group_members WHERE group_id = ?")
            .bind(g.id)
            .fetch_one(&self.pool)
            .await?;
        let mut upcoming = card_query();
        upcoming
            .push("WHERE e.group_id = ")
            .push_bind(g.id)
            .push(" AND e.status IN ('published', 'cancelled') AND e.ends_at > ")
            .push_bind(now.timestamp())
            .push(" ORDER BY e.starts_at, e.id LIMIT 50");
        let mut past = card_query();
        past.push("WHERE e.group_id = ")
            .push_bind(g.id)
            .push(" AND e.status IN ('published', 'cancelled') AND e.ends_at <= ")
            .push_bind(now.timestamp())
            .push(" ORDER BY e.starts_at DESC, e.id DESC LIMIT 30");
        Ok(Some(GroupDetail {
            slug: g.slug,
            title: g.title,
            description_html: markdown::to_safe_html(&g.description),
            website: g.website,
            image_url: g.image_url,
            member_count,
            upcoming: self.cards(upcoming).await?,
            past: self.cards(past).await?,
        }))
    }

    async fn fetch_tag(&self, slug: &str) -> StoreResult<Option<crate::tags::model::TagDetail>> {
        let row: Option<(String, String, String, String)> =
            sqlx::query_as("SELECT slug, name, kind, description FROM tags WHERE slug = ?")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(|(slug, name, kind, description)| crate::tags::model::TagDetail {
            tag: TagRef { slug, name, kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic) },
            description,
        }))
    }

    async fn list_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT t.slug, t.name, t.kind, \
               (SELECT COUNT(*) FROM event_tags et JOIN events e ON e.id = et.event_id \
                 WHERE et.tag_id = t.id AND e.status = 'published' AND e.ends_at > ?) \
             FROM tags t ORDER BY t.kind DESC, t.position, t.id",
        )
        .bind(now.timestamp())
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(slug, name, kind, upcoming)| TagCount {
                tag: TagRef { slug, name, kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic) },
                upcoming,
            })
            .collect())
    }

    async fn insert_users(&self, users: &[NewUser]) -> StoreResult<Vec<i64>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(users.len());
        for u in users {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO users (nickname, display_name, email, password_hash, bio, created_at) \
                 VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(&u.nickname)
            .bind(&u.display_name)
            .bind(&u.email)
            .bind(&u.password_hash)
            .bind(&u.bio)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn insert_groups(&self, groups: &[NewGroup]) -> StoreResult<Vec<i64>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(groups.len());
        for g in groups {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO groups (slug, title, description, website, image_url, created_at, updated_at) \
                 VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(&g.slug)
            .bind(&g.title)
            .bind(&g.description)
            .bind(&g.website)
            .bind(&g.image_url)
            .bind(now)
            .bind(now)
            .fetch_one(&mut *tx)
            .await?;
            for (user_id, role) in &g.members {
                sqlx::query("INSERT INTO group_members (group_id, user_id, role, created_at) VALUES (?, ?, ?, ?)")
                    .bind(id)
                    .bind(user_id)
                    .bind(role.as_str())
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn insert_tags(&self, tags: &[NewTag]) -> StoreResult<Vec<i64>> {
        let mut tx = self.writer.begin_with("BEGIN IMMEDIATE").await?;
        let (base,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(position), 0) FROM tags").fetch_one(&mut *tx).await?;
        let mut ids = Vec::with_capacity(tags.len());
        for (i, t) in tags.iter().enumerate() {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO tags (slug, name, kind, position, description) VALUES (?, ?, ?, ?, ?) RETURNING id",
            )
            .bind(&t.slug)
            .bind(&t.name)
            .bind(t.kind.as_str())
            .bind(base + 1 + i as i64)
            .bind(&t.description)
            .fetch_one(&mut *tx)
            .await?;
            // The tag's own name and slug resolve too, so lookups need one table.
            let mut aliases: Vec<String> = t.aliases.iter().map(|a| normalize(a)).collect();
            aliases.push(normalize(&t.name));
            aliases.push(normalize(&t.slug));
            aliases.sort();
            aliases.dedup();
            for alias in aliases {
                sqlx::query("INSERT OR IGNORE INTO tag_aliases (alias, tag_id) VALUES (?, ?)")
                    .bind(alias)
                    .bind(id)
                    .execute(&mut *tx)
                    .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
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
                let (dow, minute) = super::sqlite_search::local_parts(e.starts_at, &e.time_zone);
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

        super::sqlite_search::index_events(&mut tx, &ids).await?;

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
        let groups: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, slug FROM groups ORDER BY id").fetch_all(&self.pool).await?;
        let tags: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, slug, kind FROM tags ORDER BY position, id").fetch_all(&self.pool).await?;
        let attendees: Vec<(i64,)> = sqlx::query_as("SELECT id FROM users WHERE password_hash IS NULL ORDER BY id")
            .fetch_all(&self.pool)
            .await?;
        Ok(Directory {
            groups,
            tags: tags
                .into_iter()
                .map(|(id, slug, kind)| (id, slug, TagKind::parse(&kind).unwrap_or(TagKind::Topic)))
                .collect(),
            attendee_ids: attendees.into_iter().map(|(id,)| id).collect(),
        })
    }

    async fn counter_check(&self, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>> {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT f.id, f.accepted_count, \
               (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'confirmed'), \
               f.waiting_count, \
               (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'waitlisted') \
             FROM frames f",
        );
        if !event_ids.is_empty() {
            qb.push(" WHERE f.event_id IN (");
            let mut sep = qb.separated(", ");
            for id in event_ids {
                sep.push_bind(*id);
            }
            qb.push(")");
        }
        qb.push(" ORDER BY f.id");
        let rows: Vec<(i64, i64, i64, i64, i64)> = qb.build_query_as().fetch_all(&self.pool).await?;
        Ok(rows
            .into_iter()
            .map(|(frame_id, accepted_count, accepted_rows, waiting_count, waiting_rows)| CounterCheck {
                frame_id,
                accepted_count,
                accepted_rows,
                waiting_count,
                waiting_rows,
            })
            .collect())
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<CurrentUser> {
        accounts::create_user(&self.writer, user).await
    }

    async fn find_login(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        accounts::find_login(&self.pool, login).await
    }

    async fn fetch_user(&self, id: i64) -> StoreResult<Option<CurrentUser>> {
        accounts::fetch_user(&self.pool, id).await
    }

    async fn fetch_my_profile(&self, id: i64) -> StoreResult<Option<MyProfile>> {
        accounts::fetch_my_profile(&self.pool, id).await
    }

    async fn fetch_user_profile(&self, nickname: &str) -> StoreResult<Option<UserProfile>> {
        let row: Option<(i64, String, String, String)> =
            sqlx::query_as("SELECT id, nickname, display_name, bio FROM users WHERE nickname = ?")
                .bind(nickname)
                .fetch_optional(&self.pool)
                .await?;
        let Some((id, nickname, display_name, bio)) = row else { return Ok(None) };
        let mut attended = card_query();
        attended
            .push("WHERE e.status IN ('published', 'cancelled') AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
            .push_bind(id)
            .push(" AND status = 'confirmed') ORDER BY e.starts_at DESC LIMIT 50");
        let mut organised = card_query();
        organised
            .push(
                "WHERE e.status IN ('published', 'cancelled') AND e.group_id IN \
                 (SELECT group_id FROM group_members WHERE role IN ('owner', 'admin') AND user_id = ",
            )
            .push_bind(id)
            .push(") ORDER BY e.starts_at DESC LIMIT 50");
        Ok(Some(UserProfile {
            nickname,
            display_name,
            bio,
            attended: self.cards(attended).await?,
            organised: self.cards(organised).await?,
        }))
    }

    async fn update_profile(&self, id: i64, display_name: &str, bio: &str) -> StoreResult<()> {
        accounts::update_profile(&self.writer, id, display_name, bio).await
    }

    async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>> {
        accounts::fetch_password_hash(&self.pool, id).await
    }

    async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        accounts::update_password_hash(&self.writer, id, hash).await
    }

    async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool> {
        accounts::session_create(&self.writer, id, row).await
    }

    async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()> {
        accounts::session_save(&self.writer, id, row).await
    }

    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
        accounts::session_load(&self.pool, id, now).await
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        accounts::session_delete(&self.writer, id).await
    }

    async fn sessions_purge(&self, now: i64) -> StoreResult<u64> {
        accounts::sessions_purge(&self.writer, now).await
    }

    async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        // The common case is one round trip (see `register_fast`) and runs here; the full
        // path, a chain of statements under the write lock, runs on the writer thread.
        if let Some(change) = regs::register_fast(&self.writer, req).await? {
            return Ok(change);
        }
        let (writer, reader, req) = (self.writer.clone(), self.pool.clone(), req.clone());
        self.writer_rt.run(async move { regs::register(&writer, &reader, &req).await }).await
    }

    async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        let writer = self.writer.clone();
        self.writer_rt.run(async move { regs::cancel(&writer, event_id, user_id, now).await }).await
    }

    async fn set_capacity(&self, frame_id: i64, capacity: i64, now: DateTime<Utc>) -> StoreResult<RegistrationChange> {
        regs::set_capacity(&self.writer, frame_id, capacity, now).await
    }

    async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>> {
        regs::due_draws(&self.pool, now).await
    }

    async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>> {
        regs::draw(&self.writer, frame_id, seed, now).await
    }

    async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>> {
        let mut conn = self.pool.acquire().await?;
        regs::fetch_my_registration(&mut conn, event_id, user_id).await
    }

    async fn online_url(&self, event_id: i64) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as("SELECT online_url FROM events WHERE id = ?")
            .bind(event_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.and_then(|(u,)| u))
    }

    async fn my_registrations(&self, user_id: i64) -> StoreResult<Vec<MyEventRegistration>> {
        let mut qb = card_query();
        qb.push("WHERE e.status != 'draft' AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
            .push_bind(user_id)
            .push(") ORDER BY e.starts_at, e.id");
        let cards = self.cards(qb).await?;
        let mut conn = self.pool.acquire().await?;
        let mut out = Vec::with_capacity(cards.len());
        for card in cards {
            if let Some(registration) = regs::fetch_my_registration(&mut conn, card.id, user_id).await? {
                out.push(MyEventRegistration { card, registration });
            }
        }
        Ok(out)
    }

    async fn seat_snapshot(&self, event_id: i64) -> StoreResult<Option<SeatSnapshot>> {
        regs::seat_snapshot(&self.pool, event_id).await
    }

    async fn search(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let found =
            match super::sqlite_search::search_indexed(&self.pool, &self.search_index, query, now, per_page).await? {
                Some(found) => found,
                None => super::sqlite_search::search(&self.pool, query, now, per_page).await?,
            };
        self.results(found, query).await
    }

    async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<super::RegistrationRow>> {
        regs::list_registrations(&self.pool, event_id).await
    }

    async fn search_ids(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<i64>> {
        let first = crate::search::model::SearchQuery { page: 1, ..query.clone() };
        match super::sqlite_search::search_indexed(&self.pool, &self.search_index, &first, now, limit).await? {
            Some(found) => Ok(found.ids),
            None => super::sqlite_search::search_ids(&self.pool, query, now, limit).await,
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
        admin_sql::member_role(&self.pool, group_id, user_id).await
    }

    async fn event_group_id(&self, event_id: i64) -> StoreResult<Option<i64>> {
        admin_sql::event_group_id(&self.pool, event_id).await
    }

    async fn admin_groups(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminGroup>> {
        admin_sql::admin_groups(&self.pool, user_id).await
    }

    async fn admin_events(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminEventRow>> {
        admin_sql::admin_events(&self.pool, user_id).await
    }

    async fn admin_event(&self, event_id: i64) -> StoreResult<Option<crate::admin::model::AdminEvent>> {
        admin_sql::admin_event(&self.pool, event_id).await
    }

    async fn update_event(&self, event_id: i64, fields: &super::EventFields, now: DateTime<Utc>) -> StoreResult<()> {
        admin_sql::update_event(&self.writer, event_id, fields, now).await
    }

    async fn set_event_status(&self, event_id: i64, status: EventStatus, now: DateTime<Utc>) -> StoreResult<()> {
        admin_sql::set_event_status(&self.writer, event_id, status, now).await
    }

    async fn attendees(&self, event_id: i64) -> StoreResult<Vec<crate::admin::model::Attendee>> {
        admin_sql::attendees(&self.pool, event_id).await
    }

    async fn check_in(
        &self,
        event_id: i64,
        receipt_code: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<crate::admin::model::Attendee>> {
        admin_sql::check_in(&self.writer, event_id, receipt_code, now).await
    }

    async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: crate::registrations::model::RegStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::move_registration(&self.writer, event_id, registration_id, to, now).await
    }

    async fn add_frame(&self, event_id: i64, frame: &super::FrameFields) -> StoreResult<i64> {
        admin_sql::add_frame(&self.writer, event_id, frame).await
    }

    async fn update_frame(&self, event_id: i64, frame_id: i64, frame: &super::FrameFields) -> StoreResult<()> {
        admin_sql::update_frame(&self.writer, event_id, frame_id, frame).await
    }

    async fn delete_frame(&self, event_id: i64, frame_id: i64) -> StoreResult<()> {
        admin_sql::delete_frame(&self.writer, event_id, frame_id).await
    }

    async fn add_question(&self, event_id: i64, question: &super::NewQuestion) -> StoreResult<i64> {
        admin_sql::add_question(&self.writer, event_id, question).await
    }

    async fn delete_question(&self, event_id: i64, question_id: i64) -> StoreResult<()> {
        admin_sql::delete_question(&self.writer, event_id, question_id).await
    }

    async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<i64> {
        admin_sql::duplicate_event(&self.writer, event_id, starts_at, now).await
    }

    async fn create_message(&self, message: &super::NewMessage) -> StoreResult<i64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.messages.send((message.clone(), reply)).is_err() {
            // The queue's task is gone (runtime shutting down): write directly.
            return msg_sql::create_message(&self.writer, message).await;
        }
        answer.await.map_err(|_| crate::error::AppError::Internal)?
    }

    async fn audience_user_ids(
        &self,
        event_id: i64,
        audience: crate::messages::model::Audience,
    ) -> StoreResult<Vec<i64>> {
        msg_sql::audience_user_ids(&self.pool, event_id, audience).await
    }

    async fn inbox(&self, user_id: i64, limit: u32) -> StoreResult<Vec<crate::messages::model::InboxMessage>> {
        msg_sql::inbox(&self.pool, user_id, limit).await
    }

    async fn mark_read(&self, user_id: i64, message_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        msg_sql::mark_read(&self.writer, user_id, message_id, now).await
    }

    async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<crate::messages::model::SentMessage>> {
        msg_sql::sent_messages(&self.pool, event_id).await
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>> {
        msg_sql::claim_due_reminders(&self.writer, now, window).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<super::MailJob>> {
        msg_sql::claim_deliveries(&self.writer, now, lease, limit).await
    }

    async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        msg_sql::record_delivery(&self.writer, message_id, user_id, outcome, retry_at).await
    }

    async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()> {
        msg_sql::set_follow(&self.writer, group_id, user_id, follow, now).await
    }

    async fn follow_state(&self, group_id: i64, user_id: Option<i64>) -> StoreResult<(i64, bool)> {
        msg_sql::follow_state(&self.pool, group_id, user_id).await
    }

    async fn follower_ids(&self, group_id: i64) -> StoreResult<Vec<i64>> {
        msg_sql::follower_ids(&self.pool, group_id).await
    }

    async fn followed_events(&self, user_id: i64, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<EventCard>> {
        let ids = msg_sql::followed_event_ids(&self.pool, user_id, now, limit).await?;
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = card_query();
        qb.push("WHERE e.id IN (");
        let mut sep = qb.separated(", ");
        for id in &ids {
            sep.push_bind(*id);
        }
        qb.push(") ORDER BY e.starts_at, e.id");
        self.cards(qb).await
    }

    async fn resolve_tag_names(&self, names: &[String]) -> StoreResult<(Vec<i64>, Vec<String>)> {
        admin_sql::resolve_tag_names(&self.pool, names).await
    }

    async fn add_speaker(&self, event_id: i64, speaker: &super::NewSpeaker) -> StoreResult<i64> {
        admin_sql::add_speaker(&self.writer, event_id, speaker).await
    }

    async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> StoreResult<()> {
        admin_sql::delete_speaker(&self.writer, event_id, speaker_id).await
    }

    async fn members(&self, group_id: i64) -> StoreResult<Vec<crate::admin::model::Member>> {
        admin_sql::members(&self.pool, group_id).await
    }

    async fn add_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: crate::admin::model::Role,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        admin_sql::add_member(&self.writer, group_id, user_id, role, now).await
    }

    async fn set_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: Option<crate::admin::model::Role>,
    ) -> StoreResult<()> {
        admin_sql::set_member(&self.writer, group_id, user_id, role).await
    }

    async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> StoreResult<()> {
        admin_sql::transfer_ownership(&self.writer, group_id, from, to).await
    }

    async fn record_audit(&self, entry: &super::NewAudit) -> StoreResult<()> {
        admin_sql::record_audit(&self.writer, entry).await
    }

    async fn audit_log(
        &self,
        group_id: i64,
        event_id: Option<i64>,
    ) -> StoreResult<Vec<crate::admin::model::AuditEntry>> {
        admin_sql::audit_log(&self.pool, group_id, event_id).await
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
        let row: Option<(String, i64, i64, String)> = sqlx::query_as(
            "SELECT title, starts_at, ends_at, time_zone FROM events WHERE id = ? AND status != 'draft'",
        )
        .bind(event_id)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(title, starts, ends, tz)| (title, ZonedSpan::resolve(instant(starts), instant(ends), &tz))))
    }

    async fn registration_form(&self, event_id: i64) -> StoreResult<(Vec<Question>, Option<(String, ZonedSpan)>)> {
        type Row = (
            String,
            i64,
            i64,
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<bool>,
            String,
        );
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT e.title, e.starts_at, e.ends_at, e.time_zone, q.id, q.kind, q.label, q.options, q.required, e.status \
             FROM events e LEFT JOIN questions q ON q.event_id = e.id \
             WHERE e.id = ? ORDER BY q.position, q.id",
        )
        .bind(event_id)
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else { return Ok((Vec::new(), None)) };
        let context = (first.9 != "draft")
            .then(|| (first.0.clone(), ZonedSpan::resolve(instant(first.1), instant(first.2), &first.3)));
        let questions = rows
            .iter()
            .filter_map(|r| {
                Some(Question {
                    id: r.4?,
                    kind: QuestionKind::parse(r.5.as_deref()?).unwrap_or(QuestionKind::Text),
                    label: r.6.clone()?,
                    options: serde_json::from_str(r.7.as_deref()?).unwrap_or_default(),
                    required: r.8?,
                })
            })
            .collect();
        Ok((questions, context))
    }

    async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>> {
        let mut qb = card_query();
        qb.push("WHERE e.status != 'draft' AND e.id = ").push_bind(event_id);
        Ok(self.cards(qb).await?.into_iter().next())
    }
}
