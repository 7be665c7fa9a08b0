//! Integration tests: one binary, modules by domain.

mod admin;
mod helpers;
mod hostile;
mod http;
mod mail;
mod public;
mod registration_http;
mod registrations;
mod search;
mod search_index;
mod store;
