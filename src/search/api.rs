//! The search server function: the page's URL parameters in, results and facets out.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{SearchParams, SearchResults};
use crate::error::AppError;

/// `GET /api/events/search?q=&tags=&tools=&date=&from=&to=&pref=&area=&lang=&sort=&page=`
/// — anyone; the same parameters as `/events`. Malformed values are ignored and reported in
/// `warnings`, never an error.
#[server(endpoint = "events/search", input = GetUrl)]
pub async fn search_events(#[server(flatten)] params: SearchParams) -> Result<SearchResults, AppError> {
    let (query, mut warnings) = params.parse();
    let state = crate::server::state::app_state()?;
    let mut results = state.store.search(&query, crate::time::now()).await?;
    warnings.append(&mut results.warnings);
    results.warnings = warnings;
    Ok(results)
}
