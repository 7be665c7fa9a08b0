//! Organizer admin on PostgreSQL: roles, my events, the editor's reads and writes,
//! attendees, check-in and the audit log. Same semantics as `sqlite_admin`: where SQLite
//! serialises a read-then-write with `BEGIN IMMEDIATE`, PostgreSQL first takes a row lock
//! (the event's, as registration writers do, or the group's member rows). Text is ordered `COLLATE "C"` (code points, as SQLite's
//! BINARY), whatever the database's default collation.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::pg::{FRAME_COLUMNS, FrameRow, questions_of};
use super::search_sql::{index_events, local_parts};
use super::{EventFields, FrameFields, NewAudit};
use crate::admin::model::{
    AdminEvent, AdminEventRow, AdminGroup, AdminSpeaker, Attendee, AuditEntry, DrawLog, EventForm, FrameTimes, Member,
    Role,
};
use crate::error::AppError;
use crate::events::model::{EventStatus, FrameSummary, Seats};
use crate::registrations::model::RegStatus;
use crate::time::ZonedSpan;

type Result<T> = std::result::Result<T, AppError>;

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Takes the event's write lock: its row `FOR NO KEY UPDATE`, the lock every registration
/// writer of the event takes first (`pg_registrations`), which does not block foreign-key
/// checks against the event. Editors' read-then-write steps on frames, questions and
/// speakers (`MAX(position) + 1`, "does this frame have registrations?") hold it.
async fn lock_event(conn: &mut PgConnection, event_id: i64) -> Result<()> {
    sqlx::query("SELECT 1 FROM events WHERE id = $1 FOR NO KEY UPDATE").bind(event_id).execute(conn).await?;
    Ok(())
}

pub(super) async fn member_role(pool: &PgPool, group_id: i64, user_id: i64) -> Result<Option<Role>> {
    let row: Option<(String,)> = sqlx::query_as("SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?;
    Ok(row.and_then(|(r,)| Role::parse(&r)))
}

/// The group of an event of any status (drafts included).
pub(super) async fn event_group_id(pool: &PgPool, event_id: i64) -> Result<Option<i64>> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT group_id FROM events WHERE id = $1").bind(event_id).fetch_optional(pool).await?;
    Ok(row.map(|(g,)| g))
}

pub(super) async fn admin_groups(pool: &PgPool, user_id: i64) -> Result<Vec<AdminGroup>> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT g.id, g.slug, g.title, m.role FROM group_members m JOIN groups g ON g.id = m.group_id \
         WHERE m.user_id = $1 ORDER BY g.title COLLATE \"C\", g.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, slug, title, role)| Some(AdminGroup { id, slug, title, role: Role::parse(&role)? }))
        .collect())
}

/// Events of every group the user belongs to, any status, soonest first.
pub(super) async fn admin_events(pool: &PgPool, user_id: i64) -> Result<Vec<AdminEventRow>> {
    type Row = (i64, String, String, i64, i64, String, String, String, i64, i64, i64);
    // SUM of BIGINT is NUMERIC in PostgreSQL: cast back.
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT e.id, e.title, e.status, e.starts_at, e.ends_at, e.time_zone, g.title, m.role, \
           (SELECT COALESCE(SUM(f.accepted_count), 0)::BIGINT FROM frames f WHERE f.event_id = e.id), \
           (SELECT COALESCE(SUM(f.capacity), 0)::BIGINT FROM frames f WHERE f.event_id = e.id), \
           (SELECT COALESCE(SUM(f.waiting_count), 0)::BIGINT FROM frames f WHERE f.event_id = e.id) \
         FROM events e JOIN groups g ON g.id = e.group_id JOIN group_members m ON m.group_id = g.id \
         WHERE m.user_id = $1 ORDER BY e.starts_at, e.id",
    )
    .bind(user_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(id, title, status, s, e, tz, group_title, role, accepted, limit, waiting)| {
            Some(AdminEventRow {
                id,
                title,
                status: EventStatus::parse(&status)?,
                span: ZonedSpan::resolve(instant(s), instant(e), &tz),
                group_title,
                role: Role::parse(&role)?,
                seats: Seats { accepted, limit, waiting },
            })
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct EditRow {
    group_id: i64,
    group_title: String,
    status: String,
    title: String,
    catch: String,
    description: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    venue_kind: String,
    place: String,
    address: String,
    prefecture: Option<String>,
    online_url: Option<String>,
    language: String,
    hashtag: String,
    lat: Option<f64>,
    lon: Option<f64>,
    beginner_ok: bool,
    hands_on: bool,
}

fn local_input(t: DateTime<Utc>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// The event as the editor shows it (`role` is filled in by the caller).
pub(super) async fn admin_event(pool: &PgPool, event_id: i64) -> Result<Option<AdminEvent>> {
    let row: Option<EditRow> = sqlx::query_as(
        "SELECT e.group_id, g.title AS group_title, e.status, e.title, e.catch, e.description, e.starts_at, e.ends_at, \
         e.time_zone, e.venue_kind, e.place, e.address, e.prefecture, e.online_url, e.language, e.hashtag, \
         e.lat, e.lon, e.beginner_ok, e.hands_on \
         FROM events e JOIN groups g ON g.id = e.group_id WHERE e.id = $1",
    )
    .bind(event_id)
    .fetch_optional(pool)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let mut fq = QueryBuilder::<Postgres>::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = "));
    fq.push_bind(event_id).push(" ORDER BY position, id");
    let frames: Vec<FrameSummary> =
        fq.build_query_as::<FrameRow>().fetch_all(pool).await?.into_iter().map(FrameRow::into_summary).collect();
    let local = |t: Option<DateTime<Utc>>| t.map(|t| local_input(t, &r.time_zone)).unwrap_or_default();
    let frame_times = frames
        .iter()
        .map(|f| FrameTimes {
            id: f.id,
            opens_local: local(f.opens_at),
            closes_local: local(f.closes_at),
            draw_local: local(f.draw_at),
        })
        .collect();
    let questions = questions_of(pool, event_id).await?;
    let draws = draw_logs(pool, event_id).await?;
    let tags: Vec<(String,)> = sqlx::query_as(
        "SELECT t.name FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id = $1 \
         ORDER BY t.kind DESC, t.position, t.id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    let speakers: Vec<(i64, String, String, String, Option<String>)> = sqlx::query_as(
        "SELECT s.id, s.name, s.affiliation, s.talk_title, u.nickname FROM speakers s LEFT JOIN users u ON u.id = s.user_id \
         WHERE s.event_id = $1 ORDER BY s.position, s.id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    Ok(Some(AdminEvent {
        id: event_id,
        group_id: r.group_id,
        group_title: r.group_title,
        status: EventStatus::parse(&r.status).unwrap_or(EventStatus::Draft),
        span: ZonedSpan::resolve(instant(r.starts_at), instant(r.ends_at), &r.time_zone),
        form: EventForm {
            starts_local: local_input(instant(r.starts_at), &r.time_zone),
            ends_local: local_input(instant(r.ends_at), &r.time_zone),
            title: r.title,
            catch: r.catch,
            description: r.description,
            time_zone: r.time_zone,
            venue_kind: r.venue_kind,
            place: r.place,
            address: r.address,
            prefecture: r.prefecture.unwrap_or_default(),
            online_url: r.online_url.unwrap_or_default(),
            language: r.language,
            hashtag: r.hashtag,
            tags: tags.into_iter().map(|(n,)| n).collect::<Vec<_>>().join(", "),
            lat: r.lat.map(|v| v.to_string()).unwrap_or_default(),
            lon: r.lon.map(|v| v.to_string()).unwrap_or_default(),
            beginner_ok: r.beginner_ok.then(|| "on".to_string()),
            hands_on: r.hands_on.then(|| "on".to_string()),
        },
        frames,
        frame_times,
        questions,
        draws,
        speakers: speakers
            .into_iter()
            .map(|(id, name, affiliation, talk_title, nickname)| AdminSpeaker {
                id,
                name,
                affiliation,
                talk_title,
                nickname,
            })
            .collect(),
        role: Role::Staff,
    }))
}

/// Saves the editor's fields, the local weekday/minute and the search text in one
/// transaction (the calendar SEQUENCE follows by trigger).
pub(super) async fn update_event(pool: &PgPool, event_id: i64, f: &EventFields, now: DateTime<Utc>) -> Result<()> {
    let (dow, minute) = local_parts(f.starts_at, &f.time_zone);
    let mut tx = pool.begin().await?;
    let done = sqlx::query(
        "UPDATE events SET title = $1, catch = $2, description = $3, starts_at = $4, ends_at = $5, time_zone = $6, \
         venue_kind = $7, place = $8, address = $9, prefecture = $10, online_url = $11, language = $12, hashtag = $13, \
         lat = $14, lon = $15, beginner_ok = $16, hands_on = $17, \
         local_dow = $18, local_start_min = $19, updated_at = GREATEST(updated_at, $20) WHERE id = $21",
    )
    .bind(&f.title)
    .bind(&f.catch)
    .bind(&f.description)
    .bind(f.starts_at.timestamp())
    .bind(f.ends_at.timestamp())
    .bind(&f.time_zone)
    .bind(f.venue_kind.as_str())
    .bind(&f.place)
    .bind(&f.address)
    .bind(&f.prefecture)
    .bind(&f.online_url)
    .bind(f.language.as_str())
    .bind(&f.hashtag)
    .bind(f.lat)
    .bind(f.lon)
    .bind(f.beginner_ok)
    .bind(f.hands_on)
    .bind(dow)
    .bind(minute)
    .bind(now.timestamp())
    .bind(event_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    sqlx::query("DELETE FROM event_tags WHERE event_id = $1").bind(event_id).execute(&mut *tx).await?;
    if !f.tag_ids.is_empty() {
        sqlx::query(
            "INSERT INTO event_tags (event_id, tag_id) SELECT $1, t FROM UNNEST($2::BIGINT[]) AS t \
             ON CONFLICT DO NOTHING",
        )
        .bind(event_id)
        .bind(&f.tag_ids[..])
        .execute(&mut *tx)
        .await?;
    }
    index_events(&mut tx, &[event_id]).await?;
    tx.commit().await?;
    Ok(())
}

pub(super) async fn set_event_status(
    pool: &PgPool,
    event_id: i64,
    status: EventStatus,
    now: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query("UPDATE events SET status = $1, updated_at = GREATEST(updated_at, $2) WHERE id = $3")
        .bind(status.as_str())
        .bind(now.timestamp())
        .bind(event_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

type AttendeeSqlRow = (i64, String, String, String, String, i64, String, i64, Option<i64>);

const ATTENDEE_SELECT: &str = "SELECT r.id, u.nickname, u.display_name, f.name, r.status, r.position, \
     r.receipt_code, r.created_at, r.checked_in_at FROM registrations r JOIN users u ON u.id = r.user_id \
     JOIN frames f ON f.id = r.frame_id";

fn attendee(r: AttendeeSqlRow, answers: &mut HashMap<i64, Vec<(String, String)>>) -> Attendee {
    let (id, nickname, display_name, frame_name, status, position, receipt_code, created_at, checked_in_at) = r;
    Attendee {
        registration_id: id,
        nickname,
        display_name,
        frame_name,
        status: RegStatus::parse(&status).unwrap_or(RegStatus::Cancelled),
        position,
        receipt_code,
        registered_at: instant(created_at),
        checked_in_at: checked_in_at.map(instant),
        answers: answers.remove(&id).unwrap_or_default(),
    }
}

/// Every registration of the event (cancelled ones last) with answers: two queries.
pub(super) async fn attendees(pool: &PgPool, event_id: i64) -> Result<Vec<Attendee>> {
    let mut qb = QueryBuilder::<Postgres>::new(ATTENDEE_SELECT);
    qb.push(" WHERE r.event_id = ")
        .push_bind(event_id)
        .push(" ORDER BY CASE r.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END, f.position, r.position, r.id");
    let rows: Vec<AttendeeSqlRow> = qb.build_query_as().fetch_all(pool).await?;
    let answer_rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT a.registration_id, q.label, a.value FROM answers a JOIN questions q ON q.id = a.question_id \
         JOIN registrations r ON r.id = a.registration_id WHERE r.event_id = $1 ORDER BY q.position, q.id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    let mut answers: HashMap<i64, Vec<(String, String)>> = HashMap::new();
    for (rid, label, value) in answer_rows {
        // Multiple-choice answers are stored as JSON arrays; show them as a list.
        let value = serde_json::from_str::<Vec<String>>(&value).map(|v| v.join(", ")).unwrap_or(value);
        answers.entry(rid).or_default().push((label, value));
    }
    Ok(rows.into_iter().map(|r| attendee(r, &mut answers)).collect())
}

/// Checks in the confirmed registration with this receipt code (case-insensitive),
/// keeping the first check-in time when repeated. `None`: no such confirmed registrant.
pub(super) async fn check_in(pool: &PgPool, event_id: i64, code: &str, now: DateTime<Utc>) -> Result<Option<Attendee>> {
    let done = sqlx::query(
        "UPDATE registrations SET checked_in_at = COALESCE(checked_in_at, $1) \
         WHERE event_id = $2 AND status = 'confirmed' AND upper(receipt_code) = upper($3)",
    )
    .bind(now.timestamp())
    .bind(event_id)
    .bind(code.trim())
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    let mut qb = QueryBuilder::<Postgres>::new(ATTENDEE_SELECT);
    qb.push(" WHERE r.event_id = ")
        .push_bind(event_id)
        .push(" AND upper(r.receipt_code) = upper(")
        .push_bind(code.trim())
        .push(")");
    let row: Option<AttendeeSqlRow> = qb.build_query_as().fetch_optional(pool).await?;
    Ok(row.map(|r| attendee(r, &mut HashMap::new())))
}

pub(super) async fn record_audit(pool: &PgPool, a: &NewAudit) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (group_id, event_id, user_id, action, detail, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.group_id)
    .bind(a.event_id)
    .bind(a.user_id)
    .bind(&a.action)
    .bind(&a.detail)
    .bind(a.at.timestamp())
    .execute(pool)
    .await?;
    Ok(())
}

/// The audit log of an event (`event_id`) or of a whole group, newest first.
pub(super) async fn audit_log(pool: &PgPool, group_id: i64, event_id: Option<i64>) -> Result<Vec<AuditEntry>> {
    let mut qb = QueryBuilder::<Postgres>::new(
        "SELECT a.created_at, u.nickname, a.action, a.detail FROM audit_log a JOIN users u ON u.id = a.user_id \
         WHERE a.group_id = ",
    );
    qb.push_bind(group_id);
    if let Some(e) = event_id {
        qb.push(" AND a.event_id = ").push_bind(e);
    }
    qb.push(" ORDER BY a.id DESC LIMIT 500");
    let rows: Vec<(i64, String, String, String)> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows
        .into_iter()
        .map(|(at, nickname, action, detail)| AuditEntry { at: instant(at), nickname, action, detail })
        .collect())
}

/// Adds a frame after the others.
pub(super) async fn add_frame(pool: &PgPool, event_id: i64, f: &FrameFields) -> Result<i64> {
    let mut tx = pool.begin().await?;
    lock_event(&mut tx, event_id).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO frames (event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at, promotion_frozen) \
         VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM frames WHERE event_id = $1), $2, $3, $4, $5, $6, $7, $8, $9) \
         RETURNING id",
    )
    .bind(event_id)
    .bind(&f.name)
    .bind(f.capacity)
    .bind(f.method.as_str())
    .bind(f.fee)
    .bind(f.opens_at.map(|t| t.timestamp()))
    .bind(f.closes_at.map(|t| t.timestamp()))
    .bind(f.draw_at.map(|t| t.timestamp()))
    .bind(f.promotion_frozen)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Updates a frame's rules (not its capacity: see `set_capacity`). A lottery that has been
/// drawn keeps its method and draw time.
pub(super) async fn update_frame(pool: &PgPool, event_id: i64, frame_id: i64, f: &FrameFields) -> Result<()> {
    let mut tx = pool.begin().await?;
    // Ordered against a draw of the frame, which takes the same lock.
    lock_event(&mut tx, event_id).await?;
    let row: Option<(String, Option<i64>)> =
        sqlx::query_as("SELECT method, drawn_at FROM frames WHERE id = $1 AND event_id = $2")
            .bind(frame_id)
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((method, drawn_at)) = row else { return Err(AppError::NotFound) };
    if drawn_at.is_some() && (method != f.method.as_str() || f.draw_at.is_none()) {
        return Err(AppError::Conflict(crate::error::Conflict::LotteryAlreadyDrawn));
    }
    sqlx::query(
        "UPDATE frames SET name = $1, method = $2, fee = $3, opens_at = $4, closes_at = $5, \
         draw_at = CASE WHEN drawn_at IS NULL THEN $6 ELSE draw_at END, promotion_frozen = $7 WHERE id = $8",
    )
    .bind(&f.name)
    .bind(f.method.as_str())
    .bind(f.fee)
    .bind(f.opens_at.map(|t| t.timestamp()))
    .bind(f.closes_at.map(|t| t.timestamp()))
    .bind(f.draw_at.map(|t| t.timestamp()))
    .bind(f.promotion_frozen)
    .bind(frame_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a frame nobody has registered to (`Conflict("frame_has_registrations")`
/// otherwise, and never the last frame: `Conflict("last_frame")`).
pub(super) async fn delete_frame(pool: &PgPool, event_id: i64, frame_id: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    // Two deletions cannot both see two frames, and a registration to this frame either
    // committed before (and is counted below) or waits for us (and then finds no frame).
    lock_event(&mut tx, event_id).await?;
    let (frames, regs): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM frames WHERE event_id = $1), \
                (SELECT COUNT(*) FROM registrations WHERE frame_id = $2)",
    )
    .bind(event_id)
    .bind(frame_id)
    .fetch_one(&mut *tx)
    .await?;
    if regs > 0 {
        return Err(AppError::Conflict(crate::error::Conflict::FrameHasRegistrations));
    }
    if frames <= 1 {
        return Err(AppError::Conflict(crate::error::Conflict::LastFrame));
    }
    let done = sqlx::query("DELETE FROM frames WHERE id = $1 AND event_id = $2")
        .bind(frame_id)
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

pub(super) async fn add_question(pool: &PgPool, event_id: i64, q: &super::NewQuestion) -> Result<i64> {
    let mut tx = pool.begin().await?;
    lock_event(&mut tx, event_id).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO questions (event_id, position, kind, label, options, required) \
         VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM questions WHERE event_id = $1), $2, $3, $4, $5) \
         RETURNING id",
    )
    .bind(event_id)
    .bind(q.kind.as_str())
    .bind(&q.label)
    .bind(serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()))
    .bind(q.required)
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn delete_question(pool: &PgPool, event_id: i64, question_id: i64) -> Result<()> {
    let done = sqlx::query("DELETE FROM questions WHERE id = $1 AND event_id = $2")
        .bind(question_id)
        .bind(event_id)
        .execute(pool)
        .await?;
    if done.rows_affected() == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

/// The members of a group, owners first.
pub(super) async fn members(pool: &PgPool, group_id: i64) -> Result<Vec<Member>> {
    let rows: Vec<(i64, String, String, String)> = sqlx::query_as(
        "SELECT u.id, u.nickname, u.display_name, m.role FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.group_id = $1 \
         ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.nickname COLLATE \"C\"",
    )
    .bind(group_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(user_id, nickname, display_name, role)| {
            Some(Member { user_id, nickname, display_name, role: Role::parse(&role)? })
        })
        .collect())
}

/// Adds a member (`Conflict("already_member")` when they are one).
pub(super) async fn add_member(
    pool: &PgPool,
    group_id: i64,
    user_id: i64,
    role: Role,
    now: DateTime<Utc>,
) -> Result<()> {
    let done = sqlx::query(
        "INSERT INTO group_members (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now.timestamp())
    .execute(pool)
    .await?;
    if done.rows_affected() == 0 { Err(AppError::Conflict(crate::error::Conflict::AlreadyMember)) } else { Ok(()) }
}

/// Locks the group's member rows and returns (user_id, role) of each, so that the owner
/// count read stays true until commit.
async fn lock_members(conn: &mut PgConnection, group_id: i64) -> Result<Vec<(i64, String)>> {
    Ok(sqlx::query_as("SELECT user_id, role FROM group_members WHERE group_id = $1 ORDER BY user_id FOR UPDATE")
        .bind(group_id)
        .fetch_all(conn)
        .await?)
}

/// Sets a member's role, or removes them (`None`), keeping at least one owner
/// (`Conflict("last_owner")`).
pub(super) async fn set_member(pool: &PgPool, group_id: i64, user_id: i64, role: Option<Role>) -> Result<()> {
    let mut tx = pool.begin().await?;
    let locked = lock_members(&mut tx, group_id).await?;
    let Some((_, current)) = locked.iter().find(|(u, _)| *u == user_id) else { return Err(AppError::NotFound) };
    if current == "owner" && role != Some(Role::Owner) {
        let owners = locked.iter().filter(|(_, r)| r == "owner").count();
        if owners <= 1 {
            return Err(AppError::Conflict(crate::error::Conflict::LastOwner));
        }
    }
    match role {
        Some(r) => {
            sqlx::query("UPDATE group_members SET role = $1 WHERE group_id = $2 AND user_id = $3")
                .bind(r.as_str())
                .bind(group_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        None => {
            sqlx::query("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                .bind(group_id)
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Makes `to` (a member) the owner and `from` an admin, in one transaction.
pub(super) async fn transfer_ownership(pool: &PgPool, group_id: i64, from: i64, to: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    lock_members(&mut tx, group_id).await?;
    let made = sqlx::query("UPDATE group_members SET role = 'owner' WHERE group_id = $1 AND user_id = $2")
        .bind(group_id)
        .bind(to)
        .execute(&mut *tx)
        .await?;
    if made.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    if from != to {
        sqlx::query("UPDATE group_members SET role = 'admin' WHERE group_id = $1 AND user_id = $2 AND role = 'owner'")
            .bind(group_id)
            .bind(from)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Copies an event as a new draft starting at `starts_at` (end, registration windows and
/// draws move by the same amount): frames without registrations, questions, tags and
/// speakers come along.
pub(super) async fn duplicate_event(
    pool: &PgPool,
    event_id: i64,
    starts_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<i64> {
    let mut tx = pool.begin().await?;
    // SHARE: the source cannot change while it is copied (editors wait; readers and
    // registrations do not).
    let row: Option<(i64, String)> = sqlx::query_as("SELECT starts_at, time_zone FROM events WHERE id = $1 FOR SHARE")
        .bind(event_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((old_start, tz)) = row else { return Err(AppError::NotFound) };
    let shift = starts_at.timestamp() - old_start;
    let (dow, minute) = local_parts(starts_at, &tz);
    let (new_id,): (i64,) = sqlx::query_as(
        "INSERT INTO events (group_id, title, catch, description, starts_at, ends_at, time_zone, venue_kind, place, \
           address, prefecture, lat, lon, online_url, language, hashtag, image_url, status, event_type, beginner_ok, \
           hands_on, created_at, updated_at, local_dow, local_start_min) \
         SELECT group_id, title, catch, description, starts_at + $1, ends_at + $1, time_zone, venue_kind, place, \
           address, prefecture, lat, lon, online_url, language, hashtag, image_url, 'draft', event_type, beginner_ok, \
           hands_on, $2, $2, $3, $4 FROM events WHERE id = $5 RETURNING id",
    )
    .bind(shift)
    .bind(now.timestamp())
    .bind(dow)
    .bind(minute)
    .bind(event_id)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query(
        "INSERT INTO frames (event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at, promotion_frozen) \
         SELECT $1, position, name, capacity, method, fee, opens_at + $2, closes_at + $2, draw_at + $2, promotion_frozen \
         FROM frames WHERE event_id = $3 ORDER BY position, id",
    )
    .bind(new_id)
    .bind(shift)
    .bind(event_id)
    .execute(&mut *tx)
    .await?;
    for sql in [
        "INSERT INTO questions (event_id, position, kind, label, options, required) \
         SELECT $1, position, kind, label, options, required FROM questions WHERE event_id = $2 ORDER BY position, id",
        "INSERT INTO event_tags (event_id, tag_id) SELECT $1, tag_id FROM event_tags WHERE event_id = $2",
        "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) \
         SELECT $1, position, name, affiliation, bio, talk_title, user_id FROM speakers WHERE event_id = $2 \
         ORDER BY position, id",
    ] {
        sqlx::query(sql).bind(new_id).bind(event_id).execute(&mut *tx).await?;
    }
    index_events(&mut tx, &[new_id]).await?;
    tx.commit().await?;
    Ok(new_id)
}

/// Tag ids for names, slugs or aliases of either kind (NFKC, case-insensitive), and the
/// names that match none.
pub(super) async fn resolve_tag_names(pool: &PgPool, names: &[String]) -> Result<(Vec<i64>, Vec<String>)> {
    let all: Vec<(i64, String, String)> = sqlx::query_as("SELECT id, slug, name FROM tags").fetch_all(pool).await?;
    let mut ids = Vec::new();
    let mut unknown = Vec::new();
    for name in names {
        let key = crate::server::text::normalize(name);
        let direct = all
            .iter()
            .find(|(_, slug, n)| *slug == key || crate::server::text::normalize(n) == key)
            .map(|(id, ..)| *id);
        let id = match direct {
            Some(id) => Some(id),
            None => sqlx::query_as::<_, (i64,)>("SELECT tag_id FROM tag_aliases WHERE alias = $1")
                .bind(&key)
                .fetch_optional(pool)
                .await?
                .map(|(id,)| id),
        };
        match id {
            Some(id) if !ids.contains(&id) => ids.push(id),
            Some(_) => {}
            None => unknown.push(name.clone()),
        }
    }
    Ok((ids, unknown))
}

pub(super) async fn add_speaker(pool: &PgPool, event_id: i64, s: &super::NewSpeaker) -> Result<i64> {
    let mut tx = pool.begin().await?;
    lock_event(&mut tx, event_id).await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) \
         VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM speakers WHERE event_id = $1), $2, $3, $4, $5, $6) \
         RETURNING id",
    )
    .bind(event_id)
    .bind(&s.name)
    .bind(&s.affiliation)
    .bind(&s.bio)
    .bind(&s.talk_title)
    .bind(s.user_id)
    .fetch_one(&mut *tx)
    .await?;
    index_events(&mut tx, &[event_id]).await?;
    tx.commit().await?;
    Ok(id)
}

pub(super) async fn delete_speaker(pool: &PgPool, event_id: i64, speaker_id: i64) -> Result<()> {
    let mut tx = pool.begin().await?;
    let done = sqlx::query("DELETE FROM speakers WHERE id = $1 AND event_id = $2")
        .bind(speaker_id)
        .bind(event_id)
        .execute(&mut *tx)
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    index_events(&mut tx, &[event_id]).await?;
    tx.commit().await?;
    Ok(())
}

/// The recorded lottery draws of an event's frames, with nicknames for the drawn order.
async fn draw_logs(pool: &PgPool, event_id: i64) -> Result<Vec<DrawLog>> {
    let rows: Vec<(i64, i64, i64, i64, String)> = sqlx::query_as(
        "SELECT d.frame_id, d.seed, d.drawn_at, d.winners, d.log FROM lottery_draws d JOIN frames f ON f.id = d.frame_id \
         WHERE f.event_id = $1 ORDER BY f.position, f.id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let nicknames: HashMap<i64, String> = sqlx::query_as::<_, (i64, String)>(
        "SELECT u.id, u.nickname FROM registrations r JOIN users u ON u.id = r.user_id WHERE r.event_id = $1",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?
    .into_iter()
    .collect();
    #[derive(serde::Deserialize)]
    struct Entry {
        user_id: i64,
        rank: i64,
        result: String,
    }
    Ok(rows
        .into_iter()
        .map(|(frame_id, seed, drawn_at, winners, log)| {
            let entries: Vec<Entry> = serde_json::from_str(&log).unwrap_or_default();
            DrawLog {
                frame_id,
                drawn_at: instant(drawn_at),
                // Stored as the i64 with the same bits.
                seed: (seed as u64).to_string(),
                winners,
                entries: entries
                    .into_iter()
                    .map(|e| (e.rank, nicknames.get(&e.user_id).cloned().unwrap_or_default(), e.result == "won"))
                    .collect(),
            }
        })
        .collect())
}
