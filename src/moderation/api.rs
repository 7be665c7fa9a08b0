//! Moderation server functions. Anyone signed in may report; only site administrators
//! (`tsudoi admin grant NICK`) see the queue and act on it. Each checks this itself.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::ModerationQueue;
use crate::error::AppError;

/// The signed-in site administrator: 401 when signed out, 403 for everyone else.
#[cfg(feature = "ssr")]
async fn require_site_admin() -> Result<(crate::accounts::model::CurrentUser, crate::server::state::AppState), AppError>
{
    let (user, state) = crate::server::session::require_user_state().await?;
    if !state.store.is_site_admin(user.id).await? {
        return Err(AppError::Forbidden);
    }
    Ok((user, state))
}

/// The queue with its times in the administrator's zone (Asia/Tokyo when none is set).
#[cfg(feature = "ssr")]
async fn queue_for(
    state: &crate::server::state::AppState,
    user: &crate::accounts::model::CurrentUser,
) -> Result<ModerationQueue, AppError> {
    use chrono::{TimeZone, Utc};
    let zone = user.time_zone.as_deref().unwrap_or("Asia/Tokyo");
    let label =
        |t: i64| Utc.timestamp_opt(t, 0).single().map(|at| crate::time::local_label(at, zone)).unwrap_or_default();
    let mut q = state.store.moderation_queue().await?;
    for reason in q.open.iter_mut().flat_map(|o| o.reasons.iter_mut()) {
        reason.at_label = label(reason.at);
    }
    for h in &mut q.hidden {
        h.since_label = label(h.since);
    }
    for line in &mut q.log {
        line.at_label = label(line.at);
    }
    Ok(q)
}

#[cfg(feature = "ssr")]
fn parse_kind(kind: &str) -> Result<super::model::TargetKind, AppError> {
    super::model::TargetKind::parse(kind.trim()).ok_or_else(|| {
        AppError::Invalid(vec![crate::error::FieldError::new(
            "kind",
            "unknown_kind",
            "kind must be event, group or user",
        )])
    })
}

/// `POST /api/reports/create` — reports an event, group or user (`kind`, `id`, `reason`) to
/// the site's administrators. Signed in only; one open report per person and target (sending
/// it again changes nothing); at most 20 a day.
#[server(endpoint = "reports/create")]
pub async fn report(kind: String, id: i64, reason: String) -> Result<(), AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let kind = parse_kind(&kind);
        let reason = super::model::validate_reason(&reason);
        let (kind, reason) = match (kind, reason) {
            (Ok(k), Ok(r)) => (k, r),
            (k, r) => {
                let mut errors = Vec::new();
                if let Err(AppError::Invalid(e)) = k {
                    errors.extend(e);
                }
                errors.extend(r.err());
                return Err(AppError::Invalid(errors));
            }
        };
        state.store.file_report(user.id, kind, id, &reason, crate::time::now().timestamp()).await
    })
    .await
}

/// `GET /api/moderation/queue` — open reports, what is hidden, and the site's audit log
/// (site administrators).
#[server(endpoint = "moderation/queue", input = GetUrl)]
pub async fn get_moderation_queue() -> Result<ModerationQueue, AppError> {
    crate::error::respond(async {
        let (admin, state) = require_site_admin().await?;
        queue_for(&state, &admin).await
    })
    .await
}

/// `POST /api/moderation/act` — a site administrator hides or restores an event or group,
/// suspends or unsuspends an account, or dismisses the reports about it (`kind`, `id`,
/// `action`: hide, restore, suspend, unsuspend, dismiss). Logged in the site's audit log.
#[server(endpoint = "moderation/act")]
pub async fn moderate(kind: String, id: i64, action: String) -> Result<ModerationQueue, AppError> {
    crate::error::respond(async {
        let (admin, state) = require_site_admin().await?;
        let kind = parse_kind(&kind)?;
        let action = super::model::ModAction::parse(action.trim()).ok_or_else(|| {
            AppError::Invalid(vec![crate::error::FieldError::new(
                "action",
                "unknown_action",
                "action must be hide, restore, suspend, unsuspend or dismiss",
            )])
        })?;
        state.store.moderate(admin.id, kind, id, action, crate::time::now().timestamp()).await?;
        tracing::info!(kind = kind.as_str(), id, action = action.as_str(), admin = admin.id, "moderation");
        queue_for(&state, &admin).await
    })
    .await
}

/// `GET /api/moderation/am-i` — whether the signed-in person is a site administrator (for
/// the header's link; false when signed out).
#[server(endpoint = "moderation/am-i", input = GetUrl)]
pub async fn am_site_admin() -> Result<bool, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        match crate::server::session::current_user().await? {
            Some(u) => state.store.is_site_admin(u.id).await,
            None => Ok(false),
        }
    })
    .await
}
