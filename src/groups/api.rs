//! Public server functions for groups.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{Following, GroupDetail};
use crate::error::AppError;

/// A group with its upcoming and past public events; `NotFound` for unknown slugs.
#[server(endpoint = "groups/get", input = GetUrl)]
pub async fn get_group(slug: String) -> Result<GroupDetail, AppError> {
    let state = crate::server::state::app_state()?;
    crate::error::respond(async { state.store.fetch_group(&slug, crate::time::now()).await?.ok_or(AppError::NotFound) })
        .await
}

#[cfg(feature = "ssr")]
async fn group_id(slug: &str) -> Result<i64, AppError> {
    let state = crate::server::state::app_state()?;
    let filter = crate::server::store::public::GroupFilter {
        slugs: vec![slug.to_string()],
        include_unlisted: true,
        limit: 1,
        ..Default::default()
    };
    let (mut found, _) = state.store.public_groups(&filter).await?;
    found.pop().map(|g| g.id).ok_or(AppError::NotFound)
}

/// `GET /api/groups/follow-state?slug=` — follower count and whether I follow.
#[server(endpoint = "groups/follow-state", input = GetUrl)]
pub async fn follow_state(slug: String) -> Result<Following, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        let id = group_id(&slug).await?;
        let me = crate::server::session::current_user().await?;
        let (followers, following) = state.store.follow_state(id, me.as_ref().map(|u| u.id)).await?;
        Ok(Following { followers, following, signed_in: me.is_some() })
    })
    .await
}

/// `POST /api/groups/follow` — follows (`follow=true`) or unfollows a group (`slug`).
#[server(endpoint = "groups/follow")]
pub async fn follow_group(slug: String, follow: bool) -> Result<Following, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let id = group_id(&slug).await?;
        state.store.set_follow(id, user.id, follow, crate::time::now()).await?;
        let (followers, following) = state.store.follow_state(id, Some(user.id)).await?;
        Ok(Following { followers, following, signed_in: true })
    })
    .await
}

/// `GET /api/me/feed` — upcoming events of the groups I follow.
#[server(endpoint = "me/feed", input = GetUrl)]
pub async fn my_feed() -> Result<Vec<crate::events::model::EventCard>, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.followed_events(user.id, crate::time::now(), 20).await
    })
    .await
}
