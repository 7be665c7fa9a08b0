//! `/metrics` (Prometheus text format) and `/readyz`.
//!
//! Counted as things happen: requests by route (the router's matched pattern, never the raw
//! path, so ids and queries do not multiply series) and status class, with a latency
//! histogram; registrations by outcome. Read at each scrape: open seat streams, database
//! connections in use and idle, e-mail deliveries by state, and the search index (events,
//! build time). One registry per process (several test servers in one process share it).

use std::sync::LazyLock;
use std::sync::atomic::AtomicU64;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::server::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    pool: String,
    state: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: String,
}

type Latency = Family<RouteLabels, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Latency,
    registrations: Family<OutcomeLabels, Counter>,
    streams: Gauge,
    pool: Family<PoolLabels, Gauge>,
    mail: Family<StateLabels, Gauge>,
    search_events: Gauge,
    search_build_seconds: Gauge<f64, AtomicU64>,
}

fn latency_histogram() -> Histogram {
    // 0.5 ms … ~4 s.
    Histogram::new(exponential_buckets(0.0005, 2.0, 14))
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::with_prefix("tsudoi");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register("http_requests", "HTTP requests by method, route and status class", requests.clone());
    let latency: Latency = Family::new_with_constructor(latency_histogram);
    registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
    let registrations = Family::<OutcomeLabels, Counter>::default();
    registry.register(
        "registrations",
        "Registration requests by outcome (confirmed, waitlisted, lottery_applied, or the refusal's code)",
        registrations.clone(),
    );
    let streams = Gauge::default();
    registry.register("live_streams_open", "Live seat streams (SSE) open now", streams.clone());
    let pool = Family::<PoolLabels, Gauge>::default();
    registry.register("db_connections", "Database connections by pool and state (in_use, idle)", pool.clone());
    let mail = Family::<StateLabels, Gauge>::default();
    registry.register("mail_deliveries", "E-mail deliveries by state (pending, retrying, sent, failed)", mail.clone());
    let search_events = Gauge::default();
    registry.register("search_index_events", "Events in the in-memory search index", search_events.clone());
    let search_build_seconds = Gauge::<f64, AtomicU64>::default();
    registry.register(
        "search_index_build_seconds",
        "Seconds the last full build of the search index took",
        search_build_seconds.clone(),
    );
    Metrics { registry, requests, latency, registrations, streams, pool, mail, search_events, search_build_seconds }
});

/// Counts a registration request's outcome (`confirmed`, `waitlisted`, `lottery_applied`, or
/// a refusal's code such as `registration_closed`).
pub fn registration(outcome: &str) {
    METRICS.registrations.get_or_create(&OutcomeLabels { outcome: outcome.to_string() }).inc();
}

/// Middleware: counts every request and its latency under the route that matched.
pub async fn track(req: Request, next: Next) -> Response {
    let route = req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let method = req.method().as_str().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    // Unmatched paths (static files, 404s) share one series.
    let route = route.unwrap_or_else(|| "other".to_string());
    let status = format!("{}xx", response.status().as_u16() / 100);
    METRICS.requests.get_or_create(&RequestLabels { method, route: route.clone(), status }).inc();
    METRICS.latency.get_or_create(&RouteLabels { route }).observe(started.elapsed().as_secs_f64());
    response
}

/// `GET /metrics`: the Prometheus text format (OpenMetrics), gauges read now.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let m = &*METRICS;
    m.streams.set(i64::try_from(state.live.open_streams()).unwrap_or(i64::MAX));
    for (pool, size, idle) in state.store.pool_stats() {
        let gauge =
            |s: &str| m.pool.get_or_create(&PoolLabels { pool: pool.to_string(), state: s.to_string() }).clone();
        gauge("in_use").set(i64::from(size.saturating_sub(idle)));
        gauge("idle").set(i64::from(idle));
    }
    match state.store.mail_queue_counts().await {
        Ok(counts) => {
            for (s, n) in counts {
                m.mail.get_or_create(&StateLabels { state: s.to_string() }).set(n);
            }
        }
        Err(e) => tracing::warn!(error = %e, "metrics: mail queue not readable"),
    }
    match state.store.search_index_stats().await {
        Ok((events, built)) => {
            m.search_events.set(i64::try_from(events).unwrap_or(i64::MAX));
            m.search_build_seconds.set(built.unwrap_or(0.0));
        }
        Err(e) => tracing::warn!(error = %e, "metrics: search index not readable"),
    }
    let mut body = String::new();
    if prometheus_client::encoding::text::encode(&mut body, &m.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

/// `GET /readyz`: 200 when this instance can serve everything (the database answers,
/// migrations ran, the search index is built); 503 with the reason while it cannot, so a
/// load balancer sends no traffic to an instance still building its index.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let reason = match state.store.ping().await {
        Err(_) => Some("database not answering"),
        Ok(()) if !state.store.search_index_ready() => Some("search index building"),
        Ok(()) => None,
    };
    match reason {
        None => (StatusCode::OK, axum::Json(serde_json::json!({ "status": "ready" }))).into_response(),
        Some(message) => (
            StatusCode::SERVICE_UNAVAILABLE,
            axum::Json(serde_json::json!({ "status": "not_ready", "message": message })),
        )
            .into_response(),
    }
}
