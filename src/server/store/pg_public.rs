//! The public read surfaces on PostgreSQL: event, group and user listings for the API and
//! the feeds, materials, calendar tokens and the sitemap. Same semantics as `sqlite_public`.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::pg::{FRAME_COLUMNS, FrameRow};
use super::public::{
    EventFilter, EventOrder, GroupFilter, MaterialRow, NewMaterial, PublicEvent, PublicGroup, PublicGroupRef,
    PublicUser, PublicUserRef, SitemapEntry, UserFilter,
};
use crate::error::AppError;
use crate::events::model::{EventStatus, FrameSummary, Speaker, SpokenLanguage, VenueKind};
use crate::server::text::normalize;

type Result<T> = std::result::Result<T, AppError>;

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Upper bound of one listing page.
const MAX_LIMIT: u32 = 1_000;

fn push_in<T>(qb: &mut QueryBuilder<Postgres>, values: &[T])
where
    T: Clone + Send + 'static + for<'q> sqlx::Encode<'q, Postgres> + sqlx::Type<Postgres>,
{
    qb.push("(");
    let mut sep = qb.separated(", ");
    for v in values {
        sep.push_bind(v.clone());
    }
    qb.push(")");
}

/// `(…)` of user-given strings for `IN`. Strings with NUL equal nothing stored (see
/// `pg::storable`) and are left out; none left is `(NULL)`, which matches no row.
fn push_in_text(qb: &mut QueryBuilder<Postgres>, values: &[String]) {
    let values: Vec<String> = values.iter().filter(|v| super::pg::storable(v)).cloned().collect();
    if values.is_empty() {
        qb.push("(NULL)");
    } else {
        push_in(qb, &values);
    }
}

/// ` WHERE …` over `events e` (joined with `groups g`) for `f`.
fn push_event_where(qb: &mut QueryBuilder<Postgres>, f: &EventFilter) {
    qb.push(" WHERE e.status IN ('published', 'cancelled')");
    if !f.ids.is_empty() {
        qb.push(" AND e.id IN ");
        push_in(qb, &f.ids);
    }
    for k in f.keywords.iter().map(|k| normalize(k)).filter(|k| !k.is_empty()) {
        if !super::pg::storable(&k) {
            qb.push(" AND FALSE");
            continue;
        }
        qb.push(" AND EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND strpos(s.body, ")
            .push_bind(k)
            .push(") > 0)");
    }
    let any: Vec<String> = f.keywords_or.iter().map(|k| normalize(k)).filter(|k| !k.is_empty()).collect();
    let any_storable: Vec<String> = any.iter().filter(|k| super::pg::storable(k)).cloned().collect();
    if !any.is_empty() && any_storable.is_empty() {
        qb.push(" AND FALSE");
    }
    let any = any_storable;
    if !any.is_empty() {
        qb.push(" AND EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (");
        for (i, k) in any.into_iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("strpos(s.body, ").push_bind(k).push(") > 0");
        }
        qb.push("))");
    }
    if !f.starts_in.is_empty() {
        qb.push(" AND (");
        for (i, (from, to)) in f.starts_in.iter().enumerate() {
            if i > 0 {
                qb.push(" OR ");
            }
            qb.push("(e.starts_at >= ")
                .push_bind(from.timestamp())
                .push(" AND e.starts_at < ")
                .push_bind(to.timestamp())
                .push(")");
        }
        qb.push(")");
    }
    if !f.participants.is_empty() {
        qb.push(if f.include_waitlisted {
            " AND e.id IN (SELECT r.event_id FROM registrations r JOIN users u ON u.id = r.user_id \
             WHERE r.status IN ('confirmed', 'waitlisted') AND u.nickname IN "
        } else {
            " AND e.id IN (SELECT r.event_id FROM registrations r JOIN users u ON u.id = r.user_id \
             WHERE r.status = 'confirmed' AND u.nickname IN "
        });
        push_in_text(qb, &f.participants);
        qb.push(")");
    }
    if !f.owners.is_empty() {
        qb.push(
            " AND e.group_id IN (SELECT m.group_id FROM group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.role IN ('owner', 'admin') AND u.nickname IN ",
        );
        push_in_text(qb, &f.owners);
        qb.push(")");
    }
    if !f.group_ids.is_empty() {
        qb.push(" AND e.group_id IN ");
        push_in(qb, &f.group_ids);
    }
    if !f.group_slugs.is_empty() {
        qb.push(" AND g.slug IN ");
        push_in_text(qb, &f.group_slugs);
    }
    if !f.prefectures.is_empty() {
        let online = f.prefectures.iter().any(|p| p == "online");
        let codes: Vec<String> = f.prefectures.iter().filter(|p| *p != "online").cloned().collect();
        qb.push(" AND (FALSE");
        if online {
            qb.push(" OR e.venue_kind IN ('online', 'hybrid')");
        }
        if !codes.is_empty() {
            qb.push(" OR e.prefecture IN ");
            push_in_text(qb, &codes);
        }
        qb.push(")");
    }
    if !f.tag_slugs.is_empty() {
        qb.push(" AND e.id IN (SELECT et.event_id FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE t.slug IN ");
        push_in_text(qb, &f.tag_slugs);
        qb.push(")");
    }
    if let Some(t) = f.ends_after {
        qb.push(" AND e.ends_at > ").push_bind(t.timestamp());
    }
}

#[derive(sqlx::FromRow)]
struct PublicEventRow {
    id: i64,
    title: String,
    catch: String,
    description: String,
    image_url: Option<String>,
    hashtag: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    venue_kind: String,
    place: String,
    address: String,
    prefecture: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    language: String,
    status: String,
    event_type: String,
    created_at: i64,
    updated_at: i64,
    sequence: i64,
    group_id: i64,
    group_slug: String,
    group_title: String,
}

/// Public events matching `f`, with the total number that match.
pub(super) async fn events(pool: &PgPool, f: &EventFilter) -> Result<(Vec<PublicEvent>, i64)> {
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM events e JOIN groups g ON g.id = e.group_id");
    push_event_where(&mut count, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;
    let limit = f.limit.clamp(1, MAX_LIMIT);
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT e.id, e.title, e.catch, e.description, e.image_url, e.hashtag, e.starts_at, e.ends_at, e.time_zone, \
         e.venue_kind, e.place, e.address, e.prefecture, e.lat, e.lon, e.language, e.status, e.event_type, \
         e.created_at, e.updated_at, e.sequence, g.id AS group_id, g.slug AS group_slug, g.title AS group_title \
         FROM events e JOIN groups g ON g.id = e.group_id",
    );
    push_event_where(&mut qb, f);
    qb.push(match f.order {
        EventOrder::Updated => " ORDER BY e.updated_at DESC, e.id DESC",
        EventOrder::Start => " ORDER BY e.starts_at, e.id",
        EventOrder::Created => " ORDER BY e.created_at DESC, e.id DESC",
    });
    qb.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(i64::from(f.offset));
    let rows: Vec<PublicEventRow> = qb.build_query_as().fetch_all(pool).await?;
    let events = complete(pool, rows).await?;
    Ok((events, total))
}

/// Public events by id, in the order of `ids` (ids that are not public are left out).
pub(super) async fn events_by_ids(pool: &PgPool, ids: &[i64]) -> Result<Vec<PublicEvent>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let filter =
        EventFilter { ids: ids.to_vec(), limit: ids.len().min(MAX_LIMIT as usize) as u32, ..Default::default() };
    let (found, _) = events(pool, &filter).await?;
    let mut by_id: HashMap<i64, PublicEvent> = found.into_iter().map(|e| (e.id, e)).collect();
    Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
}

/// Adds tags, frames, speakers and owners to event rows: one query each, not one per event.
async fn complete(pool: &PgPool, rows: Vec<PublicEventRow>) -> Result<Vec<PublicEvent>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let group_ids: Vec<i64> = rows.iter().map(|r| r.group_id).collect();

    let mut tags = super::pg::tags_of(pool, &ids).await?;

    let mut qb = QueryBuilder::<Postgres>::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id IN "));
    push_in(&mut qb, &ids);
    qb.push(" ORDER BY position, id");
    let mut frames: HashMap<i64, Vec<FrameSummary>> = HashMap::new();
    for f in qb.build_query_as::<FrameRow>().fetch_all(pool).await? {
        frames.entry(f.event_id).or_default().push(f.into_summary());
    }

    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT event_id, name, affiliation, bio, talk_title FROM speakers WHERE event_id IN ",
    );
    push_in(&mut qb, &ids);
    qb.push(" ORDER BY position, id");
    let mut speakers: HashMap<i64, Vec<Speaker>> = HashMap::new();
    for (event_id, name, affiliation, bio, talk_title) in
        qb.build_query_as::<(i64, String, String, String, String)>().fetch_all(pool).await?
    {
        speakers.entry(event_id).or_default().push(Speaker { name, affiliation, bio, talk_title });
    }

    let owners = owners_of(pool, &group_ids).await?;

    Ok(rows
        .into_iter()
        .map(|r| PublicEvent {
            tags: tags.remove(&r.id).unwrap_or_default(),
            frames: frames.remove(&r.id).unwrap_or_default(),
            speakers: speakers.remove(&r.id).unwrap_or_default(),
            owner: owners.get(&r.group_id).cloned(),
            id: r.id,
            title: r.title,
            catch: r.catch,
            description: r.description,
            image_url: r.image_url,
            hashtag: r.hashtag,
            starts_at: instant(r.starts_at),
            ends_at: instant(r.ends_at),
            time_zone: r.time_zone,
            venue_kind: VenueKind::parse(&r.venue_kind).unwrap_or(VenueKind::Online),
            place: r.place,
            address: r.address,
            prefecture: r.prefecture,
            lat: r.lat,
            lon: r.lon,
            language: SpokenLanguage::parse(&r.language).unwrap_or(SpokenLanguage::Ja),
            status: EventStatus::parse(&r.status).unwrap_or(EventStatus::Published),
            event_type: r.event_type,
            created_at: instant(r.created_at),
            updated_at: instant(r.updated_at),
            sequence: r.sequence,
            group: PublicGroupRef { id: r.group_id, slug: r.group_slug, title: r.group_title },
        })
        .collect())
}

/// The first owner of each group.
async fn owners_of(pool: &PgPool, group_ids: &[i64]) -> Result<HashMap<i64, PublicUserRef>> {
    let mut out = HashMap::new();
    if group_ids.is_empty() {
        return Ok(out);
    }
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT m.group_id, u.id, u.nickname, u.display_name FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.role = 'owner' AND m.group_id IN ",
    );
    push_in(&mut qb, group_ids);
    qb.push(" ORDER BY m.created_at, u.id");
    for (group_id, id, nickname, display_name) in
        qb.build_query_as::<(i64, i64, String, String)>().fetch_all(pool).await?
    {
        out.entry(group_id).or_insert(PublicUserRef { id, nickname, display_name });
    }
    Ok(out)
}

/// Groups matching `f` (by id), with the total.
pub(super) async fn groups(pool: &PgPool, f: &GroupFilter) -> Result<(Vec<PublicGroup>, i64)> {
    fn push_where(qb: &mut QueryBuilder<Postgres>, f: &GroupFilter) {
        qb.push(" WHERE 1 = 1");
        if !f.ids.is_empty() {
            qb.push(" AND g.id IN ");
            push_in(qb, &f.ids);
        }
        if !f.slugs.is_empty() {
            qb.push(" AND g.slug IN ");
            push_in_text(qb, &f.slugs);
        }
        if !f.members.is_empty() {
            qb.push(
                " AND g.id IN (SELECT m.group_id FROM group_members m JOIN users u ON u.id = m.user_id WHERE u.nickname IN ",
            );
            push_in_text(qb, &f.members);
            qb.push(")");
        }
    }
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM groups g");
    push_where(&mut count, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT g.id, g.slug, g.title, g.description, g.website, g.image_url, g.updated_at, \
         (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) FROM groups g",
    );
    push_where(&mut qb, f);
    qb.push(" ORDER BY g.id LIMIT ")
        .push_bind(i64::from(f.limit.clamp(1, MAX_LIMIT)))
        .push(" OFFSET ")
        .push_bind(i64::from(f.offset));
    type Row = (i64, String, String, String, Option<String>, Option<String>, i64, i64);
    let rows: Vec<Row> = qb.build_query_as().fetch_all(pool).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let owners = owners_of(pool, &ids).await?;
    let groups = rows
        .into_iter()
        .map(|(id, slug, title, description, website, image_url, updated_at, member_count)| PublicGroup {
            owner: owners.get(&id).cloned(),
            id,
            slug,
            title,
            description,
            website,
            image_url,
            member_count,
            updated_at: instant(updated_at),
        })
        .collect();
    Ok((groups, total))
}

/// Users matching `f` (generated attendees without accounts included), with the total.
pub(super) async fn users(pool: &PgPool, f: &UserFilter) -> Result<(Vec<PublicUser>, i64)> {
    fn push_where(qb: &mut QueryBuilder<Postgres>, f: &UserFilter) {
        qb.push(" WHERE 1 = 1");
        if !f.nicknames.is_empty() {
            qb.push(" AND u.nickname IN ");
            push_in_text(qb, &f.nicknames);
        }
    }
    let mut count = QueryBuilder::<Postgres>::new("SELECT COUNT(*) FROM users u");
    push_where(&mut count, f);
    let (total,): (i64,) = count.build_query_as().fetch_one(pool).await?;
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT u.id, u.nickname, u.display_name, u.bio, u.created_at, \
         (SELECT COUNT(*) FROM registrations r JOIN events e ON e.id = r.event_id \
            WHERE r.user_id = u.id AND r.status = 'confirmed' AND e.status = 'published'), \
         (SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
            WHERE m.user_id = u.id AND m.role IN ('owner', 'admin') AND e.status IN ('published', 'cancelled')), \
         (SELECT COUNT(DISTINCT s.event_id) FROM speakers s JOIN events e ON e.id = s.event_id \
            WHERE s.user_id = u.id AND e.status IN ('published', 'cancelled')) \
         FROM users u",
    );
    push_where(&mut qb, f);
    qb.push(" ORDER BY u.id LIMIT ")
        .push_bind(i64::from(f.limit.clamp(1, MAX_LIMIT)))
        .push(" OFFSET ")
        .push_bind(i64::from(f.offset));
    type Row = (i64, String, String, String, i64, i64, i64, i64);
    let rows: Vec<Row> = qb.build_query_as().fetch_all(pool).await?;
    let users = rows
        .into_iter()
        .map(|(id, nickname, display_name, bio, created_at, attended, organized, presented)| PublicUser {
            id,
            nickname,
            display_name,
            bio,
            created_at: instant(created_at),
            attended_event_count: attended,
            organize_event_count: organized,
            presenter_event_count: presented,
        })
        .collect();
    Ok((users, total))
}

/// Ids of public events a user presented at (linked speaker), soonest first.
pub(super) async fn presenter_event_ids(pool: &PgPool, nickname: &str) -> Result<Vec<i64>> {
    if !super::pg::storable(nickname) {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT e.id FROM speakers s JOIN users u ON u.id = s.user_id JOIN events e ON e.id = s.event_id \
         WHERE u.nickname = $1 AND e.status IN ('published', 'cancelled') ORDER BY e.id",
    )
    .bind(nickname)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

type MaterialSqlRow = (i64, i64, i64, String, String, String, String, String, i64);

const MATERIAL_SELECT: &str = "SELECT m.id, m.event_id, u.id, u.nickname, u.display_name, m.url, m.title, m.kind, \
     m.created_at FROM materials m JOIN users u ON u.id = m.user_id";

fn material(r: MaterialSqlRow) -> MaterialRow {
    let (id, event_id, user_id, nickname, display_name, url, title, kind, created_at) = r;
    MaterialRow {
        id,
        event_id,
        user: PublicUserRef { id: user_id, nickname, display_name },
        url,
        title,
        kind,
        created_at: instant(created_at),
    }
}

/// Materials of these events, oldest first.
pub(super) async fn materials(pool: &PgPool, event_ids: &[i64]) -> Result<Vec<MaterialRow>> {
    if event_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut qb = QueryBuilder::<Postgres>::new(MATERIAL_SELECT);
    qb.push(" WHERE m.event_id IN ");
    push_in(&mut qb, event_ids);
    qb.push(" ORDER BY m.event_id, m.id");
    let rows: Vec<MaterialSqlRow> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(material).collect())
}

pub(super) async fn material_by_id(pool: &PgPool, id: i64) -> Result<Option<MaterialRow>> {
    let mut qb = QueryBuilder::<Postgres>::new(MATERIAL_SELECT);
    qb.push(" WHERE m.id = ").push_bind(id);
    let row: Option<MaterialSqlRow> = qb.build_query_as().fetch_optional(pool).await?;
    Ok(row.map(material))
}

pub(super) async fn add_material(pool: &PgPool, m: &NewMaterial) -> Result<MaterialRow> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO materials (event_id, user_id, url, title, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(m.event_id)
    .bind(m.user_id)
    .bind(&m.url)
    .bind(&m.title)
    .bind(&m.kind)
    .bind(m.created_at.timestamp())
    .fetch_one(pool)
    .await?;
    material_by_id(pool, id).await?.ok_or(AppError::NotFound)
}

pub(super) async fn delete_material(pool: &PgPool, id: i64) -> Result<bool> {
    let done = sqlx::query("DELETE FROM materials WHERE id = $1").bind(id).execute(pool).await?;
    Ok(done.rows_affected() > 0)
}

/// True when the user organises the event's group (owner or admin) or is a linked speaker.
pub(super) async fn may_attach_material(pool: &PgPool, event_id: i64, user_id: i64) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
                 WHERE e.id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin')) \
              + (SELECT COUNT(*) FROM speakers s WHERE s.event_id = $1 AND s.user_id = $2)",
    )
    .bind(event_id)
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

pub(super) async fn organizes_event(pool: &PgPool, event_id: i64, user_id: i64) -> Result<bool> {
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
         WHERE e.id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin')",
    )
    .bind(event_id)
    .bind(user_id)
    .fetch_one(pool)
    .await?;
    Ok(n > 0)
}

pub(super) async fn calendar_token(pool: &PgPool, user_id: i64) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT calendar_token FROM users WHERE id = $1").bind(user_id).fetch_optional(pool).await?;
    Ok(row.and_then(|(t,)| t))
}

pub(super) async fn set_calendar_token(pool: &PgPool, user_id: i64, token: &str) -> Result<()> {
    sqlx::query("UPDATE users SET calendar_token = $1 WHERE id = $2").bind(token).bind(user_id).execute(pool).await?;
    Ok(())
}

/// (id, nickname) of the user whose calendar token this is.
pub(super) async fn user_by_calendar_token(pool: &PgPool, token: &str) -> Result<Option<(i64, String)>> {
    if !super::pg::storable(token) {
        return Ok(None);
    }
    Ok(sqlx::query_as("SELECT id, nickname FROM users WHERE calendar_token = $1")
        .bind(token)
        .fetch_optional(pool)
        .await?)
}

/// Public events (newest change first) and groups, up to `limit` URLs.
pub(super) async fn sitemap(pool: &PgPool, limit: u32) -> Result<Vec<SitemapEntry>> {
    let groups: Vec<(String, i64)> = sqlx::query_as("SELECT slug, updated_at FROM groups ORDER BY id LIMIT $1")
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?;
    let rest = i64::from(limit).saturating_sub(groups.len() as i64);
    let events: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, updated_at FROM events WHERE status IN ('published', 'cancelled') ORDER BY updated_at DESC, id DESC LIMIT $1",
    )
    .bind(rest)
    .fetch_all(pool)
    .await?;
    Ok(groups
        .into_iter()
        .map(|(slug, t)| SitemapEntry::Group { slug, updated_at: instant(t) })
        .chain(events.into_iter().map(|(id, t)| SitemapEntry::Event { id, updated_at: instant(t) }))
        .collect())
}
