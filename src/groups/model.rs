//! Group wire types.

use serde::{Deserialize, Serialize};

use crate::events::model::EventCard;

/// A group's public page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupDetail {
    pub slug: String,
    pub title: String,
    /// Markdown rendered and sanitised on the server.
    pub description_html: String,
    pub website: Option<String>,
    pub image_url: Option<String>,
    pub member_count: i64,
    /// Reachable by link only: the page asks search engines not to index it.
    pub unlisted: bool,
    pub upcoming: Vec<EventCard>,
    pub past: Vec<EventCard>,
}

/// Followers of a group and whether I follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Following {
    pub followers: i64,
    pub following: bool,
    pub signed_in: bool,
}
