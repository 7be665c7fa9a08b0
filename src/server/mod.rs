//! Server-only parts: configuration, state, startup, storage and helpers.

pub mod api_status;
pub mod config;
pub mod lang;
pub mod markdown;
pub mod password;
pub mod startup;
pub mod state;
pub mod store;
pub mod text;
