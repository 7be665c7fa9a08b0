//! Events: the list, the event page and their server functions.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod public;
#[cfg(feature = "ssr")]
pub mod records;
#[cfg(feature = "ssr")]
pub mod seo;
