//! Registration wire types and the answer validation shared by form and server.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::events::model::{EventCard, FrameMethod, FrameSummary};

/// State of a registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RegStatus {
    /// 参加
    Confirmed,
    /// 補欠 (or a lottery application before the draw)
    Waitlisted,
    Cancelled,
}

impl RegStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RegStatus::Confirmed => "confirmed",
            RegStatus::Waitlisted => "waitlisted",
            RegStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "confirmed" => Some(RegStatus::Confirmed),
            "waitlisted" => Some(RegStatus::Waitlisted),
            "cancelled" => Some(RegStatus::Cancelled),
            _ => None,
        }
    }
}

/// My registration for one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyRegistration {
    pub event_id: i64,
    pub frame_id: i64,
    pub frame_name: String,
    pub status: RegStatus,
    /// 1-based place in the frame's waitlist when waitlisted.
    pub waitlist_position: Option<i64>,
    /// Applied to a lottery frame that has not been drawn yet.
    pub lottery_pending: bool,
    pub receipt_code: String,
    pub registered_at: DateTime<Utc>,
    pub checked_in: bool,
    /// A ranked lottery application before its draw: the frames accepted, best first
    /// (empty for an application to one frame, and once drawn).
    #[serde(default)]
    pub ranked: Vec<String>,
}

/// The online meeting URL of an event. Only [`OnlineUrl::for_registrant`] makes one, and
/// only for a confirmed registration, so no other page can carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OnlineUrl(String);

impl OnlineUrl {
    /// The URL for this registrant, if their registration is confirmed.
    pub fn for_registrant(registration: &MyRegistration, url: Option<String>) -> Option<OnlineUrl> {
        (registration.status == RegStatus::Confirmed).then_some(url).flatten().map(OnlineUrl)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// What the registration panel of an event page needs about the viewer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistrationPanel {
    pub signed_in: bool,
    pub registration: Option<MyRegistration>,
    pub online_url: Option<OnlineUrl>,
    /// My registration is kept off the public participant list.
    pub anonymous: bool,
    /// Server time of the answer, so countdowns do not trust the browser's clock alone.
    pub server_now: DateTime<Utc>,
    /// The event asks its confirmed attendees to reconfirm by a deadline (mine, until then).
    #[serde(default)]
    pub reconfirm: Option<super::reconfirm::Reconfirmation>,
}

/// The answer to a registration request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegisterOutcome {
    pub registration: MyRegistration,
}

/// One of my registrations with its event, for `/me`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyEventRegistration {
    pub card: EventCard,
    pub registration: MyRegistration,
}

/// `/me`: my registrations split at the server's now (upcoming soonest first, past latest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MyRegistrationLists {
    pub upcoming: Vec<MyEventRegistration>,
    pub past: Vec<MyEventRegistration>,
}

/// The receipt (受付票) page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub card: EventCard,
    pub registration: MyRegistration,
    pub display_name: String,
    /// The receipt code as an SVG QR code (rendered on the server).
    pub qr_svg: String,
    /// Where I go: my frame's venue, else the event's (how, and "place, address").
    pub venue: (crate::events::model::VenueKind, String),
}

/// Kind of a registration question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Single,
    Multiple,
}

impl QuestionKind {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(QuestionKind::Text),
            "single" => Some(QuestionKind::Single),
            "multiple" => Some(QuestionKind::Multiple),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QuestionKind::Text => "text",
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
        }
    }
}

/// A question an event asks at registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: i64,
    pub kind: QuestionKind,
    pub label: String,
    pub options: Vec<String>,
    pub required: bool,
}

/// Longest accepted free-text answer.
pub const ANSWER_MAX: usize = 2000;

/// Answers as submitted (`answers[<question id>][]=value`), checked against the questions.
/// Returns `(question_id, value)` pairs; several choices are joined with a newline.
pub fn validate_answers(
    questions: &[Question],
    submitted: &HashMap<String, Vec<String>>,
) -> Result<Vec<(i64, String)>, Vec<FieldError>> {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for q in questions {
        let field = format!("answers[{}]", q.id);
        let values: Vec<&str> = submitted
            .get(&q.id.to_string())
            .map(|v| v.iter().map(|s| s.trim()).filter(|s| !s.is_empty()).collect())
            .unwrap_or_default();
        if values.is_empty() {
            if q.required {
                errors.push(FieldError::new(&field, "required", "This question needs an answer."));
            }
            continue;
        }
        match q.kind {
            QuestionKind::Text => {
                let text = values.join("\n");
                if text.chars().count() > ANSWER_MAX {
                    errors.push(FieldError::new(&field, "too_long", "The answer is too long."));
                } else {
                    out.push((q.id, text));
                }
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                if q.kind == QuestionKind::Single && values.len() > 1 {
                    errors.push(FieldError::new(&field, "one_choice", "Choose one option."));
                } else if values.iter().any(|v| !q.options.iter().any(|o| o == v)) {
                    errors.push(FieldError::new(&field, "unknown_choice", "Choose one of the options."));
                } else {
                    out.push((q.id, values.join("\n")));
                }
            }
        }
    }
    let known: Vec<String> = questions.iter().map(|q| q.id.to_string()).collect();
    if let Some(unknown) = submitted.keys().find(|k| !known.contains(k)) {
        errors.push(FieldError::new(&format!("answers[{unknown}]"), "unknown_question", "No such question."));
    }
    if errors.is_empty() { Ok(out) } else { Err(errors) }
}

/// Where a frame stands for new registrations at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameWindow {
    /// Opens at this instant (show a countdown).
    NotYetOpen(DateTime<Utc>),
    Open,
    Closed,
}

/// The registration window of `frame` for an event starting at `starts_at`.
pub fn frame_window(frame: &FrameSummary, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> FrameWindow {
    if now >= starts_at || frame.closes_at.is_some_and(|c| now >= c) {
        return FrameWindow::Closed;
    }
    match frame.opens_at {
        Some(o) if now < o => FrameWindow::NotYetOpen(o),
        _ => FrameWindow::Open,
    }
}

/// True when a lottery frame still takes applications rather than seats.
pub fn is_lottery_pending(frame: &FrameSummary) -> bool {
    frame.method == FrameMethod::Lottery && !frame.drawn
}

/// Live seat numbers of one event, as sent on `/live/events/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatSnapshot {
    pub event_id: i64,
    pub accepted: i64,
    pub limit: i64,
    pub waiting: i64,
    pub frames: Vec<FrameSeats>,
}

/// Live seat numbers of one frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameSeats {
    pub id: i64,
    pub accepted: i64,
    pub limit: i64,
    pub waiting: i64,
}

/// Frames ranked beside a lottery application, at most this many.
pub const MAX_RANKED: usize = 16;

/// The ranked frames of a registration form (`also[]`: frame ids, best first; the empty
/// "no further choice" values skipped). Refusals are field errors on `also`.
pub fn parse_ranked_frames(values: &[String]) -> Result<Vec<i64>, Vec<FieldError>> {
    let refuse = |code: &str, message: &str| vec![FieldError::new("also", code, message)];
    if values.len() > MAX_RANKED {
        return Err(refuse("too_many", "Too many frames ranked."));
    }
    values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(|v| v.parse::<i64>().map_err(|_| refuse("invalid_choice", "Choose a frame from the list.")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(id: i64, kind: QuestionKind, required: bool) -> Question {
        Question { id, kind, label: format!("q{id}"), options: vec!["A".into(), "B".into()], required }
    }

    fn answers(pairs: &[(&str, &[&str])]) -> HashMap<String, Vec<String>> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect())).collect()
    }

    #[test]
    fn required_questions_need_an_answer() {
        let err = validate_answers(&[q(1, QuestionKind::Text, true)], &answers(&[])).unwrap_err();
        assert_eq!(err[0].field, "answers[1]");
        assert_eq!(err[0].code, "required");
    }

    #[test]
    fn optional_questions_may_be_skipped() {
        assert_eq!(validate_answers(&[q(1, QuestionKind::Text, false)], &answers(&[("1", &[" "])])).unwrap(), vec![]);
    }

    #[test]
    fn single_choice_takes_exactly_one_known_option() {
        let qs = [q(2, QuestionKind::Single, true)];
        assert_eq!(validate_answers(&qs, &answers(&[("2", &["A"])])).unwrap(), vec![(2, "A".to_string())]);
        assert_eq!(validate_answers(&qs, &answers(&[("2", &["A", "B"])])).unwrap_err()[0].code, "one_choice");
        assert_eq!(validate_answers(&qs, &answers(&[("2", &["C"])])).unwrap_err()[0].code, "unknown_choice");
    }

    #[test]
    fn multiple_choice_joins_values() {
        let qs = [q(3, QuestionKind::Multiple, false)];
        assert_eq!(validate_answers(&qs, &answers(&[("3", &["A", "B"])])).unwrap(), vec![(3, "A\nB".to_string())]);
    }

    #[test]
    fn answers_to_unknown_questions_are_rejected() {
        let err = validate_answers(&[], &answers(&[("99", &["x"])])).unwrap_err();
        assert_eq!(err[0].code, "unknown_question");
    }

    #[test]
    fn online_url_is_only_for_confirmed_registrants() {
        let mut r = MyRegistration {
            event_id: 1,
            frame_id: 1,
            frame_name: "一般".into(),
            status: RegStatus::Waitlisted,
            waitlist_position: Some(1),
            lottery_pending: false,
            receipt_code: "X".into(),
            registered_at: Utc::now(),
            checked_in: false,
            ranked: Vec::new(),
        };
        assert!(OnlineUrl::for_registrant(&r, Some("https://meet".into())).is_none());
        r.status = RegStatus::Confirmed;
        assert_eq!(OnlineUrl::for_registrant(&r, Some("https://meet".into())).unwrap().as_str(), "https://meet");
    }
}

/// Someone on a participant list: display name and profile link.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Participant {
    pub nickname: String,
    pub display_name: String,
}

/// One group of a frame's participant list: the people shown, and how many more
/// registered anonymously (shown as "N others").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantGroup {
    pub people: Vec<Participant>,
    pub others: i64,
}

impl ParticipantGroup {
    /// Everyone in the group, named or not.
    pub fn total(&self) -> i64 {
        self.people.len() as i64 + self.others
    }
}

/// A frame's participants: confirmed, waitlisted (補欠) and, for a lottery not drawn yet,
/// applicants (who are waitlisted until the draw).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameParticipants {
    pub frame_id: i64,
    pub name: String,
    pub confirmed: ParticipantGroup,
    pub waitlisted: ParticipantGroup,
    pub applicants: ParticipantGroup,
}

/// `/events/{id}/participants` (参加者一覧).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ParticipantList {
    pub event_id: i64,
    pub title: String,
    /// The organizer hides the list: only the counts are shown.
    pub hidden: bool,
    pub frames: Vec<FrameParticipants>,
}
