//! Reconfirmation (参加の再確認) in storage: the organizer's requirement, the request (which
//! marks who was asked), an attendee's reconfirmation, the release at the deadline and its
//! undo. The rules are `registrations::reconfirm`'s; every write runs under the event's lock,
//! and seats move only through the frames' counters as registrations and cancellations do.

use chrono::{DateTime, Utc};

use super::db::Sql;
use super::events::instant;
use super::messages::post;
use super::registrations::promote;
use super::{Store, StoreResult};
use crate::error::{AppError, Conflict};
use crate::messages::model::MessageKind;
use crate::messages::records::Outbox;
use crate::registrations::reconfirm::{self, ReconfirmSetting, Reconfirmation};

/// What a release at a deadline did, for messages and live seat counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Released {
    pub event_id: i64,
    /// Whose seats were released (they did not reconfirm).
    pub released_user_ids: Vec<i64>,
    /// Who got those seats from the waitlist.
    pub promoted_user_ids: Vec<i64>,
}

/// What undoing a release did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    pub user_id: i64,
    /// `true`: back in a seat; `false`: at the head of the waitlist (the seat was given on).
    pub confirmed: bool,
}

/// The event's requirement columns: hours, start, requested, released, zone.
type SettingRow = (Option<i64>, i64, Option<i64>, Option<i64>, String);

const SETTING: &str = "SELECT reconfirm_hours, starts_at, reconfirm_requested_at, reconfirm_released_at, time_zone \
     FROM events WHERE id = $1";

fn setting(row: SettingRow, now: DateTime<Utc>) -> Option<ReconfirmSetting> {
    let (hours, starts_at, requested, released, zone) = row;
    Some(ReconfirmSetting::new(hours?, instant(starts_at), &zone, requested.map(instant), released.map(instant), now))
}

impl Store {
    /// The event's reconfirmation requirement as of `now` (`None`: not asked for;
    /// `NotFound`: no event).
    pub async fn reconfirm_setting(&self, event_id: i64, now: DateTime<Utc>) -> StoreResult<Option<ReconfirmSetting>> {
        let row: Option<SettingRow> = self.db.optional(Sql::new(SETTING).bind(event_id)).await?;
        Ok(setting(row.ok_or(AppError::NotFound)?, now))
    }

    /// Requires reconfirmation `hours` before the start (`None`: no longer), as the rules allow.
    pub async fn set_reconfirmation(
        &self,
        event_id: i64,
        hours: Option<i64>,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<ReconfirmSetting>> {
        let mut tx = self.db.begin().await?;
        tx.lock_event(event_id).await?;
        let row: Option<SettingRow> = tx.optional(Sql::new(SETTING).bind(event_id)).await?;
        let (_, starts_at, requested, released, zone) = row.ok_or(AppError::NotFound)?;
        reconfirm::check_requirement(hours, instant(starts_at), released.is_some(), now)?;
        // A new deadline asks again (those asked before are asked by the new request).
        let q = "UPDATE events SET reconfirm_hours = $1, reconfirm_requested_at = NULL WHERE id = $2";
        tx.execute(Sql::new(q).bind(hours).bind(event_id)).await?;
        if requested.is_some() {
            let q = "UPDATE registrations SET reconfirm_asked_at = NULL WHERE event_id = $1";
            tx.execute(Sql::new(q).bind(event_id)).await?;
        }
        tx.commit().await?;
        Ok(hours.map(|h| ReconfirmSetting::new(h, instant(starts_at), &zone, None, None, now)))
    }

    /// Claims the events whose request is due (a day before the deadline, the deadline not
    /// passed) and marks everyone confirmed then as asked; returns, per event, who to ask.
    /// Exactly once per event, whichever worker claims it.
    pub async fn claim_reconfirm_requests(
        &self,
        now: DateTime<Utc>,
        outbox: &Outbox,
    ) -> StoreResult<Vec<(i64, Vec<i64>)>> {
        let at = now;
        const DUE: &str = "SELECT id FROM events WHERE status = 'published' AND reconfirm_hours IS NOT NULL \
             AND reconfirm_requested_at IS NULL AND reconfirm_released_at IS NULL \
             AND starts_at - reconfirm_hours * 3600 - $2 <= $1 AND starts_at - reconfirm_hours * 3600 > $1";
        let notice = reconfirm::notice().num_seconds();
        let now = now.timestamp();
        let due: Vec<(i64,)> = self.db.all(Sql::new(DUE).bind(now).bind(notice)).await?;
        let mut out = Vec::new();
        for (event_id,) in due {
            let mut tx = self.db.begin().await?;
            tx.lock_event(event_id).await?;
            let q = "UPDATE events SET reconfirm_requested_at = $1 WHERE id = $2 AND reconfirm_requested_at IS NULL \
                 AND reconfirm_hours IS NOT NULL";
            if tx.execute(Sql::new(q).bind(now).bind(event_id)).await? != 1 {
                continue;
            }
            let q = "UPDATE registrations SET reconfirm_asked_at = $1 \
                 WHERE event_id = $2 AND status = 'confirmed' AND reconfirmed_at IS NULL RETURNING user_id";
            let asked: Vec<i64> =
                tx.all::<(i64,)>(Sql::new(q).bind(now).bind(event_id)).await?.into_iter().map(|(u,)| u).collect();
            post(&mut tx, outbox, event_id, MessageKind::Reconfirm, "confirmed", asked.clone(), at).await?;
            tx.commit().await?;
            out.push((event_id, asked));
        }
        Ok(out)
    }

    /// My reconfirmation state for the event page: `None` unless I am confirmed and the event
    /// asks for reconfirmation and its deadline is ahead.
    pub async fn my_reconfirmation(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Reconfirmation>> {
        const MINE: &str = "SELECT e.reconfirm_hours, e.starts_at, r.reconfirm_asked_at, r.reconfirmed_at, \
               e.reconfirm_requested_at, e.time_zone \
             FROM registrations r JOIN events e ON e.id = r.event_id \
             WHERE r.event_id = $1 AND r.user_id = $2 AND r.status = 'confirmed' AND e.reconfirm_released_at IS NULL";
        type Mine = (Option<i64>, i64, Option<i64>, Option<i64>, Option<i64>, String);
        let row: Option<Mine> = self.db.optional(Sql::new(MINE).bind(event_id).bind(user_id)).await?;
        let Some((Some(hours), starts_at, asked, reconfirmed, requested, zone)) = row else { return Ok(None) };
        let deadline = reconfirm::deadline(instant(starts_at), hours);
        if now >= deadline {
            return Ok(None);
        }
        // Confirmed after the request went out: not asked, nothing to do.
        let reconfirmed = reconfirmed.is_some() || (requested.is_some() && asked.is_none());
        let deadline_label = crate::time::local_label(deadline, &zone);
        Ok(Some(Reconfirmation { deadline, deadline_label, reconfirmed }))
    }

    /// "I'm coming": reconfirms my confirmed registration before the deadline.
    pub async fn reconfirm(&self, event_id: i64, user_id: i64, now: DateTime<Utc>) -> StoreResult<Reconfirmation> {
        let mut tx = self.db.begin().await?;
        tx.lock_event(event_id).await?;
        let row: Option<SettingRow> = tx.optional(Sql::new(SETTING).bind(event_id)).await?;
        let (hours, starts_at, _, released, zone) = row.ok_or(AppError::NotFound)?;
        if released.is_some() {
            return Err(Conflict::ReconfirmationClosed.into());
        }
        reconfirm::check_reconfirm(hours, instant(starts_at), now)?;
        let q = "UPDATE registrations SET reconfirmed_at = $1 \
             WHERE event_id = $2 AND user_id = $3 AND status = 'confirmed'";
        if tx.execute(Sql::new(q).bind(now.timestamp()).bind(event_id).bind(user_id)).await? != 1 {
            return Err(Conflict::NotRegistered.into());
        }
        tx.commit().await?;
        let deadline = reconfirm::deadline(instant(starts_at), hours.unwrap_or_default());
        Ok(Reconfirmation { deadline, deadline_label: crate::time::local_label(deadline, &zone), reconfirmed: true })
    }

    /// Releases, for every event whose deadline has passed, the seats of those asked who did
    /// not reconfirm (nor cancel, nor check in), promoting each frame's waitlist in order.
    /// Exactly once per event. An event whose request never went out releases nobody.
    pub async fn release_unreconfirmed(&self, now: DateTime<Utc>, outbox: &Outbox) -> StoreResult<Vec<Released>> {
        let at = now;
        const DUE: &str = "SELECT id FROM events WHERE reconfirm_hours IS NOT NULL AND reconfirm_released_at IS NULL \
             AND status = 'published' AND starts_at - reconfirm_hours * 3600 <= $1 AND starts_at > $1";
        const CLAIM: &str = "UPDATE events SET reconfirm_released_at = $1 \
             WHERE id = $2 AND reconfirm_released_at IS NULL AND reconfirm_hours IS NOT NULL";
        const UNCONFIRMED: &str = "SELECT id, user_id, frame_id FROM registrations \
             WHERE event_id = $1 AND status = 'confirmed' AND reconfirm_asked_at IS NOT NULL \
               AND reconfirmed_at IS NULL AND checked_in_at IS NULL ORDER BY id";
        const RELEASE: &str = "UPDATE registrations SET status = 'cancelled', cancelled_at = $1, released_at = $1, \
             updated_at = $1 WHERE id = $2";
        let now = now.timestamp();
        let due: Vec<(i64,)> = self.db.all(Sql::new(DUE).bind(now)).await?;
        let mut out = Vec::new();
        for (event_id,) in due {
            let mut tx = self.db.begin().await?;
            tx.lock_event(event_id).await?;
            if tx.execute(Sql::new(CLAIM).bind(now).bind(event_id)).await? != 1 {
                continue;
            }
            let rows: Vec<(i64, i64, i64)> = tx.all(Sql::new(UNCONFIRMED).bind(event_id)).await?;
            let mut frames: Vec<i64> = Vec::new();
            for (reg_id, _, frame_id) in &rows {
                tx.execute(Sql::new(RELEASE).bind(now).bind(*reg_id)).await?;
                let q = "UPDATE frames SET accepted_count = accepted_count - 1 WHERE id = $1";
                tx.execute(Sql::new(q).bind(*frame_id)).await?;
                if !frames.contains(frame_id) {
                    frames.push(*frame_id);
                }
            }
            let mut promoted = Vec::new();
            for frame_id in frames {
                promoted.extend(promote(&mut tx, frame_id, now).await?);
            }
            let released: Vec<i64> = rows.into_iter().map(|(_, u, _)| u).collect();
            post(&mut tx, outbox, event_id, MessageKind::Released, "released", released.clone(), at).await?;
            post(&mut tx, outbox, event_id, MessageKind::Promotion, "promoted", promoted.clone(), at).await?;
            tx.commit().await?;
            out.push(Released { event_id, released_user_ids: released, promoted_user_ids: promoted });
        }
        Ok(out)
    }

    /// Undoes the release of a registration within the grace period: back into a seat when
    /// its frame has one free, else to the head of the frame's waitlist. The registration
    /// counts as reconfirmed (the organizer vouched for it).
    pub async fn restore_released(
        &self,
        event_id: i64,
        registration_id: i64,
        now: DateTime<Utc>,
        outbox: &Outbox,
    ) -> StoreResult<Restored> {
        let at = now;
        const RELEASED: &str = "SELECT r.user_id, r.frame_id, r.released_at, e.starts_at FROM registrations r \
             JOIN events e ON e.id = r.event_id \
             WHERE r.id = $1 AND r.event_id = $2 AND r.status = 'cancelled' AND r.released_at IS NOT NULL";
        const SEAT: &str = "UPDATE frames SET accepted_count = accepted_count + 1 \
             WHERE id = $1 AND accepted_count < capacity";
        const HEAD: &str = "SELECT COALESCE(MIN(position), 1) - 1 FROM registrations \
             WHERE frame_id = $1 AND status = 'waitlisted'";
        let mut tx = self.db.begin().await?;
        tx.lock_event(event_id).await?;
        let row: Option<(i64, i64, i64, i64)> =
            tx.optional(Sql::new(RELEASED).bind(registration_id).bind(event_id)).await?;
        let Some((user_id, frame_id, released_at, starts_at)) = row else {
            return Err(Conflict::NotMovable.into());
        };
        reconfirm::check_undo(instant(released_at), instant(starts_at), now)?;
        let now = now.timestamp();
        let confirmed = tx.execute(Sql::new(SEAT).bind(frame_id)).await? == 1;
        if confirmed {
            let q = "UPDATE registrations SET status = 'confirmed', cancelled_at = NULL, released_at = NULL, \
                 reconfirmed_at = $1, updated_at = $1 WHERE id = $2";
            tx.execute(Sql::new(q).bind(now).bind(registration_id)).await?;
        } else {
            let (head,): (i64,) = tx.one(Sql::new(HEAD).bind(frame_id)).await?;
            let q = "UPDATE registrations SET status = 'waitlisted', position = $1, cancelled_at = NULL, \
                 released_at = NULL, reconfirmed_at = $2, updated_at = $2 WHERE id = $3";
            tx.execute(Sql::new(q).bind(head).bind(now).bind(registration_id)).await?;
            let q = "UPDATE frames SET waiting_count = waiting_count + 1 WHERE id = $1";
            tx.execute(Sql::new(q).bind(frame_id)).await?;
        }
        if confirmed {
            post(&mut tx, outbox, event_id, MessageKind::Promotion, "restored", vec![user_id], at).await?;
        }
        tx.commit().await?;
        Ok(Restored { user_id, confirmed })
    }
}
