//! Organizer admin wire types and the checks shared by the forms and the server.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::events::model::{EventStatus, FrameSummary, Seats};
use crate::registrations::model::RegStatus;
use crate::time::ZonedSpan;

/// A member's role in a group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Owner,
    Admin,
    Staff,
}

impl Role {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "owner" => Some(Role::Owner),
            "admin" => Some(Role::Admin),
            "staff" => Some(Role::Staff),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Staff => "staff",
        }
    }

    /// Owners and admins edit events; staff only see attendees and check them in.
    pub fn edits_events(self) -> bool {
        matches!(self, Role::Owner | Role::Admin)
    }
}

/// A group I belong to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminGroup {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub role: Role,
}

/// A member of a group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub user_id: i64,
    pub nickname: String,
    pub display_name: String,
    pub role: Role,
}

/// `/admin/groups/{id}`: members, my role, and the group's change log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupAdmin {
    pub group: AdminGroup,
    pub members: Vec<Member>,
    /// Open invitations: people asked to join, with the role offered.
    pub invitations: Vec<Member>,
    /// The group is unlisted (reachable by link, absent from lists).
    pub unlisted: bool,
    /// The sites allowed to frame the group's widget, space-separated (empty: any site).
    pub embed_origins: String,
    /// The copy-paste `<iframe>` of the group's widget.
    pub embed_snippet: String,
    pub log: Vec<AuditEntry>,
    pub me: i64,
}

impl Role {
    /// Whether this role may grant, change or take away `target` (owners manage
    /// everyone; admins manage admins and staff, never owners).
    pub fn manages(self, target: Role) -> bool {
        match self {
            Role::Owner => true,
            Role::Admin => target != Role::Owner,
            Role::Staff => false,
        }
    }
}

/// An event of one of my groups, as `/admin` lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminEventRow {
    pub id: i64,
    pub title: String,
    pub status: EventStatus,
    pub span: ZonedSpan,
    pub group_title: String,
    pub role: Role,
    pub seats: Seats,
}

/// `/admin`: my groups and their events, split into drafts, upcoming and past.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dashboard {
    pub groups: Vec<AdminGroup>,
    pub drafts: Vec<AdminEventRow>,
    pub upcoming: Vec<AdminEventRow>,
    pub past: Vec<AdminEventRow>,
    /// I am one of the site's administrators (the moderation queue is mine).
    pub site_admin: bool,
}

/// The editable fields of an event as the form holds them (times as the local
/// `YYYY-MM-DDTHH:MM` of `<input type="datetime-local">` in `time_zone`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct EventForm {
    /// The Japanese (or only) text; `title_ja`, `catch_ja`, `description_ja` are accepted too.
    #[serde(alias = "title_ja")]
    pub title: String,
    #[serde(alias = "catch_ja")]
    pub catch: String,
    #[serde(alias = "description_ja")]
    pub description: String,
    /// The English text of a bilingual event (the editor sends all three; omitted: kept as
    /// saved; an empty title: no English text).
    pub title_en: Option<String>,
    pub catch_en: Option<String>,
    pub description_en: Option<String>,
    pub starts_local: String,
    pub ends_local: String,
    pub time_zone: String,
    pub venue_kind: String,
    pub place: String,
    pub address: String,
    pub prefecture: String,
    pub online_url: String,
    pub language: String,
    pub hashtag: String,
    /// Tags and tools by name, slug or alias, comma-separated (`Rust, Docker, k8s`).
    pub tags: String,
    /// Map position in decimal degrees (both or neither).
    pub lat: String,
    pub lon: String,
    /// Checkboxes: present when ticked.
    pub beginner_ok: Option<String>,
    pub hands_on: Option<String>,
    /// `public`, `unlisted` or `invitation` (empty: public for a new event, unchanged on save).
    pub visibility: String,
}

impl AdminEvent {
    /// The event's visibility as saved.
    pub fn visibility(&self) -> crate::events::model::Visibility {
        crate::events::model::Visibility::parse(&self.form.visibility).unwrap_or_default()
    }
}

/// A frame's rules as the form holds them (times local to the event's zone, as
/// `YYYY-MM-DDTHH:MM`; empty when unset). `capacity` is read when adding only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FrameForm {
    pub name: String,
    pub capacity: String,
    pub method: String,
    pub fee: String,
    pub opens_local: String,
    pub closes_local: String,
    pub draw_local: String,
    /// A checkbox: present when ticked.
    pub frozen: Option<String>,
    /// The frame's own venue (hybrid events): `online`, `offline`, `hybrid`, or empty for
    /// the event's; its own place, address and online URL (empty: the event's).
    pub venue_kind: String,
    pub place: String,
    pub address: String,
    pub online_url: String,
}

/// An event in the editor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdminEvent {
    pub id: i64,
    pub group_id: i64,
    pub group_title: String,
    pub status: EventStatus,
    pub span: ZonedSpan,
    pub form: EventForm,
    pub frames: Vec<FrameSummary>,
    /// The frames' times as local `YYYY-MM-DDTHH:MM` in the event's zone (empty when unset).
    pub frame_times: Vec<FrameTimes>,
    pub questions: Vec<crate::registrations::model::Question>,
    pub speakers: Vec<AdminSpeaker>,
    /// Lottery draws of the event's frames, as recorded.
    pub draws: Vec<DrawLog>,
    /// The public participant list shows counts only.
    pub participants_hidden: bool,
    /// The invitation link of an invitation-only event (its organizers may show it again).
    pub invite_url: Option<String>,
    /// Reconfirmation (参加の再確認), if required.
    #[serde(default)]
    pub reconfirm: Option<crate::registrations::reconfirm::ReconfirmSetting>,
    pub role: Role,
}

/// One lottery draw: when, with which seed (anyone holding it and the applications in
/// order can re-derive the outcome), and the drawn order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawLog {
    pub frame_id: i64,
    pub drawn_at: DateTime<Utc>,
    /// The ChaCha8 seed, as a decimal string (u64 does not fit JSON numbers safely).
    pub seed: String,
    pub winners: i64,
    /// The frame's applicants in drawn order.
    pub entries: Vec<DrawEntry>,
}

/// One applicant of a draw: (rank, nickname, won, the frame won, which choice of their
/// ranking it was: 1 the frame applied to, 2+ a ranked alternative).
pub type DrawEntry = (i64, String, bool, Option<i64>, Option<i64>);

/// A speaker in the editor (with the account it is linked to, if any).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminSpeaker {
    pub id: i64,
    pub name: String,
    pub affiliation: String,
    pub talk_title: String,
    pub nickname: Option<String>,
}

/// A frame's times for the editor's inputs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameTimes {
    pub id: i64,
    pub opens_local: String,
    pub closes_local: String,
    pub draw_local: String,
    /// The frame's own online URL (organizers see it here; attendees of the frame once
    /// confirmed).
    pub online_url: String,
}

/// One registrant as organizers see them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attendee {
    pub registration_id: i64,
    pub nickname: String,
    pub display_name: String,
    pub frame_name: String,
    pub status: RegStatus,
    /// Queue position within the frame (waitlist order).
    pub position: i64,
    pub receipt_code: String,
    pub registered_at: DateTime<Utc>,
    pub checked_in_at: Option<DateTime<Utc>>,
    /// (question, answer), in question order.
    pub answers: Vec<(String, String)>,
    /// Reconfirmation: asked to reconfirm, reconfirmed when, released (seat given on) when.
    #[serde(default)]
    pub reconfirm_asked: bool,
    #[serde(default)]
    pub reconfirmed_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub released_at: Option<DateTime<Utc>>,
}

/// The attendee page of one event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttendeeList {
    pub event_id: i64,
    pub title: String,
    pub ended: bool,
    pub items: Vec<Attendee>,
    pub role: Role,
    /// The event's reconfirmation requirement, if any.
    #[serde(default)]
    pub reconfirm: Option<crate::registrations::reconfirm::ReconfirmSetting>,
}

impl AttendeeList {
    pub fn confirmed(&self) -> usize {
        self.items.iter().filter(|a| a.status == RegStatus::Confirmed).count()
    }

    pub fn checked_in(&self) -> usize {
        self.items.iter().filter(|a| a.status == RegStatus::Confirmed && a.checked_in_at.is_some()).count()
    }

    /// Confirmed registrants who never checked in (meaningful after the event).
    pub fn no_shows(&self) -> usize {
        self.confirmed() - self.checked_in()
    }
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    pub nickname: String,
    pub action: String,
    pub detail: String,
}

/// An optional URL field: empty, or http(s).
pub fn empty_or_http(url: &str) -> bool {
    url.is_empty() || url.starts_with("https://") || url.starts_with("http://")
}

/// Checks a new group's fields: slug of 3–40 lower-case letters, digits and hyphens,
/// title of 1–100 characters, website empty or http(s).
pub fn validate_group(slug: &str, title: &str, website: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let slug_ok = (3..=40).contains(&slug.len())
        && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !slug.starts_with('-')
        && !slug.ends_with('-');
    if slug.is_empty() {
        errors.push(FieldError::new("slug", "required", "enter a URL name"));
    } else if !slug_ok {
        errors.push(FieldError::new("slug", "slug_format", "3–40 lower-case letters, digits and hyphens"));
    }
    required_text(&mut errors, "title", title, 100, "enter a title", "title");
    let w = website.trim();
    if !empty_or_http(w) {
        errors.push(FieldError::new("website", "invalid_url", "the URL must start with https:// or http://"));
    }
    too_long(&mut errors, "website", w, MAX_URL, "URL");
    errors
}

/// The longest URL a field keeps (websites, online venues).
pub const MAX_URL: usize = 2_000;

/// A group's description (Markdown): up to 20,000 characters.
pub fn validate_group_description(description: &str) -> Vec<FieldError> {
    let mut errors = Vec::new();
    too_long(&mut errors, "description", description, 20_000, "description");
    errors
}

/// A `too_long` error ("the {noun} is longer than {max} characters") past `max` characters.
pub fn too_long(errors: &mut Vec<FieldError>, field: &str, value: &str, max: usize, noun: &str) {
    if value.chars().count() > max {
        errors.push(FieldError::new(field, "too_long", &format!("the {noun} is longer than {max} characters")));
    }
}

/// `value` trimmed, after checking it: a `required` error (message `enter`) when it is
/// empty, a `too_long` one ("the {noun} is longer than {max} characters") past `max`.
pub fn required_text<'a>(
    errors: &mut Vec<FieldError>,
    field: &str,
    value: &'a str,
    max: usize,
    enter: &str,
    noun: &str,
) -> &'a str {
    let value = value.trim();
    if value.is_empty() {
        errors.push(FieldError::new(field, "required", enter));
    } else if value.chars().count() > max {
        errors.push(FieldError::new(field, "too_long", &format!("the {noun} is longer than {max} characters")));
    }
    value
}

/// Checks of an event form that need no zone database (the server adds the time checks).
pub fn validate_event_form(f: &EventForm) -> Vec<FieldError> {
    let mut errors = Vec::new();
    required_text(&mut errors, "title", &f.title, 200, "enter a title", "title");
    if f.catch.chars().count() > 300 {
        errors.push(FieldError::new("catch", "too_long", "the catch is longer than 300 characters"));
    }
    if f.description.chars().count() > 50_000 {
        errors.push(FieldError::new("description", "too_long", "the description is longer than 50,000 characters"));
    }
    let (title_en, catch_en, description_en) = (
        f.title_en.as_deref().unwrap_or(""),
        f.catch_en.as_deref().unwrap_or(""),
        f.description_en.as_deref().unwrap_or(""),
    );
    too_long(&mut errors, "title_en", title_en.trim(), 200, "English title");
    too_long(&mut errors, "catch_en", catch_en.trim(), 300, "English catch");
    if description_en.chars().count() > 50_000 {
        errors.push(FieldError::new(
            "description_en",
            "too_long",
            "the English description is longer than 50,000 characters",
        ));
    }
    if title_en.trim().is_empty() && !(catch_en.trim().is_empty() && description_en.trim().is_empty()) {
        errors.push(FieldError::new("title_en", "required", "an English catch or description needs an English title"));
    }
    if !matches!(f.venue_kind.as_str(), "online" | "offline" | "hybrid") {
        errors.push(FieldError::new("venue_kind", "invalid_choice", "choose online, offline or hybrid"));
    }
    if !f.prefecture.is_empty() && !crate::geo::PREFECTURES.iter().any(|(c, _, _)| *c == f.prefecture) {
        errors.push(FieldError::new("prefecture", "invalid_choice", "choose a prefecture"));
    }
    let url = f.online_url.trim();
    if !empty_or_http(url) {
        errors.push(FieldError::new("online_url", "invalid_url", "the URL must start with https:// or http://"));
    }
    too_long(&mut errors, "online_url", url, MAX_URL, "URL");
    too_long(&mut errors, "place", f.place.trim(), 200, "venue name");
    too_long(&mut errors, "address", f.address.trim(), 300, "address");
    if !matches!(f.language.as_str(), "ja" | "en" | "multi") {
        errors.push(FieldError::new("language", "invalid_choice", "choose ja, en or multi"));
    }
    if f.hashtag.chars().count() > 100 {
        errors.push(FieldError::new("hashtag", "too_long", "the hashtag is longer than 100 characters"));
    }
    if parse_position(&f.lat, &f.lon).is_none() {
        errors.push(FieldError::new(
            "lat",
            "invalid_position",
            "latitude −90…90 and longitude −180…180, both or neither",
        ));
    }
    errors
}

/// Years an organizer may enter: wide enough for any real meetup, narrow enough that every
/// date sum (calendar zones, search days) stays far from chrono's limits.
pub const YEARS: std::ops::RangeInclusive<i32> = 2000..=2100;
/// The longest an event may last.
pub const MAX_EVENT_DAYS: i64 = 31;

/// A typed year outside [`YEARS`] as a field error on `field`, else `None`.
pub fn year_error(year: i32, field: &str) -> Option<FieldError> {
    (!YEARS.contains(&year)).then(|| {
        FieldError::new(
            field,
            "year_out_of_range",
            &format!("the year must be between {} and {}", YEARS.start(), YEARS.end()),
        )
    })
}

/// An event's start and end in order and at most [`MAX_EVENT_DAYS`] apart, or the error
/// on `ends_local`.
pub fn span_error(starts: DateTime<Utc>, ends: DateTime<Utc>) -> Option<FieldError> {
    if ends <= starts {
        Some(FieldError::new("ends_local", "end_before_start", "the end must be after the start"))
    } else if ends - starts > chrono::Duration::days(MAX_EVENT_DAYS) {
        Some(FieldError::new("ends_local", "span_too_long", &format!("an event lasts at most {MAX_EVENT_DAYS} days")))
    } else {
        None
    }
}

/// The map position of the form: `Some(None)` when both are empty, `Some(Some(..))` for
/// valid decimal degrees, `None` when invalid (one missing, not a number, out of range).
pub fn parse_position(lat: &str, lon: &str) -> Option<Option<(f64, f64)>> {
    match (lat.trim(), lon.trim()) {
        ("", "") => Some(None),
        (a, b) => match (a.parse::<f64>(), b.parse::<f64>()) {
            (Ok(a), Ok(b)) if (-90.0..=90.0).contains(&a) && (-180.0..=180.0).contains(&b) => Some(Some((a, b))),
            _ => None,
        },
    }
}

/// The comma-separated tag names of the form (full-width commas too), trimmed, unique.
pub fn tag_names(raw: &str) -> Vec<String> {
    unique_items(raw.split([',', '、', '，']))
}

/// The trimmed, non-empty items in their first-seen order without repeats (linear: a set
/// remembers what was seen).
fn unique_items<'a>(items: impl Iterator<Item = &'a str>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    items.map(str::trim).filter(|n| !n.is_empty() && seen.insert(*n)).map(str::to_string).collect()
}

/// At most this many tags on an event.
pub const MAX_TAGS: usize = 20;
/// At most this many characters in one tag name.
pub const MAX_TAG_CHARS: usize = 50;
/// At most this many choices in a question.
pub const MAX_CHOICES: usize = 50;
/// At most this many characters in one choice.
pub const MAX_CHOICE_CHARS: usize = 200;

/// A list field checked before it is split: the raw text may hold `max_items` items of
/// `max_chars` characters with their separators and some spacing, no more. Counting stops
/// at the limit, so a 2 MB field costs no more than a short one.
fn raw_list_too_long(raw: &str, max_items: usize, max_chars: usize) -> bool {
    raw.chars().nth(max_items * (max_chars + 3)).is_some()
}

/// A bounded list field: at most `max_items` items of at most `max_chars` characters, or
/// the field error `too_many` / `too_long` on `field`.
struct ListBounds {
    field: &'static str,
    max_items: usize,
    max_chars: usize,
    too_many: String,
    too_long: String,
}

impl ListBounds {
    fn check(&self, raw: &str, split: impl FnOnce(&str) -> Vec<String>) -> Result<Vec<String>, FieldError> {
        let too_many = || FieldError::new(self.field, "too_many", &self.too_many);
        if raw_list_too_long(raw, self.max_items, self.max_chars) {
            return Err(too_many());
        }
        let items = split(raw);
        if items.len() > self.max_items {
            return Err(too_many());
        }
        if items.iter().any(|i| i.chars().count() > self.max_chars) {
            return Err(FieldError::new(self.field, "too_long", &self.too_long));
        }
        Ok(items)
    }
}

/// The form's tag names, bounded: at most [`MAX_TAGS`] distinct names of at most
/// [`MAX_TAG_CHARS`] characters, or a field error on `tags`.
pub fn checked_tag_names(raw: &str) -> Result<Vec<String>, FieldError> {
    ListBounds {
        field: "tags",
        max_items: MAX_TAGS,
        max_chars: MAX_TAG_CHARS,
        too_many: format!("give at most {MAX_TAGS} tags"),
        too_long: format!("a tag name is longer than {MAX_TAG_CHARS} characters"),
    }
    .check(raw, tag_names)
}

/// A choice question's options, one per line, trimmed and unique, bounded: at most
/// [`MAX_CHOICES`] of at most [`MAX_CHOICE_CHARS`] characters, or a field error on `options`.
pub fn checked_choices(raw: &str) -> Result<Vec<String>, FieldError> {
    ListBounds {
        field: "options",
        max_items: MAX_CHOICES,
        max_chars: MAX_CHOICE_CHARS,
        too_many: format!("give at most {MAX_CHOICES} choices"),
        too_long: format!("a choice is longer than {MAX_CHOICE_CHARS} characters"),
    }
    .check(raw, |raw| unique_items(raw.lines()))
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab or CR first) gets a
/// leading apostrophe, which Excel and LibreOffice show as text and do not evaluate.
pub fn neutralise_formula(s: &str) -> std::borrow::Cow<'_, str> {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}").into() } else { s.into() }
}

/// The CSV of an event's attendees: a header, then one row per registrant (cancelled ones
/// too, marked), answers as one column per question. RFC 4180 quoting; `excel` prefixes a
/// UTF-8 BOM so Excel in Japan reads the Japanese correctly, and neutralises cells that
/// would run as formulas (names and answers are typed by attendees).
pub fn attendees_csv(list: &AttendeeList, questions: &[String], excel: bool) -> String {
    let field = |out: &mut String, s: &str| {
        let s = if excel { neutralise_formula(s) } else { s.into() };
        let s = s.as_ref();
        if s.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&s.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(s);
        }
    };
    let mut out = String::new();
    if excel {
        out.push('\u{feff}');
    }
    let mut header: Vec<String> = ["nickname", "display_name", "frame", "status", "position", "receipt_code"]
        .into_iter()
        .map(String::from)
        .collect();
    header.extend(["registered_at".to_string(), "checked_in_at".to_string()]);
    header.extend(questions.iter().cloned());
    for (i, h) in header.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(&mut out, h);
    }
    out.push_str("\r\n");
    for a in &list.items {
        let status = match a.status {
            RegStatus::Confirmed => "confirmed",
            RegStatus::Waitlisted => "waitlisted",
            RegStatus::Cancelled => "cancelled",
        };
        let mut cells = vec![
            a.nickname.clone(),
            a.display_name.clone(),
            a.frame_name.clone(),
            status.to_string(),
            a.position.to_string(),
            a.receipt_code.clone(),
            a.registered_at.to_rfc3339(),
            a.checked_in_at.map(|t| t.to_rfc3339()).unwrap_or_default(),
        ];
        for q in questions {
            cells.push(a.answers.iter().find(|(label, _)| label == q).map(|(_, v)| v.clone()).unwrap_or_default());
        }
        for (i, c) in cells.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            field(&mut out, c);
        }
        out.push_str("\r\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_need_both_coordinates_in_range() {
        assert_eq!(parse_position("", ""), Some(None));
        assert_eq!(parse_position("35.68", "139.76"), Some(Some((35.68, 139.76))));
        assert!(parse_position("35.68", "").is_none());
        assert!(parse_position("95", "10").is_none());
        assert_eq!(tag_names("Rust, Docker、rust ,, k8s"), ["Rust", "Docker", "rust", "k8s"]);
    }

    #[test]
    fn cells_that_would_run_as_formulas_get_an_apostrophe_in_the_excel_csv() {
        for bad in ["=HYPERLINK(\"http://evil.example\")", "+1+1", "-2+3", "@SUM(A1)", "\tx", "\rx"] {
            assert_eq!(neutralise_formula(bad), format!("'{bad}"));
        }
        for fine in ["taro", "1-2", "a=b", "", "'quoted"] {
            assert_eq!(neutralise_formula(fine), fine);
        }
        let list = AttendeeList {
            event_id: 1,
            title: "x".into(),
            ended: false,
            role: Role::Owner,
            reconfirm: None,
            items: vec![Attendee {
                registration_id: 1,
                nickname: "mallory".into(),
                display_name: "=cmd|' /C calc'!A0".into(),
                frame_name: "一般".into(),
                status: RegStatus::Confirmed,
                position: 1,
                receipt_code: "ABC".into(),
                registered_at: Utc::now(),
                checked_in_at: None,
                answers: vec![("懇親会".into(), "@SUM(1+1)".into())],
                reconfirm_asked: false,
                reconfirmed_at: None,
                released_at: None,
            }],
        };
        let excel = attendees_csv(&list, &["懇親会".into()], true);
        assert!(excel.contains(",'=cmd|' /C calc'!A0,") && excel.contains(",'@SUM(1+1)\r\n"), "{excel}");
        let plain = attendees_csv(&list, &["懇親会".into()], false);
        assert!(
            plain.contains(",=cmd|' /C calc'!A0,") && plain.contains(",@SUM(1+1)\r\n"),
            "plain CSV is data as typed: {plain}"
        );
    }

    #[test]
    fn years_outside_2000_to_2100_are_refused() {
        assert!(year_error(2000, "starts_local").is_none());
        assert!(year_error(2100, "starts_local").is_none());
        assert_eq!(year_error(1999, "starts_local").unwrap().code, "year_out_of_range");
        assert_eq!(year_error(200_000, "ends_local").unwrap().field, "ends_local");
    }

    #[test]
    fn an_event_ends_after_it_starts_and_within_31_days() {
        let t = chrono::DateTime::parse_from_rfc3339("2027-01-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let days = chrono::Duration::days;
        assert!(span_error(t, t + days(31)).is_none());
        assert_eq!(span_error(t, t).unwrap().code, "end_before_start");
        assert_eq!(span_error(t, t + days(31) + chrono::Duration::minutes(1)).unwrap().code, "span_too_long");
    }

    #[test]
    fn tag_lists_are_bounded_in_count_and_length() {
        let twenty: Vec<String> = (0..MAX_TAGS).map(|i| format!("t{i}")).collect();
        assert_eq!(checked_tag_names(&twenty.join(",")), Ok(twenty.clone()));
        let code = |r: Result<Vec<String>, FieldError>| r.unwrap_err().code;
        assert_eq!(code(checked_tag_names(&format!("{},extra", twenty.join(",")))), "too_many");
        assert_eq!(code(checked_tag_names(&"a".repeat(MAX_TAG_CHARS + 1))), "too_long");
        assert_eq!(code(checked_tag_names(&"x,".repeat(1_000_000))), "too_many");
        assert_eq!(checked_tag_names(&"rust, ".repeat(30)), Ok(vec!["rust".to_string()]));
    }

    #[test]
    fn choice_lists_are_unique_and_bounded() {
        assert_eq!(checked_choices("a\n b \n\na\nc"), Ok(vec!["a".into(), "b".into(), "c".into()]));
        let many: String = (0..=MAX_CHOICES).map(|i| format!("c{i}\n")).collect();
        assert_eq!(checked_choices(&many).unwrap_err().code, "too_many");
        assert_eq!(checked_choices(&"b".repeat(MAX_CHOICE_CHARS + 1)).unwrap_err().code, "too_long");
        assert_eq!(checked_choices(&"y\n".repeat(1_000_000)).unwrap_err().code, "too_many");
    }

    #[test]
    fn group_slugs_are_url_safe() {
        assert!(validate_group("rust-tokyo", "Rust.Tokyo", "https://rust.tokyo").is_empty());
        let codes: Vec<String> = validate_group("Rust Tokyo", "", "ftp://x").into_iter().map(|e| e.code).collect();
        assert_eq!(codes, ["slug_format", "required", "invalid_url"]);
        assert!(!validate_group("-ab", "t", "").is_empty());
        let long_site = format!("https://{}", "x".repeat(MAX_URL));
        assert_eq!(validate_group("rust-tokyo", "Rust.Tokyo", &long_site)[0].code, "too_long");
        assert!(validate_group_description(&"説".repeat(20_000)).is_empty());
        assert_eq!(validate_group_description(&"説".repeat(20_001))[0].field, "description");
    }

    #[test]
    fn csv_quotes_commas_quotes_and_newlines() {
        let t = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z").unwrap().with_timezone(&Utc);
        let list = AttendeeList {
            event_id: 1,
            title: "x".into(),
            ended: false,
            role: Role::Owner,
            reconfirm: None,
            items: vec![Attendee {
                registration_id: 1,
                nickname: "taro".into(),
                display_name: "Taro, \"T\"".into(),
                frame_name: "一般".into(),
                status: RegStatus::Confirmed,
                position: 1,
                receipt_code: "ABC".into(),
                registered_at: t,
                checked_in_at: None,
                answers: vec![("懇親会".into(), "参加\n2名".into())],
                reconfirm_asked: false,
                reconfirmed_at: None,
                released_at: None,
            }],
        };
        let csv = attendees_csv(&list, &["懇親会".into()], true);
        assert!(csv.starts_with('\u{feff}'));
        assert!(
            csv.contains("taro,\"Taro, \"\"T\"\"\",一般,confirmed,1,ABC,2026-12-01T10:00:00+00:00,,\"参加\n2名\"\r\n"),
            "{csv}"
        );
        assert!(!attendees_csv(&list, &[], false).starts_with('\u{feff}'));
    }
}
