//! Message server functions: organizers write to an event's registrants and see what was
//! sent (with delivery); everyone reads their own messages on `/me`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{InboxMessage, SentMessage};
use crate::error::AppError;

/// `POST /api/admin/messages/send` — writes to an event's registrants (`event_id`,
/// `audience`: `all`|`confirmed`|`waitlisted`|`frame:<id>`, `subject`, `body`). Owners and
/// admins. Returns the event's messages.
#[server(endpoint = "admin/messages/send")]
pub async fn send_message(
    event_id: i64,
    audience: String,
    subject: String,
    body: String,
) -> Result<Vec<SentMessage>, AppError> {
    crate::error::respond(async {
        use crate::error::FieldError;
        use crate::messages::model::{Audience, MessageKind, validate_message};
        let access = crate::admin::api::ssr::event_access(event_id).await?.editor()?;
        let mut errors = validate_message(&subject, &body);
        let parsed = Audience::parse(&audience);
        if parsed.is_none() {
            errors.push(FieldError::new("audience", "invalid_choice", "choose all, confirmed, waitlisted or a frame"));
        }
        let Some(audience) = parsed.filter(|_| errors.is_empty()) else {
            return Err(AppError::Invalid(errors));
        };
        // An allowance per organizer per hour (TSUDOI_MESSAGES_PER_HOUR): a hijacked or
        // spamming account cannot flood everyone who ever registered; new accounts have a
        // smaller one per day.
        crate::accounts::limits::check(&access.state, access.user.id, crate::accounts::limits::Creation::Message)
            .await?;
        let now = crate::time::now();
        let allowed = i64::from(access.state.config.rate_limits.messages_per_hour);
        let (sent, first) =
            access.state.store.messages_sent_since(access.user.id, now - chrono::Duration::hours(1)).await?;
        if sent >= allowed {
            let wait = first.map(|f| (f + chrono::Duration::hours(1) - now).num_seconds()).unwrap_or(60);
            return Err(AppError::RateLimited(wait.clamp(1, 3600) as u64));
        }
        let recipients = access.state.store.audience_user_ids(event_id, audience).await?;
        let count = recipients.len();
        access
            .state
            .store
            .create_message(&crate::server::store::NewMessage {
                event_id: Some(event_id),
                sender_id: Some(access.user.id),
                kind: MessageKind::Organizer,
                audience: audience.code(),
                subject: subject.trim().to_string(),
                body: body.trim().to_string(),
                recipients,
                email: access.state.config.mail_enabled(),
                at: now,
            })
            .await?;
        access
            .audit(Some(event_id), "message.send", format!("\"{}\" to {} ({count})", subject.trim(), audience.code()))
            .await?;
        access.state.store.sent_messages(event_id).await
    })
    .await
}

/// `GET /api/admin/messages/list?event_id=` — the event's messages, automatic ones too,
/// with how many read them and e-mail delivery counts (owners and admins).
#[server(endpoint = "admin/messages/list", input = GetUrl)]
pub async fn event_messages(event_id: i64) -> Result<Vec<SentMessage>, AppError> {
    crate::error::respond(async {
        let access = crate::admin::api::ssr::event_access(event_id).await?.editor()?;
        access.state.store.sent_messages(event_id).await
    })
    .await
}

/// `GET /api/me/messages` — my latest messages, newest first.
#[server(endpoint = "me/messages", input = GetUrl)]
pub async fn my_messages() -> Result<Vec<InboxMessage>, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.inbox(user.id, 100).await
    })
    .await
}

/// `POST /api/me/messages/read` — marks one of my messages read (`id`).
#[server(endpoint = "me/messages/read")]
pub async fn mark_message_read(id: i64) -> Result<(), AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        if state.store.mark_read(user.id, id, crate::time::now()).await? { Ok(()) } else { Err(AppError::NotFound) }
    })
    .await
}
