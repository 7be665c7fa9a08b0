//! Every date and time the UI shows is formatted here, in the event's zone.
//!
//! The server resolves the IANA zone (chrono-tz) into fixed offsets once, in [`ZonedSpan`];
//! the browser formats from those offsets, so both sides print identical text (no hydration
//! mismatch) and the zone database never ships in the wasm.

use chrono::{DateTime, Datelike, FixedOffset, Utc, Weekday};
use serde::{Deserialize, Serialize};

/// UI language, as far as formatting is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Lang {
    Ja,
    En,
}

/// An event's start and end, with its zone resolved at both instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZonedSpan {
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    /// IANA name, e.g. `Asia/Tokyo`.
    pub time_zone: String,
    /// Offset from UTC in seconds at the start and at the end (they differ across DST).
    pub start_offset: i32,
    pub end_offset: i32,
    /// Abbreviation at the start, e.g. `JST`, `CEST`, or `+03` where the zone has none.
    pub zone_abbr: String,
}

/// `at` as a wall-clock time in the IANA zone `time_zone`, e.g. `2026/12/19 19:00 JST`
/// (server only; an unknown zone is Asia/Tokyo, as in [`ZonedSpan::resolve`]).
#[cfg(feature = "ssr")]
pub fn local_label(at: DateTime<Utc>, time_zone: &str) -> String {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    at.with_timezone(&tz).format("%Y/%m/%d %H:%M %Z").to_string()
}

impl ZonedSpan {
    /// Resolves `time_zone` at both instants (server only: needs the zone database).
    /// An unknown zone name falls back to Asia/Tokyo rather than failing a page.
    #[cfg(feature = "ssr")]
    pub fn resolve(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, time_zone: &str) -> Self {
        use chrono::Offset;
        let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
        let s = starts_at.with_timezone(&tz);
        let e = ends_at.with_timezone(&tz);
        ZonedSpan {
            starts_at,
            ends_at,
            time_zone: tz.name().to_string(),
            start_offset: s.offset().fix().local_minus_utc(),
            end_offset: e.offset().fix().local_minus_utc(),
            zone_abbr: s.format("%Z").to_string(),
        }
    }

    fn local_start(&self) -> DateTime<FixedOffset> {
        local(self.starts_at, self.start_offset)
    }

    fn local_end(&self) -> DateTime<FixedOffset> {
        local(self.ends_at, self.end_offset)
    }

    /// True when the event has finished at `now`.
    pub fn is_past(&self, now: DateTime<Utc>) -> bool {
        self.ends_at <= now
    }

    /// The date line: `2025/04/21(月)` or `Mon, Apr 21, 2025`.
    pub fn date_label(&self, lang: Lang) -> String {
        format_date(self.local_start(), lang)
    }

    /// The time line: `02:00〜03:00` (or with the end date when the event spans days).
    pub fn time_label(&self, lang: Lang) -> String {
        let (s, e) = (self.local_start(), self.local_end());
        let sep = sep(lang);
        if s.date_naive() == e.date_naive() {
            format!("{}{sep}{}", s.format("%H:%M"), e.format("%H:%M"))
        } else {
            format!("{}{sep}{} {}", s.format("%H:%M"), format_date(e, lang), e.format("%H:%M"))
        }
    }

    /// Date and time on one line: `2025/04/21(月) 02:00〜03:00`.
    pub fn label(&self, lang: Lang) -> String {
        format!("{} {}", self.date_label(lang), self.time_label(lang))
    }

    /// Google Calendar's `dates` parameter: UTC basic format, `start/end`.
    pub fn google_dates(&self) -> String {
        format!("{}/{}", self.starts_at.format("%Y%m%dT%H%M%SZ"), self.ends_at.format("%Y%m%dT%H%M%SZ"))
    }

    /// ISO 8601 with the event's offset, e.g. `2025-04-21T02:00:00+09:00` (for `<time datetime>`).
    pub fn start_iso(&self) -> String {
        self.local_start().to_rfc3339()
    }

    /// ISO 8601 end with the offset in force at the end.
    pub fn end_iso(&self) -> String {
        self.local_end().to_rfc3339()
    }
}

fn local(t: DateTime<Utc>, offset: i32) -> DateTime<FixedOffset> {
    let off = FixedOffset::east_opt(offset).unwrap_or_else(|| FixedOffset::east_opt(0).expect("zero offset"));
    t.with_timezone(&off)
}

fn sep(lang: Lang) -> &'static str {
    match lang {
        Lang::Ja => "〜",
        Lang::En => "–",
    }
}

fn format_date(d: DateTime<FixedOffset>, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}({})", d.format("%Y/%m/%d"), weekday_ja(d.weekday())),
        Lang::En => d.format("%a, %b %-d, %Y").to_string(),
    }
}

fn weekday_ja(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

/// Builds the "Add to Google Calendar" link (the documented `render?action=TEMPLATE` form).
pub fn google_calendar_url(title: &str, span: &ZonedSpan, details: &str, location: &str) -> String {
    format!(
        "https://calendar.google.com/calendar/render?action=TEMPLATE&text={}&dates={}&ctz={}&details={}&location={}",
        urlencoding::encode(title),
        span.google_dates(),
        urlencoding::encode(&span.time_zone),
        urlencoding::encode(details),
        urlencoding::encode(location),
    )
}

/// The current instant as Tsudoi sees it: what "upcoming", registration windows, draws and
/// reminders are measured against.
///
/// On the server, `TSUDOI_NOW` (RFC 3339, or a date `YYYY-MM-DD` meaning noon in Tokyo) starts
/// this clock at that instant when the process starts; it then runs at normal speed. Tests and
/// demos use it to run on any day; sessions and cookies keep the real time. In the browser
/// this is the browser's clock (pages that count down correct it by the server's `now`).
pub fn now() -> DateTime<Utc> {
    #[cfg(feature = "ssr")]
    {
        Utc::now() + clock::offset()
    }
    #[cfg(not(feature = "ssr"))]
    {
        Utc::now()
    }
}

#[cfg(feature = "ssr")]
pub mod clock {
    use std::sync::Once;
    use std::sync::atomic::{AtomicI64, Ordering};

    use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};

    /// How far the clock is from the real time, in milliseconds.
    static OFFSET_MS: AtomicI64 = AtomicI64::new(0);
    static FROM_ENV: Once = Once::new();

    /// Reads `TSUDOI_NOW`: `Ok(None)` when unset or empty, an error naming the variable when
    /// it is not a date. Startup calls this first, so a bad value stops the server loudly.
    pub fn start_from_env() -> Result<Option<DateTime<Utc>>, String> {
        match std::env::var("TSUDOI_NOW") {
            Ok(v) if !v.trim().is_empty() => parse_start(v.trim())
                .map(Some)
                .ok_or_else(|| format!("TSUDOI_NOW={v:?} is neither RFC 3339 nor YYYY-MM-DD")),
            _ => Ok(None),
        }
    }

    /// `2027-03-01T09:00:00+09:00`, or `2027-03-01` for noon of that day in Tokyo.
    pub fn parse_start(s: &str) -> Option<DateTime<Utc>> {
        if let Ok(t) = DateTime::parse_from_rfc3339(s) {
            return Some(t.with_timezone(&Utc));
        }
        let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
        chrono_tz::Asia::Tokyo.from_local_datetime(&day.and_hms_opt(12, 0, 0)?).single().map(|t| t.with_timezone(&Utc))
    }

    fn init_from_env() {
        FROM_ENV.call_once(|| match start_from_env() {
            Ok(Some(start)) => OFFSET_MS.store((start - Utc::now()).num_milliseconds(), Ordering::Relaxed),
            Ok(None) => {}
            Err(err) => tracing::error!("{err}; using the real time"),
        });
    }

    /// Restarts the clock at `now` for this process, whatever `TSUDOI_NOW` says. For tests
    /// whose data sit on fixed calendar dates: they pin the clock to a day before those dates
    /// (each test runs in its own process under cargo nextest).
    pub fn pin(now: DateTime<Utc>) {
        init_from_env();
        OFFSET_MS.store((now - Utc::now()).num_milliseconds(), Ordering::Relaxed);
    }

    /// How far the clock is from the real time (zero unless `TSUDOI_NOW` is set or a test
    /// pinned it).
    pub(super) fn offset() -> Duration {
        init_from_env();
        Duration::milliseconds(OFFSET_MS.load(Ordering::Relaxed))
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn a_clock_start_is_rfc3339_or_a_tokyo_date() {
        assert_eq!(clock::parse_start("2027-03-01T09:00:00+09:00").unwrap().to_rfc3339(), "2027-03-01T00:00:00+00:00");
        assert_eq!(clock::parse_start("2027-01-01").unwrap().to_rfc3339(), "2027-01-01T03:00:00+00:00");
        assert!(clock::parse_start("tomorrow").is_none());
        assert!(clock::parse_start("2027-02-30").is_none());
    }

    use super::*;
    use chrono::TimeZone;

    fn seed_span() -> ZonedSpan {
        // 2025/04/21 02:00〜03:00 JST is 2025-04-20 17:00〜18:00 UTC.
        ZonedSpan::resolve(
            Utc.with_ymd_and_hms(2025, 4, 20, 17, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2025, 4, 20, 18, 0, 0).unwrap(),
            "Asia/Tokyo",
        )
    }

    #[test]
    fn japanese_label_has_weekday_and_wave_dash() {
        assert_eq!(seed_span().label(Lang::Ja), "2025/04/21(月) 02:00〜03:00");
    }

    #[test]
    fn english_label_names_the_weekday_and_month() {
        assert_eq!(seed_span().label(Lang::En), "Mon, Apr 21, 2025 02:00–03:00");
    }

    #[test]
    fn tokyo_is_abbreviated_jst() {
        assert_eq!(seed_span().zone_abbr, "JST");
        assert_eq!(seed_span().start_offset, 9 * 3600);
    }

    #[test]
    fn google_dates_are_utc_basic_format() {
        assert_eq!(seed_span().google_dates(), "20250420T170000Z/20250420T180000Z");
    }

    #[test]
    fn multi_day_event_repeats_the_end_date() {
        let span = ZonedSpan::resolve(
            Utc.with_ymd_and_hms(2025, 4, 21, 1, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2025, 4, 22, 9, 0, 0).unwrap(),
            "Asia/Tokyo",
        );
        assert_eq!(span.label(Lang::Ja), "2025/04/21(月) 10:00〜2025/04/22(火) 18:00");
    }

    #[test]
    fn dst_changes_offset_between_start_and_end() {
        // Europe/Berlin leaves summer time on 2025-10-26 at 01:00 UTC.
        let span = ZonedSpan::resolve(
            Utc.with_ymd_and_hms(2025, 10, 25, 22, 0, 0).unwrap(),
            Utc.with_ymd_and_hms(2025, 10, 26, 3, 0, 0).unwrap(),
            "Europe/Berlin",
        );
        assert_eq!(span.zone_abbr, "CEST");
        assert_eq!(span.start_offset, 7200);
        assert_eq!(span.end_offset, 3600);
        assert_eq!(span.time_label(Lang::En), "00:00–04:00");
    }

    #[test]
    fn unknown_zone_falls_back_to_tokyo() {
        let span = ZonedSpan::resolve(Utc::now(), Utc::now(), "Mars/Olympus");
        assert_eq!(span.time_zone, "Asia/Tokyo");
    }

    #[test]
    fn calendar_url_encodes_title_and_zone() {
        let url = google_calendar_url("勉強会 #1 & more", &seed_span(), "", "Online");
        assert!(url.contains("text=%E5%8B%89%E5%BC%B7%E4%BC%9A%20%231%20%26%20more"), "{url}");
        assert!(url.contains("dates=20250420T170000Z/20250420T180000Z"));
        assert!(url.contains("ctz=Asia%2FTokyo"));
    }
}
