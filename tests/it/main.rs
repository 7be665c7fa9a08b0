//! Integration tests: one binary, modules by domain.

mod admin;
mod helpers;
mod http;
mod public;
mod registration_http;
mod registrations;
mod search;
mod store;
