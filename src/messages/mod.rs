//! Messages: organizers write to registrants; Tsudoi writes by itself on confirmation,
//! promotion, changes, cancellation and the day before. Each lands on /me and, when SMTP
//! is configured, in the mailbox.

pub mod api;
#[cfg(feature = "ssr")]
pub mod mail;
pub mod model;
#[cfg(feature = "ssr")]
pub mod notify;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod records;
