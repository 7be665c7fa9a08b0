//! Search: `/events` with keyword, tags, tools, dates and preferences in the URL.

pub mod api;
pub mod model;
pub mod pages;
