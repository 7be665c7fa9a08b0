//! Organizer server functions for reconfirmation (参加の再確認): require it (or not) and undo
//! a release. Each authenticates, checks the caller edits the event's group, and audits.

use leptos::prelude::*;

use super::model::{AdminEvent, AttendeeList};
use crate::error::AppError;

/// `POST /api/admin/events/reconfirmation` — requires confirmed attendees to reconfirm
/// `hours` before the start (`event_id`, `hours`: `12`, `24`, `48` or `72`; empty: no
/// longer). `422` on `hours` (`invalid_choice`; `too_late` when the request could not go out
/// a day before the deadline); `409 reconfirmation_closed` once seats were released. Owners
/// and admins.
#[server(endpoint = "admin/events/reconfirmation")]
pub async fn set_reconfirmation(event_id: i64, hours: String) -> Result<AdminEvent, AppError> {
    crate::error::respond(async {
        use crate::error::FieldError;
        let access = super::api::ssr::event_access(event_id).await?.editor()?;
        let hours = match hours.trim() {
            "" => None,
            h => Some(h.parse::<i64>().map_err(|_| {
                AppError::Invalid(vec![FieldError::new("hours", "invalid_choice", "Choose one of the deadlines.")])
            })?),
        };
        access.state.store.set_reconfirmation(event_id, hours, crate::time::now()).await?;
        let detail = match hours {
            Some(h) => format!("reconfirmation required {h} h before the start"),
            None => "reconfirmation no longer required".to_string(),
        };
        access.audit(Some(event_id), "event.reconfirmation", detail).await?;
        super::api::reload(&access, event_id).await
    })
    .await
}

/// `POST /api/admin/registrations/restore` — undoes the release of a registration that was
/// not reconfirmed (`event_id`, `registration_id`), within two hours of the release and
/// before the start: back into a seat if its frame has one free, else at the head of the
/// waitlist. `409 reconfirmation_closed` after that, `409 not_movable` for a registration
/// that was not released. Owners and admins.
#[server(endpoint = "admin/registrations/restore")]
pub async fn restore_registration(event_id: i64, registration_id: i64) -> Result<AttendeeList, AppError> {
    crate::error::respond(async {
        let access = super::api::ssr::event_access(event_id).await?.editor()?;
        // A restored seat is news for its holder, told in the same write.
        let outbox = access.state.config.outbox();
        let restored =
            access.state.store.restore_released(event_id, registration_id, crate::time::now(), &outbox).await?;
        let to = if restored.confirmed { "confirmed" } else { "the head of the waitlist" };
        access
            .audit(Some(event_id), "attendee.restore", format!("registration {registration_id} restored to {to}"))
            .await?;
        access.state.live.publish(event_id).await;
        super::api::attendee_list(&access, event_id).await
    })
    .await
}
