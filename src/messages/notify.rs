//! Automatic messages. A registration's confirmation and the promotions a cancellation
//! causes are stored by the write itself, in its transaction (the outbox: [`notice`] makes
//! them). The others follow a write that has already committed, so a failure to store one
//! is logged rather than undoing (or failing) what the user did.

use super::model::{MessageKind, template};
use crate::server::state::AppState;
use crate::server::store::Notice;

/// Sends an automatic message of `kind` about the event to `users`.
pub async fn notify(state: &AppState, event_id: i64, kind: MessageKind, users: Vec<i64>, audience: &'static str) {
    if users.is_empty() {
        return;
    }
    match state.store.message_context(event_id).await {
        Ok(Some(context)) => notify_with(state, event_id, context, kind, users, audience).await,
        Ok(None) => {}
        Err(e) => tracing::error!(error = %e, event_id, "automatic message: event not readable"),
    }
}

/// [`notify`] with the event's title and time already at hand.
pub async fn notify_with(
    state: &AppState,
    event_id: i64,
    context: (String, crate::time::ZonedSpan),
    kind: MessageKind,
    users: Vec<i64>,
    audience: &'static str,
) {
    if users.is_empty() {
        return;
    }
    let message = notice(state, event_id, &context, kind, audience).to(event_id, users, crate::time::now());
    if let Err(e) = state.store.create_message(&message).await {
        tracing::error!(error = %e, event_id, kind = kind.as_str(), "automatic message not stored");
    }
}

/// An automatic message about the event, for a write to store in its own transaction (see
/// [`Notice`]); the write addresses it.
pub fn notice(
    state: &AppState,
    event_id: i64,
    (title, span): &(String, crate::time::ZonedSpan),
    kind: MessageKind,
    audience: &'static str,
) -> Notice {
    let url = format!("{}/events/{event_id}", state.config.public_url);
    let (subject, body) = template(kind, title, &span.label(crate::time::Lang::Ja), &url);
    Notice { kind, audience, subject, body, email: state.config.mail_enabled() }
}

/// Tells everyone registered (confirmed or waitlisted).
pub async fn notify_registrants(state: &AppState, event_id: i64, kind: MessageKind) {
    match state.store.audience_user_ids(event_id, super::model::Audience::All).await {
        Ok(users) => notify(state, event_id, kind, users, "all").await,
        Err(e) => tracing::error!(error = %e, event_id, "automatic message: registrants not readable"),
    }
}

/// Sends the day-before reminders that are due (each event exactly once).
pub async fn send_due_reminders(state: &AppState) {
    let due = match state.store.claim_due_reminders(crate::time::now(), chrono::Duration::hours(24)).await {
        Ok(due) => due,
        Err(e) => {
            tracing::error!(error = %e, "reminders not claimed");
            return;
        }
    };
    for event_id in due {
        match state.store.audience_user_ids(event_id, super::model::Audience::Confirmed).await {
            Ok(users) => notify(state, event_id, MessageKind::Reminder, users, "confirmed").await,
            Err(e) => tracing::error!(error = %e, event_id, "reminder recipients not readable"),
        }
    }
}

/// Tells a group's followers about a newly published event.
pub async fn notify_followers(state: &AppState, group_id: i64, event_id: i64) {
    // Once per event, whoever publishes it first: a republished event is not news again.
    match state.store.mark_announced(event_id, crate::time::now()).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::error!(error = %e, event_id, "automatic message: announcement not recorded");
            return;
        }
    }
    match state.store.follower_ids(group_id).await {
        Ok(users) => notify(state, event_id, MessageKind::NewEvent, users, "followers").await,
        Err(e) => tracing::error!(error = %e, group_id, "automatic message: followers not readable"),
    }
}

/// Sends the reconfirmation requests that are due (each event exactly once, to everyone
/// confirmed at that moment), then releases the seats of those who let a deadline pass.
pub async fn run_reconfirmation(state: &AppState) {
    let now = crate::time::now();
    match state.store.claim_reconfirm_requests(now).await {
        Ok(due) => {
            for (event_id, users) in due {
                notify(state, event_id, MessageKind::Reconfirm, users, "confirmed").await;
            }
        }
        Err(e) => tracing::error!(error = %e, "reconfirmation requests not claimed"),
    }
    match state.store.release_unreconfirmed(now).await {
        Ok(released) => {
            for r in released {
                tracing::info!(
                    event_id = r.event_id,
                    released = r.released_user_ids.len(),
                    "unconfirmed seats released"
                );
                state.live.publish(r.event_id).await;
                notify(state, r.event_id, MessageKind::Released, r.released_user_ids, "released").await;
                notify(state, r.event_id, MessageKind::Promotion, r.promoted_user_ids, "promoted").await;
            }
        }
        Err(e) => tracing::error!(error = %e, "unconfirmed seats not released"),
    }
}
