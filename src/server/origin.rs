//! Cross-origin write protection for `/api/*`: Leptos does not check it for us.
//!
//! A browser always sends `Sec-Fetch-Site` (modern) or `Origin` on a cross-site POST; a
//! request from another site is refused with 403 before any server function runs.
//! Non-browser clients (curl, load tests) send neither and are judged by their session
//! cookie alone, which a browser would never attach cross-site (SameSite=Lax).

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Json, Response};

pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if safe || !req.uri().path().starts_with("/api/") {
        return next.run(req).await;
    }
    let headers = req.headers();
    let cross_site = match headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        Some(site) => !matches!(site, "same-origin" | "none"),
        None => match (headers.get(header::ORIGIN), headers.get(header::HOST)) {
            (Some(origin), Some(host)) => {
                let origin = origin.to_str().unwrap_or_default();
                let origin_host = origin.split_once("://").map(|(_, rest)| rest).unwrap_or("null");
                origin_host != host.to_str().unwrap_or_default()
            }
            (Some(_), None) => true,
            _ => false,
        },
    };
    if cross_site {
        return (
            StatusCode::FORBIDDEN,
            Json(serde_json::json!({ "error": "forbidden", "message": "cross-origin request refused" })),
        )
            .into_response();
    }
    next.run(req).await
}
