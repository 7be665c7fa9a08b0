//! Organizer admin reads, on either backend: roles, my groups and events, the editor's view
//! of an event (with its lottery draws), attendees, check-in, members and the audit log.
//! The writes are in `admin_edit`. Text is ordered `COLLATE "C"` on PostgreSQL (code
//! points, as SQLite's BINARY), whatever the database's default collation.

use super::Store;
use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::NewAudit;
use super::db::{Db, Sql};
use super::events::instant;
use super::events::{FRAME_COLUMNS, FrameRow};
use crate::admin::model::{
    AdminEvent, AdminEventRow, AdminGroup, AdminSpeaker, Attendee, AuditEntry, DrawLog, EventForm, FrameTimes, Member,
    Role,
};
use crate::error::AppError;
use crate::events::model::{EventStatus, FrameSummary, Seats};
use crate::registrations::model::RegStatus;
use crate::time::ZonedSpan;

type Result<T> = std::result::Result<T, AppError>;

/// `COLLATE "C"` after a text column on PostgreSQL; nothing on SQLite (BINARY already).
fn collate_c(db: &Db) -> &'static str {
    if db.is_pg() { " COLLATE \"C\"" } else { "" }
}

impl Store {
    /// The user's role in the group, if a member.
    pub async fn member_role(&self, group_id: i64, user_id: i64) -> Result<Option<Role>> {
        let db = &self.db;
        let row: Option<(String,)> = db
            .optional(
                Sql::new("SELECT role FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id),
            )
            .await?;
        Ok(row.and_then(|(r,)| Role::parse(&r)))
    }

    /// The group of an event of any status (drafts included).
    pub async fn event_group_id(&self, event_id: i64) -> Result<Option<i64>> {
        let db = &self.db;
        let row: Option<(i64,)> =
            db.optional(Sql::new("SELECT group_id FROM events WHERE id = $1").bind(event_id)).await?;
        Ok(row.map(|(g,)| g))
    }

    /// The groups the user belongs to, with the role.
    pub async fn admin_groups(&self, user_id: i64) -> Result<Vec<AdminGroup>> {
        let db = &self.db;
        let rows: Vec<(i64, String, String, String)> = db
            .all(
                Sql::new(format!(
                    "SELECT g.id, g.slug, g.title, m.role FROM group_members m JOIN groups g ON g.id = m.group_id \
                     WHERE m.user_id = $1 ORDER BY g.title{}, g.id",
                    collate_c(db)
                ))
                .bind(user_id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(id, slug, title, role)| Some(AdminGroup { id, slug, title, role: Role::parse(&role)? }))
            .collect())
    }

    /// Events of every group the user belongs to, any status, soonest first.
    pub async fn admin_events(&self, user_id: i64) -> Result<Vec<AdminEventRow>> {
        let db = &self.db;
        // SUM of BIGINT is NUMERIC in PostgreSQL: cast back.
        let rows: Vec<AdminEventSqlRow> = db
            .all(
                Sql::new(
                    "SELECT e.id, e.title, e.status, e.starts_at, e.ends_at, e.time_zone, g.title AS group_title, m.role, \
                       (SELECT CAST(COALESCE(SUM(f.accepted_count), 0) AS BIGINT) FROM frames f WHERE f.event_id = e.id) AS accepted, \
                       (SELECT CAST(COALESCE(SUM(f.capacity), 0) AS BIGINT) FROM frames f WHERE f.event_id = e.id) AS capacity, \
                       (SELECT CAST(COALESCE(SUM(f.waiting_count), 0) AS BIGINT) FROM frames f WHERE f.event_id = e.id) AS waiting \
                     FROM events e JOIN groups g ON g.id = e.group_id JOIN group_members m ON m.group_id = g.id \
                     WHERE m.user_id = $1 ORDER BY e.starts_at, e.id",
                )
                .bind(user_id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                Some(AdminEventRow {
                    id: r.id,
                    title: r.title,
                    status: EventStatus::parse(&r.status)?,
                    span: ZonedSpan::resolve(instant(r.starts_at), instant(r.ends_at), &r.time_zone),
                    group_title: r.group_title,
                    role: Role::parse(&r.role)?,
                    seats: Seats { accepted: r.accepted, limit: r.capacity, waiting: r.waiting },
                })
            })
            .collect())
    }

    /// The event as the editor shows it (`role` is filled in by the caller).
    pub async fn admin_event(&self, event_id: i64) -> Result<Option<AdminEvent>> {
        let db = &self.db;
        let row: Option<EditRow> = db
            .optional(
                Sql::new(
                    "SELECT e.group_id, g.title AS group_title, e.status, e.title, e.catch, e.description, e.starts_at, \
                     e.ends_at, e.time_zone, e.venue_kind, e.place, e.address, e.prefecture, e.online_url, e.language, \
                     e.hashtag, e.lat, e.lon, e.beginner_ok, e.hands_on, e.participants_hidden, e.visibility, \
                     e.invite_token, e.title_en, e.catch_en, e.description_en \
                     FROM events e JOIN groups g ON g.id = e.group_id WHERE e.id = $1",
                )
                .bind(event_id),
            )
            .await?;
        let Some(r) = row else { return Ok(None) };
        let frames: Vec<FrameSummary> = db
            .all::<FrameRow>(
                Sql::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = $1 ORDER BY position, id"))
                    .bind(event_id),
            )
            .await?
            .into_iter()
            .map(FrameRow::into_summary)
            .collect();
        let local = |t: Option<DateTime<Utc>>| t.map(|t| local_input(t, &r.time_zone)).unwrap_or_default();
        // The frames' own online URLs: for the organizers' editor only (not in `FrameSummary`).
        let urls: std::collections::HashMap<i64, String> = db
            .all::<(i64, Option<String>)>(
                Sql::new("SELECT id, online_url FROM frames WHERE event_id = $1").bind(event_id),
            )
            .await?
            .into_iter()
            .filter_map(|(id, url)| Some((id, url?)))
            .collect();
        let frame_times = frames
            .iter()
            .map(|f| FrameTimes {
                id: f.id,
                opens_local: local(f.opens_at),
                closes_local: local(f.closes_at),
                draw_local: local(f.draw_at),
                online_url: urls.get(&f.id).cloned().unwrap_or_default(),
            })
            .collect();
        let questions = self.fetch_questions(event_id).await?;
        let draws = draw_logs(db, event_id).await?;
        let reconfirm = self.reconfirm_setting(event_id, crate::time::now()).await?;
        let tags: Vec<(String,)> = db
            .all(
                Sql::new(
                    "SELECT t.name FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id = $1 \
                     ORDER BY t.kind DESC, t.position, t.id",
                )
                .bind(event_id),
            )
            .await?;
        let speakers: Vec<(i64, String, String, String, Option<String>)> = db
            .all(
                Sql::new(
                    "SELECT s.id, s.name, s.affiliation, s.talk_title, u.nickname FROM speakers s \
                     LEFT JOIN users u ON u.id = s.user_id WHERE s.event_id = $1 ORDER BY s.position, s.id",
                )
                .bind(event_id),
            )
            .await?;
        Ok(Some(AdminEvent {
            id: event_id,
            reconfirm,
            participants_hidden: r.participants_hidden,
            // The path; `reload` makes it absolute with the public URL.
            invite_url: r
                .invite_token
                .filter(|_| r.visibility == "invitation")
                .map(|t| format!("/events/{event_id}?invite={t}")),
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
                visibility: r.visibility,
                title_en: Some(r.title_en),
                catch_en: Some(r.catch_en),
                description_en: Some(r.description_en),
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

    /// Every registration of the event (cancelled ones last) with answers: two queries.
    pub async fn attendees(&self, event_id: i64) -> Result<Vec<Attendee>> {
        let db = &self.db;
        let mut q = Sql::new(ATTENDEE_SELECT);
        q.push(" WHERE r.event_id = ").push_bind(event_id).push(
        " ORDER BY CASE r.status WHEN 'confirmed' THEN 0 WHEN 'waitlisted' THEN 1 ELSE 2 END, f.position, r.position, r.id",
    );
        let rows: Vec<AttendeeSqlRow> = db.all(q).await?;
        let answer_rows: Vec<(i64, String, String)> = db
        .all(
            Sql::new(
                "SELECT a.registration_id, q.label, a.value FROM answers a JOIN questions q ON q.id = a.question_id \
                 JOIN registrations r ON r.id = a.registration_id WHERE r.event_id = $1 ORDER BY q.position, q.id",
            )
            .bind(event_id),
        )
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
    pub async fn check_in(&self, event_id: i64, code: &str, now: DateTime<Utc>) -> Result<Option<Attendee>> {
        let db = &self.db;
        let done = db
            .execute(
                Sql::new(
                    "UPDATE registrations SET checked_in_at = COALESCE(checked_in_at, $1) \
                 WHERE event_id = $2 AND status = 'confirmed' AND upper(receipt_code) = upper($3)",
                )
                .bind(now.timestamp())
                .bind(event_id)
                .bind(code.trim()),
            )
            .await?;
        if done == 0 {
            return Ok(None);
        }
        let mut q = Sql::new(ATTENDEE_SELECT);
        q.push(" WHERE r.event_id = ")
            .push_bind(event_id)
            .push(" AND upper(r.receipt_code) = upper(")
            .push_bind(code.trim())
            .push(")");
        let row: Option<AttendeeSqlRow> = db.optional(q).await?;
        Ok(row.map(|r| attendee(r, &mut HashMap::new())))
    }

    /// The members of a group, owners first.
    pub async fn members(&self, group_id: i64) -> Result<Vec<Member>> {
        let db = &self.db;
        let rows: Vec<(i64, String, String, String)> = db
        .all(
            Sql::new(format!(
                "SELECT u.id, u.nickname, u.display_name, m.role FROM group_members m JOIN users u ON u.id = m.user_id \
                 WHERE m.group_id = $1 \
                 ORDER BY CASE m.role WHEN 'owner' THEN 0 WHEN 'admin' THEN 1 ELSE 2 END, u.nickname{}",
                collate_c(db)
            ))
            .bind(group_id),
        )
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(user_id, nickname, display_name, role)| {
                Some(Member { user_id, nickname, display_name, role: Role::parse(&role)? })
            })
            .collect())
    }

    pub async fn record_audit(&self, a: &NewAudit) -> Result<()> {
        let db = &self.db;
        db.execute(
            Sql::new(
                "INSERT INTO audit_log (group_id, event_id, user_id, action, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(a.group_id)
            .bind(a.event_id)
            .bind(a.user_id)
            .bind(&a.action)
            .bind(&a.detail)
            .bind(a.at.timestamp()),
        )
        .await?;
        Ok(())
    }

    /// The audit log of an event (`event_id`) or of a whole group, newest first.
    pub async fn audit_log(&self, group_id: i64, event_id: Option<i64>) -> Result<Vec<AuditEntry>> {
        let db = &self.db;
        let mut q = Sql::new(
            "SELECT a.created_at, u.nickname, a.action, a.detail FROM audit_log a JOIN users u ON u.id = a.user_id \
         WHERE a.group_id = ",
        );
        q.push_bind(group_id);
        if let Some(e) = event_id {
            q.push(" AND a.event_id = ").push_bind(e);
        }
        q.push(" ORDER BY a.id DESC LIMIT 500");
        let rows: Vec<(i64, String, String, String)> = db.all(q).await?;
        Ok(rows
            .into_iter()
            .map(|(at, nickname, action, detail)| AuditEntry { at: instant(at), nickname, action, detail })
            .collect())
    }
}

#[derive(sqlx::FromRow)]
struct AdminEventSqlRow {
    id: i64,
    title: String,
    status: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    group_title: String,
    role: String,
    accepted: i64,
    capacity: i64,
    waiting: i64,
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
    participants_hidden: bool,
    visibility: String,
    invite_token: Option<String>,
    title_en: String,
    catch_en: String,
    description_en: String,
}

fn local_input(t: DateTime<Utc>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M").to_string()
}

/// The recorded lottery draws of an event's frames, with nicknames for the drawn order.
async fn draw_logs(db: &Db, event_id: i64) -> Result<Vec<DrawLog>> {
    let rows: Vec<(i64, i64, i64, i64, String)> = db
        .all(
            Sql::new(
                "SELECT d.frame_id, d.seed, d.drawn_at, d.winners, d.log FROM lottery_draws d \
                 JOIN frames f ON f.id = d.frame_id WHERE f.event_id = $1 ORDER BY f.position, f.id",
            )
            .bind(event_id),
        )
        .await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let nicknames: HashMap<i64, String> = db
        .all::<(i64, String)>(
            Sql::new(
                "SELECT u.id, u.nickname FROM registrations r JOIN users u ON u.id = r.user_id WHERE r.event_id = $1",
            )
            .bind(event_id),
        )
        .await?
        .into_iter()
        .collect();
    #[derive(serde::Deserialize)]
    struct Entry {
        user_id: i64,
        rank: i64,
        result: String,
        // Draws before the ranked lottery logged neither (the frame applied to was won).
        #[serde(default)]
        frame_id: Option<i64>,
        #[serde(default)]
        choice: Option<i64>,
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
                    .map(|e| {
                        let won = e.result == "won";
                        let (frame, choice) = match (won, e.frame_id) {
                            (true, None) => (Some(frame_id), Some(1)),
                            _ => (e.frame_id, e.choice),
                        };
                        (e.rank, nicknames.get(&e.user_id).cloned().unwrap_or_default(), won, frame, choice)
                    })
                    .collect(),
            }
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct AttendeeSqlRow {
    id: i64,
    nickname: String,
    display_name: String,
    frame_name: String,
    status: String,
    position: i64,
    receipt_code: String,
    created_at: i64,
    checked_in_at: Option<i64>,
    reconfirm_asked_at: Option<i64>,
    reconfirmed_at: Option<i64>,
    released_at: Option<i64>,
}

const ATTENDEE_SELECT: &str = "SELECT r.id, u.nickname, u.display_name, f.name AS frame_name, r.status, r.position, \
     r.receipt_code, r.created_at, r.checked_in_at, r.reconfirm_asked_at, r.reconfirmed_at, r.released_at \
     FROM registrations r JOIN users u ON u.id = r.user_id \
     JOIN frames f ON f.id = r.frame_id";

fn attendee(r: AttendeeSqlRow, answers: &mut HashMap<i64, Vec<(String, String)>>) -> Attendee {
    Attendee {
        registration_id: r.id,
        nickname: r.nickname,
        display_name: r.display_name,
        frame_name: r.frame_name,
        status: RegStatus::parse(&r.status).unwrap_or(RegStatus::Cancelled),
        position: r.position,
        receipt_code: r.receipt_code,
        registered_at: instant(r.created_at),
        checked_in_at: r.checked_in_at.map(instant),
        answers: answers.remove(&r.id).unwrap_or_default(),
        reconfirm_asked: r.reconfirm_asked_at.is_some(),
        reconfirmed_at: r.reconfirmed_at.map(instant),
        released_at: r.released_at.map(instant),
    }
}
