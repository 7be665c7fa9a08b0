//! Live seat counters: a hub of snapshots on the server, Server-Sent Events on the wire,
//! one `EventSource` per page in the browser.

#[cfg(feature = "ssr")]
pub mod hub;
#[cfg(feature = "ssr")]
pub mod routes;

pub mod client;
