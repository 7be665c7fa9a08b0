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

/// An automatic message that a store write stores in its own transaction (the outbox): a
/// crash never keeps the change without its message, nor the message without the change.
/// Its recipients are known only inside the write (the registrant, the people a freed seat
/// promoted), so the write addresses it.
#[derive(Debug, Clone)]
pub struct Notice {
    pub kind: crate::messages::model::MessageKind,
    /// Who it goes to, as the organizer's message list names it (`user`, `promoted`).
    pub audience: String,
    pub subject: String,
    pub body: String,
    /// Queue e-mail for recipients with an address (SMTP configured).
    pub email: bool,
}

impl Notice {
    /// The message to `recipients`, as the write stores it.
    pub fn to(&self, event_id: i64, recipients: Vec<i64>, at: DateTime<Utc>) -> NewMessage {
        NewMessage {
            event_id: Some(event_id),
            sender_id: None,
            kind: self.kind,
            audience: self.audience.clone(),
            subject: self.subject.clone(),
            body: self.body.clone(),
            recipients,
            email: self.email,
            at,
        }
    }
}

/// How a write composes the automatic messages it stores itself (the outbox): links point
/// at `public_url`, and e-mail is queued when SMTP is configured (`Config::outbox`).
#[derive(Debug, Clone)]
pub struct Outbox {
    pub public_url: String,
    pub email: bool,
}

impl Outbox {
    /// The message of `kind` about the event (title and time at hand), to be addressed by
    /// the write that stores it.
    pub fn notice(
        &self,
        event_id: i64,
        (title, span): &(String, crate::time::ZonedSpan),
        kind: crate::messages::model::MessageKind,
        audience: &str,
    ) -> Notice {
        let url = format!("{}/events/{event_id}", self.public_url);
        let (subject, body) = crate::messages::model::template(kind, title, &span.label(crate::time::Lang::Ja), &url);
        Notice { kind, audience: audience.to_string(), subject, body, email: self.email }
    }
}

/// The automatic messages a registration write sends, if any: to the registrant, and to
/// whoever a seat it frees (switching frames, cancelling) promotes.
#[derive(Debug, Clone, Default)]
pub struct Notices {
    pub registrant: Option<Notice>,
    pub promoted: Option<Notice>,
}

impl Notices {
    /// The messages to store for a write that promoted `promoted`.
    pub fn messages(&self, event_id: i64, registrant: i64, promoted: &[i64], at: DateTime<Utc>) -> Vec<NewMessage> {
        let mut out = Vec::new();
        if let Some(n) = &self.registrant {
            out.push(n.to(event_id, vec![registrant], at));
        }
        if let Some(n) = self.promoted.as_ref().filter(|_| !promoted.is_empty()) {
            out.push(n.to(event_id, promoted.to_vec(), at));
        }
        out
    }
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
