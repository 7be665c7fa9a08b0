//! Shared application state, provided to routes, SSR and server functions alike.

use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Config;
use super::ratelimit::RateLimits;
use super::store::DynStore;
use crate::error::AppError;
use crate::live::hub::LiveHub;

#[derive(Clone, FromRef)]
pub struct AppState {
    pub leptos_options: LeptosOptions,
    pub store: DynStore,
    pub config: Arc<Config>,
    pub live: Arc<LiveHub>,
    pub limits: Arc<RateLimits>,
    /// Begun on SIGTERM/Ctrl-C: seat streams end, workers stop (see `server::shutdown`).
    pub shutdown: super::shutdown::Shutdown,
    /// Signs and checks the sign-up form's tickets (see `server::formguard`).
    pub forms: Arc<super::formguard::FormGuard>,
}

/// The state inside a server function or during SSR (leptos_axum provides it as context).
pub fn app_state() -> Result<AppState, AppError> {
    leptos::prelude::use_context::<AppState>().ok_or_else(|| {
        tracing::error!("AppState missing from context");
        AppError::Internal
    })
}
