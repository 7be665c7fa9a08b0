//! Builds the whole application (router + state) from a configuration. `main` and the
//! HTTP tests both start Tsudoi through here.

use std::sync::Arc;

use anyhow::Context;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Json};
use axum::routing::get;
use axum::{Router, middleware};
use leptos::config::LeptosOptions;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};
use tracing::Level;

use super::config::Config;
use super::ratelimit::RateLimits;
use super::session::{DbSessionStore, SESSION_COOKIE};
use super::state::AppState;
use super::{api_status, lang, origin, password, store, tasks};
use crate::app::{App, shell};
use crate::live::hub::LiveHub;
use crate::live::routes as live_routes;

/// Password of the demo accounts (documented in the README; demo mode only).
pub const DEMO_PASSWORD: &str = "tsudoi-demo";

/// Opens the store, loads demo data when asked, and assembles the router.
pub async fn build(config: Config, leptos_options: LeptosOptions) -> anyhow::Result<(Router, AppState)> {
    if let Some(start) = crate::time::clock::start_from_env().map_err(anyhow::Error::msg)? {
        tracing::warn!(%start, now = %crate::time::now(), "TSUDOI_NOW: the clock started at another instant");
    }
    let store = store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening and migrating {}", config.database_url))?;
    if config.demo {
        if store.is_empty().await? {
            let hash = password::hash(DEMO_PASSWORD.to_string()).await?;
            let summary = crate::demo::load_demo(&store, crate::time::now(), &hash).await?;
            tracing::info!(
                events = summary.events,
                groups = summary.groups,
                users = summary.users,
                tags = summary.tags,
                "demo data loaded"
            );
        }
        tracing::warn!(
            "DEMO MODE: accounts organizer@example.com and attendee@example.com have the password \
             `{DEMO_PASSWORD}`; do not expose this instance to the internet"
        );
    }
    let forms = super::formguard::FormGuard::new(&store.site_secret("forms").await?, config.form_min_fill_secs);
    let state = AppState {
        leptos_options,
        forms: Arc::new(forms),
        live: Arc::new(LiveHub::new(store.clone(), config.stream_limits)),
        limits: Arc::new(RateLimits::new(config.rate_limits)),
        shutdown: Default::default(),
        store,
        config: Arc::new(config),
    };
    // Seat changes made by other instances on the same database (PostgreSQL) reach this
    // instance's live subscribers too.
    if let Some(mut announced) = state.store.seat_announcements().await? {
        let live = state.live.clone();
        tokio::spawn(async move {
            while let Some(event_id) = announced.recv().await {
                live.publish_local(event_id).await;
            }
        });
    }
    tasks::spawn(state.clone());
    Ok((router(state.clone()), state))
}

/// The route table: health check, Leptos pages and server functions, static files.
pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let options = state.leptos_options.clone();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.store.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.config.behind_tls())
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(time::Duration::days(crate::server::session::IDLE_DAYS)));
    let hsts = state.config.behind_tls();
    // `/metrics` on the main address unless TSUDOI_METRICS_ADDR gives it its own (see `run`).
    let metrics_here = std::env::var("TSUDOI_METRICS_ADDR").map_or(true, |a| a.trim().is_empty());
    let mut app = Router::new().route("/healthz", get(healthz)).route("/readyz", get(crate::server::metrics::readyz));
    if metrics_here {
        app = app.route("/metrics", get(crate::server::metrics::metrics));
    }
    let app = app
        .route("/live/events", get(live_routes::many_events))
        .route("/live/events/{id}", get(live_routes::one_event))
        .route("/embed/groups/{slug}", get(crate::groups::embed::group_widget))
        .merge(crate::feeds::routes::routes())
        .route("/admin/events/{id}/attendees.csv", get(crate::admin::routes::attendees_csv_route))
        .nest("/api/v2", crate::api_v2::routes(state.clone()))
        .leptos_routes(&state, routes, move || shell(options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn(api_status::fix_server_fn_error_status))
        // Outside the status fix, so refused server functions count as the 4xx they answer.
        .layer(middleware::from_fn(crate::server::metrics::track))
        .layer(sessions)
        .layer(middleware::from_fn(origin::same_origin_writes))
        .layer(middleware::from_fn(lang::apply_lang_query))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("strict-origin-when-cross-origin"),
        ))
        // No framing, except the embeddable widget, whose own policy names who may frame it.
        .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, |res: &axum::response::Response| {
            let csp = res.headers().get(header::CONTENT_SECURITY_POLICY).and_then(|v| v.to_str().ok());
            let framable = csp.is_some_and(|p| p.contains("frame-ancestors") && !p.contains("frame-ancestors 'none'"));
            (!framable).then(|| HeaderValue::from_static("DENY"))
        }))
        .layer(middleware::from_fn(crate::server::csp::apply))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::STRICT_TRANSPORT_SECURITY,
            // Only behind TLS: a browser that saw it over plain HTTP would ignore it anyway,
            // and a test instance on http://127.0.0.1 must not pin anything.
            hsts.then(|| HeaderValue::from_static("max-age=31536000")),
        ))
        .layer(CompressionLayer::new())
        .layer(tower_http::limit::RequestBodyLimitLayer::new(crate::server::http::MAX_BODY))
        .layer(middleware::from_fn(crate::server::http::json_payload_too_large))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &axum::http::Request<_>| {
                    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
                    tracing::info_span!(
                        "request",
                        method = %req.method(),
                        path = %logged_path(req.uri().path()),
                        request_id = %id
                    )
                })
                .on_request(())
                .on_response(DefaultOnResponse::new().level(Level::INFO)),
        )
        .with_state(state);
    // Rewrites that must happen before routing wrap the whole router.
    Router::new().fallback_service(
        tower::ServiceBuilder::new()
            .layer(middleware::from_fn(crate::server::http::request_id))
            .layer(middleware::from_fn(crate::feeds::routes::rewrite_event_ics))
            .service(app),
    )
}

/// The path as the request log shows it: no query string (it may carry a `next` or a search a
/// person typed), and a calendar feed's secret replaced by `{secret}`.
fn logged_path(path: &str) -> std::borrow::Cow<'_, str> {
    match path.strip_prefix("/calendar/").and_then(|rest| rest.split_once('/')) {
        Some((_, tail)) => format!("/calendar/{{secret}}/{tail}").into(),
        None => path.into(),
    }
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, Json(serde_json::json!({ "status": "ok" }))),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unavailable", "message": "database not answering" })),
        ),
    }
}

/// Serves until Ctrl-C or SIGTERM, then drains (see `server::shutdown`).
pub async fn run(config: Config) -> anyhow::Result<()> {
    let conf = get_configuration(None).context("reading Leptos configuration")?;
    let addr = conf.leptos_options.site_addr;
    let (router, state) = build(config, conf.leptos_options).await?;
    if let Some(metrics_addr) = std::env::var("TSUDOI_METRICS_ADDR").ok().filter(|a| !a.trim().is_empty()) {
        let listener = tokio::net::TcpListener::bind(metrics_addr.trim())
            .await
            .with_context(|| format!("binding TSUDOI_METRICS_ADDR {metrics_addr}"))?;
        let metrics = Router::new().route("/metrics", get(crate::server::metrics::metrics)).with_state(state.clone());
        tracing::info!("metrics on http://{}/metrics", metrics_addr.trim());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, metrics).await {
                tracing::error!(error = %e, "the metrics listener stopped");
            }
        });
    }
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("binding {addr}"))?;
    tracing::info!("Tsudoi listening on http://{addr}");
    let shutdown = state.shutdown.clone();
    let grace = state.config.shutdown_timeout;
    let stopping = {
        let shutdown = shutdown.clone();
        async move {
            shutdown_signal().await;
            tracing::info!(timeout = ?grace, "stopping: no new connections; finishing requests, closing seat streams, stopping workers");
            shutdown.begin();
        }
    };
    let server = axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(stopping)
        .into_future();
    // The drain is bounded: after `grace`, whatever is still open is cut.
    let deadline = {
        let begun = shutdown.begun();
        async move {
            begun.await;
            tokio::time::sleep(grace).await;
        }
    };
    tokio::select! {
        served = server => served?,
        () = deadline => tracing::warn!(timeout = ?grace, "requests still open at the shutdown timeout; closing them"),
    }
    let drained = shutdown.elapsed();
    tracing::info!(elapsed = ?drained, "requests and seat streams drained");
    if !shutdown.workers_stopped(grace.saturating_sub(drained).max(std::time::Duration::from_secs(1))).await {
        tracing::warn!("background workers still busy at the shutdown timeout; stopping them where they are");
    }
    // Bounded too: a connection still held somewhere must not keep the process alive.
    if tokio::time::timeout(std::time::Duration::from_secs(5), state.store.close()).await.is_err() {
        tracing::warn!("database connections still in use after 5 s; exiting without waiting for them");
    }
    tracing::info!(elapsed = ?shutdown.elapsed(), "stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_request_log_never_shows_a_calendar_secret() {
        assert_eq!(super::logged_path("/calendar/0a1b2c/registrations.ics"), "/calendar/{secret}/registrations.ics");
        assert_eq!(super::logged_path("/events/3"), "/events/3");
        assert_eq!(super::logged_path("/calendar/"), "/calendar/");
    }
}
