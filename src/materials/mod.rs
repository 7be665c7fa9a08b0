//! 資料 (materials): slides, blog posts and videos attached to an event by its organizers
//! and speakers, listed on the event page and served by the API as presentations.

pub mod api;
pub mod model;
pub mod pages;
