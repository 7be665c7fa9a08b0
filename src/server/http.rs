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

/// `X-Request-Id`: the id of this request in the logs and in the answer. One a proxy sent
/// (nginx: `proxy_set_header X-Request-Id $request_id`) is kept when it is short and plain;
/// otherwise a new one is made (a per-process random prefix and a counter).
pub async fn request_id(mut req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(1);
    static PREFIX: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    const HEADER: &str = "x-request-id";
    let given = req.headers().get(HEADER).and_then(|v| v.to_str().ok()).filter(|v| plain_request_id(v));
    let id = match given {
        Some(id) => id.to_string(),
        None => {
            let prefix = PREFIX.get_or_init(|| format!("{:08x}", rand::random::<u32>()));
            format!("{prefix}-{}", NEXT.fetch_add(1, Ordering::Relaxed))
        }
    };
    let value = axum::http::HeaderValue::from_str(&id).unwrap_or_else(|_| axum::http::HeaderValue::from_static("-"));
    req.headers_mut().insert(HEADER, value.clone());
    let mut res = next.run(req).await;
    res.headers_mut().insert(HEADER, value);
    res
}

/// At most 64 characters of letters, digits, `-`, `_` and `.`: safe in any log line.
fn plain_request_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod request_id_tests {
    #[test]
    fn only_short_plain_ids_are_kept() {
        assert!(super::plain_request_id("a1b2c3d4-17"));
        assert!(super::plain_request_id("0123456789abcdef0123456789abcdef"));
        assert!(!super::plain_request_id(""));
        assert!(!super::plain_request_id("x\"y"));
        assert!(!super::plain_request_id("a b"));
        assert!(!super::plain_request_id(&"a".repeat(65)));
    }
}
