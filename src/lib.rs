//! Tsudoi (集い): a tech-community event platform. One crate, two builds: `ssr` (the
//! server binary) and `hydrate` (the browser wasm).
#![recursion_limit = "256"]

// Generates `mod i18n` from locales/*.json and [package.metadata.leptos-i18n]; keys are
// checked at compile time. The build.rs variant of the generator is avoided on purpose
// (see Cargo.toml).
#[allow(deprecated)]
mod i18n_gen {
    leptos_i18n::load_locales!();
}
pub use i18n_gen::i18n;

pub mod accounts;
pub mod admin;
#[cfg(feature = "ssr")]
pub mod api_v2;
pub mod app;
pub mod error;
pub mod events;
#[cfg(feature = "ssr")]
pub mod feeds;
pub mod geo;
pub mod groups;
pub mod live;
pub mod materials;
pub mod messages;
pub mod moderation;
pub mod registrations;
pub mod search;
pub mod tags;
pub mod time;
pub mod ui;
pub mod webhooks;

#[cfg(feature = "ssr")]
pub mod demo;
#[cfg(feature = "ssr")]
pub mod server;

/// Browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for end-to-end tests (and anyone debugging): the page is interactive now.
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-hydrated", "true");
    }
}
