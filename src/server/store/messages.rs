//! Messages on either backend: the outbox, recipients' inboxes, organizers' view,
//! reminders, e-mail deliveries and group follows. Work handed out exactly once is claimed
//! by a conditional `UPDATE … RETURNING`: SQLite's single writer runs one claim at a time;
//! on PostgreSQL a concurrent claimer of a reminder waits for the row lock and re-checks
//! the condition, and deliveries are picked `FOR UPDATE SKIP LOCKED` (rows another worker
//! is claiming at that moment are skipped, not waited for).

use super::{Backend, Store};
use chrono::{DateTime, TimeZone, Utc};

use super::db::{Arg, Db, Sql, Tx};
use super::events::instant;
use super::{MailJob, NewMessage, Outbox, StoreResult};
use crate::error::AppError;
use crate::events::model::FrameVenue;
use crate::messages::model::{Audience, Delivery, InboxMessage, MessageKind, SentMessage};

/// Stores a message and one recipient row per user, in one transaction. Recipients with
/// an e-mail address get `pending` delivery when `m.email` is set.
pub(super) async fn create_message(db: &Db, m: &NewMessage) -> StoreResult<i64> {
    let mut tx = db.begin().await?;
    let ids = insert_messages(&mut tx, std::slice::from_ref(m)).await?;
    tx.commit().await?;
    ids.first().copied().ok_or(AppError::Internal)
}

/// Stores several messages in `tx`, in a fixed number of statements (one multi-row insert
/// of the messages, one of their recipients, per chunk); their ids in order. SQLite's
/// message queue commits a batch of automatic messages this way, all or none.
pub(super) async fn insert_messages(tx: &mut Tx, ms: &[NewMessage]) -> StoreResult<Vec<i64>> {
    let mut ids = Vec::with_capacity(ms.len());
    for chunk in ms.chunks(100) {
        let mut q =
            Sql::new("INSERT INTO messages (event_id, sender_id, kind, audience, subject, body, created_at) VALUES ");
        for (i, m) in chunk.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push_list([
                Arg::from(m.event_id),
                m.sender_id.into(),
                m.kind.as_str().into(),
                (&m.audience).into(),
                (&m.subject).into(),
                (&m.body).into(),
                m.at.timestamp().into(),
            ]);
        }
        q.push(" RETURNING id");
        // Under SQLite's write lock rowids are handed out in insertion order, so the returned
        // ids sorted are the chunk's messages in order (RETURNING itself promises no order).
        // PostgreSQL only ever stores one message at a time here (`create_message`).
        let mut chunk_ids: Vec<i64> = tx.all::<(i64,)>(q).await?.into_iter().map(|(id,)| id).collect();
        chunk_ids.sort_unstable();
        if chunk_ids.len() != chunk.len() {
            return Err(AppError::Internal);
        }
        ids.extend(chunk_ids);
    }
    let rows: Vec<(i64, i64, bool, i64)> = ms
        .iter()
        .zip(&ids)
        .flat_map(|(m, id)| m.recipients.iter().map(move |uid| (*id, *uid, m.email, m.at.timestamp())))
        .collect();
    for chunk in rows.chunks(500) {
        // The WHERE clause also keeps SQLite from reading `ON CONFLICT` as a join's `ON`.
        let mut q = Sql::new(
            "INSERT INTO message_recipients (message_id, user_id, email_status, next_attempt_at) \
             SELECT v.column1, u.id, \
               CASE WHEN u.email IS NOT NULL AND u.email_verified_at IS NOT NULL AND v.column3 THEN 'pending' ELSE 'none' END, \
             v.column4 FROM (VALUES ",
        );
        for (i, &(id, uid, email, at)) in chunk.iter().enumerate() {
            q.push(if i == 0 { "" } else { ", " }).push_list([Arg::from(id), uid.into(), email.into(), at.into()]);
        }
        q.push(") v, users u WHERE u.id = v.column2 ON CONFLICT DO NOTHING");
        tx.execute(q).await?;
    }
    Ok(ids)
}

/// The users a message to `audience` of the event reaches (cancelled registrations never).
fn audience_query(event_id: i64, audience: Audience) -> Sql {
    let mut q = Sql::new("SELECT user_id FROM registrations WHERE event_id = ");
    q.push_bind(event_id);
    match audience {
        Audience::All => q.push(" AND status IN ('confirmed', 'waitlisted')"),
        Audience::Confirmed => q.push(" AND status = 'confirmed'"),
        Audience::Waitlisted => q.push(" AND status = 'waitlisted'"),
        Audience::Frame(f) => q.push(" AND status IN ('confirmed', 'waitlisted') AND frame_id = ").push_bind(f),
    };
    q.push(" ORDER BY id");
    q
}

/// [`post`] to everyone `audience` names at this moment of the transaction.
pub(super) async fn post_to(
    tx: &mut Tx,
    outbox: &Outbox,
    event_id: i64,
    kind: MessageKind,
    audience: Audience,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let users: Vec<i64> =
        tx.all::<(i64,)>(audience_query(event_id, audience)).await?.into_iter().map(|(u,)| u).collect();
    post(tx, outbox, event_id, kind, &audience.code(), users, at).await
}

/// Stores an automatic message of `kind` about `event_id` to `recipients` in `tx` (the
/// outbox): the event's title and time are read in the same transaction, so the message
/// says what the change left. Nothing for nobody, nor for a draft or unknown event.
pub(super) async fn post(
    tx: &mut Tx,
    outbox: &Outbox,
    event_id: i64,
    kind: MessageKind,
    audience: &str,
    recipients: Vec<i64>,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    if recipients.is_empty() {
        return Ok(());
    }
    const CONTEXT: &str = "SELECT title, starts_at, ends_at, time_zone FROM events WHERE id = $1 AND status != 'draft'";
    let row: Option<(String, i64, i64, String)> = tx.optional(Sql::new(CONTEXT).bind(event_id)).await?;
    let Some((title, starts, ends, zone)) = row else { return Ok(()) };
    let context = (title, crate::time::ZonedSpan::resolve(instant(starts), instant(ends), &zone));
    let message = outbox.notice(event_id, &context, kind, audience).to(event_id, recipients, at);
    insert_messages(tx, std::slice::from_ref(&message)).await?;
    Ok(())
}

impl Store {
    /// E-mail deliveries by state: `pending` (never tried), `retrying` (failed at least once,
    /// to be tried again), `sent`, `failed` (given up) (metrics). States without mail are 0.
    pub async fn mail_queue_counts(&self) -> StoreResult<Vec<(&'static str, i64)>> {
        const COUNTS: &str = "SELECT CASE WHEN email_status = 'pending' AND attempts > 0 THEN 'retrying' \
             ELSE email_status END, COUNT(*) FROM message_recipients WHERE email_status <> 'none' GROUP BY 1";
        let rows: Vec<(String, i64)> = self.db.all(Sql::new(COUNTS)).await?;
        Ok(["pending", "retrying", "sent", "failed"]
            .into_iter()
            .map(|s| (s, rows.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n)))
            .collect())
    }

    /// Stores a message with one recipient row each; returns its id.
    pub async fn create_message(&self, message: &NewMessage) -> StoreResult<i64> {
        match &self.backend {
            Backend::Sqlite(sqlite) => sqlite.create_message(&self.db, message).await,
            Backend::Pg => create_message(&self.db, message).await,
        }
    }

    /// How many messages `sender_id` sent after `since`, and when the first of them was:
    /// the organizer's hourly allowance is counted here, so it holds across instances.
    pub async fn messages_sent_since(
        &self,
        sender_id: i64,
        since: DateTime<Utc>,
    ) -> StoreResult<(i64, Option<DateTime<Utc>>)> {
        let (count, first): (i64, Option<i64>) = self
            .db
            .one(
                Sql::new("SELECT COUNT(*), MIN(created_at) FROM messages WHERE sender_id = $1 AND created_at > $2")
                    .bind(sender_id)
                    .bind(since.timestamp()),
            )
            .await?;
        Ok((count, first.and_then(|t| Utc.timestamp_opt(t, 0).single())))
    }

    /// Upcoming published events of the groups I follow, soonest first.
    pub async fn followed_events(
        &self,
        user_id: i64,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<crate::events::model::EventCard>> {
        let ids = followed_event_ids(&self.db, user_id, now, limit).await?;
        super::events::cards_by_ids(&self.db, &ids, " ORDER BY e.starts_at, e.id").await
    }

    /// The users a message to `audience` of the event reaches (cancelled registrations never).
    pub async fn audience_user_ids(&self, event_id: i64, audience: Audience) -> StoreResult<Vec<i64>> {
        Ok(self.db.all::<(i64,)>(audience_query(event_id, audience)).await?.into_iter().map(|(u,)| u).collect())
    }

    /// My latest messages, newest first.
    pub async fn inbox(&self, user_id: i64, limit: u32) -> StoreResult<Vec<InboxMessage>> {
        let db = &self.db;
        let rows: Vec<InboxRow> = db
            .all(
                Sql::new(
                    "SELECT m.id, m.event_id, e.title AS event_title, m.kind, m.subject, m.body, s.nickname AS sender, \
                       m.created_at, r.read_at \
                     FROM message_recipients r JOIN messages m ON m.id = r.message_id \
                     LEFT JOIN events e ON e.id = m.event_id LEFT JOIN users s ON s.id = m.sender_id \
                     WHERE r.user_id = $1 ORDER BY m.id DESC LIMIT $2",
                )
                .bind(user_id)
                .bind(limit),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| InboxMessage {
                id: r.id,
                event_id: r.event_id,
                event_title: r.event_title,
                kind: MessageKind::parse(&r.kind).unwrap_or(MessageKind::Organizer),
                subject: r.subject,
                body: r.body,
                sender: r.sender,
                created_at: instant(r.created_at),
                read: r.read_at.is_some(),
            })
            .collect())
    }

    /// Marks one of my messages read; `false` when it is not mine.
    pub async fn mark_read(&self, user_id: i64, message_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        let db = &self.db;
        let changed = db
            .execute(
                Sql::new(
                    "UPDATE message_recipients SET read_at = COALESCE(read_at, $1) WHERE user_id = $2 AND message_id = $3",
                )
                .bind(now.timestamp())
                .bind(user_id)
                .bind(message_id),
            )
            .await?;
        Ok(changed > 0)
    }

    /// The event's messages with their reach and delivery, newest first.
    pub async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<SentMessage>> {
        let db = &self.db;
        // COUNT is an integer on both backends, and FILTER counts 0 for a message without
        // recipients (the LEFT JOIN's all-NULL row matches no filter).
        let rows: Vec<SentRow> = db
            .all(
                Sql::new(
                    "SELECT m.id, m.kind, m.audience, m.subject, s.nickname AS sender, m.created_at, \
                       COUNT(r.user_id) AS recipients, \
                       COUNT(*) FILTER (WHERE r.read_at IS NOT NULL) AS read, \
                       COUNT(*) FILTER (WHERE r.email_status = 'none') AS none, \
                       COUNT(*) FILTER (WHERE r.email_status = 'pending') AS pending, \
                       COUNT(*) FILTER (WHERE r.email_status = 'pending' AND r.attempts > 0) AS retrying, \
                       COUNT(*) FILTER (WHERE r.email_status = 'sent') AS sent, \
                       COUNT(*) FILTER (WHERE r.email_status = 'failed') AS failed \
                     FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id \
                     LEFT JOIN users s ON s.id = m.sender_id \
                     WHERE m.event_id = $1 GROUP BY m.id, s.nickname ORDER BY m.id DESC LIMIT 200",
                )
                .bind(event_id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| SentMessage {
                id: r.id,
                kind: MessageKind::parse(&r.kind).unwrap_or(MessageKind::Organizer),
                audience: r.audience,
                subject: r.subject,
                sender: r.sender,
                created_at: instant(r.created_at),
                recipients: r.recipients,
                read: r.read,
                delivery: Delivery {
                    none: r.none,
                    pending: r.pending,
                    retrying: r.retrying,
                    sent: r.sent,
                    failed: r.failed,
                },
            })
            .collect())
    }

    /// Published events starting within `window` after `now` whose reminder has not gone out;
    /// each is claimed (marked reminded) so that it is sent exactly once: a concurrent claimer
    /// finds `reminded_at` set (on PostgreSQL after waiting for the row lock) and skips the row.
    pub async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>> {
        self.send_due_reminders(now, window, None).await
    }

    /// [`Store::claim_due_reminders`] that also stores each reminder (to everyone confirmed
    /// then) in the claim's transaction (the outbox): a crash never claims without sending.
    pub async fn send_due_reminders(
        &self,
        now: DateTime<Utc>,
        window: chrono::Duration,
        outbox: Option<&Outbox>,
    ) -> StoreResult<Vec<i64>> {
        let mut tx = self.db.begin().await?;
        let rows: Vec<(i64,)> = tx
            .all(
                Sql::new(
                    "UPDATE events SET reminded_at = $1 WHERE status = 'published' AND reminded_at IS NULL \
                     AND starts_at > $1 AND starts_at <= $2 RETURNING id",
                )
                .bind(now.timestamp())
                .bind((now + window).timestamp()),
            )
            .await?;
        if let Some(outbox) = outbox {
            for (event_id,) in &rows {
                post_to(&mut tx, outbox, *event_id, MessageKind::Reminder, Audience::Confirmed, now).await?;
            }
        }
        tx.commit().await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// E-mails due now, claimed for `lease` so that no other worker sends them meanwhile.
    pub async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<MailJob>> {
        let db = &self.db;
        // SQLite's single writer runs one claim at a time; PostgreSQL skips the rows another
        // worker is claiming at the same moment instead of waiting for them.
        let skip_locked = if db.is_pg() { " FOR UPDATE SKIP LOCKED" } else { "" };
        let rows: Vec<ClaimedRow> = db
            .write_all(
                Sql::new(format!(
                    "UPDATE message_recipients SET next_attempt_at = $1 \
                     FROM (SELECT message_id AS due_message, user_id AS due_user FROM message_recipients \
                           WHERE email_status = 'pending' AND next_attempt_at <= $2 \
                           ORDER BY next_attempt_at LIMIT $3{skip_locked}) due \
                     WHERE message_id = due.due_message AND user_id = due.due_user \
                     RETURNING message_id, user_id, attempts, \
                       (SELECT u.email FROM users u WHERE u.id = user_id) AS email, \
                       (SELECT m.subject FROM messages m WHERE m.id = message_id) AS subject, \
                       (SELECT m.body FROM messages m WHERE m.id = message_id) AS body, \
                       (SELECT u.time_zone FROM users u WHERE u.id = user_id) AS time_zone, \
                       (SELECT e.starts_at FROM messages m JOIN events e ON e.id = m.event_id WHERE m.id = message_id) \
                         AS starts_at, \
                       (SELECT e.ends_at FROM messages m JOIN events e ON e.id = m.event_id WHERE m.id = message_id) \
                         AS ends_at, \
                       (SELECT e.time_zone FROM messages m JOIN events e ON e.id = m.event_id WHERE m.id = message_id) \
                         AS event_zone"
                ))
                .bind((now + lease).timestamp())
                .bind(now.timestamp())
                .bind(limit),
            )
            .await?;
        // The recipients' frames where a frame has a venue of its own (one query for all).
        let mut venues: std::collections::HashMap<(i64, i64), FrameVenue> = std::collections::HashMap::new();
        if !rows.is_empty() {
            let mut q = Sql::new(
                "SELECT m.id, r.user_id, f.venue_kind, f.place, f.address FROM messages m \
                 JOIN registrations r ON r.event_id = m.event_id AND r.status <> 'cancelled' \
                 JOIN frames f ON f.id = r.frame_id \
                 WHERE (f.venue_kind IS NOT NULL OR f.place <> '' OR f.address <> '') AND m.id IN ",
            );
            q.push_list(rows.iter().map(|r| r.message_id)).push(" AND r.user_id IN ");
            q.push_list(rows.iter().map(|r| r.user_id));
            let found: Vec<(i64, i64, Option<String>, String, String)> = db.all(q).await?;
            for (message_id, user_id, kind, place, address) in found {
                let kind = kind.as_deref().and_then(crate::events::model::VenueKind::parse);
                venues.insert((message_id, user_id), FrameVenue { kind, place, address });
            }
        }
        Ok(rows
            .into_iter()
            .filter_map(|r| {
                let frame_venue = venues.remove(&(r.message_id, r.user_id));
                let (to, subject, body) = (r.email?, r.subject?, r.body?);
                let event = match (r.starts_at, r.ends_at, r.event_zone) {
                    (Some(s), Some(e), Some(z)) => Some((s, e, z)),
                    _ => None,
                };
                Some(MailJob {
                    message_id: r.message_id,
                    user_id: r.user_id,
                    to,
                    subject,
                    body,
                    attempts: r.attempts,
                    time_zone: r.time_zone,
                    event,
                    frame_venue,
                })
            })
            .collect())
    }

    /// Records one delivery attempt: sent, or failed with a retry at `retry_at` (`None`: give up).
    pub async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        let db = &self.db;
        let (status, next, error) = match (outcome, retry_at) {
            (Ok(()), _) => ("sent", None, None),
            (Err(e), Some(at)) => ("pending", Some(at.timestamp()), Some(e.clone())),
            (Err(e), None) => ("failed", None, Some(e.clone())),
        };
        db.execute(
            Sql::new(
                "UPDATE message_recipients SET email_status = $1, attempts = attempts + 1, next_attempt_at = $2, \
                 last_error = $3 WHERE message_id = $4 AND user_id = $5",
            )
            .bind(status)
            .bind(next)
            .bind(error)
            .bind(message_id)
            .bind(user_id),
        )
        .await?;
        Ok(())
    }

    /// Follows or unfollows a group (idempotent).
    pub async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()> {
        let db = &self.db;
        let q = if follow {
            Sql::new(
                "INSERT INTO group_follows (group_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            )
            .bind(group_id)
            .bind(user_id)
            .bind(now.timestamp())
        } else {
            Sql::new("DELETE FROM group_follows WHERE group_id = $1 AND user_id = $2").bind(group_id).bind(user_id)
        };
        db.execute(q).await?;
        Ok(())
    }

    /// (followers, whether `user_id` is one of them).
    pub async fn follow_state(&self, group_id: i64, user_id: Option<i64>) -> StoreResult<(i64, bool)> {
        let db = &self.db;
        let (count, mine): (i64, i64) = db
            .one(
                Sql::new(
                    "SELECT COUNT(*), COUNT(*) FILTER (WHERE user_id = $1) FROM group_follows WHERE group_id = $2",
                )
                .bind(user_id.unwrap_or(-1))
                .bind(group_id),
            )
            .await?;
        Ok((count, mine > 0))
    }

    pub async fn follower_ids(&self, group_id: i64) -> StoreResult<Vec<i64>> {
        let db = &self.db;
        let q = Sql::new("SELECT user_id FROM group_follows WHERE group_id = $1 ORDER BY user_id").bind(group_id);
        Ok(db.all::<(i64,)>(q).await?.into_iter().map(|(u,)| u).collect())
    }

    /// Records that the followers are told about `event_id` now; false when they already
    /// were (one conditional write, so two publishes racing announce once).
    pub async fn mark_announced(&self, event_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        self.announce(event_id, now, None).await
    }

    /// [`Store::mark_announced`] that also stores the news for the group's followers in the
    /// same transaction (the outbox).
    pub async fn announce(&self, event_id: i64, now: DateTime<Utc>, outbox: Option<&Outbox>) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let q = Sql::new("UPDATE events SET announced_at = $1 WHERE id = $2 AND announced_at IS NULL");
        if tx.execute(q.bind(now.timestamp()).bind(event_id)).await? != 1 {
            return Ok(false);
        }
        if let Some(outbox) = outbox {
            let q = Sql::new(
                "SELECT f.user_id FROM group_follows f JOIN events e ON e.group_id = f.group_id \
                 WHERE e.id = $1 ORDER BY f.user_id",
            );
            let followers: Vec<i64> = tx.all::<(i64,)>(q.bind(event_id)).await?.into_iter().map(|(u,)| u).collect();
            post(&mut tx, outbox, event_id, MessageKind::NewEvent, "followers", followers, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }
}

#[derive(sqlx::FromRow)]
struct InboxRow {
    id: i64,
    event_id: Option<i64>,
    event_title: Option<String>,
    kind: String,
    subject: String,
    body: String,
    sender: Option<String>,
    created_at: i64,
    read_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SentRow {
    id: i64,
    kind: String,
    audience: String,
    subject: String,
    sender: Option<String>,
    created_at: i64,
    recipients: i64,
    read: i64,
    none: i64,
    pending: i64,
    retrying: i64,
    sent: i64,
    failed: i64,
}

#[derive(sqlx::FromRow)]
struct ClaimedRow {
    message_id: i64,
    user_id: i64,
    attempts: i64,
    email: Option<String>,
    subject: Option<String>,
    body: Option<String>,
    time_zone: Option<String>,
    starts_at: Option<i64>,
    ends_at: Option<i64>,
    event_zone: Option<String>,
}

/// Ids of upcoming published events of the groups a user follows, soonest first.
pub(super) async fn followed_event_ids(db: &Db, user_id: i64, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<i64>> {
    let q = Sql::new(
        "SELECT e.id FROM events e JOIN group_follows f ON f.group_id = e.group_id \
         WHERE f.user_id = $1 AND e.status = 'published' AND e.listed AND e.ends_at > $2 \
         ORDER BY e.starts_at, e.id LIMIT $3",
    )
    .bind(user_id)
    .bind(now.timestamp())
    .bind(limit);
    Ok(db.all::<(i64,)>(q).await?.into_iter().map(|(id,)| id).collect())
}
