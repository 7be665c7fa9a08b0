//! Registration writes and reads, one text for both backends. Every write is one transaction
//! ([`Db::begin`]). SQLite: `BEGIN IMMEDIATE` on the one writer, which holds the write lock
//! from the first statement, so the reads that decide positions cannot be raced, and a
//! deferred transaction's read-then-write SQLITE_BUSY (which ignores busy_timeout) cannot
//! happen. PostgreSQL: READ COMMITTED, and the transaction first locks the event's row
//! ([`Tx::lock_event`], [`Tx::lock_event_of_frame`]): the registration writers of one event
//! then run one after another, so the reads that decide queue positions and "already
//! registered" cannot be raced, a frame switch (two frames) cannot deadlock, and each
//! statement after the lock sees what the previous holder committed. The decisions are the
//! pure rules' (`registrations::rules`); seats themselves are only ever taken by the
//! conditional `UPDATE … WHERE accepted_count < capacity`. The SQLite fast path is in
//! `sqlite_fast.rs`.

use super::{Backend, Store};
use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rand::Rng;

use super::db::{Db, Sql, Tx};
use super::messages::post;
use super::{
    DrawOutcome, DueDraw, RegisterRequest, RegistrationChange, RegistrationRow, SeatGuard, StoreResult, decode,
};
use crate::error::{AppError, Conflict};
use crate::events::model::{EventStatus, FrameMethod};
use crate::messages::model::MessageKind;
use crate::messages::records::Outbox;
use crate::registrations::draw::{Application, draw_ranked, free_seats};
use crate::registrations::model::{FrameSeats, MyRegistration, RegStatus, SeatSnapshot};
use crate::registrations::rules::{self, EventGate, FrameGate, Held, RegisterPlan};

pub(super) fn ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// A receipt code: 10 characters from an alphabet without look-alikes (0/O, 1/I/L).
pub(super) fn receipt_code() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    let mut rng = rand::rng();
    (0..10).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// Gives a waiting registration a seat, if one is free (a promotion, a hand move).
const TAKE_SEAT_FROM_WAITLIST: &str = "UPDATE frames SET accepted_count = accepted_count + 1, \
     waiting_count = waiting_count - 1 WHERE id = $1 AND accepted_count < capacity";
const CONFIRM: &str = "UPDATE registrations SET status = 'confirmed', updated_at = $1 WHERE id = $2";
/// The end of the queue of the frame bound to `$1`, for a registration put there.
const NEXT_POSITION: &str = "(SELECT COALESCE(MAX(position), 0) + 1 FROM registrations WHERE frame_id = $1)";

/// Promotes the head of the frame's waitlist while seats are free and the frame allows it.
/// Returns the promoted users.
pub(super) async fn promote(tx: &mut Tx, frame_id: i64, now: i64) -> StoreResult<Vec<i64>> {
    const HEAD: &str = "SELECT r.id, r.user_id FROM registrations r JOIN frames f ON f.id = r.frame_id \
         WHERE r.frame_id = $1 AND r.status = 'waitlisted' \
           AND f.accepted_count < f.capacity AND NOT f.promotion_frozen \
           AND (f.method = 'first_come' OR f.drawn_at IS NOT NULL) \
         ORDER BY r.position LIMIT 1";
    let mut promoted = Vec::new();
    loop {
        let head: Option<(i64, i64)> = tx.optional(Sql::new(HEAD).bind(frame_id)).await?;
        let Some((reg_id, user_id)) = head else { break };
        if tx.execute(Sql::new(TAKE_SEAT_FROM_WAITLIST).bind(frame_id)).await? != 1 {
            break;
        }
        tx.execute(Sql::new(CONFIRM).bind(now).bind(reg_id)).await?;
        promoted.push(user_id);
    }
    Ok(promoted)
}

/// Gives up the seat (or waitlist place) a registration holds, promoting if a seat freed.
async fn release(tx: &mut Tx, reg: &Held, now: i64) -> StoreResult<Vec<i64>> {
    match reg.status {
        RegStatus::Confirmed => {
            let q = Sql::new("UPDATE frames SET accepted_count = accepted_count - 1 WHERE id = $1");
            tx.execute(q.bind(reg.frame_id)).await?;
            promote(tx, reg.frame_id, now).await
        }
        RegStatus::Waitlisted => {
            let q = Sql::new("UPDATE frames SET waiting_count = waiting_count - 1 WHERE id = $1");
            tx.execute(q.bind(reg.frame_id)).await?;
            Ok(Vec::new())
        }
        RegStatus::Cancelled => Ok(Vec::new()),
    }
}

/// A user's registration for an event with its frame; `ahead`, for a waitlisted one, is the
/// number of registrations waiting before it.
#[derive(sqlx::FromRow)]
struct MyRegRow {
    frame_id: i64,
    frame_name: String,
    status: String,
    receipt_code: String,
    created_at: i64,
    checked_in_at: Option<i64>,
    method: String,
    drawn_at: Option<i64>,
    ahead: Option<i64>,
}

fn my_registration_query(event_id: i64, user_id: i64) -> Sql {
    Sql::new(
        "SELECT r.frame_id, f.name AS frame_name, r.status, r.receipt_code, r.created_at, r.checked_in_at, \
                f.method, f.drawn_at, \
                CASE WHEN r.status = 'waitlisted' THEN (SELECT COUNT(*) FROM registrations w \
                  WHERE w.frame_id = r.frame_id AND w.status = 'waitlisted' AND w.position < r.position) END AS ahead \
         FROM registrations r JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = $1 AND r.user_id = $2",
    )
    .bind(event_id)
    .bind(user_id)
}

fn my_registration(event_id: i64, row: Option<MyRegRow>) -> StoreResult<Option<MyRegistration>> {
    let Some(row) = row else { return Ok(None) };
    let status = decode(&row.status, RegStatus::parse, "registration status")?;
    let lottery = decode(&row.method, FrameMethod::parse, "frame method")? == FrameMethod::Lottery;
    let waiting = status == RegStatus::Waitlisted;
    Ok(Some(MyRegistration {
        event_id,
        frame_id: row.frame_id,
        frame_name: row.frame_name,
        status,
        waitlist_position: if waiting { Some(row.ahead.unwrap_or_default() + 1) } else { None },
        lottery_pending: waiting && lottery && row.drawn_at.is_none(),
        receipt_code: row.receipt_code,
        registered_at: ts(row.created_at),
        checked_in: row.checked_in_at.is_some(),
        ranked: Vec::new(),
    }))
}

impl Store {
    /// Registers (or re-registers, or switches frame) in one write transaction: a seat is
    /// taken only by a conditional update, otherwise the user is waitlisted in order.
    pub async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.register(&self.db, req).await,
            Backend::Pg => register(&self.db, req).await,
        }
    }

    /// Cancels my registration; a freed seat goes to the first waitlisted person of the
    /// frame in the same transaction.
    pub async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        self.cancel_registration_notifying(event_id, user_id, now, None).await
    }

    /// [`Store::cancel_registration`] that also tells whoever the freed seat promotes, in
    /// the same transaction (the outbox).
    pub async fn cancel_registration_notifying(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
        outbox: Option<&Outbox>,
    ) -> StoreResult<RegistrationChange> {
        let outbox = outbox.cloned();
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.cancel(&self.db, event_id, user_id, now, outbox).await,
            Backend::Pg => cancel(&self.db, event_id, user_id, now, outbox).await,
        }
    }

    /// All my registrations with their events, soonest first.
    pub async fn my_registrations(
        &self,
        user_id: i64,
    ) -> StoreResult<Vec<crate::registrations::model::MyEventRegistration>> {
        let mut q = super::events::card_query();
        q.push("WHERE e.status != 'draft' AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
            .push_bind(user_id)
            .push(") ORDER BY e.starts_at, e.id");
        let cards = super::events::cards(&self.db, q).await?;
        let mut out = Vec::with_capacity(cards.len());
        for card in cards {
            if let Some(registration) = self.my_registration(card.id, user_id).await? {
                out.push(crate::registrations::model::MyEventRegistration { card, registration });
            }
        }
        Ok(out)
    }

    /// Sets the capacity of a frame of `event_id` (another event's frame is `NotFound`):
    /// raising promotes the waitlist; lowering below the confirmed count is
    /// `Conflict("capacity_below_confirmed:<n>")`.
    pub async fn set_capacity(
        &self,
        event_id: i64,
        frame_id: i64,
        capacity: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        self.set_capacity_notifying(event_id, frame_id, capacity, now, None).await
    }

    /// [`Store::set_capacity`] that also tells whoever a raise promotes, in the same
    /// transaction (the outbox).
    pub async fn set_capacity_notifying(
        &self,
        event_id: i64,
        frame_id: i64,
        capacity: i64,
        now: DateTime<Utc>,
        outbox: Option<&Outbox>,
    ) -> StoreResult<RegistrationChange> {
        let db = &self.db;
        rules::check_capacity(capacity, 0)?;
        let mut tx = db.begin().await?;
        tx.lock_event(event_id).await?;
        let q = Sql::new("SELECT accepted_count FROM frames WHERE id = $1 AND event_id = $2");
        let Some((accepted,)) = tx.optional::<(i64,)>(q.bind(frame_id).bind(event_id)).await? else {
            return Err(AppError::NotFound);
        };
        rules::check_capacity(capacity, accepted)?;
        tx.execute(
            Sql::new("UPDATE frames SET capacity = $1 WHERE id = $2 AND event_id = $3")
                .bind(capacity)
                .bind(frame_id)
                .bind(event_id),
        )
        .await?;
        let promoted = promote(&mut tx, frame_id, now.timestamp()).await?;
        if let Some(outbox) = outbox {
            post(&mut tx, outbox, event_id, MessageKind::Promotion, "promoted", promoted.clone(), now).await?;
        }
        tx.commit().await?;
        Ok(RegistrationChange { event_id, registration: None, promoted_user_ids: promoted })
    }

    /// Lottery frames whose draw time has come and that are not drawn yet.
    pub async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>> {
        let db = &self.db;
        const DUE: &str = "SELECT id, event_id FROM frames \
         WHERE method = 'lottery' AND drawn_at IS NULL AND draw_at <= $1 ORDER BY draw_at, id";
        let rows: Vec<(i64, i64)> = db.all(Sql::new(DUE).bind(now.timestamp())).await?;
        Ok(rows.into_iter().map(|(frame_id, event_id)| DueDraw { frame_id, event_id }).collect())
    }

    /// Draws a lottery frame with `seed`, exactly once, together with the event's other
    /// undrawn lottery frames due at the same time (an applicant may rank them, see
    /// `registrations::draw`): `None` when it was already drawn.
    pub async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>> {
        let db = &self.db;
        const THIS: &str =
            "SELECT event_id, draw_at FROM frames WHERE id = $1 AND method = 'lottery' AND drawn_at IS NULL";
        const GROUP: &str = "SELECT id, capacity, accepted_count, \
           (SELECT COALESCE(MAX(position), 0) FROM registrations WHERE frame_id = frames.id) \
         FROM frames WHERE event_id = $1 AND method = 'lottery' AND drawn_at IS NULL AND COALESCE(draw_at, -1) = $2 \
         ORDER BY position, id";
        const CLAIM: &str = "UPDATE frames SET drawn_at = $1, draw_seed = $2 WHERE id = $3 AND drawn_at IS NULL";
        const APPLICANTS: &str =
            "SELECT id, user_id FROM registrations WHERE frame_id = $1 AND status = 'waitlisted' ORDER BY id";
        const CHOICES: &str = "SELECT c.registration_id, c.frame_id FROM registration_choices c \
           JOIN registrations r ON r.id = c.registration_id \
         WHERE r.frame_id = $1 AND r.status = 'waitlisted' ORDER BY c.registration_id, c.choice";
        let now = now.timestamp();
        let mut tx = db.begin().await?;
        tx.lock_event_of_frame(frame_id).await?;
        // Claiming the draw and applying it are one transaction: a crash in between rolls both
        // back, and a second runner (waiting on the lock, then re-reading the row) finds
        // drawn_at set and does nothing.
        let this: Option<(i64, Option<i64>)> = tx.optional(Sql::new(THIS).bind(frame_id)).await?;
        let Some((event_id, draw_at)) = this else { return Ok(None) };
        let group: Vec<(i64, i64, i64, i64)> =
            tx.all(Sql::new(GROUP).bind(event_id).bind(draw_at.unwrap_or(-1))).await?;
        let mut applications = Vec::new();
        let mut own: HashMap<i64, (i64, i64)> = HashMap::new();
        for (id, ..) in &group {
            if tx.execute(Sql::new(CLAIM).bind(now).bind(seed as i64).bind(*id)).await? != 1 {
                return Ok(None);
            }
            let applicants: Vec<(i64, i64)> = tx.all(Sql::new(APPLICANTS).bind(*id)).await?;
            let ranked: Vec<(i64, i64)> = tx.all(Sql::new(CHOICES).bind(*id)).await?;
            for (reg_id, user_id) in applicants {
                own.insert(reg_id, (*id, user_id));
                let others = ranked.iter().filter(|(r, f)| *r == reg_id && group.iter().any(|g| g.0 == *f));
                let choices = std::iter::once(*id).chain(others.map(|(_, f)| *f)).collect();
                applications.push(Application { id: reg_id, choices });
            }
        }
        let free: HashMap<i64, i64> =
            group.iter().map(|(id, cap, accepted, _)| (*id, free_seats(*cap, *accepted))).collect();
        let placements = draw_ranked(&applications, &free, seed);
        let mut next_position: HashMap<i64, i64> = group.iter().map(|(id, _, _, max)| (*id, max + 1)).collect();
        let mut given: HashMap<i64, i64> = HashMap::new();
        let mut won_from: HashMap<i64, i64> = HashMap::new();
        let mut logs: HashMap<i64, Vec<serde_json::Value>> = HashMap::new();
        for p in &placements {
            let (applied, user_id) = own.get(&p.id).copied().unwrap_or_default();
            let target = p.frame_id.unwrap_or(applied);
            let position = next_position.entry(target).or_insert(1);
            let status = if p.frame_id.is_some() { RegStatus::Confirmed } else { RegStatus::Waitlisted };
            let q = "UPDATE registrations SET frame_id = $1, status = $2, position = $3, updated_at = $4 WHERE id = $5";
            tx.execute(Sql::new(q).bind(target).bind(status.as_str()).bind(*position).bind(now).bind(p.id)).await?;
            *position += 1;
            if let Some(frame) = p.frame_id {
                *given.entry(frame).or_default() += 1;
                *won_from.entry(applied).or_default() += 1;
            }
            let entries = logs.entry(applied).or_default();
            entries.push(serde_json::json!({
                "registration_id": p.id,
                "user_id": user_id,
                "rank": entries.len() + 1,
                "result": if p.frame_id.is_some() { "won" } else { "waitlisted" },
                "frame_id": p.frame_id,
                "choice": p.choice,
            }));
        }
        for (id, ..) in &group {
            let (seats, left) = (given.get(id).copied().unwrap_or(0), won_from.get(id).copied().unwrap_or(0));
            let q = "UPDATE frames SET accepted_count = accepted_count + $1, waiting_count = waiting_count - $2 \
                 WHERE id = $3";
            tx.execute(Sql::new(q).bind(seats).bind(left).bind(*id)).await?;
            let q = "INSERT INTO lottery_draws (frame_id, seed, drawn_at, winners, log) VALUES ($1, $2, $3, $4, $5)";
            let log = serde_json::Value::Array(logs.remove(id).unwrap_or_default()).to_string();
            tx.execute(Sql::new(q).bind(*id).bind(seed as i64).bind(now).bind(seats).bind(log)).await?;
        }
        tx.commit().await?;
        Ok(Some(DrawOutcome {
            frame_id,
            event_id,
            seed,
            frames: group.iter().map(|(id, ..)| *id).collect(),
            order: placements.iter().map(|p| p.id).collect(),
            winners: placements.iter().filter(|p| p.frame_id.is_some()).count(),
        }))
    }

    /// The user's registration for the event (any status), as the registrant sees it.
    pub async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>> {
        let db = &self.db;
        let Some(mut mine) = my_registration(event_id, db.optional(my_registration_query(event_id, user_id)).await?)?
        else {
            return Ok(None);
        };
        if mine.lottery_pending {
            // A ranked application: its own frame, then the others it accepts.
            const RANKED: &str = "SELECT f.name FROM registration_choices c JOIN frames f ON f.id = c.frame_id \
                 WHERE c.registration_id = (SELECT id FROM registrations WHERE event_id = $1 AND user_id = $2) \
                 ORDER BY c.choice";
            let others: Vec<(String,)> = db.all(Sql::new(RANKED).bind(event_id).bind(user_id)).await?;
            if !others.is_empty() {
                mine.ranked =
                    std::iter::once(mine.frame_name.clone()).chain(others.into_iter().map(|(n,)| n)).collect();
            }
        }
        Ok(Some(mine))
    }

    /// Seat numbers of an event and its frames.
    pub async fn seat_snapshot(&self, event_id: i64) -> StoreResult<Option<SeatSnapshot>> {
        let db = &self.db;
        let q = Sql::new(
            "SELECT id, accepted_count, capacity, waiting_count FROM frames WHERE event_id = $1 ORDER BY position, id",
        );
        let frames: Vec<(i64, i64, i64, i64)> = db.all(q.bind(event_id)).await?;
        if frames.is_empty() {
            let q = Sql::new("SELECT EXISTS (SELECT 1 FROM events WHERE id = $1 AND status != 'draft')");
            let (exists,): (bool,) = db.one(q.bind(event_id)).await?;
            if !exists {
                return Ok(None);
            }
        }
        let frames: Vec<FrameSeats> = frames
            .into_iter()
            .map(|(id, accepted, limit, waiting)| FrameSeats { id, accepted, limit, waiting })
            .collect();
        Ok(Some(SeatSnapshot {
            event_id,
            accepted: frames.iter().map(|f| f.accepted).sum(),
            limit: frames.iter().map(|f| f.limit).sum(),
            waiting: frames.iter().map(|f| f.waiting).sum(),
            frames,
        }))
    }

    /// Every registration of an event, by frame and queue position (organizers, tests).
    pub async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<RegistrationRow>> {
        let db = &self.db;
        const ALL: &str = "SELECT r.id, r.user_id, r.frame_id, r.status, r.position FROM registrations r \
         JOIN frames f ON f.id = r.frame_id WHERE r.event_id = $1 ORDER BY f.position, f.id, r.position";
        let rows: Vec<(i64, i64, i64, String, i64)> = db.all(Sql::new(ALL).bind(event_id)).await?;
        rows.into_iter()
            .map(|(id, user_id, frame_id, status, position)| {
                let status = decode(&status, RegStatus::parse, "registration status")?;
                Ok(RegistrationRow { id, user_id, frame_id, status, position })
            })
            .collect()
    }

    /// Moves a registration by hand between confirmed and waitlisted (organizers). Moving to
    /// the waitlist puts it at the end of the queue and the freed seat follows the usual rule
    /// (the head of the waitlist is promoted unless frozen); confirming needs a free seat
    /// (`Conflict("frame_full")`: raise the capacity instead).
    pub async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: RegStatus,
        now: DateTime<Utc>,
        outbox: &Outbox,
    ) -> StoreResult<RegistrationChange> {
        let db = &self.db;
        let at = now;
        let now = now.timestamp();
        let mut tx = db.begin().await?;
        tx.lock_event(event_id).await?;
        let q = Sql::new("SELECT frame_id, status, user_id FROM registrations WHERE id = $1 AND event_id = $2");
        let row: Option<(i64, String, i64)> = tx.optional(q.bind(registration_id).bind(event_id)).await?;
        let Some((frame_id, status, user_id)) = row else { return Err(AppError::NotFound) };
        let from = decode(&status, RegStatus::parse, "registration status")?;
        let mut promoted = Vec::new();
        match (from, to) {
            (RegStatus::Confirmed, RegStatus::Waitlisted) => {
                let q = format!(
                    "UPDATE registrations SET status = 'waitlisted', updated_at = $2, position = {NEXT_POSITION} \
                 WHERE id = $3"
                );
                tx.execute(Sql::new(q).bind(frame_id).bind(now).bind(registration_id)).await?;
                let q = "UPDATE frames SET accepted_count = accepted_count - 1, waiting_count = waiting_count + 1 WHERE id = $1";
                tx.execute(Sql::new(q).bind(frame_id)).await?;
                promoted = promote(&mut tx, frame_id, now).await?;
            }
            (RegStatus::Waitlisted, RegStatus::Confirmed) => {
                if tx.execute(Sql::new(TAKE_SEAT_FROM_WAITLIST).bind(frame_id)).await? != 1 {
                    return Err(Conflict::FrameFull.into());
                }
                tx.execute(Sql::new(CONFIRM).bind(now).bind(registration_id)).await?;
                promoted.push(user_id);
            }
            (a, b) if a == b => {}
            _ => return Err(Conflict::NotMovable.into()),
        }
        post(&mut tx, outbox, event_id, MessageKind::Promotion, "promoted", promoted.clone(), at).await?;
        tx.commit().await?;
        Ok(RegistrationChange { event_id, registration: None, promoted_user_ids: promoted })
    }
}

/// The event, one of its frames (all `None` when it has none) and the user's registration
/// for the event (if any, on every row).
#[derive(sqlx::FromRow)]
struct GateRow {
    status: String,
    starts_at: i64,
    frame_id: Option<i64>,
    method: Option<String>,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
    draw_at: Option<i64>,
    drawn_at: Option<i64>,
    frame_name: Option<String>,
    reg_id: Option<i64>,
    reg_frame_id: Option<i64>,
    reg_status: Option<String>,
    receipt_code: Option<String>,
    created_at: Option<i64>,
}

/// A registration's plan, with what the registrant sees of the frame and of a registration
/// reused (its receipt code and first registration).
struct Planned {
    plan: RegisterPlan,
    frame_name: String,
    held_code: Option<String>,
    held_since: Option<i64>,
    /// The frames the application accepts, best first (the plan's frame first).
    choices: Vec<i64>,
    /// Their names when more than one (what the registrant sees).
    ranked: Vec<String>,
}

/// Reads what the rules need (under the write lock) and asks them.
async fn plan(tx: &mut Tx, req: &RegisterRequest, now: i64) -> StoreResult<Planned> {
    if tx.is_pg() {
        // PostgreSQL: the event's lock in a statement of its own, so that the read below
        // starts after the previous holder committed. SQLite: `BEGIN IMMEDIATE` holds the
        // lock already, and the event comes with the read below: the write lock is held
        // from here to the commit, so every statement saved shortens the queue.
        tx.lock_event(req.event_id).await?;
    }
    const GATE: &str = "SELECT e.status, e.starts_at, f.id AS frame_id, f.method, f.opens_at, f.closes_at, \
           f.draw_at, f.drawn_at, f.name AS frame_name, r.id AS reg_id, r.frame_id AS reg_frame_id, r.status AS reg_status, \
           r.receipt_code, r.created_at \
         FROM events e \
         LEFT JOIN frames f ON f.event_id = e.id \
         LEFT JOIN registrations r ON r.event_id = e.id AND r.user_id = $1 \
         WHERE e.id = $2 ORDER BY f.position, f.id";
    let rows: Vec<GateRow> = tx.all(Sql::new(GATE).bind(req.user_id).bind(req.event_id)).await?;
    let Some(first) = rows.first() else { return Err(AppError::NotFound) };
    let status = decode(&first.status, EventStatus::parse, "event status")?;
    let event = EventGate { status, starts_at: first.starts_at };
    let mut frames = Vec::with_capacity(rows.len());
    for r in &rows {
        if let (Some(id), Some(method)) = (r.frame_id, &r.method) {
            let method = decode(method, FrameMethod::parse, "frame method")?;
            frames.push(FrameGate {
                id,
                method,
                opens_at: r.opens_at,
                closes_at: r.closes_at,
                draw_at: r.draw_at,
                drawn_at: r.drawn_at,
            });
        }
    }
    let held = match (first.reg_id, &first.reg_status) {
        (Some(id), Some(status)) => {
            let status = decode(status, RegStatus::parse, "registration status")?;
            Some(Held { id, frame_id: first.reg_frame_id.unwrap_or_default(), status })
        }
        _ => None,
    };
    let plan = rules::plan_register(event, &frames, held, req.frame_id, now)?;
    let choices = crate::registrations::draw::ranked_choices(&frames, &plan.frame, &req.also)?;
    let name_of = |id: i64| rows.iter().find(|r| r.frame_id == Some(id)).and_then(|r| r.frame_name.clone());
    let ranked = if choices.len() > 1 {
        choices.iter().map(|id| name_of(*id).unwrap_or_default()).collect()
    } else {
        Vec::new()
    };
    let frame_name = name_of(plan.frame.id);
    let (held_code, held_since) = (first.receipt_code.clone(), first.created_at);
    Ok(Planned { plan, frame_name: frame_name.unwrap_or_default(), held_code, held_since, choices, ranked })
}

/// Takes a seat in the frame for a registration, or says there is none.
async fn take_seat(tx: &mut Tx, frame_id: i64, canary_has_seat: Option<bool>) -> StoreResult<bool> {
    match canary_has_seat {
        Some(has_seat) => {
            if has_seat {
                let q = Sql::new("UPDATE frames SET accepted_count = accepted_count + 1 WHERE id = $1");
                tx.execute(q.bind(frame_id)).await?;
            }
            Ok(has_seat)
        }
        // The guard: one conditional write. Nobody overtakes the waitlist, and a frozen frame
        // gives no seats.
        None => {
            const GUARDED: &str = "UPDATE frames SET accepted_count = accepted_count + 1 \
                 WHERE id = $1 AND accepted_count < capacity AND waiting_count = 0 AND NOT promotion_frozen";
            Ok(tx.execute(Sql::new(GUARDED).bind(frame_id)).await? == 1)
        }
    }
}

/// Inserts a new registration at the end of the frame's queue with a fresh receipt code;
/// returns its id and code.
async fn insert(tx: &mut Tx, req: &RegisterRequest, frame_id: i64, status: RegStatus) -> StoreResult<(i64, String)> {
    let insert = format!(
        "INSERT INTO registrations \
           (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at, anonymous) \
         VALUES ($2, $1, $3, $4, {NEXT_POSITION}, $5, $6, $6, $7) ON CONFLICT (receipt_code) DO NOTHING RETURNING id"
    );
    for _ in 0..4 {
        // A failed statement would abort a PostgreSQL transaction, so a receipt-code
        // collision (one in 10^14) is skipped by ON CONFLICT and retried with another code;
        // (event_id, user_id) cannot collide under the event's lock.
        let code = receipt_code();
        let q = Sql::new(insert.as_str()).bind(frame_id).bind(req.event_id).bind(req.user_id).bind(status.as_str());
        let inserted: Option<(i64,)> = tx.optional(q.bind(&code).bind(req.now.timestamp()).bind(req.anonymous)).await?;
        if let Some((id,)) = inserted {
            return Ok((id, code));
        }
    }
    tracing::error!("four receipt-code collisions in a row");
    Err(AppError::Internal)
}

/// Registers (or switches frames). Writes go through the transaction; the canary's read
/// uses the read side (SQLite's reader pool).
pub(super) async fn register(db: &Db, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
    let now = req.now.timestamp();
    // The canary decides "is there a seat?" outside the write lock, like a naive
    // read-then-write would: concurrent requests all see the same free seat.
    let canary_has_seat = if req.guard == SeatGuard::UnguardedCanary {
        const FREE: &str = "SELECT accepted_count < capacity FROM frames \
             WHERE event_id = $1 AND ($2 IS NULL OR id = $2) ORDER BY position LIMIT 1";
        let free: Option<(bool,)> = db.optional(Sql::new(FREE).bind(req.event_id).bind(req.frame_id)).await?;
        tokio::task::yield_now().await;
        free.map(|(f,)| f)
    } else {
        None
    };

    let mut tx = db.begin().await?;
    let Planned { plan, frame_name, held_code, held_since, choices, ranked } = plan(&mut tx, req, now).await?;
    let frame = plan.frame;
    let mut promoted = Vec::new();
    if let Some(reg) = &plan.release {
        // Switching frames: the old seat is released first (promoting someone there).
        promoted = release(&mut tx, reg, now).await?;
    }
    let confirmed = !plan.lottery_pending && take_seat(&mut tx, frame.id, canary_has_seat).await?;
    // A new or moved registration goes to the end of the frame's queue, so when it waits,
    // its place is the frame's new waiting count.
    let mut place = None;
    if !confirmed {
        let q = Sql::new("UPDATE frames SET waiting_count = waiting_count + 1 WHERE id = $1 RETURNING waiting_count");
        let (waiting,): (i64,) = tx.one(q.bind(frame.id)).await?;
        place = Some(waiting);
    }
    let status = if confirmed { RegStatus::Confirmed } else { RegStatus::Waitlisted };
    // The queue position is computed inside the write itself: one round trip less while the
    // write lock is held.
    let (reg_id, code, registered_at) = match plan.reuse {
        Some(reg_id) => {
            let moved = format!(
                "UPDATE registrations SET frame_id = $1, status = $2, position = {NEXT_POSITION}, \
                   updated_at = $3, cancelled_at = NULL, checked_in_at = NULL, anonymous = $5, \
                   reconfirm_asked_at = NULL, reconfirmed_at = NULL, released_at = NULL WHERE id = $4"
            );
            let moved = Sql::new(moved).bind(frame.id).bind(status.as_str()).bind(now).bind(reg_id);
            tx.execute(moved.bind(req.anonymous)).await?;
            tx.execute(Sql::new("DELETE FROM answers WHERE registration_id = $1").bind(reg_id)).await?;
            tx.execute(Sql::new("DELETE FROM registration_choices WHERE registration_id = $1").bind(reg_id)).await?;
            (reg_id, held_code.unwrap_or_default(), held_since.unwrap_or(now))
        }
        None => {
            let (id, code) = insert(&mut tx, req, frame.id, status).await?;
            (id, code, now)
        }
    };
    for (i, frame_id) in choices.iter().enumerate().skip(1) {
        let q = Sql::new("INSERT INTO registration_choices (registration_id, choice, frame_id) VALUES ($1, $2, $3)");
        tx.execute(q.bind(reg_id).bind(i as i64 + 1).bind(*frame_id)).await?;
    }
    for (question_id, value) in &req.answers {
        let q = Sql::new("INSERT INTO answers (registration_id, question_id, value) VALUES ($1, $2, $3)");
        tx.execute(q.bind(reg_id).bind(*question_id).bind(value)).await?;
    }
    store_notices(&mut tx, req.notices.messages(req.event_id, req.user_id, &promoted, req.now)).await?;
    tx.commit().await?;
    // What the registrant sees, from what this transaction wrote (no read-back).
    let registration = MyRegistration {
        event_id: req.event_id,
        frame_id: frame.id,
        frame_name,
        status,
        waitlist_position: place,
        lottery_pending: plan.lottery_pending && status == RegStatus::Waitlisted,
        receipt_code: code,
        registered_at: ts(registered_at),
        checked_in: false,
        ranked: if plan.lottery_pending && status == RegStatus::Waitlisted { ranked } else { Vec::new() },
    };
    Ok(RegistrationChange { event_id: req.event_id, registration: Some(registration), promoted_user_ids: promoted })
}

/// The registration a cancellation acts on, with the event's start and the frame's closing.
#[derive(sqlx::FromRow)]
struct CancelRow {
    id: i64,
    frame_id: i64,
    status: String,
    starts_at: i64,
    closes_at: Option<i64>,
}

/// Stores a write's automatic messages in its transaction (the outbox), one statement set
/// per message: `insert_messages` pairs the ids it gets back with the messages by order,
/// which only SQLite's write lock promises for a multi-row insert.
pub(super) async fn store_notices(tx: &mut Tx, messages: Vec<crate::messages::records::NewMessage>) -> StoreResult<()> {
    for m in messages {
        super::messages::insert_messages(tx, std::slice::from_ref(&m)).await?;
    }
    Ok(())
}

pub(super) async fn cancel(
    db: &Db,
    event_id: i64,
    user_id: i64,
    now: DateTime<Utc>,
    outbox: Option<Outbox>,
) -> StoreResult<RegistrationChange> {
    let at = now;
    const ACTIVE: &str = "SELECT r.id, r.frame_id, r.status, e.starts_at, f.closes_at \
         FROM registrations r JOIN events e ON e.id = r.event_id JOIN frames f ON f.id = r.frame_id \
         WHERE r.event_id = $1 AND r.user_id = $2 AND r.status <> 'cancelled'";
    let now = now.timestamp();
    let mut tx = db.begin().await?;
    tx.lock_event(event_id).await?;
    let reg: Option<CancelRow> = tx.optional(Sql::new(ACTIVE).bind(event_id).bind(user_id)).await?;
    let held = match reg {
        Some(r) => {
            let status = decode(&r.status, RegStatus::parse, "registration status")?;
            Some((Held { id: r.id, frame_id: r.frame_id, status }, r.starts_at, r.closes_at))
        }
        None => None,
    };
    let held = rules::plan_cancel(held, now)?;
    let q = Sql::new("UPDATE registrations SET status = 'cancelled', cancelled_at = $1, updated_at = $1 WHERE id = $2");
    tx.execute(q.bind(now).bind(held.id)).await?;
    let promoted = release(&mut tx, &held, now).await?;
    let registration = my_registration(event_id, tx.optional(my_registration_query(event_id, user_id)).await?)?;
    if let Some(outbox) = &outbox {
        post(&mut tx, outbox, event_id, MessageKind::Promotion, "promoted", promoted.clone(), at).await?;
    }
    tx.commit().await?;
    Ok(RegistrationChange { event_id, registration, promoted_user_ids: promoted })
}
