//! Webhook server functions: owners and admins of a group manage its webhooks. Each checks
//! the caller's role in the webhook's group itself; a secret leaves the server only in the
//! answers of `create` and `rotate`.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{WebhookPanel, WebhookSecret};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use crate::admin::api::ssr::{Access, group_access};
    use crate::error::AppError;
    use crate::webhooks::model::WebhookPanel;

    /// Owners' and admins' access to the group of webhook `id` (404 for an unknown one).
    pub async fn hook_access(id: i64) -> Result<Access, AppError> {
        let state = crate::server::state::app_state()?;
        crate::server::session::require_user().await?;
        let group_id = state.store.webhook_group(id).await?.ok_or(AppError::NotFound)?;
        group_access(group_id).await?.editor()
    }

    pub async fn panel(access: &Access) -> Result<WebhookPanel, AppError> {
        let store = &access.state.store;
        Ok(WebhookPanel {
            hooks: store.webhooks_of(access.group_id).await?,
            deliveries: store.deliveries_of(access.group_id, 30).await?,
        })
    }
}

/// `POST /api/admin/webhooks/create` — a webhook for my group (`group_id`, `url`, `events`:
/// comma-separated types). Answers `{id, secret}`: the signing secret, shown this once.
#[server(endpoint = "admin/webhooks/create")]
pub async fn create_webhook(group_id: i64, url: String, events: String) -> Result<WebhookSecret, AppError> {
    crate::error::respond(async {
        let access = crate::admin::api::ssr::group_access(group_id).await?.editor()?;
        let url = super::model::validate_url(&url);
        let types = super::model::parse_types(&events);
        let (url, types) = match (url, types) {
            (Ok(u), Ok(t)) => (u, t),
            (u, t) => return Err(AppError::Invalid(u.err().into_iter().chain(t.err()).collect())),
        };
        let secret = super::model::new_secret();
        let now = crate::time::now().timestamp();
        let id = access.state.store.create_webhook(group_id, &url, &types, &secret, access.user.id, now).await?;
        access.audit(None, "webhook.create", format!("{url} ({})", types.join(", "))).await?;
        Ok(WebhookSecret { id, secret })
    })
    .await
}

/// `GET /api/admin/webhooks/list?group_id=` — my group's webhooks (without secrets) and their
/// latest 30 deliveries.
#[server(endpoint = "admin/webhooks/list", input = GetUrl)]
pub async fn list_webhooks(group_id: i64) -> Result<WebhookPanel, AppError> {
    crate::error::respond(async {
        let access = crate::admin::api::ssr::group_access(group_id).await?.editor()?;
        ssr::panel(&access).await
    })
    .await
}

/// `POST /api/admin/webhooks/delete` — removes a webhook (`id`) and its delivery log.
#[server(endpoint = "admin/webhooks/delete")]
pub async fn delete_webhook(id: i64) -> Result<WebhookPanel, AppError> {
    crate::error::respond(async {
        let access = ssr::hook_access(id).await?;
        access.state.store.delete_webhook(id).await?;
        access.audit(None, "webhook.delete", format!("webhook {id}")).await?;
        ssr::panel(&access).await
    })
    .await
}

/// `POST /api/admin/webhooks/rotate` — a new signing secret for webhook `id` (the old one
/// stops at once); answers `{id, secret}`, shown this once.
#[server(endpoint = "admin/webhooks/rotate")]
pub async fn rotate_webhook(id: i64) -> Result<WebhookSecret, AppError> {
    crate::error::respond(async {
        let access = ssr::hook_access(id).await?;
        let secret = super::model::new_secret();
        access.state.store.rotate_webhook(id, &secret).await?;
        access.audit(None, "webhook.rotate", format!("webhook {id}: new secret")).await?;
        Ok(WebhookSecret { id, secret })
    })
    .await
}

/// `POST /api/admin/webhooks/test` — queues a signed `webhook.test` delivery to webhook `id`.
#[server(endpoint = "admin/webhooks/test")]
pub async fn test_webhook(id: i64) -> Result<WebhookPanel, AppError> {
    crate::error::respond(async {
        let access = ssr::hook_access(id).await?;
        let slug = access
            .state
            .store
            .admin_groups(access.user.id)
            .await?
            .into_iter()
            .find(|g| g.id == access.group_id)
            .map(|g| g.slug)
            .unwrap_or_default();
        access.state.store.queue_test_delivery(id, &slug, crate::time::now().timestamp()).await?;
        ssr::panel(&access).await
    })
    .await
}
