//! `GET /live/events/{id}` and `GET /live/events?ids=1,2,3`: Server-Sent Events with a
//! JSON seat snapshot on connect and after every change, and keep-alive comments; when the
//! instance stops, a `restart` event with `retry:` before the stream ends.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Json, Response};
use futures::stream::{self, Stream, StreamExt};
use serde::Deserialize;
use tokio_stream::wrappers::WatchStream;

use crate::registrations::model::SeatSnapshot;
use crate::server::state::AppState;

/// Most events one stream may follow (a list page shows 20).
pub const MAX_IDS: usize = 100;

fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Json(serde_json::json!({ "error": "bad_request", "message": message }))).into_response()
}

fn seats_event(snapshot: &SeatSnapshot) -> Event {
    Event::default().event("seats").json_data(snapshot).unwrap_or_else(|_| Event::default().comment("encode error"))
}

/// How long a refused stream is asked to wait before trying again.
const RETRY_AFTER_SECS: u64 = 30;

async fn stream_for(state: AppState, client: IpAddr, ids: Vec<i64>) -> Response {
    let Some(permit) = state.live.open_stream(client) else {
        let body = Json(serde_json::json!({
            "error": "unavailable",
            "message": "too many live streams open; the page works without live seats and retries later",
        }));
        return (StatusCode::SERVICE_UNAVAILABLE, [(header::RETRY_AFTER, RETRY_AFTER_SECS.to_string())], body)
            .into_response();
    };
    let mut initial = Vec::with_capacity(ids.len());
    let mut updates = Vec::with_capacity(ids.len());
    for id in &ids {
        // Subscribe before reading, so a change between the two is not missed.
        let rx = state.live.subscribe(*id);
        match state.store.seat_snapshot(*id).await {
            Ok(Some(snapshot)) => {
                initial.push(snapshot);
                updates.push(WatchStream::from_changes(rx));
            }
            Ok(None) => {
                // No such event: keep no channel for it.
                drop(rx);
                state.live.forget_if_idle(*id);
            }
            Err(_) => return StatusCode::SERVICE_UNAVAILABLE.into_response(),
        }
    }
    if initial.is_empty() {
        return (StatusCode::NOT_FOUND, Json(serde_json::json!({ "error": "not_found", "message": null })))
            .into_response();
    }
    let first = stream::iter(initial.into_iter().map(|s| Ok::<_, Infallible>(seats_event(&s))));
    // The permit lives as long as the stream: when the client goes away, its place is free.
    let rest = stream::select_all(updates).filter_map(move |s| {
        let _held = &permit;
        let event = s.map(|s| Ok(seats_event(&s)));
        async move { event }
    });
    // On shutdown the stream says when to come back and ends, so it does not hold the
    // stopping instance open (see `server::shutdown`).
    let stop = state.shutdown.begun();
    let restart = stream::once(async { Ok::<_, Infallible>(restart_event()) });
    sse(first.chain(rest.take_until(stop)).chain(restart)).into_response()
}

/// The last event of a stream whose instance is stopping: `retry:` (and the data, for our
/// own client) asks to reconnect after 1–4 s, spread so that a restart's reconnections do
/// not arrive all at once.
fn restart_event() -> Event {
    use rand::Rng;
    let ms: u64 = rand::rng().random_range(1_000..4_000);
    Event::default().event("restart").retry(Duration::from_millis(ms)).data(ms.to_string())
}

/// The client a stream counts against (see `crate::server::client_ip`).
fn client_of(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> IpAddr {
    crate::server::client_ip::client_ip(peer, headers, &state.config.trusted_proxies)
}

fn sse(stream: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> impl IntoResponse {
    (
        [("cache-control", "no-cache"), ("x-accel-buffering", "no")],
        Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)).text("keep-alive")),
    )
}

/// `GET /live/events/{id}`
pub async fn one_event(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    match id.parse::<i64>() {
        Ok(id) if id > 0 => {
            let client = client_of(&state, peer, &headers);
            stream_for(state, client, vec![id]).await
        }
        _ => bad_request("event id must be a positive integer"),
    }
}

#[derive(Deserialize)]
pub struct IdsQuery {
    ids: Option<String>,
}

/// Parses `1,2,3` (deduplicated, at most [`MAX_IDS`] listed: the count is checked before
/// anything is parsed or compared, so a long list costs no more than a short one).
pub fn parse_ids(raw: &str) -> Result<Vec<i64>, String> {
    let parts: Vec<&str> = raw.split(',').map(str::trim).filter(|p| !p.is_empty()).take(MAX_IDS + 1).collect();
    if parts.len() > MAX_IDS {
        return Err(format!("at most {MAX_IDS} ids per stream"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut ids = Vec::new();
    for part in parts {
        let bad = || format!("not an event id: {}", part.chars().take(20).collect::<String>());
        let id: i64 = part.parse().map_err(|_| bad())?;
        if id <= 0 {
            return Err(bad());
        }
        if seen.insert(id) {
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err("ids must list at least one event id".into());
    }
    Ok(ids)
}

/// `GET /live/events?ids=1,2,3`: one stream for a whole list page.
pub async fn many_events(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Query(q): Query<IdsQuery>,
) -> Response {
    match parse_ids(q.ids.as_deref().unwrap_or_default()) {
        Ok(ids) => {
            let client = client_of(&state, peer, &headers);
            stream_for(state, client, ids).await
        }
        Err(msg) => bad_request(&msg),
    }
}

#[cfg(test)]
mod tests {
    use super::parse_ids;

    #[test]
    fn ids_are_parsed_deduplicated_and_bounded() {
        assert_eq!(parse_ids("3, 1,3,,2").unwrap(), vec![3, 1, 2]);
        assert!(parse_ids("").is_err());
        assert!(parse_ids("1,x").is_err());
        assert!(parse_ids("-1").is_err());
        let many: Vec<String> = (1..=101).map(|i| i.to_string()).collect();
        assert!(parse_ids(&many.join(",")).is_err());
    }

    #[test]
    fn a_long_list_of_repeats_is_refused_before_deduplication() {
        assert_eq!(parse_ids(&"7,".repeat(100)).unwrap(), vec![7]);
        assert_eq!(parse_ids(&"7,".repeat(1_000_000)).unwrap_err(), "at most 100 ids per stream");
    }
}
