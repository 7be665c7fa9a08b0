//! Registration into frames (参加枠): register, waitlist, cancel, receipts, `/me`.

pub mod api;
#[cfg(feature = "ssr")]
pub mod draw;
pub mod model;
pub mod pages;
pub mod reconfirm;
#[cfg(feature = "ssr")]
pub mod records;
pub mod rules;
