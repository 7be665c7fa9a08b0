//! The browser policy of every page: a Content-Security-Policy whose only scripts are our
//! own files and the inline hydration scripts carrying this response's nonce, plus the
//! `wasm-unsafe-eval` the WebAssembly app needs. Images come from this site only (a remote
//! image in a description is turned into a link, see `markdown.rs`), so no page loads a
//! tracking pixel; styles allow inline `style` attributes (the seat bars' widths).
//!
//! leptos_axum makes a nonce for each rendered page and puts it on the hydration scripts;
//! the HTML shell hands it to [`apply`] through a slot in the request's extensions, and
//! [`apply`] writes the header once the response is ready.

use std::sync::{Arc, Mutex};

use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of an HTML page rendered with `nonce`.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; connect-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The policy of every other response (JSON, CSV, feeds, files): nothing runs, nothing frames it.
pub const OTHER_POLICY: &str = "default-src 'none'; frame-ancestors 'none'";

/// Where the shell leaves the nonce of the page it renders.
#[derive(Clone, Default)]
pub struct NonceSlot(Arc<Mutex<Option<String>>>);

impl NonceSlot {
    fn take(&self) -> Option<String> {
        self.0.lock().ok().and_then(|mut n| n.take())
    }
}

/// Called from the HTML shell: records this page's nonce for [`apply`].
pub fn record_page_nonce() {
    use leptos::prelude::use_context;
    let nonce = leptos::nonce::use_nonce();
    let slot = use_context::<axum::http::request::Parts>().and_then(|p| p.extensions.get::<NonceSlot>().cloned());
    match (nonce, slot) {
        (Some(nonce), Some(slot)) => {
            if let Ok(mut s) = slot.0.lock() {
                *s = Some(nonce.to_string());
            }
        }
        (nonce, slot) => {
            tracing::warn!(nonce = nonce.is_some(), slot = slot.is_some(), "a page rendered without its nonce slot")
        }
    }
}

/// Middleware: the page policy with the page's nonce on rendered pages, [`OTHER_POLICY`] on
/// everything else. An HTML response whose nonce did not arrive gets no policy rather than
/// one that would stop it from hydrating (logged by [`record_page_nonce`]).
pub async fn apply(mut req: Request, next: Next) -> Response {
    let slot = NonceSlot::default();
    req.extensions_mut().insert(slot.clone());
    let mut res = next.run(req).await;
    if res.headers().contains_key(header::CONTENT_SECURITY_POLICY) {
        return res;
    }
    let html = res.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let policy = match slot.take() {
        Some(nonce) => HeaderValue::from_str(&page_policy(&nonce)).ok(),
        None if html => None,
        None => Some(HeaderValue::from_static(OTHER_POLICY)),
    };
    if let Some(policy) = policy {
        res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, policy);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_runs_only_its_own_scripts_and_the_nonced_inline_one() {
        let p = page_policy("abc123");
        assert!(p.contains("script-src 'self' 'nonce-abc123' 'wasm-unsafe-eval';"), "{p}");
        assert!(!p.split(';').any(|d| d.trim_start().starts_with("script-src") && d.contains("unsafe-inline")));
        for directive in ["object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "img-src 'self' data:"] {
            assert!(p.contains(directive), "{directive} missing from {p}");
        }
    }
}
