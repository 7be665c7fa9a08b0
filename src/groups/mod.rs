//! Groups (主催): public group pages.

pub mod api;
pub mod model;
pub mod pages;
