//! Registration into frames (参加枠): register, waitlist, cancel, receipts, `/me`.

pub mod api;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod records;
pub mod rules;
