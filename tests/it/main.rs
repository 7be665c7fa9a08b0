//! Integration tests: one binary, modules by domain.

mod helpers;
mod http;
mod registrations;
mod store;
