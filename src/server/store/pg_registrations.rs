//! Registration writes on PostgreSQL, with the semantics of `sqlite_registrations`. Every
//! write runs in one READ COMMITTED transaction that first locks the event's row
//! (`FOR NO KEY UPDATE`, see [`lock_event`]): the registration writers of one event then
//! run one after another, so the reads that decide queue positions and "already
//! registered" cannot be raced, and a frame switch (two frames) cannot deadlock. Each
//! statement after the lock sees what the previous holder committed. Seats themselves are
//! only ever taken by the conditional `UPDATE … WHERE accepted_count < capacity`.

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;
use sqlx::{PgConnection, PgPool, Postgres, Transaction};

use super::{
    DrawOutcome, DueDraw, FrameRuleRow, HeldRow, RegisterRequest, RegistrationChange, RegistrationRow, SeatGuard,
    decode,
};
use crate::error::AppError;
use crate::events::model::EventStatus;
use crate::registrations::model::{FrameSeats, MyRegistration, RegStatus, SeatSnapshot};
use crate::registrations::rules::{self, EventGate, FrameGate, Held};

type Tx = Transaction<'static, Postgres>;

fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// A receipt code: 10 characters from an alphabet without look-alikes (0/O, 1/I/L).
fn receipt_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Takes the registration lock of an event: its row, `FOR NO KEY UPDATE` (which, unlike
/// `FOR UPDATE`, does not block other transactions' foreign-key checks against the event).
/// Returns the event's status and start, `None` when there is no such event.
async fn lock_event(conn: &mut PgConnection, event_id: i64) -> Result<Option<(String, i64)>, AppError> {
    Ok(sqlx::query_as("SELECT status, starts_at FROM events WHERE id = $1 FOR NO KEY UPDATE")
        .bind(event_id)
        .fetch_optional(&mut *conn)
        .await?)
}

/// Locks the event of a frame (see [`lock_event`]); returns the event id.
async fn lock_event_of_frame(conn: &mut PgConnection, frame_id: i64) -> Result<Option<i64>, AppError> {
    let row: Option<(i64,)> = sqlx::query_as(
        "SELECT e.id FROM events e JOIN frames f ON f.event_id = e.id WHERE f.id = $1 FOR NO KEY UPDATE OF e",
    )
    .bind(frame_id)
    .fetch_optional(&mut *conn)
    .await?;
    Ok(row.map(|(id,)| id))
}

/// Promotes the head of the frame's waitlist while seats are free and the frame allows it.
/// Returns the promoted users.
async fn promote(conn: &mut PgConnection, frame_id: i64, now: i64) -> Result<Vec<i64>, AppError> {
    let mut promoted = Vec::new();
    loop {
        let head: Option<(i64, i64)> = sqlx::query_as(
            "SELECT r.id, r.user_id FROM registrations r JOIN frames f ON f.id = r.frame_id \
             WHERE r.frame_id = $1 AND r.status = 'waitlisted' \
               AND f.accepted_count < f.capacity AND NOT f.promotion_frozen \
               AND (f.method = 'first_come' OR f.drawn_at IS NOT NULL) \
             ORDER BY r.position LIMIT 1",
        )
        .bind(frame_id)
        .fetch_optional(&mut *conn)
        .await?;
        let Some((reg_id, user_id)) = head else { break };
        let taken = sqlx::query(
            "UPDATE frames SET accepted_count = accepted_count + 1, waiting_count = waiting_count - 1 \
             WHERE id = $1 AND accepted_count < capacity",
        )
        .bind(frame_id)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if taken != 1 {
            break;
        }
        sqlx::query("UPDATE registrations SET status = 'confirmed', updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(reg_id)
            .execute(&mut *conn)
            .await?;
        promoted.push(user_id);
    }
    Ok(promoted)
}

/// Gives up the seat (or waitlist place) a registration holds, promoting if a seat freed.
async fn release(conn: &mut PgConnection, reg: &Held, now: i64) -> Result<Vec<i64>, AppError> {
    match reg.status {
        RegStatus::Confirmed => {
            sqlx::query("UPDATE frames SET accepted_count = accepted_count - 1 WHERE id = $1")
                .bind(reg.frame_id)
                .execute(&mut *conn)
                .await?;
            promote(conn, reg.frame_id, now).await
        }
        RegStatus::Waitlisted => {
            sqlx::query("UPDATE frames SET waiting_count = waiting_count - 1 WHERE id = $1")
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
    conn: &mut PgConnection,
    event_id: i64,
    user_id: i64,
) -> Result<Option<MyRegistration>, AppError> {
    let row: Option<MyRegRow> = sqlx::query_as(
        "SELECT r.frame_id, f.name, r.status, r.position, r.receipt_code, r.created_at, r.checked_in_at, \
                f.method, f.drawn_at \
         FROM registrations r JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = $1 AND r.user_id = $2",
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
            "SELECT COUNT(*) FROM registrations WHERE frame_id = $1 AND status = 'waitlisted' AND position < $2",
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

pub(super) async fn register(pool: &PgPool, req: &RegisterRequest) -> Result<RegistrationChange, AppError> {
    let now = req.now.timestamp();
    // The canary decides "is there a seat?" outside the write lock, like a naive
    // read-then-write would: concurrent requests all see the same free seat.
    let canary_has_seat = if req.guard == SeatGuard::UnguardedCanary {
        let free: Option<(bool,)> = sqlx::query_as(
            "SELECT accepted_count < capacity FROM frames WHERE event_id = $1 AND ($2 IS NULL OR id = $3) ORDER BY position LIMIT 1",
        )
        .bind(req.event_id)
        .bind(req.frame_id)
        .bind(req.frame_id)
        .fetch_optional(pool)
        .await?;
        tokio::task::yield_now().await;
        free.map(|(f,)| f)
    } else {
        None
    };

    let mut tx: Tx = pool.begin().await?;
    let event = lock_event(&mut tx, req.event_id).await?;
    let Some((status, starts_at)) = event else { return Err(AppError::NotFound) };
    let event = EventGate { status: decode(&status, EventStatus::parse, "event status")?, starts_at };
    let rows: Vec<FrameRuleRow> = sqlx::query_as(
        "SELECT id, method, opens_at, closes_at, drawn_at FROM frames WHERE event_id = $1 ORDER BY position, id",
    )
    .bind(req.event_id)
    .fetch_all(&mut *tx)
    .await?;
    let frames = rows.iter().map(FrameRuleRow::gate).collect::<Result<Vec<FrameGate>, _>>()?;
    let held: Option<HeldRow> =
        sqlx::query_as("SELECT id, frame_id, status FROM registrations WHERE event_id = $1 AND user_id = $2")
            .bind(req.event_id)
            .bind(req.user_id)
            .fetch_optional(&mut *tx)
            .await?;
    let held = held.as_ref().map(HeldRow::held).transpose()?;
    let plan = rules::plan_register(event, &frames, held, req.frame_id, now)?;
    let frame = plan.frame;
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
                    sqlx::query("UPDATE frames SET accepted_count = accepted_count + 1 WHERE id = $1")
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
                     WHERE id = $1 AND accepted_count < capacity AND waiting_count = 0 AND NOT promotion_frozen",
                )
                .bind(frame.id)
                .execute(&mut *tx)
                .await?
                .rows_affected()
                    == 1
            }
        }
    };
    if !confirmed {
        sqlx::query("UPDATE frames SET waiting_count = waiting_count + 1 WHERE id = $1")
            .bind(frame.id)
            .execute(&mut *tx)
            .await?;
    }
    let status = if confirmed { RegStatus::Confirmed } else { RegStatus::Waitlisted };
    // The queue position is computed inside the write itself: one round trip less while the
    // write lock is held.

    let reg_id = match plan.reuse {
        Some(reg_id) => {
            sqlx::query(
                "UPDATE registrations SET frame_id = $1, status = $2, \
                   position = (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = $3), \
                   updated_at = $4, cancelled_at = NULL, checked_in_at = NULL WHERE id = $5",
            )
            .bind(frame.id)
            .bind(status.as_str())
            .bind(frame.id)
            .bind(now)
            .bind(reg_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM answers WHERE registration_id = $1").bind(reg_id).execute(&mut *tx).await?;
            reg_id
        }
        None => {
            let mut attempt = 0;
            loop {
                // A failed statement would abort the whole transaction here, so a
                // receipt-code collision (one in 10^14) is skipped by ON CONFLICT and
                // retried with another code; (event_id, user_id) cannot collide under the
                // event lock.
                let inserted: Option<(i64,)> = sqlx::query_as(
                    "INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = $5), $6, $7, $8) \
                     ON CONFLICT (receipt_code) DO NOTHING RETURNING id",
                )
                .bind(req.event_id)
                .bind(frame.id)
                .bind(req.user_id)
                .bind(status.as_str())
                .bind(frame.id)
                .bind(receipt_code())
                .bind(now)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                match inserted {
                    Some((id,)) => break id,
                    None if attempt < 3 => attempt += 1,
                    None => {
                        tracing::error!("four receipt-code collisions in a row");
                        return Err(AppError::Internal);
                    }
                }
            }
        }
    };

    for (question_id, value) in &req.answers {
        sqlx::query("INSERT INTO answers (registration_id, question_id, value) VALUES ($1, $2, $3)")
            .bind(reg_id)
            .bind(question_id)
            .bind(value)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    // Read back after the commit, outside the write lock.
    let mut conn = pool.acquire().await?;
    let registration = fetch_my_registration(&mut conn, req.event_id, req.user_id).await?;
    Ok(RegistrationChange { event_id: req.event_id, registration, promoted_user_ids: promoted })
}

pub(super) async fn cancel(
    pool: &PgPool,
    event_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin().await?;
    lock_event(&mut tx, event_id).await?;
    let reg: Option<(i64, i64, String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT r.id, r.frame_id, r.status, e.starts_at, f.closes_at \
         FROM registrations r JOIN events e ON e.id = r.event_id JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = $1 AND r.user_id = $2 AND r.status <> 'cancelled'",
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
    sqlx::query("UPDATE registrations SET status = 'cancelled', cancelled_at = $1, updated_at = $2 WHERE id = $3")
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
    pool: &PgPool,
    frame_id: i64,
    capacity: i64,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    rules::check_capacity(capacity, 0)?;
    let mut tx: Tx = pool.begin().await?;
    lock_event_of_frame(&mut tx, frame_id).await?;
    let frame: Option<(i64, i64)> = sqlx::query_as("SELECT event_id, accepted_count FROM frames WHERE id = $1")
        .bind(frame_id)
        .fetch_optional(&mut *tx)
        .await?;
    let Some((event_id, accepted)) = frame else { return Err(AppError::NotFound) };
    rules::check_capacity(capacity, accepted)?;
    sqlx::query("UPDATE frames SET capacity = $1 WHERE id = $2")
        .bind(capacity)
        .bind(frame_id)
        .execute(&mut *tx)
        .await?;
    let promoted = promote(&mut tx, frame_id, now.timestamp()).await?;
    tx.commit().await?;
    Ok(RegistrationChange { event_id, registration: None, promoted_user_ids: promoted })
}

pub(super) async fn due_draws(pool: &PgPool, now: DateTime<Utc>) -> Result<Vec<DueDraw>, AppError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, event_id FROM frames WHERE method = 'lottery' AND drawn_at IS NULL AND draw_at <= $1 ORDER BY draw_at, id",
    )
    .bind(now.timestamp())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(frame_id, event_id)| DueDraw { frame_id, event_id }).collect())
}

pub(super) async fn draw(
    pool: &PgPool,
    frame_id: i64,
    seed: u64,
    now: DateTime<Utc>,
) -> Result<Option<DrawOutcome>, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin().await?;
    lock_event_of_frame(&mut tx, frame_id).await?;
    // Claiming the draw and applying it are one transaction: a crash in between rolls both
    // back, and a second runner (waiting on the lock, then re-reading the row) finds
    // drawn_at set and does nothing.
    let claimed = sqlx::query(
        "UPDATE frames SET drawn_at = $1, draw_seed = $2 WHERE id = $3 AND method = 'lottery' AND drawn_at IS NULL",
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
         FROM frames WHERE id = $1",
    )
    .bind(frame_id)
    .fetch_one(&mut *tx)
    .await?;
    let applicants: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT id, user_id FROM registrations WHERE frame_id = $1 AND status = 'waitlisted' ORDER BY position",
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
        sqlx::query("UPDATE registrations SET status = $1, position = $2, updated_at = $3 WHERE id = $4")
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
        "UPDATE frames SET accepted_count = accepted_count + $1, waiting_count = waiting_count - $2 WHERE id = $3",
    )
    .bind(winners as i64)
    .bind(winners as i64)
    .bind(frame_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO lottery_draws (frame_id, seed, drawn_at, winners, log) VALUES ($1, $2, $3, $4, $5)")
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

pub(super) async fn seat_snapshot(pool: &PgPool, event_id: i64) -> Result<Option<SeatSnapshot>, AppError> {
    let frames: Vec<(i64, i64, i64, i64)> = sqlx::query_as(
        "SELECT id, accepted_count, capacity, waiting_count FROM frames WHERE event_id = $1 ORDER BY position, id",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    if frames.is_empty() {
        let (exists,): (bool,) =
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM events WHERE id = $1 AND status != 'draft')")
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

pub(super) async fn list_registrations(pool: &PgPool, event_id: i64) -> Result<Vec<RegistrationRow>, AppError> {
    let rows: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
        "SELECT r.id, r.user_id, r.frame_id, r.status, r.position FROM registrations r \
         JOIN frames f ON f.id = r.frame_id WHERE r.event_id = $1 ORDER BY f.position, f.id, r.position",
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
    pool: &PgPool,
    event_id: i64,
    registration_id: i64,
    to: RegStatus,
    now: DateTime<Utc>,
) -> Result<RegistrationChange, AppError> {
    let now = now.timestamp();
    let mut tx: Tx = pool.begin().await?;
    lock_event(&mut tx, event_id).await?;
    let row: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT frame_id, status, user_id FROM registrations WHERE id = $1 AND event_id = $2")
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
                "UPDATE registrations SET status = 'waitlisted', updated_at = $1, \
                 position = (SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = $2) WHERE id = $3",
            )
            .bind(now)
            .bind(frame_id)
            .bind(registration_id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "UPDATE frames SET accepted_count = accepted_count - 1, waiting_count = waiting_count + 1 WHERE id = $1",
            )
            .bind(frame_id)
            .execute(&mut *tx)
            .await?;
            promoted = promote(&mut tx, frame_id, now).await?;
        }
        (RegStatus::Waitlisted, RegStatus::Confirmed) => {
            let taken = sqlx::query(
                "UPDATE frames SET accepted_count = accepted_count + 1, waiting_count = waiting_count - 1 \
                 WHERE id = $1 AND accepted_count < capacity",
            )
            .bind(frame_id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if taken != 1 {
                return Err(AppError::Conflict(crate::error::Conflict::FrameFull));
            }
            sqlx::query("UPDATE registrations SET status = 'confirmed', updated_at = $1 WHERE id = $2")
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
