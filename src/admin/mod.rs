//! Organizer admin: my groups and events, the event editor, attendees, check-in, CSV and
//! the audit log.

pub mod api;
pub mod model;
pub mod pages;
pub mod reconfirm_api;
pub mod reconfirm_view;
#[cfg(feature = "ssr")]
pub mod records;
#[cfg(feature = "ssr")]
pub mod routes;
pub mod rules;
