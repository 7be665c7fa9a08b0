//! Tags and tools: the tag list.

pub mod api;
pub mod model;
pub mod pages;
