//! Search dates, decided in pure code: what a date preset or a `from`/`to` range means as
//! instants (search dates are Tokyo dates), and an event's local weekday and start minute
//! (the weekend and evening preferences). The SQL search and the in-memory index both ask
//! these functions.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};

use super::model::{DatePreset, SearchQuery};

/// Weekday (0 = Sunday) and minutes after midnight of `starts_at` in `time_zone`.
pub(crate) fn local_parts(starts_at: DateTime<Utc>, time_zone: &str) -> (i64, i64) {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    let local = starts_at.with_timezone(&tz);
    (i64::from(local.weekday().num_days_from_sunday()), i64::from(local.hour() * 60 + local.minute()))
}

/// Start of `date` in Asia/Tokyo (search dates are Tokyo dates), as Unix seconds.
pub(crate) fn tokyo_midnight(date: NaiveDate) -> i64 {
    chrono_tz::Asia::Tokyo
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

/// A condition on the event's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum When {
    /// starts_at in [from, to) (either bound optional).
    Starts(Option<i64>, Option<i64>),
    /// Not ended at this instant.
    EndsAfter(i64),
    /// Ended at this instant.
    EndedBy(i64),
    Any,
}

pub(crate) fn preset_range(p: DatePreset, now: DateTime<Utc>) -> When {
    let today = now.with_timezone(&chrono_tz::Asia::Tokyo).date_naive();
    let day = |d: NaiveDate| tokyo_midnight(d);
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(today);
    let next_month =
        |d: NaiveDate| if d.month() == 12 { first_of(d.year() + 1, 1) } else { first_of(d.year(), d.month() + 1) };
    match p {
        DatePreset::Today => When::Starts(Some(day(today)), Some(day(today + Duration::days(1)))),
        DatePreset::Tomorrow => {
            When::Starts(Some(day(today + Duration::days(1))), Some(day(today + Duration::days(2))))
        }
        DatePreset::ThisWeek => When::Starts(Some(day(today)), Some(day(monday + Duration::days(7)))),
        DatePreset::ThisWeekend => {
            let saturday = monday + Duration::days(5);
            let from = if today.weekday() == Weekday::Sun { today } else { saturday };
            When::Starts(Some(day(from)), Some(day(monday + Duration::days(7))))
        }
        DatePreset::NextWeek => {
            When::Starts(Some(day(monday + Duration::days(7))), Some(day(monday + Duration::days(14))))
        }
        DatePreset::ThisMonth => When::Starts(Some(day(today)), Some(day(next_month(today)))),
        DatePreset::NextMonth => {
            let n = next_month(today);
            When::Starts(Some(day(n)), Some(day(next_month(n))))
        }
        DatePreset::Upcoming => When::EndsAfter(now.timestamp()),
        DatePreset::Past => When::EndedBy(now.timestamp()),
        DatePreset::All => When::Any,
    }
}

pub(crate) fn when_of(q: &SearchQuery, now: DateTime<Utc>) -> When {
    if q.has_range() {
        // `to` is inclusive: up to the next midnight. Parsing bounds the year; should a day
        // without a successor get here anyway, the range stays open rather than panicking.
        When::Starts(q.from.map(tokyo_midnight), q.to.and_then(|t| t.succ_opt()).map(tokyo_midnight))
    } else {
        preset_range(q.date, now)
    }
}
