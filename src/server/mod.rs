//! Server-only parts: configuration, state, startup, storage and helpers.

pub mod api_status;
pub mod backup;
pub mod client_ip;
pub mod config;
pub mod csp;
pub mod formguard;
pub mod http;
pub mod lang;
pub mod markdown;
pub mod metrics;
pub mod origin;
pub mod password;
pub mod ratelimit;
pub mod secret;
pub mod session;
pub mod shutdown;
pub mod startup;
pub mod state;
pub mod store;
pub mod tasks;
pub mod text;
