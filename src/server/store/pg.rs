//! The PostgreSQL backend: a pool of 16 connections, migrated on start
//! (`migrations/postgres`). Same semantics as the SQLite backend: the store tests run the
//! same cases against both. Flags are BOOLEAN, instants and counters BIGINT; sums are cast
//! back to BIGINT (PostgreSQL's SUM of BIGINT is NUMERIC).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeZone, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::{
    CounterCheck, Directory, DrawOutcome, DueDraw, NewEvent, NewGroup, NewTag, NewUser, RegisterRequest,
    RegistrationChange, SessionRow, Store, StoreResult, pg_accounts as accounts, pg_admin as admin_sql,
    pg_messages as msg_sql, pg_registrations as regs, public as pub_,
};
use crate::accounts::model::{CurrentUser, MyProfile, UserProfile};
use crate::error::AppError;
use crate::events::model::{EventCard, EventDetail, EventStatus, Page, Seats, Speaker, SpokenLanguage, VenueKind};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{MyEventRegistration, MyRegistration, Question, QuestionKind, SeatSnapshot};
use crate::server::markdown;
use crate::server::text::normalize;
use crate::tags::model::{TagCount, TagKind, TagRef};
use crate::time::ZonedSpan;

/// Rows per multi-row INSERT: well under PostgreSQL's 65,535 bind parameters for every table.
const BATCH_ROWS: usize = 1_000;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects to the (existing) database at `url` and migrates it.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let indexed = super::pg_search::index_missing(&pool).await?;
        if indexed > 0 {
            tracing::info!(events = indexed, "search index built for existing events");
        }
        Ok(PgStore { pool })
    }

    /// The underlying pool (tests inspect rows directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// The database for the queries written once for both backends.
    pub(crate) fn db(&self) -> super::db::Db {
        super::db::Db::Pg(self.pool.clone())
    }

    async fn cards(&self, mut qb: QueryBuilder<Postgres>) -> StoreResult<Vec<EventCard>> {
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

/// False for text PostgreSQL cannot hold: it refuses NUL characters in TEXT (SQLite takes
/// them), so such a value would fail the query with an error. Nothing stored contains one,
/// so a lookup by such a value finds nothing, exactly as on SQLite: callers answer that
/// without asking the database.
pub(super) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// `n` fresh ids from the identity sequence of `table` (`events` or `frames`), ascending.
async fn next_ids(conn: &mut PgConnection, table: &'static str, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2::BIGINT) ORDER BY 1",
    )
    .bind(table)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Tags of many events in one query (topics first, in list order).
pub(super) async fn tags_of(pool: &PgPool, event_ids: &[i64]) -> StoreResult<HashMap<i64, Vec<TagRef>>> {
    let mut out: HashMap<i64, Vec<TagRef>> = HashMap::new();
    if event_ids.is_empty() {
        return Ok(out);
    }
    let mut qb = QueryBuilder::<Postgres>::new(
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
pub(super) async fn questions_of(pool: &PgPool, event_id: i64) -> StoreResult<Vec<Question>> {
    let rows: Vec<(i64, String, String, String, bool)> = sqlx::query_as(
        "SELECT id, kind, label, options, required FROM questions WHERE event_id = $1 ORDER BY position, id",
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
fn card_query() -> QueryBuilder<Postgres> {
    QueryBuilder::new(
        "SELECT e.id, e.title, e.starts_at, e.ends_at, e.time_zone, e.venue_kind, e.prefecture, e.status, \
         g.slug AS group_slug, g.title AS group_title, \
         (SELECT COALESCE(SUM(f.accepted_count), 0)::BIGINT FROM frames f WHERE f.event_id = e.id) AS accepted, \
         (SELECT COALESCE(SUM(f.capacity), 0)::BIGINT FROM frames f WHERE f.event_id = e.id) AS capacity, \
         (SELECT COALESCE(SUM(f.waiting_count), 0)::BIGINT FROM frames f WHERE f.event_id = e.id) AS waiting \
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

/// A frame as stored: the one row type both backends read frames into.
pub(super) use super::sqlite::{FRAME_COLUMNS, FrameRow};

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
impl Store for PgStore {
    async fn announce_seats(&self, event_id: i64) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify('tsudoi_seats', $1)").bind(event_id.to_string()).execute(&self.pool).await?;
        Ok(())
    }

    async fn seat_announcements(&self) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<i64>>> {
        // LISTEN on a connection of its own; PgListener reconnects after a lost connection
        // (changes announced while it was away are missed: the clients' periodic refresh
        // covers that gap).
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("tsudoi_seats").await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => {
                        if let Ok(id) = note.payload().parse::<i64>()
                            && tx.send(id).is_err()
                        {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "seat announcements: listener lost its connection; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

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
        let (total,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM events WHERE status = 'published' AND ends_at > $1")
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
            "SELECT catch, description, place, address, lat, lon, language, hashtag, image_url FROM events WHERE id = $1",
        )
        .bind(id)
        .fetch_one(&self.pool)
        .await?;
        let mut fq = QueryBuilder::<Postgres>::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = "));
        fq.push_bind(id).push(" ORDER BY position, id");
        let frames: Vec<FrameRow> = fq.build_query_as().fetch_all(&self.pool).await?;
        let speakers: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT name, affiliation, bio, talk_title FROM speakers WHERE event_id = $1 ORDER BY position, id",
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
        if !storable(slug) {
            return Ok(None);
        }
        let Some(g): Option<GroupRow> =
            sqlx::query_as("SELECT id, slug, title, description, website, image_url FROM groups WHERE slug = $1")
                .bind(slug)
                .fetch_optional(&self.pool)
                .await?
        else {
            return Ok(None);
        };
        let (member_count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM group_members WHERE group_id = $1")
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
        if !storable(slug) {
            return Ok(None);
        }
        let row: Option<(String, String, String, String)> =
            sqlx::query_as("SELECT slug, name, kind, description FROM tags WHERE slug = $1")
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
                 WHERE et.tag_id = t.id AND e.status = 'published' AND e.ends_at > $1) \
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
        let mut tx = self.pool.begin().await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(users.len());
        for u in users {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO users (nickname, display_name, email, password_hash, bio, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
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
        let mut tx = self.pool.begin().await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(groups.len());
        for g in groups {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO groups (slug, title, description, website, image_url, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
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
                sqlx::query("INSERT INTO group_members (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
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
        let mut tx = self.pool.begin().await?;
        // Positions continue after the last one: concurrent tag writers wait for each other
        // here (a mode that conflicts with itself, not with readers), as BEGIN IMMEDIATE
        // makes them on SQLite.
        sqlx::query("LOCK TABLE tags IN SHARE ROW EXCLUSIVE MODE").execute(&mut *tx).await?;
        let (base,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(position), 0) FROM tags").fetch_one(&mut *tx).await?;
        let mut ids = Vec::with_capacity(tags.len());
        for (i, t) in tags.iter().enumerate() {
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO tags (slug, name, kind, position, description) VALUES ($1, $2, $3, $4, $5) RETURNING id",
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
                sqlx::query("INSERT INTO tag_aliases (alias, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
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
        // Ids come from the identity sequences up front (nextval is never handed out twice,
        // even to concurrent writers), so the batches below can refer to each other.
        let mut tx = self.pool.begin().await?;
        let frame_total: usize = events.iter().map(|e| e.frames.len()).sum();
        let mut event_ids = next_ids(&mut tx, "events", events.len()).await?.into_iter();
        let mut frame_ids = next_ids(&mut tx, "frames", frame_total).await?.into_iter();

        struct FrameIns<'a> {
            id: i64,
            event_id: i64,
            position: i64,
            frame: &'a super::NewFrame,
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut frames = Vec::new();
        for e in events {
            let event_id = event_ids.next().ok_or(AppError::Internal)?;
            ids.push(event_id);
            for (position, frame) in e.frames.iter().enumerate() {
                let id = frame_ids.next().ok_or(AppError::Internal)?;
                frames.push(FrameIns { id, event_id, position: position as i64, frame });
            }
        }
        let now = crate::time::now().timestamp();

        for chunk in ids.iter().zip(events).collect::<Vec<_>>().chunks(BATCH_ROWS / 2) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (id, group_id, title, catch, description, starts_at, ends_at, time_zone, \
                 venue_kind, place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, \
                 status, event_type, beginner_ok, hands_on, created_at, updated_at, local_dow, local_start_min) ",
            );
            qb.push_values(chunk, |mut b, (id, e)| {
                let (dow, minute) = super::pg_search::local_parts(e.starts_at, &e.time_zone);
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
            let mut qb = QueryBuilder::<Postgres>::new(
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
            let mut qb = QueryBuilder::<Postgres>::new("INSERT INTO event_tags (event_id, tag_id) ");
            qb.push_values(chunk, |mut b, (e, t)| {
                b.push_bind(*e).push_bind(*t);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }

        let speaker_rows: Vec<(i64, i64, &super::NewSpeaker)> = ids
            .iter()
            .zip(events)
            .flat_map(|(id, e)| e.speakers.iter().enumerate().map(move |(p, s)| (*id, p as i64, s)))
            .collect();
        for chunk in speaker_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Postgres>::new(
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
            let mut qb = QueryBuilder::<Postgres>::new(
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
            let mut qb = QueryBuilder::<Postgres>::new(
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

        super::pg_search::index_events(&mut tx, &ids).await?;

        // Counters from the rows just written, in the same transaction (frame ids from a
        // sequence need not be contiguous, hence the array rather than a range).
        if !frames.is_empty() {
            let frame_ids: Vec<i64> = frames.iter().map(|f| f.id).collect();
            sqlx::query(
                "UPDATE frames SET \
                   accepted_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'confirmed'), \
                   waiting_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'waitlisted') \
                 WHERE id = ANY($1)",
            )
            .bind(&frame_ids)
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
        let mut qb = QueryBuilder::<Postgres>::new(
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
        accounts::create_user(&self.pool, user).await
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
        if !storable(nickname) {
            return Ok(None);
        }
        let row: Option<(i64, String, String, String)> =
            sqlx::query_as("SELECT id, nickname, display_name, bio FROM users WHERE nickname = $1")
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
        accounts::update_profile(&self.pool, id, display_name, bio).await
    }

    async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>> {
        accounts::fetch_password_hash(&self.pool, id).await
    }

    async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        accounts::update_password_hash(&self.pool, id, hash).await
    }

    async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool> {
        accounts::session_create(&self.pool, id, row).await
    }

    async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()> {
        accounts::session_save(&self.pool, id, row).await
    }

    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
        accounts::session_load(&self.pool, id, now).await
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        accounts::session_delete(&self.pool, id).await
    }

    async fn sessions_purge(&self, now: i64) -> StoreResult<u64> {
        accounts::sessions_purge(&self.pool, now).await
    }

    async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        regs::register(&self.pool, req).await
    }

    async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::cancel(&self.pool, event_id, user_id, now).await
    }

    async fn set_capacity(&self, frame_id: i64, capacity: i64, now: DateTime<Utc>) -> StoreResult<RegistrationChange> {
        regs::set_capacity(&self.pool, frame_id, capacity, now).await
    }

    async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>> {
        regs::due_draws(&self.pool, now).await
    }

    async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>> {
        regs::draw(&self.pool, frame_id, seed, now).await
    }

    async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>> {
        let mut conn = self.pool.acquire().await?;
        regs::fetch_my_registration(&mut conn, event_id, user_id).await
    }

    async fn online_url(&self, event_id: i64) -> StoreResult<Option<String>> {
        let row: Option<(Option<String>,)> = sqlx::query_as("SELECT online_url FROM events WHERE id = $1")
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
        let found = super::pg_search::search(&self.pool, query, now, per_page).await?;
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

    async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<super::RegistrationRow>> {
        regs::list_registrations(&self.pool, event_id).await
    }

    async fn search_ids(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<i64>> {
        super::pg_search::search_ids(&self.pool, query, now, limit).await
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
        admin_sql::update_event(&self.pool, event_id, fields, now).await
    }

    async fn set_event_status(&self, event_id: i64, status: EventStatus, now: DateTime<Utc>) -> StoreResult<()> {
        admin_sql::set_event_status(&self.pool, event_id, status, now).await
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
        admin_sql::check_in(&self.pool, event_id, receipt_code, now).await
    }

    async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: crate::registrations::model::RegStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::move_registration(&self.pool, event_id, registration_id, to, now).await
    }

    async fn add_frame(&self, event_id: i64, frame: &super::FrameFields) -> StoreResult<i64> {
        admin_sql::add_frame(&self.pool, event_id, frame).await
    }

    async fn update_frame(&self, event_id: i64, frame_id: i64, frame: &super::FrameFields) -> StoreResult<()> {
        admin_sql::update_frame(&self.pool, event_id, frame_id, frame).await
    }

    async fn delete_frame(&self, event_id: i64, frame_id: i64) -> StoreResult<()> {
        admin_sql::delete_frame(&self.pool, event_id, frame_id).await
    }

    async fn add_question(&self, event_id: i64, question: &super::NewQuestion) -> StoreResult<i64> {
        admin_sql::add_question(&self.pool, event_id, question).await
    }

    async fn delete_question(&self, event_id: i64, question_id: i64) -> StoreResult<()> {
        admin_sql::delete_question(&self.pool, event_id, question_id).await
    }

    async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<i64> {
        admin_sql::duplicate_event(&self.pool, event_id, starts_at, now).await
    }

    async fn create_message(&self, message: &super::NewMessage) -> StoreResult<i64> {
        msg_sql::create_message(&self.pool, message).await
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
        msg_sql::mark_read(&self.pool, user_id, message_id, now).await
    }

    async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<crate::messages::model::SentMessage>> {
        msg_sql::sent_messages(&self.pool, event_id).await
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>> {
        msg_sql::claim_due_reminders(&self.pool, now, window).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<super::MailJob>> {
        msg_sql::claim_deliveries(&self.pool, now, lease, limit).await
    }

    async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        msg_sql::record_delivery(&self.pool, message_id, user_id, outcome, retry_at).await
    }

    async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()> {
        msg_sql::set_follow(&self.pool, group_id, user_id, follow, now).await
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
        admin_sql::add_speaker(&self.pool, event_id, speaker).await
    }

    async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> StoreResult<()> {
        admin_sql::delete_speaker(&self.pool, event_id, speaker_id).await
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
        admin_sql::add_member(&self.pool, group_id, user_id, role, now).await
    }

    async fn set_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: Option<crate::admin::model::Role>,
    ) -> StoreResult<()> {
        admin_sql::set_member(&self.pool, group_id, user_id, role).await
    }

    async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> StoreResult<()> {
        admin_sql::transfer_ownership(&self.pool, group_id, from, to).await
    }

    async fn record_audit(&self, entry: &super::NewAudit) -> StoreResult<()> {
        admin_sql::record_audit(&self.pool, entry).await
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

    async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>> {
        let mut qb = card_query();
        qb.push("WHERE e.status != 'draft' AND e.id = ").push_bind(event_id);
        Ok(self.cards(qb).await?.into_iter().next())
    }
}
