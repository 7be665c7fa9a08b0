//! Messages on PostgreSQL: the outbox, recipients' inboxes, organizers' view, reminders.
//! Same semantics as `sqlite_messages`; where SQLite relies on its single writer to hand
//! out work exactly once, PostgreSQL uses row locks (`FOR UPDATE SKIP LOCKED`, or a
//! conditional `UPDATE … RETURNING` that re-checks its condition after waiting).

use chrono::{DateTime, TimeZone, Utc};
use sqlx::{PgPool, Postgres, QueryBuilder};

use super::NewMessage;
use crate::error::AppError;
use crate::messages::model::{Audience, Delivery, InboxMessage, MessageKind, SentMessage};

type Result<T> = std::result::Result<T, AppError>;

fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// Stores a message and one recipient row per user, in one transaction. Recipients with
/// an e-mail address get `pending` delivery when `m.email` is set.
pub(super) async fn create_message(pool: &PgPool, m: &NewMessage) -> Result<i64> {
    let mut tx = pool.begin().await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO messages (event_id, sender_id, kind, audience, subject, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
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
    if !m.recipients.is_empty() {
        sqlx::query(
            "INSERT INTO message_recipients (message_id, user_id, email_status, next_attempt_at) \
             SELECT $1, u.id, CASE WHEN u.email IS NOT NULL AND $2 THEN 'pending' ELSE 'none' END, $3 \
             FROM users u WHERE u.id = ANY($4) ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(m.email)
        .bind(m.at.timestamp())
        .bind(&m.recipients[..])
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(id)
}

/// The users a message to `audience` of the event reaches (cancelled registrations never).
pub(super) async fn audience_user_ids(pool: &PgPool, event_id: i64, audience: Audience) -> Result<Vec<i64>> {
    let mut qb = QueryBuilder::<Postgres>::new("SELECT user_id FROM registrations WHERE event_id = ");
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
pub(super) async fn inbox(pool: &PgPool, user_id: i64, limit: u32) -> Result<Vec<InboxMessage>> {
    let rows: Vec<InboxRow> = sqlx::query_as(
        "SELECT m.id, m.event_id, e.title, m.kind, m.subject, m.body, s.nickname, m.created_at, r.read_at \
         FROM message_recipients r JOIN messages m ON m.id = r.message_id \
         LEFT JOIN events e ON e.id = m.event_id LEFT JOIN users s ON s.id = m.sender_id \
         WHERE r.user_id = $1 ORDER BY m.id DESC LIMIT $2",
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

pub(super) async fn mark_read(pool: &PgPool, user_id: i64, message_id: i64, now: DateTime<Utc>) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE message_recipients SET read_at = COALESCE(read_at, $1) WHERE user_id = $2 AND message_id = $3",
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
pub(super) async fn sent_messages(pool: &PgPool, event_id: i64) -> Result<Vec<SentMessage>> {
    // COUNT(…) is BIGINT in PostgreSQL, and FILTER counts 0 for a message without
    // recipients (the LEFT JOIN's all-NULL row matches no filter).
    let rows: Vec<SentRow> = sqlx::query_as(
        "SELECT m.id, m.kind, m.audience, m.subject, s.nickname, m.created_at, COUNT(r.user_id), \
           COUNT(*) FILTER (WHERE r.read_at IS NOT NULL), \
           COUNT(*) FILTER (WHERE r.email_status = 'none'), \
           COUNT(*) FILTER (WHERE r.email_status = 'pending'), \
           COUNT(*) FILTER (WHERE r.email_status = 'pending' AND r.attempts > 0), \
           COUNT(*) FILTER (WHERE r.email_status = 'sent'), \
           COUNT(*) FILTER (WHERE r.email_status = 'failed') \
         FROM messages m LEFT JOIN message_recipients r ON r.message_id = m.id LEFT JOIN users s ON s.id = m.sender_id \
         WHERE m.event_id = $1 GROUP BY m.id, s.nickname ORDER BY m.id DESC LIMIT 200",
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
/// each is claimed (marked reminded) so that it is sent exactly once: a concurrent claimer
/// waits for the row lock, then re-checks `reminded_at IS NULL` and skips the row.
pub(super) async fn claim_due_reminders(
    pool: &PgPool,
    now: DateTime<Utc>,
    window: chrono::Duration,
) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "UPDATE events SET reminded_at = $1 WHERE status = 'published' AND reminded_at IS NULL \
         AND starts_at > $1 AND starts_at <= $2 RETURNING id",
    )
    .bind(now.timestamp())
    .bind((now + window).timestamp())
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// E-mails due now, claimed for `lease` so that no other worker sends them meanwhile
/// (rows another worker is claiming at the same moment are skipped, not waited for).
pub(super) async fn claim_deliveries(
    pool: &PgPool,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    limit: u32,
) -> Result<Vec<super::MailJob>> {
    let rows: Vec<(i64, i64, i64, Option<String>, String, String)> = sqlx::query_as(
        "WITH claimed AS ( \
           UPDATE message_recipients r SET next_attempt_at = $1 \
           FROM (SELECT message_id, user_id FROM message_recipients \
                 WHERE email_status = 'pending' AND next_attempt_at <= $2 \
                 ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED) due \
           WHERE r.message_id = due.message_id AND r.user_id = due.user_id \
           RETURNING r.message_id, r.user_id, r.attempts) \
         SELECT c.message_id, c.user_id, c.attempts, u.email, m.subject, m.body \
         FROM claimed c JOIN messages m ON m.id = c.message_id JOIN users u ON u.id = c.user_id",
    )
    .bind((now + lease).timestamp())
    .bind(now.timestamp())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .filter_map(|(message_id, user_id, attempts, to, subject, body)| {
            Some(super::MailJob { message_id, user_id, to: to?, subject, body, attempts })
        })
        .collect())
}

/// Records one delivery attempt: sent, or failed with a retry at `retry_at` (`None`: give up).
pub(super) async fn record_delivery(
    pool: &PgPool,
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
        "UPDATE message_recipients SET email_status = $1, attempts = attempts + 1, next_attempt_at = $2, \
         last_error = $3 WHERE message_id = $4 AND user_id = $5",
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
    pool: &PgPool,
    group_id: i64,
    user_id: i64,
    follow: bool,
    now: DateTime<Utc>,
) -> Result<()> {
    if follow {
        sqlx::query(
            "INSERT INTO group_follows (group_id, user_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(group_id)
        .bind(user_id)
        .bind(now.timestamp())
        .execute(pool)
        .await?;
    } else {
        sqlx::query("DELETE FROM group_follows WHERE group_id = $1 AND user_id = $2")
            .bind(group_id)
            .bind(user_id)
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// (followers, whether `user_id` is one of them).
pub(super) async fn follow_state(pool: &PgPool, group_id: i64, user_id: Option<i64>) -> Result<(i64, bool)> {
    let (count, mine): (i64, i64) =
        sqlx::query_as("SELECT COUNT(*), COUNT(*) FILTER (WHERE user_id = $1) FROM group_follows WHERE group_id = $2")
            .bind(user_id.unwrap_or(-1))
            .bind(group_id)
            .fetch_one(pool)
            .await?;
    Ok((count, mine > 0))
}

pub(super) async fn follower_ids(pool: &PgPool, group_id: i64) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as("SELECT user_id FROM group_follows WHERE group_id = $1 ORDER BY user_id")
        .bind(group_id)
        .fetch_all(pool)
        .await?;
    Ok(rows.into_iter().map(|(u,)| u).collect())
}

/// Ids of upcoming published events of the groups a user follows, soonest first.
pub(super) async fn followed_event_ids(
    pool: &PgPool,
    user_id: i64,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT e.id FROM events e JOIN group_follows f ON f.group_id = e.group_id \
         WHERE f.user_id = $1 AND e.status = 'published' AND e.ends_at > $2 ORDER BY e.starts_at, e.id LIMIT $3",
    )
    .bind(user_id)
    .bind(now.timestamp())
    .bind(i64::from(limit))
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}
