//! Public server functions for tags.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::TagCount;
use crate::error::AppError;

/// Every tag and tool with its count of upcoming events.
#[server(endpoint = "tags/list", input = GetUrl)]
pub async fn list_tags() -> Result<Vec<TagCount>, AppError> {
    let state = crate::server::state::app_state()?;
    state.store.list_tags(chrono::Utc::now()).await
}
