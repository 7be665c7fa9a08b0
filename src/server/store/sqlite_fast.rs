//! The SQLite fast registration path: the common case in one round trip to the writer
//! connection. The full path (`registrations::register`) handles everything else and finds
//! and reports the reason when a check fails here.

use sqlx::SqlitePool;

use super::registrations::{receipt_code, ts};
use super::{RegisterRequest, RegistrationChange, SeatGuard, StoreResult, decode};
use crate::events::model::FrameMethod;
use crate::registrations::model::{MyRegistration, RegStatus};

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
INSERT INTO messages (event_id, sender_id, kind, audience, subject, body, created_at)
SELECT ?1, NULL, ?6, ?7, ?8, ?9, ?4 WHERE changes() = 1 AND ?8 IS NOT NULL;
INSERT INTO message_recipients (message_id, user_id, email_status, next_attempt_at)
SELECT last_insert_rowid(), u.id,
       CASE WHEN u.email IS NOT NULL AND u.email_verified_at IS NOT NULL AND ?10 THEN 'pending' ELSE 'none' END, ?4
FROM users u WHERE u.id = ?2 AND changes() = 1;
COMMIT;";

/// The common case in one round trip to the writer connection: a first registration,
/// without answers and not anonymous, that passes every check. One script runs `BEGIN IMMEDIATE`, the seat
/// write, the insert and `COMMIT` on the connection's thread, instead of a hop per
/// statement (each hop is a thread hand-off, and under a rush those hand-offs, not SQLite,
/// were the cost). The script is one prepared, cached multi-statement query; its numbered
/// parameters (`?1` event, `?2` user, `?3` frame or NULL, `?4` now, `?5` receipt code; the
/// confirmation's `?6` kind, `?7` audience, `?8` subject or NULL for none, `?9` body, `?10`
/// e-mail it) are shared by its statements. The confirmation message and its recipient row
/// are written after the registration, in the same transaction (the outbox), each only if
/// the statement before it wrote its row (`changes()`).
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
) -> StoreResult<Option<RegistrationChange>> {
    if req.guard != SeatGuard::Atomic || !req.answers.is_empty() || req.anonymous || !req.also.is_empty() {
        return Ok(None);
    }
    let (event, now) = (req.event_id, req.now.timestamp());
    let code = receipt_code();
    let notice = req.notices.registrant.as_ref();
    let mut conn = writer.acquire().await?;
    let rows = match sqlx::query(FAST_REGISTRATION)
        .bind(event)
        .bind(req.user_id)
        .bind(req.frame_id)
        .bind(now)
        .bind(&code)
        .bind(notice.map(|n| n.kind.as_str()))
        .bind(notice.map(|n| n.audience.as_str()))
        .bind(notice.map(|n| n.subject.as_str()))
        .bind(notice.map(|n| n.body.as_str()))
        .bind(notice.is_some_and(|n| n.email))
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
    let status = decode(&status, RegStatus::parse, "registration status")?;
    let lottery = decode(&method, FrameMethod::parse, "frame method")? == FrameMethod::Lottery;
    let registration = MyRegistration {
        event_id: event,
        frame_id,
        frame_name,
        status,
        waitlist_position: (status == RegStatus::Waitlisted).then_some(waiting),
        lottery_pending: status == RegStatus::Waitlisted && lottery && drawn_at.is_none(),
        receipt_code: code,
        registered_at: ts(now),
        checked_in: false,
        ranked: Vec::new(),
    };
    Ok(Some(RegistrationChange { event_id: event, registration: Some(registration), promoted_user_ids: Vec::new() }))
}
