//! Accounts: sign-up, login, logout, profiles, `/me`.

pub mod api;
pub mod limits;
pub mod model;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod records;
#[cfg(feature = "ssr")]
pub mod reset;
#[cfg(feature = "ssr")]
pub mod verify;
