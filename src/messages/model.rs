//! Message wire types and the automatic messages' templates (Japanese and English in
//! one text, since an account has no language of its own yet).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// What produced a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Organizer,
    Confirmation,
    Promotion,
    EventChanged,
    EventCancelled,
    Reminder,
    /// A followed group published an event.
    NewEvent,
    /// Please reconfirm by the deadline ("I'm coming" / "I can't go").
    Reconfirm,
    /// The seat was released: not reconfirmed by the deadline.
    Released,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Organizer => "organizer",
            MessageKind::Confirmation => "confirmation",
            MessageKind::Promotion => "promotion",
            MessageKind::EventChanged => "event_changed",
            MessageKind::EventCancelled => "event_cancelled",
            MessageKind::Reminder => "reminder",
            MessageKind::NewEvent => "new_event",
            MessageKind::Reconfirm => "reconfirm",
            MessageKind::Released => "released",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [
            MessageKind::Organizer,
            MessageKind::Confirmation,
            MessageKind::Promotion,
            MessageKind::EventChanged,
            MessageKind::EventCancelled,
            MessageKind::Reminder,
            MessageKind::NewEvent,
            MessageKind::Reconfirm,
            MessageKind::Released,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Who an organizer writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Audience {
    All,
    Confirmed,
    Waitlisted,
    Frame(i64),
}

impl Audience {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "all" => Some(Audience::All),
            "confirmed" => Some(Audience::Confirmed),
            "waitlisted" => Some(Audience::Waitlisted),
            other => other.strip_prefix("frame:").and_then(|id| id.parse().ok()).map(Audience::Frame),
        }
    }

    pub fn code(self) -> String {
        match self {
            Audience::All => "all".into(),
            Audience::Confirmed => "confirmed".into(),
            Audience::Waitlisted => "waitlisted".into(),
            Audience::Frame(id) => format!("frame:{id}"),
        }
    }
}

/// A message in my inbox on `/me`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboxMessage {
    pub id: i64,
    pub event_id: Option<i64>,
    pub event_title: Option<String>,
    pub kind: MessageKind,
    pub subject: String,
    pub body: String,
    pub sender: Option<String>,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// E-mail delivery counts of one message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub none: i64,
    pub pending: i64,
    /// Pending after at least one failed attempt (will be retried).
    pub retrying: i64,
    pub sent: i64,
    pub failed: i64,
}

/// A message of an event as its organizers see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentMessage {
    pub id: i64,
    pub kind: MessageKind,
    pub audience: String,
    pub subject: String,
    pub sender: Option<String>,
    pub created_at: DateTime<Utc>,
    pub recipients: i64,
    pub read: i64,
    pub delivery: Delivery,
}

/// Checks an organizer's message.
pub fn validate_message(subject: &str, body: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let s = subject.trim().chars().count();
    if s == 0 {
        errors.push(FieldError::new("subject", "required", "enter a subject"));
    } else if s > 200 {
        errors.push(FieldError::new("subject", "too_long", "the subject is longer than 200 characters"));
    }
    let b = body.trim().chars().count();
    if b == 0 {
        errors.push(FieldError::new("body", "required", "enter the message"));
    } else if b > 10_000 {
        errors.push(FieldError::new("body", "too_long", "the message is longer than 10,000 characters"));
    }
    errors
}

/// Subject and body of an automatic message about `title` at `url` (ja, then en).
pub fn template(kind: MessageKind, title: &str, when: &str, url: &str) -> (String, String) {
    match kind {
        MessageKind::Confirmation => (
            format!("【申込完了】{title} / Registration received"),
            format!(
                "「{title}」（{when}）への申込を受け付けました。参加状況と受付票はイベントページと /me で確認できます。\n{url}\n\n\
                 Your registration for \"{title}\" ({when}) was received. Your status and receipt are on the event page and on /me.\n{url}"
            ),
        ),
        MessageKind::Promotion => (
            format!("【繰り上げ参加】{title} / You have a seat"),
            format!(
                "補欠から繰り上がり、「{title}」（{when}）への参加が確定しました。\n{url}\n\n\
                 A seat freed up: you are now confirmed for \"{title}\" ({when}).\n{url}"
            ),
        ),
        MessageKind::EventChanged => (
            format!("【内容変更】{title} / Event updated"),
            format!(
                "「{title}」の日時または会場が変わりました。新しい日時: {when}\n{url}\n\n\
                 The date, time or venue of \"{title}\" changed. It is now: {when}\n{url}"
            ),
        ),
        MessageKind::EventCancelled => (
            format!("【中止】{title} / Event cancelled"),
            format!(
                "「{title}」（{when}）は中止になりました。\n{url}\n\n\
                 \"{title}\" ({when}) has been cancelled.\n{url}"
            ),
        ),
        MessageKind::Reminder => (
            format!("【明日開催】{title} / Tomorrow"),
            format!(
                "「{title}」は {when} に開催されます。行けなくなった場合は、補欠の方のために参加をキャンセルしてください: {url}/cant-go\n\n\
                 \"{title}\" takes place {when}. If you cannot go, please release your seat for someone on the waitlist: {url}/cant-go"
            ),
        ),
        MessageKind::NewEvent => (
            format!("【新着イベント】{title} / New event"),
            format!(
                "フォロー中のグループが「{title}」（{when}）を公開しました。\n{url}\n\n\
                 A group you follow published \"{title}\" ({when}).\n{url}"
            ),
        ),
        MessageKind::Reconfirm => (
            format!("【参加の再確認】{title} / Please confirm you are coming"),
            format!(
                "「{title}」（{when}）の主催者が、参加の再確認をお願いしています。期限（イベントページに表示）までに「参加します」を押してください。\
                 期限までに再確認がない場合、参加枠は補欠の方に譲られます。行けなくなった場合は「行けなくなった」を押してください: {url}/reconfirm\n\n\
                 The organizers of \"{title}\" ({when}) ask you to confirm that you are coming. Please press \"I'm coming\" before \
                 the deadline shown on the event page, or your seat goes to the waitlist. If you cannot go, press \"I can't go\": {url}/reconfirm"
            ),
        ),
        MessageKind::Released => (
            format!("【参加枠の解放】{title} / Your seat was released"),
            format!(
                "「{title}」（{when}）の参加の再確認が期限までになかったため、参加枠を補欠の方に譲りました。空きがあれば再度申し込めます。\n{url}\n\n\
                 You did not confirm by the deadline that you are coming to \"{title}\" ({when}), so your seat went to the \
                 waitlist. You can register again if seats are left.\n{url}"
            ),
        ),
        MessageKind::Organizer => (title.to_string(), String::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_round_trip() {
        for a in [Audience::All, Audience::Confirmed, Audience::Waitlisted, Audience::Frame(12)] {
            assert_eq!(Audience::parse(&a.code()), Some(a));
        }
        assert_eq!(Audience::parse("frame:x"), None);
        assert_eq!(Audience::parse("everyone"), None);
    }

    #[test]
    fn reminders_carry_the_release_link() {
        let (subject, body) =
            template(MessageKind::Reminder, "Rust会", "2026/12/01(火) 19:00", "https://t.example/events/3");
        assert!(subject.contains("Rust会"));
        assert!(body.contains("https://t.example/events/3/cant-go"));
    }
}
