//! The search server function: the page's URL parameters in, results and facets out.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::SearchResults;
use crate::error::AppError;

/// `GET /api/events/search?q=&tags=&tools=&date=&from=&to=&pref=&area=&lang=&sort=&page=`
/// — anyone; the same parameters as `/events`. Malformed values are ignored and reported in
/// `warnings`, never an error.
#[server(endpoint = "events/search", input = GetUrl)]
pub async fn search_events(
    q: Option<String>,
    tags: Option<String>,
    tools: Option<String>,
    date: Option<String>,
    from: Option<String>,
    to: Option<String>,
    pref: Option<String>,
    area: Option<String>,
    lang: Option<String>,
    sort: Option<String>,
    page: Option<String>,
) -> Result<SearchResults, AppError> {
    let params = [
        ("q", q),
        ("tags", tags),
        ("tools", tools),
        ("date", date),
        ("from", from),
        ("to", to),
        ("pref", pref),
        ("area", area),
        ("lang", lang),
        ("sort", sort),
        ("page", page),
    ];
    let (query, mut warnings) =
        super::model::SearchQuery::parse(params.iter().filter_map(|(k, v)| v.as_deref().map(|v| (*k, v))));
    let state = crate::server::state::app_state()?;
    let mut results = state.store.search(&query, chrono::Utc::now()).await?;
    warnings.append(&mut results.warnings);
    results.warnings = warnings;
    Ok(results)
}
