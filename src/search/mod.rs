//! Search: `/events` with keyword, tags, tools, dates and preferences in the URL.

pub mod api;
#[cfg(feature = "ssr")]
pub mod index;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod when;
