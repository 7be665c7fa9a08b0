//! Server-function errors leave with the status they mean.
//!
//! server_fn answers every error with 500 unless the function itself set a status; errors
//! raised before the function runs (arguments that do not decode) cannot. This layer reads
//! the JSON error body (`{"error": "bad_request", ...}`, see `AppError`) and sets the
//! matching 4xx, so a client's mistake is never reported as a server fault.

use axum::body::{Body, to_bytes};
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// Header server_fn puts on error responses.
const SERVER_FN_ERROR_HEADER: &str = "serverfnerror";
/// Error bodies are tiny; anything larger is passed through untouched.
const MAX_ERROR_BODY: usize = 64 * 1024;

pub async fn fix_server_fn_error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR || !res.headers().contains_key(SERVER_FN_ERROR_HEADER) {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = to_bytes(body, MAX_ERROR_BODY).await else {
        return Response::from_parts(parts, Body::empty());
    };
    let kind = serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned));
    parts.status = match kind.as_deref() {
        Some("bad_request") | Some("transport") => StatusCode::BAD_REQUEST,
        Some("not_found") => StatusCode::NOT_FOUND,
        Some("unauthorized") => StatusCode::UNAUTHORIZED,
        Some("forbidden") => StatusCode::FORBIDDEN,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    if kind.is_some() {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    }
    Response::from_parts(parts, Body::from(bytes))
}
