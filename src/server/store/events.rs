//! Reading events, groups, tags and profiles: one SQL text for SQLite and PostgreSQL.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};

use super::db::{Db, Sql};
use super::{CounterCheck, Directory, StoreResult};
use crate::accounts::model::UserProfile;
use crate::events::model::{
    EventCard, EventDetail, EventStatus, FrameMethod, FrameSummary, Page, Seats, Speaker, SpokenLanguage, VenueKind,
};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{Question, QuestionKind};
use crate::server::markdown;
use crate::tags::model::{TagCount, TagDetail, TagKind, TagRef};
use crate::time::ZonedSpan;

pub(super) fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// False for text PostgreSQL cannot hold: it refuses NUL characters in TEXT (SQLite takes
/// them), so such a value would fail the query. Nothing stored contains one, so a lookup by
/// such a value finds nothing on either backend without asking the database.
pub(super) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// Tags of many events in one query (topics first, in list order).
pub(super) async fn tags_of(db: &Db, event_ids: &[i64]) -> StoreResult<HashMap<i64, Vec<TagRef>>> {
    let mut out: HashMap<i64, Vec<TagRef>> = HashMap::new();
    if event_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Sql::new(
        "SELECT et.event_id, t.slug, t.name, t.kind FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id IN ",
    );
    q.push_list(event_ids.iter().copied()).push(" ORDER BY t.kind DESC, t.position, t.id");
    let rows: Vec<(i64, String, String, String)> = db.all(q).await?;
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
pub(super) async fn questions_of(db: &Db, event_id: i64) -> StoreResult<Vec<Question>> {
    let rows: Vec<(i64, String, String, String, bool)> = db
        .all(
            Sql::new(
                "SELECT id, kind, label, options, required FROM questions WHERE event_id = $1 ORDER BY position, id",
            )
            .bind(event_id),
        )
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
/// correlated subqueries over the frames index, so only the returned rows pay for them
/// (cast because PostgreSQL sums BIGINT into NUMERIC).
pub(super) fn card_query() -> Sql {
    Sql::new(
        "SELECT e.id, e.title, e.starts_at, e.ends_at, e.time_zone, e.venue_kind, e.prefecture, e.status, \
         g.slug AS group_slug, g.title AS group_title, \
         CAST((SELECT COALESCE(SUM(f.accepted_count), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS accepted, \
         CAST((SELECT COALESCE(SUM(f.capacity), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS capacity, \
         CAST((SELECT COALESCE(SUM(f.waiting_count), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS waiting \
         FROM events e JOIN groups g ON g.id = e.group_id ",
    )
}

/// The cards a [`card_query`] selects, with their tags, in its order.
pub(super) async fn cards(db: &Db, q: Sql) -> StoreResult<Vec<EventCard>> {
    let rows: Vec<CardRow> = db.all(q).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = tags_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let t = tags.remove(&r.id).unwrap_or_default();
            r.into_card(t)
        })
        .collect())
}

/// The cards of `ids`, in that order (ids not visible are left out).
pub(super) async fn cards_by_ids(db: &Db, ids: &[i64], order: &str) -> StoreResult<Vec<EventCard>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = card_query();
    q.push("WHERE e.id IN ").push_list(ids.iter().copied()).push(order);
    cards(db, q).await
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

pub(super) async fn ping(db: &Db) -> StoreResult<()> {
    db.one::<(i32,)>(Sql::new("SELECT 1")).await?;
    Ok(())
}

pub(super) async fn is_empty(db: &Db) -> StoreResult<bool> {
    let (n,): (i64,) = db.one(Sql::new("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM groups)")).await?;
    Ok(n == 0)
}

pub(super) async fn list_upcoming(
    db: &Db,
    now: DateTime<Utc>,
    page: u32,
    per_page: u32,
) -> StoreResult<Page<EventCard>> {
    let page = page.max(1);
    let per_page = per_page.clamp(1, 100);
    let (total,): (i64,) = db
        .one(Sql::new("SELECT COUNT(*) FROM events WHERE status = 'published' AND ends_at > $1").bind(now.timestamp()))
        .await?;
    let mut q = card_query();
    q.push("WHERE e.status = 'published' AND e.ends_at > ")
        .push_bind(now.timestamp())
        .push(" ORDER BY e.starts_at, e.id LIMIT ")
        .push_bind(i64::from(per_page))
        .push(" OFFSET ")
        .push_bind(i64::from(page - 1) * i64::from(per_page));
    let items = cards(db, q).await?;
    Ok(Page { items, page, per_page, total })
}

pub(super) async fn fetch_event(db: &Db, id: i64) -> StoreResult<Option<EventDetail>> {
    let mut q = card_query();
    q.push("WHERE e.status IN ('published', 'cancelled') AND e.id = ").push_bind(id);
    let Some(card) = cards(db, q).await?.into_iter().next() else {
        return Ok(None);
    };
    let row: EventRow = db
        .one(
            Sql::new(
                "SELECT catch, description, place, address, lat, lon, language, hashtag, image_url FROM events WHERE id = $1",
            )
            .bind(id),
        )
        .await?;
    let frames: Vec<FrameRow> = db
        .all(Sql::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = $1 ORDER BY position, id")).bind(id))
        .await?;
    let speakers: Vec<(String, String, String, String)> = db
        .all(
            Sql::new(
                "SELECT name, affiliation, bio, talk_title FROM speakers WHERE event_id = $1 ORDER BY position, id",
            )
            .bind(id),
        )
        .await?;
    let questions = questions_of(db, id).await?;
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

pub(super) async fn fetch_group(db: &Db, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>> {
    if !storable(slug) {
        return Ok(None);
    }
    let q = Sql::new("SELECT id, slug, title, description, website, image_url FROM groups WHERE slug = $1").bind(slug);
    let Some(g): Option<GroupRow> = db.optional(q).await? else {
        return Ok(None);
    };
    let (member_count,): (i64,) =
        db.one(Sql::new("SELECT COUNT(*) FROM group_members WHERE group_id = $1").bind(g.id)).await?;
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
        upcoming: cards(db, upcoming).await?,
        past: cards(db, past).await?,
    }))
}

pub(super) async fn fetch_tag(db: &Db, slug: &str) -> StoreResult<Option<TagDetail>> {
    if !storable(slug) {
        return Ok(None);
    }
    let row: Option<(String, String, String, String)> =
        db.optional(Sql::new("SELECT slug, name, kind, description FROM tags WHERE slug = $1").bind(slug)).await?;
    Ok(row.map(|(slug, name, kind, description)| TagDetail {
        tag: TagRef { slug, name, kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic) },
        description,
    }))
}

pub(super) async fn list_tags(db: &Db, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>> {
    let rows: Vec<(String, String, String, i64)> = db
        .all(
            Sql::new(
                "SELECT t.slug, t.name, t.kind, \
                   (SELECT COUNT(*) FROM event_tags et JOIN events e ON e.id = et.event_id \
                     WHERE et.tag_id = t.id AND e.status = 'published' AND e.ends_at > $1) \
                 FROM tags t ORDER BY t.kind DESC, t.position, t.id",
            )
            .bind(now.timestamp()),
        )
        .await?;
    Ok(rows
        .into_iter()
        .map(|(slug, name, kind, upcoming)| TagCount {
            tag: TagRef { slug, name, kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic) },
            upcoming,
        })
        .collect())
}

pub(super) async fn directory(db: &Db) -> StoreResult<Directory> {
    let groups: Vec<(i64, String)> = db.all(Sql::new("SELECT id, slug FROM groups ORDER BY id")).await?;
    let tags: Vec<(i64, String, String)> =
        db.all(Sql::new("SELECT id, slug, kind FROM tags ORDER BY position, id")).await?;
    let attendees: Vec<(i64,)> =
        db.all(Sql::new("SELECT id FROM users WHERE password_hash IS NULL ORDER BY id")).await?;
    Ok(Directory {
        groups,
        tags: tags
            .into_iter()
            .map(|(id, slug, kind)| (id, slug, TagKind::parse(&kind).unwrap_or(TagKind::Topic)))
            .collect(),
        attendee_ids: attendees.into_iter().map(|(id,)| id).collect(),
    })
}

pub(super) async fn counter_check(db: &Db, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>> {
    let mut q = Sql::new(
        "SELECT f.id, f.accepted_count, \
           (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'confirmed'), \
           f.waiting_count, \
           (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'waitlisted') \
         FROM frames f",
    );
    if !event_ids.is_empty() {
        q.push(" WHERE f.event_id IN ").push_list(event_ids.iter().copied());
    }
    q.push(" ORDER BY f.id");
    let rows: Vec<(i64, i64, i64, i64, i64)> = db.all(q).await?;
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

pub(super) async fn fetch_user_profile(db: &Db, nickname: &str) -> StoreResult<Option<UserProfile>> {
    if !storable(nickname) {
        return Ok(None);
    }
    let row: Option<(i64, String, String, String)> = db
        .optional(Sql::new("SELECT id, nickname, display_name, bio FROM users WHERE nickname = $1").bind(nickname))
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
        attended: cards(db, attended).await?,
        organised: cards(db, organised).await?,
    }))
}

pub(super) async fn online_url(db: &Db, event_id: i64) -> StoreResult<Option<String>> {
    let row: Option<(Option<String>,)> =
        db.optional(Sql::new("SELECT online_url FROM events WHERE id = $1").bind(event_id)).await?;
    Ok(row.and_then(|(u,)| u))
}

pub(super) async fn message_context(db: &Db, event_id: i64) -> StoreResult<Option<(String, ZonedSpan)>> {
    let row: Option<(String, i64, i64, String)> = db
        .optional(
            Sql::new("SELECT title, starts_at, ends_at, time_zone FROM events WHERE id = $1 AND status != 'draft'")
                .bind(event_id),
        )
        .await?;
    Ok(row.map(|(title, starts, ends, tz)| (title, ZonedSpan::resolve(instant(starts), instant(ends), &tz))))
}

/// An event and its questions, as the registration form reads them.
#[derive(sqlx::FromRow)]
struct FormRow {
    title: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    status: String,
    id: Option<i64>,
    kind: Option<String>,
    label: Option<String>,
    options: Option<String>,
    required: Option<bool>,
}

pub(super) async fn registration_form(
    db: &Db,
    event_id: i64,
) -> StoreResult<(Vec<Question>, Option<(String, ZonedSpan)>)> {
    let rows: Vec<FormRow> = db
        .all(
            Sql::new(
                "SELECT e.title, e.starts_at, e.ends_at, e.time_zone, e.status, q.id, q.kind, q.label, q.options, q.required \
                 FROM events e LEFT JOIN questions q ON q.event_id = e.id \
                 WHERE e.id = $1 ORDER BY q.position, q.id",
            )
            .bind(event_id),
        )
        .await?;
    let Some(first) = rows.first() else { return Ok((Vec::new(), None)) };
    let context = (first.status != "draft").then(|| {
        (first.title.clone(), ZonedSpan::resolve(instant(first.starts_at), instant(first.ends_at), &first.time_zone))
    });
    let questions = rows
        .iter()
        .filter_map(|r| {
            Some(Question {
                id: r.id?,
                kind: QuestionKind::parse(r.kind.as_deref()?).unwrap_or(QuestionKind::Text),
                label: r.label.clone()?,
                options: serde_json::from_str(r.options.as_deref()?).unwrap_or_default(),
                required: r.required?,
            })
        })
        .collect();
    Ok((questions, context))
}

pub(super) async fn fetch_card(db: &Db, event_id: i64) -> StoreResult<Option<EventCard>> {
    let mut q = card_query();
    q.push("WHERE e.status != 'draft' AND e.id = ").push_bind(event_id);
    Ok(cards(db, q).await?.into_iter().next())
}

/// Adds accounts (fixtures, demo data); their ids in order.
pub(super) async fn insert_users(db: &Db, users: &[super::NewUser]) -> StoreResult<Vec<i64>> {
    let mut tx = db.begin().await?;
    let now = crate::time::now().timestamp();
    let mut ids = Vec::with_capacity(users.len());
    for u in users {
        let (id,): (i64,) = tx.one(super::accounts::insert_user(u, now)).await?;
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Adds groups with their members; their ids in order.
pub(super) async fn insert_groups(db: &Db, groups: &[super::NewGroup]) -> StoreResult<Vec<i64>> {
    let mut tx = db.begin().await?;
    let now = crate::time::now().timestamp();
    let mut ids = Vec::with_capacity(groups.len());
    for g in groups {
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO groups (slug, title, description, website, image_url, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                )
                .bind(&g.slug)
                .bind(&g.title)
                .bind(&g.description)
                .bind(g.website.as_ref())
                .bind(g.image_url.as_ref())
                .bind(now)
                .bind(now),
            )
            .await?;
        for (user_id, role) in &g.members {
            tx.execute(
                Sql::new("INSERT INTO group_members (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                    .bind(id)
                    .bind(*user_id)
                    .bind(role.as_str())
                    .bind(now),
            )
            .await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}

/// Adds tags after the last one's position, each resolvable by its aliases, name and slug.
pub(super) async fn insert_tags(db: &Db, tags: &[super::NewTag]) -> StoreResult<Vec<i64>> {
    use crate::server::text::normalize;
    let mut tx = db.begin().await?;
    if tx.is_pg() {
        // Positions continue after the last one: concurrent tag writers wait for each other
        // here (a mode that conflicts with itself, not with readers), as BEGIN IMMEDIATE
        // makes them on SQLite.
        tx.execute(Sql::new("LOCK TABLE tags IN SHARE ROW EXCLUSIVE MODE")).await?;
    }
    let (base,): (i64,) = tx.one(Sql::new("SELECT COALESCE(MAX(position), 0) FROM tags")).await?;
    let mut ids = Vec::with_capacity(tags.len());
    for (i, t) in tags.iter().enumerate() {
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO tags (slug, name, kind, position, description) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&t.slug)
                .bind(&t.name)
                .bind(t.kind.as_str())
                .bind(base + 1 + i as i64)
                .bind(&t.description),
            )
            .await?;
        let mut aliases: Vec<String> = t.aliases.iter().map(|a| normalize(a)).collect();
        aliases.push(normalize(&t.name));
        aliases.push(normalize(&t.slug));
        aliases.sort();
        aliases.dedup();
        for alias in aliases {
            tx.execute(
                Sql::new("INSERT INTO tag_aliases (alias, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(alias)
                    .bind(id),
            )
            .await?;
        }
        ids.push(id);
    }
    tx.commit().await?;
    Ok(ids)
}
