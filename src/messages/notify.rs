//! Automatic messages (confirmations, promotions, reminders, reconfirmation requests and
//! releases, event changes and cancellations, news for followers). Every one is stored by
//! the write that causes it, in the same transaction (the outbox): a crash never keeps a
//! change without its message, nor a message without its change. The store composes them
//! with [`crate::messages::records::Outbox`]; [`notice`] composes one here when the caller
//! already has the event's title and time. E-mail deliveries are rows of the same write.

use super::model::MessageKind;
use crate::server::state::AppState;
use crate::server::store::Notice;

/// An automatic message about the event, for a write to store in its own transaction (see
/// [`Notice`]); the write addresses it.
pub fn notice(
    state: &AppState,
    event_id: i64,
    context: &(String, crate::time::ZonedSpan),
    kind: MessageKind,
    audience: &'static str,
) -> Notice {
    state.config.outbox().notice(event_id, context, kind, audience)
}

/// Sends the day-before reminders that are due (each event exactly once; the claim and the
/// messages are one write).
pub async fn send_due_reminders(state: &AppState) {
    let outbox = state.config.outbox();
    if let Err(e) = state.store.send_due_reminders(crate::time::now(), chrono::Duration::hours(24), Some(&outbox)).await
    {
        tracing::error!(error = %e, "reminders not sent");
    }
}

/// Tells a group's followers about a newly published event, once per event, whoever
/// publishes it first: a republished event is not news again. The mark and the message are
/// one write.
pub async fn notify_followers(state: &AppState, event_id: i64) {
    let outbox = state.config.outbox();
    if let Err(e) = state.store.announce(event_id, crate::time::now(), Some(&outbox)).await {
        tracing::error!(error = %e, event_id, "followers not told");
    }
}

/// Sends the reconfirmation requests that are due (each event exactly once, to everyone
/// confirmed at that moment), then releases the seats of those who let a deadline pass. Each
/// claim and its messages are one write.
pub async fn run_reconfirmation(state: &AppState) {
    let now = crate::time::now();
    let outbox = state.config.outbox();
    if let Err(e) = state.store.claim_reconfirm_requests(now, &outbox).await {
        tracing::error!(error = %e, "reconfirmation requests not claimed");
    }
    match state.store.release_unreconfirmed(now, &outbox).await {
        Ok(released) => {
            for r in released {
                tracing::info!(
                    event_id = r.event_id,
                    released = r.released_user_ids.len(),
                    "unconfirmed seats released"
                );
                state.live.publish(r.event_id).await;
            }
        }
        Err(e) => tracing::error!(error = %e, "unconfirmed seats not released"),
    }
}
