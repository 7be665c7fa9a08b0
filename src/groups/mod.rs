//! Groups (主催): public group pages.

pub mod api;
#[cfg(feature = "ssr")]
pub mod embed;
pub mod model;
pub mod pages;
