//! The public read API, compatible with connpass API v2 (`/api/v2/…`): the same paths,
//! parameters, envelope and field names, so existing connpass clients, bots and
//! aggregators work unchanged. What connpass lacks is added as extra fields, never by
//! renaming (tags, tools, frames with their counts, language, time zone, registration
//! window). Keyless (an `X-API-Key` header is accepted and ignored), rate limited per
//! client IP, CORS open for GET, with `ETag` and `Cache-Control`. Server only.

mod params;
mod wire;

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{ConnectInfo, FromRequestParts, Path, RawQuery, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::cors::{Any, CorsLayer};

pub use params::{ApiError, Params};

use crate::server::http::conditional;
use crate::server::state::AppState;
use crate::server::store::public::{EventFilter, EventOrder, GroupFilter, Reach, UserFilter};

/// Largest `count`, default `count` (as connpass).
pub const MAX_COUNT: u32 = 100;
pub const DEFAULT_COUNT: u32 = 10;

const JSON: &str = "application/json";
/// Bots poll: a minute of caching costs them nothing and us little.
const CACHE: &str = "public, max-age=60";

/// The OpenAPI 3.1 description served at `/api/v2/openapi.json`.
pub const OPENAPI: &str = include_str!("openapi.json");

/// Routes to nest under `/api/v2`, each with and without the trailing slash (clients use
/// both).
pub fn routes(state: AppState) -> Router<AppState> {
    let mut r = Router::new();
    for (path, handler) in [
        ("/events", get(events)),
        ("/events/{id}/presentations", get(presentations)),
        ("/groups", get(groups)),
        ("/users", get(users)),
        ("/users/{nickname}/attended_events", get(attended_events)),
        ("/users/{nickname}/presenter_events", get(presenter_events)),
        ("/users/{nickname}/groups", get(user_groups)),
    ] {
        r = r.route(&format!("{path}/"), handler.clone()).route(path, handler);
    }
    // The per-IP limit covers the data routes (added above), before any work; CORS is
    // outermost, so preflights cost nothing.
    r.route_layer(middleware::from_fn_with_state(state, rate_limit))
        .route("/openapi.json", get(openapi))
        .fallback(not_found)
        .layer(
            CorsLayer::new()
                .allow_origin(Any)
                .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
                .allow_headers(Any)
                .expose_headers([header::ETAG, header::RETRY_AFTER]),
        )
}

async fn not_found() -> Response {
    ApiError::not_found("no such API endpoint").into_response()
}

async fn rate_limit(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let client = crate::server::client_ip::client_ip(addr, req.headers(), &state.config.trusted_proxies);
    match state.limits.api(client) {
        Ok(()) => next.run(req).await,
        Err(crate::error::AppError::RateLimited(secs)) => ApiError::rate_limited(secs).into_response(),
        Err(_) => ApiError::internal().into_response(),
    }
}

fn json_ok(headers: &HeaderMap, value: &serde_json::Value) -> Response {
    match serde_json::to_vec(value) {
        Ok(body) => conditional(headers, body, JSON, CACHE),
        Err(_) => ApiError::internal().into_response(),
    }
}

fn envelope(key: &str, items: Vec<serde_json::Value>, total: i64, start: u32) -> serde_json::Value {
    serde_json::json!({
        "results_returned": items.len(),
        "results_available": total,
        "results_start": start,
        key: items,
    })
}

type ApiResult = Result<Response, ApiError>;

/// Awaits a handler's body and answers with its response, or its error as JSON.
async fn respond(body: impl Future<Output = ApiResult>) -> Response {
    body.await.unwrap_or_else(IntoResponse::into_response)
}

/// The query's parameters with its `start` and `count`.
fn paged(q: Option<String>) -> Result<(Params, u32, u32), ApiError> {
    let p = Params::parse(q.as_deref().unwrap_or(""));
    let (start, count) = p.paging()?;
    Ok((p, start, count))
}

/// One page of events in the envelope.
async fn events_page(state: &AppState, headers: &HeaderMap, filter: EventFilter, start: u32) -> ApiResult {
    let (found, total) = state.store.public_events(&filter).await?;
    let now = crate::time::now();
    let items = found.iter().map(|e| wire::event(e, &state.config.public_url, now)).collect();
    Ok(json_ok(headers, &envelope("events", items, total, start)))
}

/// One page of groups in the envelope.
async fn groups_page(state: &AppState, headers: &HeaderMap, filter: GroupFilter, start: u32) -> ApiResult {
    let (found, total) = state.store.public_groups(&filter).await?;
    let items = found.iter().map(|g| wire::group(g, &state.config.public_url)).collect();
    Ok(json_ok(headers, &envelope("groups", items, total, start)))
}

async fn events(State(state): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    respond(async {
        let (p, start, count) = paged(q)?;
        let (keywords, keywords_or) = p.keywords()?;
        let filter = EventFilter {
            ids: p.ints("event_id")?,
            keywords,
            keywords_or,
            starts_in: p.months_and_days()?,
            participants: p.list("nickname"),
            include_waitlisted: false,
            owners: p.list("owner_nickname"),
            group_ids: p.ints("group_id")?,
            group_slugs: p.list("subdomain"),
            prefectures: p.prefectures()?,
            tag_slugs: p.list("tag"),
            ends_after: None,
            reach: Reach::Listed,
            order: p.order()?,
            offset: start - 1,
            limit: count,
        };
        events_page(&state, &headers, filter, start).await
    })
    .await
}

async fn presentations(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    respond(async {
        let id: i64 = id.parse().map_err(|_| ApiError::invalid("event_id", "the event id must be an integer"))?;
        let (_, start, count) = paged(q)?;
        // Unlisted and invitation-only events are not in the API.
        let listed = EventFilter { ids: vec![id], limit: 1, ..Default::default() };
        if state.store.public_events(&listed).await?.0.is_empty() {
            return Err(ApiError::not_found("no such event"));
        }
        let all = state.store.materials(&[id]).await?;
        let total = all.len() as i64;
        let items = all
            .iter()
            .skip((start - 1) as usize)
            .take(count as usize)
            .map(|m| wire::presentation(m, &state.config.public_url))
            .collect();
        Ok(json_ok(&headers, &envelope("presentations", items, total, start)))
    })
    .await
}

async fn groups(State(state): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    respond(async {
        let (p, start, count) = paged(q)?;
        let filter = GroupFilter {
            ids: p.ints("group_id")?,
            slugs: p.list("subdomain"),
            members: Vec::new(),
            include_unlisted: false,
            offset: start - 1,
            limit: count,
        };
        groups_page(&state, &headers, filter, start).await
    })
    .await
}

async fn users(State(state): State<AppState>, RawQuery(q): RawQuery, headers: HeaderMap) -> Response {
    respond(async {
        let (p, start, count) = paged(q)?;
        let filter = UserFilter { nicknames: p.list("nickname"), offset: start - 1, limit: count };
        let (found, total) = state.store.public_users(&filter).await?;
        let items = found.iter().map(|u| wire::user(u, &state.config.public_url)).collect();
        Ok(json_ok(&headers, &envelope("users", items, total, start)))
    })
    .await
}

/// A `/users/{nickname}/…` request: its `start` and `count` (400 when they are bad), for a
/// user who exists (404 otherwise).
struct UserPage {
    nickname: String,
    start: u32,
    count: u32,
}

impl FromRequestParts<AppState> for UserPage {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let Path(nickname) =
            Path::<String>::from_request_parts(parts, state).await.map_err(IntoResponse::into_response)?;
        let found = async {
            let (_, start, count) = paged(parts.uri.query().map(str::to_owned))?;
            let filter = UserFilter { nicknames: vec![nickname.clone()], offset: 0, limit: 1 };
            let (found, _) = state.store.public_users(&filter).await?;
            if found.is_empty() { Err(ApiError::not_found("no such user")) } else { Ok((start, count)) }
        };
        let (start, count) = found.await.map_err(IntoResponse::into_response)?;
        Ok(UserPage { nickname, start, count })
    }
}

async fn attended_events(State(state): State<AppState>, headers: HeaderMap, user: UserPage) -> Response {
    let UserPage { nickname, start, count } = user;
    let filter = EventFilter {
        participants: vec![nickname],
        order: EventOrder::Start,
        offset: start - 1,
        limit: count,
        ..Default::default()
    };
    respond(events_page(&state, &headers, filter, start)).await
}

async fn presenter_events(State(state): State<AppState>, headers: HeaderMap, user: UserPage) -> Response {
    let UserPage { nickname, start, count } = user;
    respond(async {
        let ids = state.store.presenter_event_ids(&nickname).await?;
        if ids.is_empty() {
            return Ok(json_ok(&headers, &envelope("events", Vec::new(), 0, start)));
        }
        let filter =
            EventFilter { ids, order: EventOrder::Start, offset: start - 1, limit: count, ..Default::default() };
        events_page(&state, &headers, filter, start).await
    })
    .await
}

async fn user_groups(State(state): State<AppState>, headers: HeaderMap, user: UserPage) -> Response {
    let UserPage { nickname, start, count } = user;
    let filter = GroupFilter { members: vec![nickname], offset: start - 1, limit: count, ..Default::default() };
    respond(groups_page(&state, &headers, filter, start)).await
}

async fn openapi(headers: HeaderMap) -> Response {
    conditional(&headers, OPENAPI.as_bytes().to_vec(), JSON, "public, max-age=3600")
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, axum::Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut().insert(header::RETRY_AFTER, axum::http::HeaderValue::from(secs));
        }
        resp
    }
}
