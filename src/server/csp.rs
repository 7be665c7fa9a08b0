//! The browser policy of every page: a Content-Security-Policy whose only scripts are our
//! own files and the inline hydration script carrying this response's nonce, plus the
//! `wasm-unsafe-eval` the WebAssembly app needs. Images come from this site only (a remote
//! image in a description is turned into a link, see `markdown.rs`), so no page loads a
//! tracking pixel; styles allow inline `style` attributes (the seat bars' widths).

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

/// Sets the page policy on the response being rendered (called from the HTML shell, where
/// leptos_axum has generated this response's nonce for the hydration scripts).
pub fn set_page_policy() {
    use leptos::prelude::use_context;
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>())
    else {
        return;
    };
    if let Ok(value) = axum::http::HeaderValue::from_str(&page_policy(&nonce)) {
        response.insert_header(axum::http::header::CONTENT_SECURITY_POLICY, value);
    }
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
