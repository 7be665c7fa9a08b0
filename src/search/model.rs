//! The search query as it lives in the URL (`/events?q=&tags=&tools=&date=&from=&to=&pref=
//! &area=&lang=&sort=&page=`), parsed identically in the browser and on the server.
//! Malformed values never fail a page: they are dropped and reported as warnings.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::events::model::{EventCard, Page};
use crate::tags::model::TagRef;

/// Date presets of the 開催日 condition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum DatePreset {
    Today,
    Tomorrow,
    ThisWeek,
    ThisWeekend,
    NextWeek,
    ThisMonth,
    NextMonth,
    Upcoming,
    Past,
    All,
}

impl DatePreset {
    pub const ALL: [DatePreset; 10] = [
        DatePreset::Upcoming,
        DatePreset::Today,
        DatePreset::Tomorrow,
        DatePreset::ThisWeek,
        DatePreset::ThisWeekend,
        DatePreset::NextWeek,
        DatePreset::ThisMonth,
        DatePreset::NextMonth,
        DatePreset::Past,
        DatePreset::All,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DatePreset::Today => "today",
            DatePreset::Tomorrow => "tomorrow",
            DatePreset::ThisWeek => "this-week",
            DatePreset::ThisWeekend => "this-weekend",
            DatePreset::NextWeek => "next-week",
            DatePreset::ThisMonth => "this-month",
            DatePreset::NextMonth => "next-month",
            DatePreset::Upcoming => "upcoming",
            DatePreset::Past => "past",
            DatePreset::All => "all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        DatePreset::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// こだわり条件.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Pref {
    Free,
    Online,
    Offline,
    Available,
    WaitlistOk,
    English,
    Beginner,
    Weekend,
    Evening,
    HandsOn,
}

impl Pref {
    pub const ALL: [Pref; 10] = [
        Pref::Free,
        Pref::Online,
        Pref::Offline,
        Pref::Available,
        Pref::WaitlistOk,
        Pref::English,
        Pref::Beginner,
        Pref::Weekend,
        Pref::Evening,
        Pref::HandsOn,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Pref::Free => "free",
            Pref::Online => "online",
            Pref::Offline => "offline",
            Pref::Available => "available",
            Pref::WaitlistOk => "waitlist-ok",
            Pref::English => "english",
            Pref::Beginner => "beginner",
            Pref::Weekend => "weekend",
            Pref::Evening => "evening",
            Pref::HandsOn => "hands-on",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Pref::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// Result order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Sort {
    /// Soonest first (latest first for past events).
    Date,
    /// Newest announcements first.
    New,
    /// Most registrations first.
    Popular,
    /// Most seats left first.
    Seats,
}

impl Sort {
    pub const ALL: [Sort; 4] = [Sort::Date, Sort::New, Sort::Popular, Sort::Seats];

    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Date => "date",
            Sort::New => "new",
            Sort::Popular => "popular",
            Sort::Seats => "seats",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Sort::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// One keyword term: a word or a `"quoted phrase"`, possibly excluded with `-`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub text: String,
    pub exclude: bool,
}

/// A parsed, normalised search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub q: String,
    pub tags: Vec<String>,
    pub tools: Vec<String>,
    pub date: DatePreset,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub prefs: Vec<Pref>,
    pub area: Option<String>,
    /// Spoken language filter: `ja` or `en` (events in both languages match either).
    pub lang: Option<String>,
    pub sort: Sort,
    /// 1-based.
    pub page: u32,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            q: String::new(),
            tags: Vec::new(),
            tools: Vec::new(),
            date: DatePreset::Upcoming,
            from: None,
            to: None,
            prefs: Vec::new(),
            area: None,
            lang: None,
            sort: Sort::Date,
            page: 1,
        }
    }
}

/// The search page's URL parameters as given (unparsed), in one struct: what the search
/// server function takes, flattened, so its query string is the page's.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SearchParams {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub q: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tags: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tools: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pref: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub page: Option<String>,
}

impl SearchParams {
    /// Reads the parameters from a lookup (repeated list parameters joined with commas).
    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Self {
        SearchParams {
            q: get("q"),
            tags: get("tags"),
            tools: get("tools"),
            date: get("date"),
            from: get("from"),
            to: get("to"),
            pref: get("pref"),
            area: get("area"),
            lang: get("lang"),
            sort: get("sort"),
            page: get("page"),
        }
    }

    /// Parses into a [`SearchQuery`] with warnings.
    pub fn parse(&self) -> (SearchQuery, Vec<Warning>) {
        let pairs = [
            ("q", &self.q),
            ("tags", &self.tags),
            ("tools", &self.tools),
            ("date", &self.date),
            ("from", &self.from),
            ("to", &self.to),
            ("pref", &self.pref),
            ("area", &self.area),
            ("lang", &self.lang),
            ("sort", &self.sort),
            ("page", &self.page),
        ];
        SearchQuery::parse(pairs.into_iter().filter_map(|(k, v)| v.as_deref().map(|v| (k, v))))
    }
}

/// Why a parameter was ignored (shown on the page; the UI translates the code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    pub param: String,
    pub value: String,
}

/// Deepest page served (a guard against absurd OFFSETs).
pub const MAX_PAGE: u32 = 500;

/// Most items read from one list parameter (`tags`, `tools`, `pref`), and most kept over
/// all its repeats: the rest is ignored before anything is compared.
pub const MAX_LIST: usize = 20;
/// Most warnings reported for one search (each echoes a value back).
pub const MAX_WARNINGS: usize = 10;

/// The first [`MAX_LIST`] non-empty items of a list parameter, trimmed, without repeats
/// (counted before the repeats are dropped, so the work is bounded).
fn list(raw: &str) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    raw.split([',', '、'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .take(MAX_LIST)
        .filter(|p| seen.insert(*p))
        .map(str::to_string)
        .collect()
}

/// Appends `items` not yet in `out`, keeping at most [`MAX_LIST`].
fn merge(out: &mut Vec<String>, items: Vec<String>) {
    for item in items {
        if out.len() >= MAX_LIST {
            break;
        }
        // `out` holds at most MAX_LIST items: this scan is bounded.
        if !out.contains(&item) {
            out.push(item);
        }
    }
}

/// A search day: `yyyy-mm-dd` with a year in 1900–2200 (`+262142-12-31` parses, but has no
/// next day to search up to).
fn search_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().filter(|d| (1900..=2200).contains(&chrono::Datelike::year(d)))
}

impl SearchQuery {
    /// Parses URL parameters (`name`, `value` pairs; repeated list parameters are merged).
    pub fn parse<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> (SearchQuery, Vec<Warning>) {
        let mut q = SearchQuery::default();
        let mut warnings = Vec::new();
        let mut warn = |param: &str, value: &str| {
            if warnings.len() < MAX_WARNINGS {
                warnings.push(Warning { param: param.into(), value: value.chars().take(100).collect() })
            }
        };
        for (name, value) in params {
            let value = value.trim();
            match name {
                "q" => q.q = value.chars().take(200).collect(),
                "tags" => merge(&mut q.tags, list(value)),
                "tools" => merge(&mut q.tools, list(value)),
                "date" if value.is_empty() => {}
                "date" => match DatePreset::parse(value) {
                    Some(d) => q.date = d,
                    None => warn("date", value),
                },
                "from" | "to" if value.is_empty() => {}
                "from" | "to" => match search_day(value) {
                    Some(d) if name == "from" => q.from = Some(d),
                    Some(d) => q.to = Some(d),
                    None => warn(name, value),
                },
                "pref" => {
                    for p in list(value) {
                        match Pref::parse(&p) {
                            Some(p) if !q.prefs.contains(&p) => q.prefs.push(p),
                            Some(_) => {}
                            None => warn("pref", &p),
                        }
                    }
                }
                "area" if value.is_empty() => {}
                "area" => {
                    let v = value.to_lowercase();
                    if v == "online" || crate::geo::PREFECTURES.iter().any(|(c, _, _)| *c == v) {
                        q.area = Some(v);
                    } else {
                        warn("area", value);
                    }
                }
                "lang" if value.is_empty() => {}
                "lang" => match value {
                    "ja" | "en" => q.lang = Some(value.to_string()),
                    _ => warn("lang", value),
                },
                "sort" if value.is_empty() => {}
                "sort" => match Sort::parse(value) {
                    Some(s) => q.sort = s,
                    None => warn("sort", value),
                },
                "page" if value.is_empty() => {}
                "page" => match value.parse::<u32>() {
                    Ok(p) if (1..=MAX_PAGE).contains(&p) => q.page = p,
                    _ => warn("page", value),
                },
                _ => {}
            }
        }
        if let (Some(from), Some(to)) = (q.from, q.to)
            && from > to
        {
            warn("to", &to.to_string());
            q.to = None;
        }
        q.prefs.sort();
        (q, warnings)
    }

    /// True when from/to replace the date preset.
    pub fn has_range(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// The query string this search lives at (defaults omitted), without `?`.
    pub fn to_query_string(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut push = |k: &str, v: &str| parts.push(format!("{k}={}", urlencoding::encode(v)));
        if !self.q.trim().is_empty() {
            push("q", &self.q);
        }
        if !self.tags.is_empty() {
            push("tags", &self.tags.join(","));
        }
        if !self.tools.is_empty() {
            push("tools", &self.tools.join(","));
        }
        if self.date != DatePreset::Upcoming && !self.has_range() {
            push("date", self.date.as_str());
        }
        if let Some(f) = self.from {
            push("from", &f.to_string());
        }
        if let Some(t) = self.to {
            push("to", &t.to_string());
        }
        if !self.prefs.is_empty() {
            push("pref", &self.prefs.iter().map(|p| p.as_str()).collect::<Vec<_>>().join(","));
        }
        if let Some(a) = &self.area {
            push("area", a);
        }
        if let Some(l) = &self.lang {
            push("lang", l);
        }
        if self.sort != Sort::Date {
            push("sort", self.sort.as_str());
        }
        if self.page > 1 {
            push("page", &self.page.to_string());
        }
        parts.join("&")
    }

    /// `/events?…` for this search.
    pub fn href(&self) -> String {
        let qs = self.to_query_string();
        if qs.is_empty() { "/events".into() } else { format!("/events?{qs}") }
    }

    /// The keyword terms: whitespace-separated words (full-width spaces too), `"phrases"`,
    /// and `-excluded` words or phrases.
    pub fn terms(&self) -> Vec<Term> {
        let mut terms = Vec::new();
        let mut chars = self.q.chars().peekable();
        loop {
            while chars.peek().is_some_and(|c| c.is_whitespace()) {
                chars.next();
            }
            let Some(&first) = chars.peek() else { break };
            let exclude = first == '-';
            if exclude {
                chars.next();
            }
            let text: String = if chars.peek() == Some(&'"') {
                chars.next();
                let t: String = chars.by_ref().take_while(|c| *c != '"').collect();
                t
            } else {
                let mut t = String::new();
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    t.push(c);
                    chars.next();
                }
                t
            };
            let text = text.trim().to_string();
            if !text.is_empty() {
                terms.push(Term { text, exclude });
            }
        }
        terms
    }
}

/// A facet value with the number of results it would give if toggled.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount<T> {
    pub value: T,
    pub selected: bool,
    pub count: i64,
}

/// Counts for every control of the panel, computed with the results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Facets {
    pub tags: Vec<FacetCount<TagRef>>,
    pub tools: Vec<FacetCount<TagRef>>,
    pub prefs: Vec<FacetCount<String>>,
    pub dates: Vec<FacetCount<String>>,
}

/// What `/events` renders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    pub query: SearchQuery,
    pub warnings: Vec<Warning>,
    pub results: Page<EventCard>,
    pub facets: Facets,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(qs: &[(&str, &str)]) -> (SearchQuery, Vec<Warning>) {
        SearchQuery::parse(qs.iter().copied())
    }

    #[test]
    fn an_empty_query_is_upcoming_by_date() {
        let (q, w) = parse(&[]);
        assert_eq!(q, SearchQuery::default());
        assert!(w.is_empty());
        assert_eq!(q.href(), "/events");
    }

    #[test]
    fn lists_split_on_commas_and_deduplicate() {
        let (q, _) = parse(&[("tags", "Rust, C#,,Rust"), ("tools", "Docker"), ("tags", "Go")]);
        assert_eq!(q.tags, ["Rust", "C#", "Go"]);
        assert_eq!(q.tools, ["Docker"]);
    }

    #[test]
    fn list_parameters_keep_at_most_twenty_items_over_all_repeats() {
        let many: String = (0..10_000).map(|i| format!("t{i},")).collect();
        let (q, _) = parse(&[("tags", &many), ("tags", "late")]);
        assert_eq!(q.tags.len(), MAX_LIST);
        assert_eq!(q.tags[0], "t0");
        let repeats: Vec<(&str, &str)> = (0..1_000).map(|_| ("tools", "Docker, Rust")).collect();
        assert_eq!(parse(&repeats).0.tools, ["Docker", "Rust"]);
    }

    #[test]
    fn dates_without_a_next_day_are_dropped_with_a_warning() {
        let (q, w) = parse(&[("to", "+262142-12-31"), ("from", "-262143-01-01")]);
        assert_eq!((q.from, q.to), (None, None));
        assert_eq!(w.len(), 2);
        let (q, w) = parse(&[("to", "2200-12-31")]);
        assert_eq!(q.to, NaiveDate::from_ymd_opt(2200, 12, 31));
        assert!(w.is_empty());
    }

    #[test]
    fn warnings_are_few_and_short() {
        let long = "x".repeat(10_000);
        let bad: Vec<(&str, &str)> = (0..1_000).map(|_| ("pref", long.as_str())).collect();
        let (_, w) = parse(&bad);
        assert_eq!(w.len(), MAX_WARNINGS);
        assert!(w.iter().all(|w| w.value.chars().count() == 100));
    }

    #[test]
    fn malformed_values_are_dropped_with_a_warning() {
        let (q, w) = parse(&[
            ("date", "someday"),
            ("from", "2026-13-01"),
            ("pref", "free,cheap"),
            ("page", "0"),
            ("area", "mars"),
            ("sort", "random"),
            ("lang", "fr"),
        ]);
        assert_eq!(q.date, DatePreset::Upcoming);
        assert_eq!(q.prefs, [Pref::Free]);
        assert_eq!(q.page, 1);
        let params: Vec<&str> = w.iter().map(|w| w.param.as_str()).collect();
        assert_eq!(params, ["date", "from", "pref", "page", "area", "sort", "lang"]);
    }

    #[test]
    fn a_reversed_range_drops_the_end() {
        let (q, w) = parse(&[("from", "2026-12-10"), ("to", "2026-12-01")]);
        assert_eq!(q.from, NaiveDate::from_ymd_opt(2026, 12, 10));
        assert_eq!(q.to, None);
        assert_eq!(w[0].param, "to");
    }

    #[test]
    fn terms_understand_phrases_exclusions_and_full_width_spaces() {
        let (q, _) = parse(&[("q", "Rust　\"もくもく会 大阪\" -LT -\"初心者 向け\"  AI")]);
        let terms: Vec<(String, bool)> = q.terms().into_iter().map(|t| (t.text, t.exclude)).collect();
        assert_eq!(
            terms,
            [
                ("Rust".to_string(), false),
                ("もくもく会 大阪".to_string(), false),
                ("LT".to_string(), true),
                ("初心者 向け".to_string(), true),
                ("AI".to_string(), false)
            ]
        );
    }

    #[test]
    fn the_query_string_round_trips() {
        let (q, _) = parse(&[
            ("q", "Rust 入門"),
            ("tags", "C#,Rust"),
            ("date", "this-week"),
            ("pref", "online,free"),
            ("area", "tokyo"),
            ("sort", "popular"),
            ("page", "3"),
        ]);
        let qs = q.to_query_string();
        let pairs: Vec<(String, String)> = qs
            .split('&')
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap();
                (k.to_string(), urlencoding::decode(v).unwrap().into_owned())
            })
            .collect();
        let (again, w) = SearchQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        assert!(w.is_empty());
        assert_eq!(again, q);
        assert!(qs.contains("tags=C%23%2CRust"), "{qs}");
    }
}
