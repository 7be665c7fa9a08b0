//! Outgoing webhooks per group: `event.published`, `event.updated`, `event.cancelled`,
//! `registration.created`, `registration.cancelled`, `registration.promoted`, signed as the
//! Standard Webhooks specification describes and delivered from an outbox that the database
//! fills in the same transaction as the change (see migration 0023).

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod worker;
