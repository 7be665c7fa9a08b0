//! Messages on SQLite: the outbox, recipients' inboxes, organizers' view, reminders.

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::NewMessage;
use crate::error::AppError;
use crate::messages::model::{Audience, Delivery, InboxMessage, MessageKind, SentMessage};

type Result<T> = std::result::Result<T, AppError>;

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Stores a message and one recipient row per user, in one transaction. Recipients with
/// an e-mail address get `pending` delivery when `m.email` is set.
pub(super) async fn create_message(pool: &SqlitePool, m: &NewMessage) -> Result<i64> {
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    let id = insert_message(&mut tx, m).await?;
    tx.commit().await?;
    Ok(id)
}

/// Stores several messages in one transaction (all or none), for the store's message
/// queue: automatic messages after a rush of registrations commit together, in a fixed
/// number of statements (one multi-row insert of the messages, one of their recipients).
pub(super) async fn create_messages(conn: &mut SqliteConnection, ms: &[NewMessage]) -> Result<Vec<i64>> {
    use sqlx::Connection;
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    let mut ids = Vec::with_capacity(ms.len());
    for chunk in ms.chunks(100) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT INTO messages (event_id, sender_id, kind, audience, subject, body, created_at) ",
        );
        qb.push_values(chunk, |mut b, m| {
            b.push_bind(m.event_id)
                .push_bind(m.sender_id)
                .push_bind(m.kind.as_str())
                .push_bind(&m.audience)
                .push_bind(&m.subject)
                .push_bind(&m.body)
                .push_bind(m.at.timestamp());
        });
        qb.push(" RETURNING id");
        // Under the write lock rowids are handed out in insertion order, so the returned ids
        // sorted are the chunk's messages in order (RETURNING itself promises no order).
        let mut chunk_ids: Vec<i64> =
            qb.build_query_as::<(i64,)>().fetch_all(&mut *tx).await?.into_iter().map(|(id,)| id).collect();
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
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO message_recipients (message_id, user_id, email_status, next_attempt_at) \
             SELECT v.column1, u.id, CASE WHEN u.email IS NOT NULL AND v.column3 THEN 'pending' ELSE 'none' END, v.column4 \
             FROM (",
        );
        qb.push_values(chunk, |mut b, (id, uid, email, at)| {
            b.push_bind(*id).push_bind(*uid).push_bind(*email).push_bind(*at);
        });
        qb.push(") v JOIN users u ON u.id = v.column2");
        qb.build().execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(ids)
}

async fn insert_message(tx: &mut SqliteConnection, m: &NewMessage) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (event_id, sender_id, kind, audience, subject, body, created_at) \
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(m.event_id)
    .bind(m.sender_id)
    .bind(m.kind.as_str())
    .bind(&m.audience)
    .bind(&m.subject)
    .bind(&m.body)
    .bind(m.at.timestamp())
    .fetch_one(&mut *tx)
    .await?;
    for chunk in m.recipients.chunks(500) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "INSERT OR IGNORE INTO message_recipients (message_id, user_id, email_status, next_attempt_at) SELECT ",
        );
        qb.push_bind(id)
            .push(", u.id, CASE WHEN u.email IS NOT NULL AND ")
            .push_bind(m.email)
            .push(" THEN 'pending' ELSE 'none' END, ")
            .push_bind(m.at.timestamp())
            .push(" FROM users u WHERE u.id IN (");
        let mut sep = qb.separated(", ");
        for uid in chunk {
            sep.push_bind(*uid);
        }
        qb.push(")");
        qb.build().execute(&mut *tx).await?;
    }
    Ok(id)
}

/// The users a message to `audience` of the event reaches (cancelled registrations never).
pub(super) async fn audience_user_ids(pool: &SqlitePool, event_id: i64, audience: Audience) -> Result<Vec<i64>> {
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT user_id FROM registrations WHERE event_id = ");
    qb.push_bind(event_id);
    match audience {
        Audience::All => qb.push(" AND status IN ('confirmed', 'waitlisted')"),
        Audience::Confirmed => qb.push(" AND status = 'confirmed'"),
        Audience::Waitlisted => qb.push(" AND status = 'waitlisted'"),
        Audience::Frame(f) => qb.push(" AND status IN ('confirmed', 'waitlisted') AND frame_id = ").push_bind(f),
    };
    qb.push(" ORDER BY id");
    let rows: Vec<(i64,)> = qb.build_query_as().fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

type InboxRow = (i64, Option<i64>, Option<String>, String, String, String, Option<String>, i64, Option<i64>);

/// My latest messages, newest first.
pub(super) async fn inbox(pool: &SqlitePool, user_id: i64, limit: u32) -> Result<Vec<InboxMessage>> {
    let rows: Vec<InboxRow> = sqlx::query_as(
        "SELECT m.id, m.event_id, e.title, m.kind, m.subject, m.body, s.nickname, m.created_at, r.read_at \
         FROM message_recipients r JOIN messages m ON m.id = r.message_id \
         LEFT JOIN events e ON e.id = m.event_id LEFT JOIN users s ON s.id = m.sender_id \
         WHERE r.user_id = ? ORDER BY m.id DESC LIMIT ?",
    )
    .bind(user_id)
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(id, event_id, event_title, kind, subject, body, sender, created_at, read_at)| InboxMessage {
            id,
            event_id,
            event_title,
            kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Organizer),
            subject,
            body,
            sender,
            created_at: instant(created_at),
            read: read_at.is_some(),
        })
        .collect())
}

pub(super) async fn mark_read(pool: &SqlitePool, user_id: i64, message_id: i64, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE message_recipients SET read_at = COALESCE(read_at, ?) WHERE user_id = ? AND message_id = ?",
    )
    .bind(now.timestamp())
    .bind(user_id)
    .bind(message_id)
    .execute(pool)
    .await?;
    Ok(done.rows_affected() > 0)
}

type SentRow = (i64, String, String, String, Option<String>, i64, i64, i64, i64, i64, i64, i64, i64);

/// The event's messages with their reach and delivery, newest first.
pub(super) async fn sent_messages(pool: &SqlitePool, event_id: i64) -> Result<Vec<SentMessage>> {
    let rows: Vec<SentRow> = sqlx::query_as(
        "SELECT m.id, m.kind, m.audience, m.subject, s.nickname, m.created_at, COUNT(r.user_id), \
           COALESCE(SUM(r.read_at IS NOT NULL), 0), COALESCE(SUM(r.email_status = 'none'), 0), \
           COALESCE(SUM(r.email_status = 'pending'), 0), COALESCE(SUM(r.email_status = 'pending' AND r.attempts > 0), 0), \
           COALESCE(SUM(r.email_status = 'sent'), 0), \
           COALESCE(SUM(r.email_status = 'failed'), 0) \
         FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id LEFT JOIN users s ON s.id = m.sender_id \
         WHERE m.event_id = ? GROUP BY m.id ORDER BY m.id DESC LIMIT 200",
    )
    .bind(event_id)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |(
                id,
                kind,
                audience,
                subject,
                sender,
                created_at,
                recipients,
                read,
                none,
                pending,
                retrying,
                sent,
                failed,
            )| {
                SentMessage {
                    id,
                    kind: MessageKind::parse(&kind).unwrap_or(MessageKind::Organizer),
                    audience,
                    subject,
                    sender,
                    created_at: instant(created_at),
                    recipients,
                    read,
                    delivery: Delivery { none, pending, retrying, sent, failed },
                }
            },
        )
        .collect())
}

/// Published events starting within `window` after `now` whose reminder has not gone out;
/// each is claimed (marked reminded) so that it is sent exactly once.
pub(super) async fn claim_due_reminders(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "UPDATE events SET reminded_at = ?1 WHERE status = 'published' AND reminded_at IS NULL \
         AND starts_at > ?1 AND starts_at <= ?2 RETURNING id",
    )
    .bind(now.timestamp())
    .bind((now + window).timestamp())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// E-mails due now, claimed for `lease` so that no other worker sends them meanwhile.
pub(super) async fn claim_deliveries(
    pool: &SqlitePool,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: u32,
) -> Result<Vec<super::MailJob>> {
    let claimed: Vec<(i64, i64, i64)> = sqlx::query_as(
        "UPDATE message_recipients SET next_attempt_at = ?1 \
         WHERE rowid IN (SELECT rowid FROM message_recipients WHERE email_status = 'pending' AND next_attempt_at <= ?2 \
                         ORDER BY next_attempt_at LIMIT ?3) \
         RETURNING message_id, user_id, attempts",
    )
    .bind((now + lease).timestamp())
    .bind(now.timestamp())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    let mut jobs = Vec::with_capacity(claimed.len());
    for (message_id, user_id, attempts) in claimed {
        let row: Option<(Option<String>, String, String)> =
            sqlx::query_as("SELECT u.email, m.subject, m.body FROM messages m JOIN users u ON u.id = ? WHERE m.id = ?")
                .bind(user_id)
                .bind(message_id)
                .fetch_optional(pool)
                .await?;
        if let Some((Some(to), subject, body)) = row {
            jobs.push(super::MailJob { message_id, user_id, to, subject, body, attempts });
        }
    }
    Ok(jobs)
}

/// Records one delivery attempt: sent, or failed with a retry at `retry_at` (`None`: give up).
pub(super) async fn record_delivery(
    pool: &SqlitePool,
    message_id: i64,
    user_id: i64,
    outcome: &std::result::Result<(), String>,
    retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    let (status, next, error) = match (outcome, retry_at) {
        (Ok(()), _) => ("sent", None, None),
        (Err(e), Some(at)) => ("pending", Some(at.timestamp()), Some(e.clone())),
        (Err(e), None) => ("failed", None, Some(e.clone())),
    };
    sqlx::query(
        "UPDATE message_recipients SET email_status = ?, attempts = attempts + 1, next_attempt_at = ?, last_error = ? \
         WHERE message_id = ? AND user_id = ?",
    )
    .bind(status)
    .bind(next)
    .bind(error)
    .bind(message_id)
    .bind(user_id)
    .execute(pool)
    .await?;
    Ok(())
}

/// Follows or unfollows a group (idempotent).
pub(super) async fn set_follow(
    pool: &SqlitePool,
    group_id: i64,
    user_id: i64,
    follow: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if follow {
        sqlx::query("INSERT OR IGNORE INTO group_follows (group_id, user_id, created_at) VALUES (?, ?, ?)")
            .bind(group_id)
            .bind(user_id)
            .bind(now.timestamp())
            .execute(pool)
            .await?;
    } else {
        sqlx::query("DELETE FROM group_follows WHERE group_id = ? AND user_id = ?")
            .bind(group_id)
            .bind(user_id)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// (followers, whether `user_id` is one of them).
pub(super) async fn follow_state(pool: &SqlitePool, group_id: i64, user_id: Option<i64>) -> Result<(i64, bool)> {
    let (count, mine): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COALESCE(SUM(user_id = ?), 0) FROM group_follows WHERE group_id = ?")
            .bind(user_id.unwrap_or(-1))
            .bind(group_id)
            .fetch_one(pool)
            .await?;
    Ok((count, mine > 0))
}

pub(super) async fn follower_ids(pool: &SqlitePool, group_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT user_id FROM group_follows WHERE group_id = ? ORDER BY user_id")
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// Ids of upcoming published events of the groups a user follows, soonest first.
pub(super) async fn followed_event_ids(
    pool: &SqlitePool,
    user_id: i64,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT e.id FROM events e JOIN group_follows f ON f.group_id = e.group_id \
         WHERE f.user_id = ? AND e.status = 'published' AND e.ends_at > ? ORDER BY e.starts_at, e.id LIMIT ?",
    )
    .bind(user_id)
    .bind(now.timestamp())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
