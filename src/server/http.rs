//! Small HTTP helpers for the routes outside Leptos (API, calendars, feeds): JSON errors
//! and conditional responses with content-hash ETags.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use blake2::{Blake2s256, Digest};

use crate::error::AppError;

/// `{"error": code, "message": …}` with the error's status (and `Retry-After` when rate
/// limited). Internal details never reach the body: they were logged where they happened.
pub fn error_response(err: &AppError) -> Response {
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::to_value(err).unwrap_or_else(|_| serde_json::json!({ "error": "internal" }));
    let mut resp = (status, axum::Json(body)).into_response();
    if let AppError::RateLimited(secs) = err {
        resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(*secs));
    }
    resp
}

/// The largest request body Tsudoi reads (2 MiB: the longest event description with room to
/// spare). Beyond, `413` with a JSON body, before the body is read when it declares its
/// length, and as soon as it passes the limit when it does not.
pub const MAX_BODY: usize = 2 << 20;

/// Gives a `413` from the body limit (which has no body of ours) the JSON error every other
/// error has.
pub async fn json_payload_too_large(req: axum::extract::Request, next: axum::middleware::Next) -> Response {
    let res = next.run(req).await;
    let json = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if res.status() != StatusCode::PAYLOAD_TOO_LARGE || json {
        return res;
    }
    let body = serde_json::json!({ "error": "payload_too_large", "message": "the request body is larger than 2 MiB" });
    (StatusCode::PAYLOAD_TOO_LARGE, axum::Json(body)).into_response()
}

/// A strong ETag: the first 128 bits of BLAKE2s over the body, so every instance of a
/// deployment gives the same tag for the same content.
pub fn etag_of(body: &[u8]) -> String {
    let digest = Blake2s256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// True when `If-None-Match` names `etag` (or `*`); weak comparison, as RFC 9110 asks for
/// GET.
fn not_modified(request: &HeaderMap, etag: &str) -> bool {
    let Some(value) = request.get(header::IF_NONE_MATCH).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    value.split(',').map(str::trim).any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
}

/// A 200 with `body`, its ETag and `cache_control`, or a bodiless 304 when the client
/// already has it.
pub fn conditional(
    request: &HeaderMap,
    body: Vec<u8>,
    content_type: &'static str,
    cache_control: &'static str,
) -> Response {
    let etag = etag_of(&body);
    let mut headers = HeaderMap::new();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache_control));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, v);
    }
    if not_modified(request, &etag) {
        return (StatusCode::NOT_MODIFIED, headers).into_response();
    }
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    (StatusCode::OK, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etags_are_stable_and_match_weakly() {
        let tag = etag_of(b"hello");
        assert_eq!(tag, etag_of(b"hello"));
        assert_ne!(tag, etag_of(b"hello!"));
        let mut h = HeaderMap::new();
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&format!("\"x\", W/{tag}")).unwrap());
        assert!(not_modified(&h, &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
