//! Registration writes on SQLite. Every write runs in one `BEGIN IMMEDIATE` transaction:
//! SQLite then holds the write lock from the first statement, so the reads below that
//! decide positions cannot be raced, and a deferred transaction's read-then-write
//! SQLITE_BUSY (which ignores busy_timeout) cannot happen. Seats themselves are only ever
//! taken by the conditional `UPDATE … WHERE accepted_count < capacity`.

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};

use super::{DrawOutcome, DueDraw, RegisterRequest, RegistrationChange, RegistrationRow, SeatGuard, decode};
use crate::error::AppError;
use crate::events::model::{EventStatus, FrameMethod};
use crate::registrations::model::{FrameSeats, MyRegistration, RegStatus, SeatSnapshot};
use crate::registrations::rules::{self, EventGate, FrameGate, Held};

type Tx = Transaction<'static, Sqlite>;

fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// A receipt code: 10 characters from an alphabet without look-alikes (0/O, 1/I/L).
fn receipt_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Promotes the head of the frame's waitlist while seats are free and the frame allows it.
/// Returns the promoted users.
async fn promote(conn: &mut SqliteConnection, frame_id: i64, now: i64) -> Result<Vec<i64>, AppError> {
    let mut promoted = Vec::new();
    loop {
        let head: Option<(i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.user_id FROM registrations r JOIN frames f ON f.id = r.frame_id \
             WHERE r.frame_id = ? AND r.status = 'waitlisted' \
               AND f.accepted_count < f.capacity AND f.promotion_frozen = 0 \
               AND (f.method = 'first_come' OR f.drawn_at IS NOT NULL) \
             ORDER BY r.position LIMIT 1",
        )
        .bind(frame_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((reg_id, user_id)) = head else { break };
        let taken = sqlx::query(
            "UPDATE frames SET accepted_count = accepted_count + 1, waiting_count = waiting_count - 1 \
             WHERE id = ? AND accepted_count < capacity",
        )
        .bind(frame_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if taken != 1 {
            break;
        }
        sqlx::query("UPDATE registrations SET status = 'confirmed', updated_at = ? WHERE id = ?")
            .bind(now)
            .bind(reg_id)
            .execute(&mut *conn)
            .await?;
        promoted.push(user_id);
    }
    Ok(promoted)
}

/// Gives up the seat (or waitlist place) a registration holds, promoting if a seat freed.
async fn release(conn: &mut SqliteConnection, reg: &Held, now: i64) -> Result<Vec<i64>, AppError> {
    match reg.status {
        RegStatus::Confirmed => {
            sqlx::query("UPDATE frames SET accepted_count = accepted_count - 1 WHERE id = ?")
                .bind(reg.frame_id)
                .execute(&mut *conn)
                .await?;
            promote(conn, reg.frame_id, now).await
        }
        RegStatus::Waitlisted => {
            sqlx::query("UPDATE frames SET waiting_count = waiting_count - 1 WHERE id = ?")
                .bind(reg.frame_id)
                .execute(&mut *conn)
                .await?;
            Ok(Vec::new())
        }
        RegStatus::Cancelled => Ok(Vec::new()),
    }
}

/// frame_id, frame name, status, position, receipt code, created_at, checked_in_at,
/// frame method, frame drawn_at.
type MyRegRow = (i64, String, String, i64, String, i64, Option<i64>, String, Option<i64>);

pub(super) async fn fetch_my_registration(
    conn: &mut SqliteConnection,
    event_id: i64,
    user_id: i64,
) -> Result<Option<MyRegistration>, AppError> {
    let row: Option<MyRegRow> = sqlx::query_as(
        "SELECT r.frame_id, f.name, r.status, r.position, r.receipt_code, r.created_at, r.checked_in_at, \
                f.method, f.drawn_at \
         FROM registrations r JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = ? AND r.user_id = ?",
    )
    .bind(event_id)
    .bind(user_id)
    .fetch_optional(&mut *conn)
    .await?;
    let Some((frame_id, frame_name, status, position, receipt_code, created_at, checked_in_at, method, drawn_at)) = row
    else {
        return Ok(None);
    };
    let status = RegStatus::parse(&status).unwrap_or(RegStatus::Cancelled);
    let waitlist_position = if status == RegStatus::Waitlisted {
        let (ahead,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM registrations WHERE frame_id = ? AND status = 'waitlisted' AND position < ?",
        )
        .bind(frame_id)
        .bind(position)
        .fetch_one(&mut *conn)
        .await?;
        Some(ahead + 1)
    } else {
        None
    };
    Ok(Some(MyRegistration {
        event_id,
        frame_id,
        frame_name,
        status,
        waitlist_position,
        lottery_pending: status == RegStatus::Waitlisted && method == "lottery" && drawn_at.is_none(),
        receipt_code,
        registered_at: ts(created_at),
        checked_in: checked_in_at.is_some(),
    }))
}

/// The fast path's script (see `register_fast`).
const FAST_REGISTRATION: &str = "BEGIN IMMEDIATE;
UPDATE frames SET
  accepted_count = accepted_count + (CASE WHEN NOT (method = 'lottery' AND drawn_at IS NULL) AND accepted_count < capacity
    AND waiting_count = 0 AND promotion_frozen = 0 THEN 1 ELSE 0 END),
  waiting_count = waiting_count + (CASE WHEN NOT (method = 'lottery' AND drawn_at IS NULL) AND accepted_count < capacity
    AND waiting_count = 0 AND promotion_frozen = 0 THEN 0 ELSE 1 END)
WHERE id = COALESCE(?3, (SELECT MIN(id) FROM frames WHERE event_id = ?1 HAVING COUNT(*) = 1)) AND event_id = ?1
  AND (opens_at IS NULL OR opens_at <= ?4) AND (closes_at IS NULL OR closes_at > ?4)
  AND EXISTS (SELECT 1 FROM events e WHERE e.id = ?1 AND e.status = 'published' AND e.starts_at > ?4)
  AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = ?1 AND r.user_id = ?2)
RETURNING id, name, method, drawn_at, waiting_count;
INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at)
SELECT ?1, f.id, ?2, CASE WHEN f.waiting_count = 0 THEN 'confirmed' ELSE 'waitlisted' END,
       (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = f.id), ?5, ?4, ?4
FROM frames f
WHERE f.id = COALESCE(?3, (SELECT MIN(id) FROM frames WHERE event_id = ?1 HAVING COUNT(*) = 1)) AND changes() = 1
RETURNING id, status;
COMMIT;";

/// The common case in one round trip to the writer connection: a first registration,
/// without answers, that passes every check. One script runs `BEGIN IMMEDIATE`, the seat
/// write, the insert and `COMMIT` on the connection's thread, instead of a hop per
/// statement (each hop is a thread hand-off, and under a rush those hand-offs, not SQLite,
/// were the cost). The script is one prepared, cached multi-statement query; its numbered
/// parameters (`?1` event, `?2` user, `?3` frame or NULL, `?4` now, `?5` receipt code) are
/// shared by its statements.
///
/// The seat is still taken by one conditional write: a single `UPDATE` of the frame adds
/// the registration to `accepted_count` when a seat is free (nobody waiting, not frozen,
/// no undrawn lottery) and to `waiting_count` otherwise, and its `WHERE` carries every
/// check (event published and not started, frame of the event and open, no registration
/// of this user yet). The insert runs only if that update changed the row (`changes()`),
/// and its status follows from the frame after the update: nobody waiting means the seat
/// was taken. `None`: some check failed (or the event has several frames and none was
/// chosen), and the caller runs the full path, which finds and reports the reason.
pub(super) async fn register_fast(
    writer: &SqlitePool,
    req: &RegisterRequest,
) -> Result<Option<RegistrationChange>, AppError> {
    if req.guard != SeatGuard::Atomic || !req.answers.is_empty() {
        return Ok(None);
    }
    let (event, now) = (req.event_id, req.now.timestamp());
    let code = receipt_code();
    let mut conn = writer.acquire().await?;
    let rows = match sqlx::query(FAST_REGISTRATION)
        .bind(event)
        .bind(req.user_id)
        .bind(req.frame_id)
        .bind(now)
        .bind(&code)
        .fetch_all(&mut *conn)
        .await
    {
        Ok(rows) => rows,
        Err(e) => {
            // A failed statement leaves the script's transaction open: close it, and let
            // the full path retry (it also handles a receipt-code collision).
            let _ = sqlx::raw_sql("ROLLBACK").execute(&mut *conn).await;
            tracing::debug!(error = %e, "fast registration path fell back");
            return Ok(None);
        }
    };
    use sqlx::Row;
    let (Some(seat), Some(inserted)) = (rows.first(), rows.get(1)) else { return Ok(None) };
    let frame_id: i64 = seat.try_get(0)?;
    let frame_name: String = seat.try_get(1)?;
    let method: String = seat.try_get(2)?;
    let drawn_at: Option<i64> = seat.try_get(3)?;
    let waiting: i64 = seat.try_get(4)?;
    let status: String = inserted.try_get(1)?;
    let status = RegStatus::parse(&status).unwrap_or(RegStatus::Waitlisted);
    let registration = MyRegistration {
        event_id: event,
        frame_id,
        frame_name,
        status,
        waitlist_position: (status == RegStatus::Waitlisted).then_some(waiting),
        lottery_pending: status == RegStatus::Waitlisted && method == "lottery" && drawn_at.is_none(),
        receipt_code: code,
        registered_at: ts(now),
        checked_in: false,
    };
    Ok(Some(RegistrationChange { event_id: event, registration: Some(registration), promoted_user_ids: Vec::new() }))
}

/// Event status and start, one frame, and the user's registration (if any).
type GateRow = (
    String,
    i64,
    Option<i64>,
    Option<String>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<i64>,
);

/// Registers (or switches frames). Writes go through `writer` (the one writer connection);
/// the canary's read and the read-back after the commit use `reader`.
pub(super) async fn register(
    writer: &SqlitePool,
    reader: &SqlitePool,
    req: &RegisterRequest,
) -> Result<RegistrationChange, AppError> {
    let now = req.now.timestamp();
    // The canary decides "is there a seat?" outside the write lock, like a naive
    // read-then-write would: concurrent requests all see the same free seat.
    let canary_has_seat = if req.guard == SeatGuard::UnguardedCanary {
        let free: Option<(bool,)> = sqlx::query_as(
            "SELECT accepted_count < capacity FROM frames WHERE event_id = ? AND (? IS NULL OR id = ?) ORDER BY position LIMIT 1",
        )
        .bind(req.event_id)
        .bind(req.frame_id)
        .bind(req.frame_id)
        .fetch_optional(reader)
        .await?;
        tokio::task::yield_now().await;
        free.map(|(f,)| f)
    } else {
        None
    };

    let mut tx: Tx = writer.begin_with("BEGIN IMMEDIATE").await?;
    // The event, its frames and the user's registration in one round trip: the write lock
    // is held from here to the commit, so every statement saved shortens the queue.
    let rows: Vec<GateRow> = sqlx::query_as(
        "SELECT e.status, e.starts_at, f.id, f.method, f.opens_at, f.closes_at, f.drawn_at, r.id, r.frame_id, r.status, \
                f.name, r.receipt_code, r.created_at \
         FROM events e \
         LEFT JOIN frames f ON f.event_id = e.id \
         LEFT JOIN registrations r ON r.event_id = e.id AND r.user_id = ? \
         WHERE e.id = ? ORDER BY f.position, f.id",
    )
    .bind(req.user_id)
    .bind(req.event_id)
    .fetch_all(&mut *tx)
    .await?;
    let Some(first) = rows.first() else { return Err(AppError::NotFound) };
    let event = EventGate { status: decode(&first.0, EventStatus::parse, "event status")?, starts_at: first.1 };
    let mut frames: Vec<(FrameGate, String)> = Vec::with_capacity(rows.len());
    for r in &rows {
        if let (Some(id), Some(method)) = (r.2, &r.3) {
            let method = decode(method, FrameMethod::parse, "frame method")?;
            let gate = FrameGate { id, method, opens_at: r.4, closes_at: r.5, drawn_at: r.6 };
            frames.push((gate, r.10.clone().unwrap_or_default()));
        }
    }
    let held = match (first.7, &first.9) {
        (Some(id), Some(status)) => Some(Held {
            id,
            frame_id: first.8.unwrap_or_default(),
            status: decode(status, RegStatus::parse, "registration status")?,
        }),
        _ => None,
    };
    let gates: Vec<FrameGate> = frames.iter().map(|(g, _)| *g).collect();
    let plan = rules::plan_register(event, &gates, held, req.frame_id, now)?;
    let frame = plan.frame;
    let frame_name = frames.iter().find(|(g, _)| g.id == frame.id).map(|(_, n)| n.clone()).unwrap_or_default();

    let mut promoted = Vec::new();
    if let Some(reg) = &plan.release {
        // Switching frames: the old seat is released first (promoting someone there).
        promoted = release(&mut tx, reg, now).await?;
    }

    let lottery_pending = plan.lottery_pending;
    let confirmed = if lottery_pending {
        false
    } else {
        match canary_has_seat {
            Some(has_seat) => {
                if has_seat {
                    sqlx::query("UPDATE frames SET accepted_count = accepted_count + 1 WHERE id = ?")
                        .bind(frame.id)
                        .execute(&mut *tx)
                        .await?;
                }
                has_seat
            }
            None => {
                // The guard: one conditional write. Nobody overtakes the waitlist, and a
                // frozen frame gives no seats.
                sqlx::query(
                    "UPDATE frames SET accepted_count = accepted_count + 1 \
                     WHERE id = ? AND accepted_count < capacity AND waiting_count = 0 AND promotion_frozen = 0",
                )
                .bind(frame.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            }
        }
    };
    // A new or moved registration goes to the end of the frame's queue, so when it waits,
    // its place is the frame's new waiting count.
    let mut place = None;
    if !confirmed {
        let (waiting,): (i64,) =
            sqlx::query_as("UPDATE frames SET waiting_count = waiting_count + 1 WHERE id = ? RETURNING waiting_count")
                .bind(frame.id)
                .fetch_one(&mut *tx)
                .await?;
        place = Some(waiting);
    }
    let status = if confirmed { RegStatus::Confirmed } else { RegStatus::Waitlisted };
    // The queue position is computed inside the write itself: one round trip less while the
    // write lock is held.

    let mut code = first.11.clone().unwrap_or_default();
    let registered_at = first.12.unwrap_or(now);
    let reg_id = match plan.reuse {
        Some(reg_id) => {
            sqlx::query(
                "UPDATE registrations SET frame_id = ?, status = ?, \
                   position = (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = ?), \
                   updated_at = ?, cancelled_at = NULL, checked_in_at = NULL WHERE id = ?",
            )
            .bind(frame.id)
            .bind(status.as_str())
            .bind(frame.id)
            .bind(now)
            .bind(reg_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM answers WHERE registration_id = ?").bind(reg_id).execute(&mut *tx).await?;
            reg_id
        }
        None => {
            let mut attempt = 0;
            loop {
                code = receipt_code();
                let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                    "INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at) \
                     VALUES (?, ?, ?, ?, (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = ?), ?, ?, ?) \
                     RETURNING id",
                )
                .bind(req.event_id)
                .bind(frame.id)
                .bind(req.user_id)
                .bind(status.as_str())
                .bind(frame.id)
                .bind(&code)
                .bind(now)
                .bind(now)
                .fetch_one(&mut *tx)
                .await;
                match inserted {
                    Ok((id,)) => break id,
                    // A receipt-code collision (one in 10^14): draw another code.
                    Err(sqlx::Error::Database(db))
                        if db.is_unique_violation() && db.message().contains("receipt_code") && attempt < 3 =>
                    {
                        attempt += 1;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        }
    };

    for (question_id, value) in &req.answers {
        sqlx::query("INSERT INTO answers (registration_id, question_id, value) VALUES (?, ?, ?)")
            .bind(reg_id)
            .bind(question_id)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // What the registrant sees, from what this transaction wrote (no read-back).
    let registration = MyRegistration {
        event_id: req.event_id,
        frame_id: frame.id,
        frame_name,
        status,
        waitlist_position: place,
        lottery_pending: lottery_pending && status == RegStatus::Waitlisted,
        receipt_code: code,
        registered_at: ts(registered_at),
        checked_in: false,
    };
    Ok(RegistrationChange { event_id: req.event_id, registration: Some(registration), promoted_user_ids: promoted })
}

pub(super) async fn cancel(
    pool: &SqlitePool,
    event_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let reg: Option<(i64, i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT r.id, r.frame_id, r.status, e.starts_at, f.closes_at \
         FROM registrations r JOIN events e ON e.id = r.event_id JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = ? AND r.user_id = ? AND r.status != 'cancelled'",
    )
    .bind(event_id)
    .bind(user_id)
    .fetch_optional(&mut *tx)
    .await?;
    let held = match reg {
        Some((id, frame_id, status, starts_at, closes_at)) => Some((
            Held { id, frame_id, status: decode(&status, RegStatus::parse, "registration status")? },
            starts_at,
            closes_at,
        )),
        None => None,
    };
    let held = rules::plan_cancel(held, now)?;
    sqlx::query("UPDATE registrations SET status = 'cancelled', cancelled_at = ?, updated_at = ? WHERE id = ?")
        .bind(now)
        .bind(now)
        .bind(held.id)
        .execute(&mut *tx)
        .await?;
    let promoted = release(&mut tx, &held, now).await?;
    let registration = fetch_my_registration(&mut tx, event_id, user_id).await?;
    tx.commit().await?;
    Ok(RegistrationChange { event_id, registration, promoted_user_ids: promoted })
}

pub(super) async fn set_capacity(
    pool: &SqlitePool,
    frame_id: i64,
    capacity: i64,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    rules::check_capacity(capacity, 0)?;
    let mut tx: Tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let frame: Option<(i64, i64)> = sqlx::query_as("SELECT event_id, accepted_count FROM frames WHERE id = ?")
        .bind(frame_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((event_id, accepted)) = frame else { return Err(AppError::NotFound) };
    rules::check_capacity(capacity, accepted)?;
    sqlx::query("UPDATE frames SET capacity = ? WHERE id = ?").bind(capacity).bind(frame_id).execute(&mut *tx).await?;
    let promoted = promote(&mut tx, frame_id, now.timestamp()).await?;
    tx.commit().await?;
    Ok(RegistrationChange { event_id, registration: None, promoted_user_ids: promoted })
}

pub(super) async fn due_draws(pool: &SqlitePool, now: DateTime<Utc>) -> Result<Vec<DueDraw>, AppError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, event_id FROM frames WHERE method = 'lottery' AND drawn_at IS NULL AND draw_at <= ? ORDER BY draw_at, id",
    )
    .bind(now.timestamp())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(frame_id, event_id)| DueDraw { frame_id, event_id }).collect())
}

pub(super) async fn draw(
    pool: &SqlitePool,
    frame_id: i64,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<Option<DrawOutcome>, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    // Claiming the draw and applying it are one transaction: a crash in between rolls both
    // back, and a second runner finds drawn_at set and does nothing.
    let claimed = sqlx::query(
        "UPDATE frames SET drawn_at = ?, draw_seed = ? WHERE id = ? AND method = 'lottery' AND drawn_at IS NULL",
    )
    .bind(now)
    .bind(seed as i64)
    .bind(frame_id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        return Ok(None);
    }
    let (event_id, capacity, accepted, max_pos): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT event_id, capacity, accepted_count, \
           (SELECT COALESCE(MAX(position), 0) FROM registrations WHERE frame_id = frames.id) \
         FROM frames WHERE id = ?",
    )
    .bind(frame_id)
    .fetch_one(&mut *tx)
    .await?;
    let applicants: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, user_id FROM registrations WHERE frame_id = ? AND status = 'waitlisted' ORDER BY position",
    )
    .bind(frame_id)
    .fetch_all(&mut *tx)
    .await?;
    let ids: Vec<i64> = applicants.iter().map(|(id, _)| *id).collect();
    let order = super::drawn_order(&ids, seed);
    let seats = (capacity - accepted).max(0) as usize;
    let winners = order.len().min(seats);
    let mut log = Vec::with_capacity(order.len());
    for (rank, reg_id) in order.iter().enumerate() {
        let won = rank < winners;
        sqlx::query("UPDATE registrations SET status = ?, position = ?, updated_at = ? WHERE id = ?")
            .bind(if won { "confirmed" } else { "waitlisted" })
            .bind(max_pos + 1 + rank as i64)
            .bind(now)
            .bind(reg_id)
            .execute(&mut *tx)
            .await?;
        let user_id = applicants.iter().find(|(id, _)| id == reg_id).map(|(_, u)| *u).unwrap_or_default();
        log.push(serde_json::json!({
            "registration_id": reg_id,
            "user_id": user_id,
            "rank": rank + 1,
            "result": if won { "won" } else { "waitlisted" },
        }));
    }
    sqlx::query(
        "UPDATE frames SET accepted_count = accepted_count + ?, waiting_count = waiting_count - ? WHERE id = ?",
    )
    .bind(winners as i64)
    .bind(winners as i64)
    .bind(frame_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO lottery_draws (frame_id, seed, drawn_at, winners, log) VALUES (?, ?, ?, ?, ?)")
        .bind(frame_id)
        .bind(seed as i64)
        .bind(now)
        .bind(winners as i64)
        .bind(serde_json::Value::Array(log).to_string())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Some(DrawOutcome { frame_id, event_id, seed, order, winners }))
}

pub(super) async fn seat_snapshot(pool: &SqlitePool, event_id: i64) -> Result<Option<SeatSnapshot>, AppError> {
    let frames: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, accepted_count, capacity, waiting_count FROM frames WHERE event_id = ? ORDER BY position, id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    if frames.is_empty() {
        let (exists,): (bool,) =
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM events WHERE id = ? AND status != 'draft')")
                .bind(event_id)
                .fetch_one(pool)
                .await?;
        if !exists {
            return Ok(None);
        }
    }
    let frames: Vec<FrameSeats> =
        frames.into_iter().map(|(id, accepted, limit, waiting)| FrameSeats { id, accepted, limit, waiting }).collect();
    Ok(Some(SeatSnapshot {
        event_id,
        accepted: frames.iter().map(|f| f.accepted).sum(),
        limit: frames.iter().map(|f| f.limit).sum(),
        waiting: frames.iter().map(|f| f.waiting).sum(),
        frames,
    }))
}

pub(super) async fn list_registrations(pool: &SqlitePool, event_id: i64) -> Result<Vec<RegistrationRow>, AppError> {
    let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
        "SELECT r.id, r.user_id, r.frame_id, r.status, r.position FROM registrations r \
         JOIN frames f ON f.id = r.frame_id WHERE r.event_id = ? ORDER BY f.position, f.id, r.position",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, user_id, frame_id, status, position)| RegistrationRow {
            id,
            user_id,
            frame_id,
            status: RegStatus::parse(&status).unwrap_or(RegStatus::Cancelled),
            position,
        })
        .collect())
}

/// Moves a registration by hand between confirmed and waitlisted (organizers). Moving to
/// the waitlist puts it at the end of the queue and the freed seat follows the usual rule
/// (the head of the waitlist is promoted unless frozen); confirming needs a free seat
/// (`Conflict("frame_full")`: raise the capacity instead).
pub(super) async fn move_registration(
    pool: &SqlitePool,
    event_id: i64,
    registration_id: i64,
    to: RegStatus,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let row: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT frame_id, status, user_id FROM registrations WHERE id = ? AND event_id = ?")
            .bind(registration_id)
            .bind(event_id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some((frame_id, status, user_id)) = row else { return Err(AppError::NotFound) };
    let from = RegStatus::parse(&status).unwrap_or(RegStatus::Cancelled);
    let mut promoted = Vec::new();
    match (from, to) {
        (RegStatus::Confirmed, RegStatus::Waitlisted) => {
            sqlx::query(
                "UPDATE registrations SET status = 'waitlisted', updated_at = ?, \
                 position = (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = ?) WHERE id = ?",
            )
            .bind(now)
            .bind(frame_id)
            .bind(registration_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE frames SET accepted_count = accepted_count - 1, waiting_count = waiting_count + 1 WHERE id = ?",
            )
            .bind(frame_id)
            .execute(&mut *tx)
            .await?;
            promoted = promote(&mut tx, frame_id, now).await?;
        }
        (RegStatus::Waitlisted, RegStatus::Confirmed) => {
            let taken = sqlx::query(
                "UPDATE frames SET accepted_count = accepted_count + 1, waiting_count = waiting_count - 1 \
                 WHERE id = ? AND accepted_count < capacity",
            )
            .bind(frame_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken != 1 {
                return Err(AppError::Conflict(crate::error::Conflict::FrameFull));
            }
            sqlx::query("UPDATE registrations SET status = 'confirmed', updated_at = ? WHERE id = ?")
                .bind(now)
                .bind(registration_id)
                .execute(&mut *tx)
                .await?;
            promoted.push(user_id);
        }
        (a, b) if a == b => {}
        _ => return Err(AppError::Conflict(crate::error::Conflict::NotMovable)),
    }
    tx.commit().await?;
    Ok(RegistrationChange { event_id, registration: None, promoted_user_ids: promoted })
}

#[cfg(test)]
mod tests {
    use super::super::drawn_order;

    #[test]
    fn the_drawn_order_is_re_derivable_from_the_seed() {
        let applicants: Vec<i64> = (1..=50).collect();
        assert_eq!(drawn_order(&applicants, 42), drawn_order(&applicants, 42));
        assert_ne!(drawn_order(&applicants, 42), drawn_order(&applicants, 43));
        let mut sorted = drawn_order(&applicants, 42);
        sorted.sort();
        assert_eq!(sorted, applicants, "a permutation: nobody lost or duplicated");
    }
}
