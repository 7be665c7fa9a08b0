//! Public server functions for tags.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{TagCount, TagDetail};
use crate::error::AppError;

/// Every tag and tool with its count of upcoming events.
#[server(endpoint = "tags/list", input = GetUrl)]
pub async fn list_tags() -> Result<Vec<TagCount>, AppError> {
    let state = crate::server::state::app_state()?;
    state.store.list_tags(crate::time::now()).await
}

/// `GET /api/tags/get?slug=` — one tag or tool; `NotFound` for unknown slugs.
#[server(endpoint = "tags/get", input = GetUrl)]
pub async fn get_tag(slug: String) -> Result<TagDetail, AppError> {
    let state = crate::server::state::app_state()?;
    crate::error::respond(async { state.store.fetch_tag(&slug).await?.ok_or(AppError::NotFound) }).await
}
