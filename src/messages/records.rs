//! Messages and e-mails as the store takes and gives them (server only).

use chrono::{DateTime, Utc};

/// A message to store: to `recipients`, by `sender_id` (None: Tsudoi itself).
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub event_id: Option<i64>,
    pub sender_id: Option<i64>,
    pub kind: crate::messages::model::MessageKind,
    pub audience: String,
    pub subject: String,
    pub body: String,
    pub recipients: Vec<i64>,
    /// Queue e-mail for recipients with an address (SMTP configured).
    pub email: bool,
    pub at: DateTime<Utc>,
}

/// One e-mail to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailJob {
    pub message_id: i64,
    pub user_id: i64,
    pub to: String,
    pub subject: String,
    pub body: String,
    /// Attempts so far.
    pub attempts: i64,
    /// The recipient's own time zone, if they chose one.
    pub time_zone: Option<String>,
    /// The message's event: start, end (Unix seconds) and zone.
    pub event: Option<(i64, i64, String)>,
    /// The venue of the recipient's frame of that event, when the frame has its own (hybrid
    /// events: in person, online…).
    pub frame_venue: Option<crate::events::model::FrameVenue>,
}
