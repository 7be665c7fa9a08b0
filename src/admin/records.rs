//! The audit log as the store takes it (server only).

use chrono::{DateTime, Utc};

/// One audit-log line to record.
#[derive(Debug, Clone)]
pub struct NewAudit {
    pub group_id: i64,
    pub event_id: Option<i64>,
    pub user_id: i64,
    /// Stable code, e.g. `event.update`.
    pub action: String,
    /// What changed, for people.
    pub detail: String,
    pub at: DateTime<Utc>,
}
