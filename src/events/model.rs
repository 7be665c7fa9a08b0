//! Event wire types, shared by server and browser. Nothing secret lives here: the online
//! URL of an event is deliberately absent from every type in this module.

use serde::{Deserialize, Serialize};

use crate::tags::model::TagRef;
use crate::time::ZonedSpan;

/// Who can find and open an event.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Visibility {
    /// Listed everywhere.
    #[default]
    Public,
    /// Reachable by its link; absent from lists, search, feeds, the sitemap and the API.
    Unlisted,
    /// Unlisted, and its page and registration need the secret invitation link.
    Invitation,
}

impl Visibility {
    /// The stored and wire code (`public` / `unlisted` / `invitation`).
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Invitation => "invitation",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "invitation" => Some(Visibility::Invitation),
            _ => None,
        }
    }
}

/// Where an event happens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VenueKind {
    Online,
    Offline,
    Hybrid,
}

impl VenueKind {
    /// The stored code (`online` / `offline` / `hybrid`).
    pub fn as_str(self) -> &'static str {
        match self {
            VenueKind::Online => "online",
            VenueKind::Offline => "offline",
            VenueKind::Hybrid => "hybrid",
        }
    }

    /// Parses the stored code.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "online" => Some(VenueKind::Online),
            "offline" => Some(VenueKind::Offline),
            "hybrid" => Some(VenueKind::Hybrid),
            _ => None,
        }
    }
}

/// Publication state of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventStatus {
    Draft,
    Published,
    Cancelled,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            EventStatus::Draft => "draft",
            EventStatus::Published => "published",
            EventStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(EventStatus::Draft),
            "published" => Some(EventStatus::Published),
            "cancelled" => Some(EventStatus::Cancelled),
            _ => None,
        }
    }
}

/// Spoken language of an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpokenLanguage {
    Ja,
    En,
    Multi,
}

impl SpokenLanguage {
    pub fn as_str(self) -> &'static str {
        match self {
            SpokenLanguage::Ja => "ja",
            SpokenLanguage::En => "en",
            SpokenLanguage::Multi => "multi",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ja" => Some(SpokenLanguage::Ja),
            "en" => Some(SpokenLanguage::En),
            "multi" => Some(SpokenLanguage::Multi),
            _ => None,
        }
    }
}

/// An event's English text (title, catch and Markdown description), given beside its
/// Japanese one: bilingual events. An empty title means there is none; an empty catch or
/// description shows the Japanese one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnglishText {
    pub title: String,
    pub catch: String,
    pub description: String,
}

impl EnglishText {
    pub fn is_empty(&self) -> bool {
        self.title.trim().is_empty()
    }
}

/// An event's text in Japanese and in English, from its stored text (`title`: the
/// Japanese, or the only, text), its English text and its spoken language: an event in
/// English without an English text of its own is English only. Each is `(title, catch,
/// description)`; empty when the event has no text in that language.
pub fn bilingual(
    title: &str,
    catch: &str,
    description: &str,
    english: &EnglishText,
    language: SpokenLanguage,
) -> ((String, String, String), (String, String, String)) {
    let own = (title.to_string(), catch.to_string(), description.to_string());
    let none = (String::new(), String::new(), String::new());
    if !english.is_empty() {
        let or = |en: &str, ja: &str| if en.trim().is_empty() { ja.to_string() } else { en.to_string() };
        let en = (english.title.clone(), or(&english.catch, catch), or(&english.description, description));
        (own, en)
    } else if language == SpokenLanguage::En {
        (none, own)
    } else {
        (own, none)
    }
}

/// Seat numbers of an event or a frame: `accepted/limit`, plus the waitlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Seats {
    pub accepted: i64,
    pub limit: i64,
    pub waiting: i64,
}

impl Seats {
    /// No seat left.
    pub fn is_full(&self) -> bool {
        self.limit > 0 && self.accepted >= self.limit
    }

    /// Fill ratio in percent, 0–100, for the seat bar.
    pub fn percent(&self) -> u8 {
        if self.limit <= 0 {
            return 0;
        }
        ((self.accepted.max(0) * 100) / self.limit).clamp(0, 100) as u8
    }
}

/// An event as a card in a list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventCard {
    pub id: i64,
    pub title: String,
    /// A bilingual event's English title (empty: none); lists show it to English readers.
    #[serde(default)]
    pub title_en: String,
    pub span: ZonedSpan,
    pub group_slug: String,
    pub group_title: String,
    pub tags: Vec<TagRef>,
    pub venue_kind: VenueKind,
    pub prefecture: Option<String>,
    pub status: EventStatus,
    pub seats: Seats,
}

/// A participation frame (参加枠) as shown publicly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FrameSummary {
    pub id: i64,
    pub name: String,
    pub method: FrameMethod,
    pub fee: i64,
    pub seats: Seats,
    /// Registration window (open from the start when `None`, closes at the event start).
    pub opens_at: Option<chrono::DateTime<chrono::Utc>>,
    pub closes_at: Option<chrono::DateTime<chrono::Utc>>,
    /// Lottery frames: when the draw runs, and whether it has.
    pub draw_at: Option<chrono::DateTime<chrono::Utc>>,
    pub drawn: bool,
    /// The organizer stopped automatic promotion from the waitlist.
    pub promotion_frozen: bool,
    /// Where this frame's attendees go, when it is not the event's venue (hybrid events).
    pub venue: FrameVenue,
}

/// A frame's own venue (参加枠ごとの会場): in person, online or both, with its own place.
/// Empty (the default): the event's venue. Its online URL is not here: it is shown to the
/// frame's confirmed registrants only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameVenue {
    /// `None`: as the event.
    pub kind: Option<VenueKind>,
    pub place: String,
    pub address: String,
}

impl FrameVenue {
    /// True when the frame has nothing of its own.
    pub fn is_inherited(&self) -> bool {
        self.kind.is_none() && self.place.trim().is_empty() && self.address.trim().is_empty()
    }

    /// The venue this frame's attendees go to: (kind, place, address), each the frame's own
    /// when set, else the event's.
    pub fn resolve<'a>(&'a self, kind: VenueKind, place: &'a str, address: &'a str) -> (VenueKind, &'a str, &'a str) {
        let own_place = !self.place.trim().is_empty() || !self.address.trim().is_empty();
        let kind = self.kind.unwrap_or(kind);
        match (own_place, kind) {
            (true, _) => (kind, self.place.trim(), self.address.trim()),
            // Online only: no place, whatever the event's.
            (false, VenueKind::Online) => (kind, "", ""),
            (false, _) => (kind, place, address),
        }
    }
}

/// A place and its address on one line (`Room A, 大阪市北区`), either may be empty.
pub fn place_line(place: &str, address: &str) -> String {
    [place.trim(), address.trim()].into_iter().filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
}

/// The online URL a frame's attendees get: the frame's own, else the event's, except for a
/// frame set to in person only (`kind`: the frame's own kind, `None` when it has none).
pub fn frame_online_url(
    event_url: Option<String>,
    kind: Option<VenueKind>,
    frame_url: Option<String>,
) -> Option<String> {
    match (frame_url, kind) {
        (Some(url), _) => Some(url),
        (None, Some(VenueKind::Offline)) => None,
        (None, _) => event_url,
    }
}

/// How seats of a frame are given out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FrameMethod {
    /// 先着
    FirstCome,
    /// 抽選
    Lottery,
}

impl FrameMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            FrameMethod::FirstCome => "first_come",
            FrameMethod::Lottery => "lottery",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "first_come" => Some(FrameMethod::FirstCome),
            "lottery" => Some(FrameMethod::Lottery),
            _ => None,
        }
    }
}

/// A speaker and their talk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Speaker {
    pub name: String,
    pub affiliation: String,
    pub bio: String,
    pub talk_title: String,
}

/// Everything the public event page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventDetail {
    pub card: EventCard,
    pub catch: String,
    /// Markdown rendered and sanitised on the server.
    pub description_html: String,
    /// The same description as plain text (calendar links, meta description).
    pub description_text: String,
    pub place: String,
    pub address: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub language: SpokenLanguage,
    pub hashtag: String,
    pub image_url: Option<String>,
    pub frames: Vec<FrameSummary>,
    pub speakers: Vec<Speaker>,
    pub questions: Vec<crate::registrations::model::Question>,
    /// The event had ended when the server answered (decided there, so the browser's clock
    /// cannot make hydration disagree with the server's HTML).
    pub ended: bool,
    /// Absolute URL of the event page (`TSUDOI_PUBLIC_URL` + path), for calendars and sharing.
    pub url: String,
    /// schema.org `Event` as JSON-LD, already escaped for a `<script>` element.
    pub json_ld: String,
    /// Unlisted and invitation-only pages ask search engines not to index them.
    pub visibility: Visibility,
    /// A bilingual event's English text (the page shows it to people reading in English,
    /// with a switch; `?hl=ja|en` chooses).
    #[serde(default)]
    pub english: Option<EnglishDetail>,
}

/// The English text of a bilingual event, as its page shows it (empty parts already
/// replaced by the Japanese ones).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnglishDetail {
    pub title: String,
    pub catch: String,
    pub description_html: String,
    pub description_text: String,
}

/// One page of a longer list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

impl<T> Page<T> {
    /// Number of pages (at least 1).
    pub fn pages(&self) -> u32 {
        let per = i64::from(self.per_page.max(1));
        (((self.total + per - 1) / per).max(1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_is_japanese_english_or_both() {
        let none = EnglishText::default();
        let t = |a: &str, b: &str, c: &str| (a.to_string(), b.to_string(), c.to_string());
        let empty = t("", "", "");
        assert_eq!(
            bilingual("勉強会", "キャッチ", "本文", &none, SpokenLanguage::Ja),
            (t("勉強会", "キャッチ", "本文"), empty.clone())
        );
        assert_eq!(
            bilingual("Meetup", "c", "d", &none, SpokenLanguage::En),
            (empty, t("Meetup", "c", "d")),
            "English only"
        );
        let english = EnglishText { title: "Study group".into(), catch: String::new(), description: "Body".into() };
        assert_eq!(
            bilingual("勉強会", "キャッチ", "本文", &english, SpokenLanguage::Multi),
            (t("勉強会", "キャッチ", "本文"), t("Study group", "キャッチ", "Body")),
            "an empty English catch shows the Japanese one"
        );
    }

    #[test]
    fn a_frame_goes_to_its_own_venue_or_the_event_s() {
        let event = (VenueKind::Hybrid, "AIP Open Space", "日本橋1-4-1");
        let inherit = FrameVenue::default();
        assert!(inherit.is_inherited());
        assert_eq!(inherit.resolve(event.0, event.1, event.2), event);
        let online = FrameVenue { kind: Some(VenueKind::Online), ..FrameVenue::default() };
        assert_eq!(online.resolve(event.0, event.1, event.2), (VenueKind::Online, "", ""), "online: no place");
        let in_person = FrameVenue { kind: Some(VenueKind::Offline), ..FrameVenue::default() };
        assert_eq!(in_person.resolve(event.0, event.1, event.2), (VenueKind::Offline, event.1, event.2));
        let elsewhere =
            FrameVenue { kind: Some(VenueKind::Offline), place: " Osaka room ".into(), address: String::new() };
        assert!(!elsewhere.is_inherited());
        assert_eq!(elsewhere.resolve(event.0, event.1, event.2), (VenueKind::Offline, "Osaka room", ""));
    }

    #[test]
    fn a_frame_s_online_url_is_its_own_or_the_event_s_unless_it_is_in_person_only() {
        let e = || Some("https://event.example/stream".to_string());
        let f = || Some("https://frame.example/room".to_string());
        assert_eq!(frame_online_url(e(), None, None), e());
        assert_eq!(frame_online_url(e(), None, f()), f());
        assert_eq!(frame_online_url(e(), Some(VenueKind::Offline), None), None);
        assert_eq!(frame_online_url(e(), Some(VenueKind::Offline), f()), f(), "an explicit URL wins");
        assert_eq!(frame_online_url(e(), Some(VenueKind::Hybrid), None), e());
        assert_eq!(frame_online_url(None, Some(VenueKind::Online), None), None);
    }

    #[test]
    fn seats_are_full_at_the_limit() {
        assert!(Seats { accepted: 200, limit: 200, waiting: 3 }.is_full());
        assert!(!Seats { accepted: 108, limit: 200, waiting: 0 }.is_full());
        assert_eq!(Seats { accepted: 108, limit: 200, waiting: 0 }.percent(), 54);
    }

    #[test]
    fn percent_of_zero_limit_is_zero() {
        assert_eq!(Seats { accepted: 3, limit: 0, waiting: 0 }.percent(), 0);
    }

    #[test]
    fn page_count_rounds_up() {
        let p = Page::<u8> { items: vec![], page: 1, per_page: 20, total: 41 };
        assert_eq!(p.pages(), 3);
        let empty = Page::<u8> { items: vec![], page: 1, per_page: 20, total: 0 };
        assert_eq!(empty.pages(), 1);
    }

    #[test]
    fn codes_round_trip() {
        for v in [VenueKind::Online, VenueKind::Offline, VenueKind::Hybrid] {
            assert_eq!(VenueKind::parse(v.as_str()), Some(v));
        }
        for s in [EventStatus::Draft, EventStatus::Published, EventStatus::Cancelled] {
            assert_eq!(EventStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(SpokenLanguage::parse("fr"), None);
    }
}
