//! Integration tests: one binary, modules by domain.

#[macro_use]
mod helpers;

mod admin;
mod backup;
mod bilingual;
mod deploy;
mod fuzz;
mod hostile;
mod http;
mod hybrid;
mod lifecycle;
mod lottery;
mod mail;
mod moderation;
mod ops;
mod participants;
mod password_reset;
mod public;
mod reconfirm;
mod registration_http;
mod registrations;
mod search;
mod search_index;
mod store;
mod verification;
mod visibility;
mod webhooks;
