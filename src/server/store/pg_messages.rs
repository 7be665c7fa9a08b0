//! Messages on PostgreSQL: the outbox, recipients' inboxes, organizers' view, reminders.
//! Same semantics as `sqlite_messages`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::NewMessage;
use crate::error::AppError;
use crate::messages::model::{Audience, InboxMessage, SentMessage};

type Result<T> = std::result::Result<T, AppError>;

// PLACEHOLDER bodies: replaced by the real queries below as they land.
pub(super) async fn create_message(_pool: &PgPool, _m: &NewMessage) -> Result<i64> {
    Err(AppError::Internal)
}

pub(super) async fn audience_user_ids(_pool: &PgPool, _event_id: i64, _audience: Audience) -> Result<Vec<i64>> {
    Err(AppError::Internal)
}

pub(super) async fn inbox(_pool: &PgPool, _user_id: i64, _limit: u32) -> Result<Vec<InboxMessage>> {
    Err(AppError::Internal)
}

pub(super) async fn mark_read(_pool: &PgPool, _user_id: i64, _message_id: i64, _now: DateTime<Utc>) -> Result<bool> {
    Err(AppError::Internal)
}

pub(super) async fn sent_messages(_pool: &PgPool, _event_id: i64) -> Result<Vec<SentMessage>> {
    Err(AppError::Internal)
}

pub(super) async fn claim_due_reminders(
    _pool: &PgPool,
    _now: DateTime<Utc>,
    _window: chrono::Duration,
) -> Result<Vec<i64>> {
    Err(AppError::Internal)
}

pub(super) async fn claim_deliveries(
    _pool: &PgPool,
    _now: DateTime<Utc>,
    _lease: chrono::Duration,
    _limit: u32,
) -> Result<Vec<super::MailJob>> {
    Err(AppError::Internal)
}

pub(super) async fn record_delivery(
    _pool: &PgPool,
    _message_id: i64,
    _user_id: i64,
    _outcome: &std::_result::Result<(), String>,
    _retry_at: Option<DateTime<Utc>>,
) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn set_follow(
    _pool: &PgPool,
    _group_id: i64,
    _user_id: i64,
    _follow: bool,
    _now: DateTime<Utc>,
) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn follow_state(_pool: &PgPool, _group_id: i64, _user_id: Option<i64>) -> Result<(i64, bool)> {
    Err(AppError::Internal)
}

pub(super) async fn follower_ids(_pool: &PgPool, _group_id: i64) -> Result<Vec<i64>> {
    Err(AppError::Internal)
}

pub(super) async fn followed_event_ids(
    _pool: &PgPool,
    _user_id: i64,
    _now: DateTime<Utc>,
    _limit: u32,
) -> Result<Vec<i64>> {
    Err(AppError::Internal)
}
