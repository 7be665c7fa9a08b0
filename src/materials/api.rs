//! Material server functions. Anyone may list; adding needs an organizer (owner or admin
//! of the event's group) or a speaker of the event; removing needs the person who added
//! it or an organizer.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{Material, MaterialsPanel};
use crate::error::AppError;

/// `GET /api/materials/list?event_id=` — the event's materials and whether I may add one.
#[server(endpoint = "materials/list", input = GetUrl)]
pub async fn list_materials(event_id: i64, invite: Option<String>) -> Result<MaterialsPanel, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        crate::events::api::admit(&state, event_id, invite.as_deref()).await?;
        state.store.fetch_card(event_id).await?.ok_or(AppError::NotFound)?;
        let me = crate::server::session::current_user().await?;
        let (can_add, organizer) = match &me {
            Some(u) => (
                state.store.may_attach_material(event_id, u.id).await?,
                state.store.organizes_event(event_id, u.id).await?,
            ),
            None => (false, false),
        };
        let rows = state.store.materials(&[event_id]).await?;
        let items = rows
            .into_iter()
            .map(|m| Material {
                removable: organizer || me.as_ref().is_some_and(|u| u.id == m.user.id),
                id: m.id,
                kind: super::model::MaterialKind::parse(&m.kind).unwrap_or(super::model::MaterialKind::Other),
                title: m.title,
                url: m.url,
                nickname: m.user.nickname,
                display_name: m.user.display_name,
            })
            .collect();
        Ok(MaterialsPanel { items, can_add })
    })
    .await
}

/// `POST /api/materials/add` — attaches a material (`event_id`, `url`, `title`, `kind`:
/// `slide`, `blog`, `movie` or `other`).
#[server(endpoint = "materials/add")]
pub async fn add_material(event_id: i64, url: String, title: String, kind: String) -> Result<Material, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.fetch_card(event_id).await?.ok_or(AppError::NotFound)?;
        if !state.store.may_attach_material(event_id, user.id).await? {
            return Err(AppError::Forbidden);
        }
        let input = super::model::MaterialInput::parse(&url, &title, &kind).map_err(AppError::Invalid)?;
        let row = state
            .store
            .add_material(&crate::server::store::public::NewMaterial {
                event_id,
                user_id: user.id,
                url: input.url,
                title: input.title,
                kind: input.kind.as_str().to_string(),
                created_at: crate::time::now(),
            })
            .await?;
        Ok(Material {
            id: row.id,
            kind: input.kind,
            title: row.title,
            url: row.url,
            nickname: row.user.nickname,
            display_name: row.user.display_name,
            removable: true,
        })
    })
    .await
}

/// `POST /api/materials/delete` — removes a material (`id`).
#[server(endpoint = "materials/delete")]
pub async fn delete_material(id: i64) -> Result<(), AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let m = state.store.material(id).await?.ok_or(AppError::NotFound)?;
        if m.user.id != user.id && !state.store.organizes_event(m.event_id, user.id).await? {
            return Err(AppError::Forbidden);
        }
        state.store.delete_material(id).await?;
        Ok(())
    })
    .await
}
