//! Public server functions for groups.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::GroupDetail;
use crate::error::AppError;

/// A group with its upcoming and past public events; `NotFound` for unknown slugs.
#[server(endpoint = "groups/get", input = GetUrl)]
pub async fn get_group(slug: String) -> Result<GroupDetail, AppError> {
    let state = crate::server::state::app_state()?;
    let result = state.store.fetch_group(&slug, chrono::Utc::now()).await.and_then(|g| g.ok_or(AppError::NotFound));
    crate::error::set_status_for(&result);
    result
}
