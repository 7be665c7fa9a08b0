//! Public, read-only server functions for events. Anyone may call them; they only ever
//! return published (or cancelled) events.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{EventCard, EventDetail, Page};
use crate::error::AppError;

/// Cards per page on the lists.
pub const PER_PAGE: u32 = 20;

/// Upcoming published events, soonest first (`page` is 1-based).
#[server(endpoint = "events/upcoming", input = GetUrl)]
pub async fn list_upcoming_events(page: u32) -> Result<Page<EventCard>, AppError> {
    crate::error::respond(async {
        let max = crate::search::model::MAX_PAGE;
        if !(1..=max).contains(&page) {
            return Err(AppError::BadRequest(format!("page must be between 1 and {max}")));
        }
        let state = crate::server::state::app_state()?;
        state.store.list_upcoming(crate::time::now(), page, PER_PAGE).await
    })
    .await
}

/// Whether the viewer may open the event `id`: public and unlisted events by their link;
/// invitation-only ones with the invitation's secret (`invite`), or for its organizers and
/// the people registered. `NotFound` otherwise, so that a guess learns nothing.
#[cfg(feature = "ssr")]
pub async fn admit(
    state: &crate::server::state::AppState,
    id: i64,
    invite: Option<&str>,
) -> Result<super::model::Visibility, AppError> {
    let gate = state.store.event_gate(id).await?.ok_or(AppError::NotFound)?;
    if gate.hidden {
        // Hidden by the site's administrators: gone from every public path, for everyone.
        return Err(AppError::NotFound);
    }
    if gate.admits(invite) {
        return Ok(gate.visibility);
    }
    if let Some(user) = crate::server::session::current_user().await? {
        let member = state.store.member_role(gate.group_id, user.id).await?.is_some();
        if member || state.store.my_registration(id, user.id).await?.is_some() {
            return Ok(gate.visibility);
        }
    }
    Err(AppError::NotFound)
}

/// One public event; `NotFound` (404) for unknown ids and drafts, and for invitation-only
/// events without their `invite` secret (see `admit`).
#[server(endpoint = "events/get", input = GetUrl)]
pub async fn get_event(id: i64, invite: Option<String>) -> Result<EventDetail, AppError> {
    let state = crate::server::state::app_state()?;
    crate::error::respond(async {
        let visibility = admit(&state, id, invite.as_deref()).await?;
        let mut e = state.store.fetch_event(id).await?.ok_or(AppError::NotFound)?;
        e.visibility = visibility;
        e.url = format!("{}{}", state.config.public_url, e.url);
        e.ended = e.card.span.is_past(crate::time::now());
        e.json_ld = super::seo::json_ld(&e, &state.config.public_url);
        Ok(e)
    })
    .await
}
