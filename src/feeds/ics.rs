//! iCalendar (RFC 5545) output: one event or a feed of many.
//!
//! Written here rather than with a builder crate because the part that matters most is a
//! correct VTIMEZONE for the event's own zone, derived from the same zone database that
//! formats every time on the site (chrono-tz); the builders leave that to the caller.
//! Start and end carry `TZID` and the calendar defines every zone it uses, so Google,
//! Apple and Outlook all show the organizer's wall-clock time and convert correctly.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Offset, TimeZone, Utc};
use chrono_tz::{OffsetComponents, Tz};

use crate::events::model::{EventStatus, VenueKind};
use crate::server::store::public::PublicEvent;

/// How a registrant stands, for the private feed of their registrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attendance {
    Confirmed,
    Waitlisted,
}

/// One VEVENT to write.
pub struct CalendarEntry<'a> {
    pub event: &'a PublicEvent,
    /// Absolute URL of the event page.
    pub url: String,
    /// Only in a registrant's private feed.
    pub attendance: Option<Attendance>,
    /// The registrant's frame (private feed): its own venue, if it has one, is the LOCATION.
    pub frame_id: Option<i64>,
}

/// A whole calendar: a single event's `.ics` or a subscribable feed.
pub struct Calendar<'a> {
    /// `X-WR-CALNAME`: what calendar apps call the subscription.
    pub name: String,
    /// Host part of UIDs (stable across renames of the instance's URL path).
    pub uid_host: String,
    pub entries: Vec<CalendarEntry<'a>>,
}

/// Escapes a TEXT value (RFC 5545 §3.3.11).
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// Appends one content line, folded at 75 octets without splitting a UTF-8 character
/// (§3.1), ending in CRLF.
fn push_line(out: &mut String, line: &str) {
    let mut width = 0;
    for c in line.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: DateTime<Utc>, tz: Tz) -> String {
    t.with_timezone(&tz).format("%Y%m%dT%H%M%S").to_string()
}

fn offset_text(secs: i32) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let (h, m, s) = (a / 3600, (a % 3600) / 60, a % 60);
    if s == 0 { format!("{sign}{h:02}{m:02}") } else { format!("{sign}{h:02}{m:02}{s:02}") }
}

fn offset_at(tz: Tz, t: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&t.naive_utc()).fix().local_minus_utc()
}

fn is_dst_at(tz: Tz, t: DateTime<Utc>) -> bool {
    !tz.offset_from_utc_datetime(&t.naive_utc()).dst_offset().is_zero()
}

/// The instants in `[from, to]` at which `tz` changes its offset (or abbreviation). Work
/// grows with the length of the range (a step per week): callers pass short windows.
pub fn transitions(tz: Tz, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let key = |t: DateTime<Utc>| (offset_at(tz, t), t.with_timezone(&tz).format("%Z").to_string());
    let mut out = Vec::new();
    let step = Duration::days(7);
    let mut a = from;
    while a < to {
        let b = a.checked_add_signed(step).map_or(to, |b| b.min(to));
        if key(a) != key(b) {
            // Binary search to the second: offsets change at most once within a week.
            let at = |secs: i64| Utc.timestamp_opt(secs, 0).single().unwrap_or(a);
            let (mut lo, mut hi) = (a.timestamp(), b.timestamp());
            while hi - lo > 1 {
                let mid = lo + (hi - lo) / 2;
                if key(at(mid)) == key(at(lo)) { lo = mid } else { hi = mid }
            }
            out.push(at(hi));
        }
        a = b;
    }
    out
}

/// A stretch of time `[from, to]` a VTIMEZONE must describe.
type Window = (DateTime<Utc>, DateTime<Utc>);

/// `t` moved by `d`, or `t` itself where that would leave chrono's range.
fn shifted(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(t)
}

/// The instants a VTIMEZONE must get right for one event: a day around its start and its
/// end, as one window when the event is short (so transitions during it are listed), as
/// two otherwise. However far apart its dates are, the walk stays a few days long.
fn windows_of(starts: DateTime<Utc>, ends: DateTime<Utc>) -> Vec<Window> {
    let day = Duration::days(1);
    let ends = ends.max(starts);
    if ends - starts <= Duration::days(crate::admin::model::MAX_EVENT_DAYS) {
        vec![(shifted(starts, -day), shifted(ends, day))]
    } else {
        vec![(shifted(starts, -day), shifted(starts, day)), (shifted(ends, -day), shifted(ends, day))]
    }
}

/// Sorted windows with the overlapping ones joined.
fn merged(mut windows: Vec<Window>) -> Vec<Window> {
    windows.sort();
    let mut out: Vec<Window> = Vec::with_capacity(windows.len());
    for (from, to) in windows {
        match out.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => out.push((from, to)),
        }
    }
    out
}

/// A VTIMEZONE for `tz` that covers `windows` (sorted, disjoint): the observance in force
/// at the first, then every transition within each (explicit DTSTARTs, no RRULE, so nothing
/// is left to a client's rule arithmetic). Between windows, where the offset differs, an
/// observance starts at the next window: the instants outside the windows are in no event,
/// and walking the years between two far-apart events is what made feeds spin.
fn push_vtimezone(out: &mut String, tz: Tz, windows: &[Window]) {
    let Some(&(from, _)) = windows.first() else { return };
    push_line(out, "BEGIN:VTIMEZONE");
    push_line(out, &format!("TZID:{}", tz.name()));
    let observance = |out: &mut String, at: Option<DateTime<Utc>>, before: i32, after: DateTime<Utc>| {
        let kind = if is_dst_at(tz, after) { "DAYLIGHT" } else { "STANDARD" };
        push_line(out, &format!("BEGIN:{kind}"));
        let start = match at {
            // The local time the transition happens at, in the offset before it.
            Some(t) => shifted(t, Duration::seconds(i64::from(before))).naive_utc().format("%Y%m%dT%H%M%S").to_string(),
            None => "19700101T000000".to_string(),
        };
        push_line(out, &format!("DTSTART:{start}"));
        push_line(out, &format!("TZOFFSETFROM:{}", offset_text(before)));
        push_line(out, &format!("TZOFFSETTO:{}", offset_text(offset_at(tz, after))));
        push_line(out, &format!("TZNAME:{}", escape_text(&after.with_timezone(&tz).format("%Z").to_string())));
        push_line(out, &format!("END:{kind}"));
    };
    let key = |t: DateTime<Utc>| (offset_at(tz, t), t.with_timezone(&tz).format("%Z").to_string());
    observance(out, None, offset_at(tz, from), from);
    let mut previous: Option<DateTime<Utc>> = None;
    for &(from, to) in windows {
        if let Some(p) = previous
            && key(p) != key(from)
        {
            observance(out, Some(from), offset_at(tz, p), from);
        }
        for t in transitions(tz, from, to) {
            let before = offset_at(tz, shifted(t, -Duration::seconds(1)));
            observance(out, Some(t), before, t);
        }
        previous = Some(to);
    }
    push_line(out, "END:VTIMEZONE");
}

/// Plain-text description: the catch, the description without Markdown, the page URL.
fn description(e: &PublicEvent, url: &str) -> String {
    let mut parts = Vec::new();
    if !e.catch.trim().is_empty() {
        parts.push(e.catch.trim().to_string());
    }
    let body = crate::server::markdown::to_plain_text(&e.description);
    if !body.trim().is_empty() {
        parts.push(body.trim().to_string());
    }
    parts.push(url.to_string());
    parts.join("\n\n")
}

/// `LOCATION`: place and address, or "Online" for online-only events.
pub fn location(e: &PublicEvent) -> String {
    location_for(e, None)
}

/// `LOCATION` for an attendee of frame `frame_id`: that frame's own venue when it has one
/// (hybrid events), else the event's.
pub fn location_for(e: &PublicEvent, frame_id: Option<i64>) -> String {
    let frame = frame_id.and_then(|id| e.frames.iter().find(|f| f.id == id));
    let default = crate::events::model::FrameVenue::default();
    let venue = frame.map_or(&default, |f| &f.venue);
    let (kind, place, address) = venue.resolve(e.venue_kind, &e.place, &e.address);
    let line = crate::events::model::place_line(place, address);
    if line.is_empty() && kind == VenueKind::Online { "オンライン / Online".to_string() } else { line }
}

impl Calendar<'_> {
    /// The calendar as `text/calendar` text (CRLF line ends, folded lines).
    pub fn render(&self) -> String {
        let mut out = String::new();
        push_line(&mut out, "BEGIN:VCALENDAR");
        push_line(&mut out, "VERSION:2.0");
        push_line(&mut out, "PRODID:-//Tsudoi//Tsudoi Events//JA");
        push_line(&mut out, "CALSCALE:GREGORIAN");
        push_line(&mut out, "METHOD:PUBLISH");
        push_line(&mut out, &format!("X-WR-CALNAME:{}", escape_text(&self.name)));
        push_line(&mut out, "REFRESH-INTERVAL;VALUE=DURATION:PT1H");
        push_line(&mut out, "X-PUBLISHED-TTL:PT1H");

        // One VTIMEZONE per zone in use, covering the start and end of each of its events.
        let mut zones: BTreeMap<String, (Tz, Vec<Window>)> = BTreeMap::new();
        for entry in &self.entries {
            let tz = zone(&entry.event.time_zone);
            let r = zones.entry(tz.name().to_string()).or_insert((tz, Vec::new()));
            r.1.extend(windows_of(entry.event.starts_at, entry.event.ends_at));
        }
        if let Some((_, (tz, _))) = zones.iter().next().filter(|_| zones.len() == 1) {
            push_line(&mut out, &format!("X-WR-TIMEZONE:{}", tz.name()));
        }
        for (tz, windows) in zones.into_values() {
            push_vtimezone(&mut out, tz, &merged(windows));
        }
        for entry in &self.entries {
            self.push_event(&mut out, entry);
        }
        push_line(&mut out, "END:VCALENDAR");
        out
    }

    fn push_event(&self, out: &mut String, entry: &CalendarEntry<'_>) {
        let e = entry.event;
        let tz = zone(&e.time_zone);
        let cancelled = e.status == EventStatus::Cancelled;
        push_line(out, "BEGIN:VEVENT");
        push_line(out, &format!("UID:event-{}@{}", e.id, self.uid_host));
        push_line(out, &format!("DTSTAMP:{}", utc_stamp(e.updated_at.max(e.created_at))));
        push_line(out, &format!("CREATED:{}", utc_stamp(e.created_at)));
        push_line(out, &format!("LAST-MODIFIED:{}", utc_stamp(e.updated_at.max(e.created_at))));
        push_line(out, &format!("SEQUENCE:{}", e.sequence));
        push_line(out, &format!("DTSTART;TZID={}:{}", tz.name(), local_stamp(e.starts_at, tz)));
        push_line(out, &format!("DTEND;TZID={}:{}", tz.name(), local_stamp(e.ends_at.max(e.starts_at), tz)));
        let mut summary = e.title.clone();
        if cancelled {
            summary = format!("【中止】{summary}");
        } else if entry.attendance == Some(Attendance::Waitlisted) {
            summary = format!("【補欠】{summary}");
        }
        push_line(out, &format!("SUMMARY:{}", escape_text(&summary)));
        push_line(out, &format!("DESCRIPTION:{}", escape_text(&description(e, &entry.url))));
        let loc = location_for(e, entry.frame_id);
        if !loc.is_empty() {
            push_line(out, &format!("LOCATION:{}", escape_text(&loc)));
        }
        if let (Some(lat), Some(lon)) = (e.lat, e.lon) {
            push_line(out, &format!("GEO:{lat:.6};{lon:.6}"));
        }
        push_line(out, &format!("URL:{}", entry.url));
        if !e.tags.is_empty() {
            let cats: Vec<String> = e.tags.iter().map(|t| escape_text(&t.name)).collect();
            push_line(out, &format!("CATEGORIES:{}", cats.join(",")));
        }
        let status = match (cancelled, entry.attendance) {
            (true, _) => "CANCELLED",
            (false, Some(Attendance::Waitlisted)) => "TENTATIVE",
            _ => "CONFIRMED",
        };
        push_line(out, &format!("STATUS:{status}"));
        push_line(out, "TRANSP:OPAQUE");
        push_line(out, "END:VEVENT");
    }
}

/// The event's zone; an unknown name falls back to Asia/Tokyo, as everywhere on the site.
fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(chrono_tz::Asia::Tokyo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(escape_text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn long_lines_fold_at_75_octets_between_characters() {
        let mut out = String::new();
        let line = format!("SUMMARY:{}", "機械学習".repeat(20));
        push_line(&mut out, &line);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l}", l.len());
        }
        let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
        assert_eq!(unfolded, line);
    }

    #[test]
    fn berlin_changes_offset_twice_a_year_and_tokyo_never() {
        let from = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let to = Utc.with_ymd_and_hms(2026, 12, 31, 0, 0, 0).unwrap();
        let berlin = transitions(chrono_tz::Europe::Berlin, from, to);
        assert_eq!(
            berlin,
            vec![
                Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap()
            ]
        );
        assert!(transitions(chrono_tz::Asia::Tokyo, from, to).is_empty());
    }

    #[test]
    fn offsets_are_written_as_rfc5545_utc_offsets() {
        assert_eq!(offset_text(9 * 3600), "+0900");
        assert_eq!(offset_text(-(3 * 3600 + 30 * 60)), "-0330");
        assert_eq!(offset_text(0), "+0000");
    }
}
