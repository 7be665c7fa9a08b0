//! Organizer admin on PostgreSQL: roles, my events, the editor's reads and writes,
//! attendees, check-in and the audit log. Same semantics as `sqlite_admin`.

use chrono::{DateTime, Utc};
use sqlx::PgPool;

use super::{EventFields, FrameFields, NewAudit};
use crate::admin::model::{AdminEvent, AdminEventRow, AdminGroup, Attendee, AuditEntry, Member, Role};
use crate::error::AppError;
use crate::events::model::EventStatus;

type Result<T> = std::result::Result<T, AppError>;

// PLACEHOLDER bodies: replaced by the real queries below as they land.
pub(super) async fn member_role(_pool: &PgPool, _group_id: i64, _user_id: i64) -> Result<Option<Role>> {
    Err(AppError::Internal)
}

pub(super) async fn event_group_id(_pool: &PgPool, _event_id: i64) -> Result<Option<i64>> {
    Err(AppError::Internal)
}

pub(super) async fn admin_groups(_pool: &PgPool, _user_id: i64) -> Result<Vec<AdminGroup>> {
    Err(AppError::Internal)
}

pub(super) async fn admin_events(_pool: &PgPool, _user_id: i64) -> Result<Vec<AdminEventRow>> {
    Err(AppError::Internal)
}

pub(super) async fn admin_event(_pool: &PgPool, _event_id: i64) -> Result<Option<AdminEvent>> {
    Err(AppError::Internal)
}

pub(super) async fn update_event(_pool: &PgPool, _event_id: i64, _f: &EventFields, _now: DateTime<Utc>) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn set_event_status(
    _pool: &PgPool,
    _event_id: i64,
    _status: EventStatus,
    _now: DateTime<Utc>,
) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn attendees(_pool: &PgPool, _event_id: i64) -> Result<Vec<Attendee>> {
    Err(AppError::Internal)
}

pub(super) async fn check_in(
    _pool: &PgPool,
    _event_id: i64,
    _code: &str,
    _now: DateTime<Utc>,
) -> Result<Option<Attendee>> {
    Err(AppError::Internal)
}

pub(super) async fn record_audit(_pool: &PgPool, _a: &NewAudit) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn audit_log(_pool: &PgPool, _group_id: i64, _event_id: Option<i64>) -> Result<Vec<AuditEntry>> {
    Err(AppError::Internal)
}

pub(super) async fn add_frame(_pool: &PgPool, _event_id: i64, _f: &FrameFields) -> Result<i64> {
    Err(AppError::Internal)
}

pub(super) async fn update_frame(_pool: &PgPool, _event_id: i64, _frame_id: i64, _f: &FrameFields) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn delete_frame(_pool: &PgPool, _event_id: i64, _frame_id: i64) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn add_question(_pool: &PgPool, _event_id: i64, _q: &super::NewQuestion) -> Result<i64> {
    Err(AppError::Internal)
}

pub(super) async fn delete_question(_pool: &PgPool, _event_id: i64, _question_id: i64) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn members(_pool: &PgPool, _group_id: i64) -> Result<Vec<Member>> {
    Err(AppError::Internal)
}

pub(super) async fn add_member(
    _pool: &PgPool,
    _group_id: i64,
    _user_id: i64,
    _role: Role,
    _now: DateTime<Utc>,
) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn set_member(_pool: &PgPool, _group_id: i64, _user_id: i64, _role: Option<Role>) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn transfer_ownership(_pool: &PgPool, _group_id: i64, _from: i64, _to: i64) -> Result<()> {
    Err(AppError::Internal)
}

pub(super) async fn duplicate_event(
    _pool: &PgPool,
    _event_id: i64,
    _starts_at: DateTime<Utc>,
    _now: DateTime<Utc>,
) -> Result<i64> {
    Err(AppError::Internal)
}

pub(super) async fn resolve_tag_names(_pool: &PgPool, _names: &[String]) -> Result<(Vec<i64>, Vec<String>)> {
    Err(AppError::Internal)
}

pub(super) async fn add_speaker(_pool: &PgPool, _event_id: i64, _s: &super::NewSpeaker) -> Result<i64> {
    Err(AppError::Internal)
}

pub(super) async fn delete_speaker(_pool: &PgPool, _event_id: i64, _speaker_id: i64) -> Result<()> {
    Err(AppError::Internal)
}
