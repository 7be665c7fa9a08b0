//! Reconfirmation (参加の再確認), the no-show tool: an organizer may require confirmed
//! attendees to reconfirm by a deadline, some hours before the start. A day before the
//! deadline everyone confirmed then is asked (a message with "I'm coming" / "I can't go");
//! at the deadline the seats of those asked who neither reconfirmed nor cancelled are released
//! to the waitlist in its order, and the organizer sees who and can undo each release for a
//! while. Someone confirmed after the request (registered or promoted later) was not asked
//! and keeps their seat. The rules, in pure code; the store applies them under the event's
//! lock.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{AppError, Conflict, FieldError};

/// The deadlines an organizer can choose, in hours before the start.
pub const HOURS: [i64; 4] = [12, 24, 48, 72];

/// How long before the deadline the request goes out.
pub fn notice() -> Duration {
    Duration::hours(24)
}

/// How long after the release the organizer can undo it (never after the start).
pub fn grace() -> Duration {
    Duration::hours(2)
}

/// The deadline of an event starting at `starts_at` with `hours`.
pub fn deadline(starts_at: DateTime<Utc>, hours: i64) -> DateTime<Utc> {
    starts_at - Duration::hours(hours)
}

/// Checks a requirement set (`Some`) or lifted (`None`) at `now`: one of [`HOURS`], early
/// enough that the request still goes out a full day before the deadline; nothing changes
/// once the seats were released.
pub fn check_requirement(
    hours: Option<i64>,
    starts_at: DateTime<Utc>,
    released: bool,
    now: DateTime<Utc>,
) -> Result<(), AppError> {
    if released {
        return Err(Conflict::ReconfirmationClosed.into());
    }
    let Some(hours) = hours else { return Ok(()) };
    if !HOURS.contains(&hours) {
        return Err(AppError::Invalid(vec![FieldError::new(
            "hours",
            "invalid_choice",
            "Choose one of the deadlines.",
        )]));
    }
    if deadline(starts_at, hours) - notice() < now {
        return Err(AppError::Invalid(vec![FieldError::new(
            "hours",
            "too_late",
            "Too close to the start: attendees need a day to reconfirm before the deadline.",
        )]));
    }
    Ok(())
}

/// Whether a confirmed attendee may reconfirm at `now`: the event asks for it and its
/// deadline has not passed.
pub fn check_reconfirm(hours: Option<i64>, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AppError> {
    match hours {
        Some(h) if now < deadline(starts_at, h) => Ok(()),
        _ => Err(Conflict::ReconfirmationClosed.into()),
    }
}

/// Whether a release made at `released_at` may be undone at `now`.
pub fn check_undo(released_at: DateTime<Utc>, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<(), AppError> {
    if now < released_at + grace() && now < starts_at { Ok(()) } else { Err(Conflict::ReconfirmationClosed.into()) }
}

/// What a confirmed registrant of an event asking for reconfirmation sees, until the
/// deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reconfirmation {
    pub deadline: DateTime<Utc>,
    /// The deadline in the event's zone, e.g. `2026/12/19 19:00 JST`.
    pub deadline_label: String,
    /// Already reconfirmed (or confirmed after the request, so not asked).
    pub reconfirmed: bool,
}

/// An event's requirement as its organizers see it (editor and attendee page).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReconfirmSetting {
    pub hours: i64,
    pub deadline: DateTime<Utc>,
    /// The deadline and the end of the undo period in the event's zone.
    pub deadline_label: String,
    pub undo_until_label: Option<String>,
    /// When the request went out.
    pub requested_at: Option<DateTime<Utc>>,
    /// When the seats not reconfirmed were released, and until when that can be undone.
    pub released_at: Option<DateTime<Utc>>,
    pub undo_until: Option<DateTime<Utc>>,
    /// Releases can still be undone (as of when this was read).
    pub undo_open: bool,
}

impl ReconfirmSetting {
    /// The setting of an event starting at `starts_at` in `time_zone` (server only: labels
    /// need the zone database).
    #[cfg(feature = "ssr")]
    pub fn new(
        hours: i64,
        starts_at: DateTime<Utc>,
        time_zone: &str,
        requested_at: Option<DateTime<Utc>>,
        released_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Self {
        let undo_until = released_at.map(|r| (r + grace()).min(starts_at));
        let undo_open = undo_until.is_some_and(|u| now < u);
        let deadline = deadline(starts_at, hours);
        ReconfirmSetting {
            hours,
            deadline,
            deadline_label: crate::time::local_label(deadline, time_zone),
            undo_until_label: undo_until.map(|u| crate::time::local_label(u, time_zone)),
            requested_at,
            released_at,
            undo_until,
            undo_open,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn starts() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 12, 20, 10, 0, 0).unwrap()
    }

    fn code(r: Result<(), AppError>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(AppError::Invalid(e)) => format!("{}:{}", e[0].field, e[0].code),
            Err(AppError::Conflict(c)) => c.code().into(),
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn a_requirement_leaves_a_day_before_its_deadline() {
        // 24 h before the start: the deadline is the 19th 10:00, the request the 18th 10:00.
        let early = starts() - Duration::days(3);
        assert_eq!(code(check_requirement(Some(24), starts(), false, early)), "ok");
        assert_eq!(code(check_requirement(Some(24), starts(), false, starts() - Duration::hours(48))), "ok");
        assert_eq!(
            code(check_requirement(Some(24), starts(), false, starts() - Duration::hours(47))),
            "hours:too_late"
        );
        assert_eq!(code(check_requirement(Some(5), starts(), false, early)), "hours:invalid_choice");
        assert_eq!(code(check_requirement(None, starts(), false, starts() - Duration::hours(1))), "ok");
        assert_eq!(code(check_requirement(None, starts(), true, early)), "reconfirmation_closed");
    }

    #[test]
    fn reconfirming_is_open_until_the_deadline() {
        let d = deadline(starts(), 24);
        assert_eq!(code(check_reconfirm(Some(24), starts(), d - Duration::seconds(1))), "ok");
        assert_eq!(code(check_reconfirm(Some(24), starts(), d)), "reconfirmation_closed");
        assert_eq!(code(check_reconfirm(None, starts(), d - Duration::days(2))), "reconfirmation_closed");
    }

    #[test]
    fn a_release_can_be_undone_for_its_grace_period_and_never_after_the_start() {
        let released = deadline(starts(), 24);
        assert_eq!(code(check_undo(released, starts(), released + Duration::minutes(119))), "ok");
        assert_eq!(code(check_undo(released, starts(), released + grace())), "reconfirmation_closed");
        let late = starts() - Duration::minutes(30);
        assert_eq!(code(check_undo(late, starts(), starts())), "reconfirmation_closed");
        let setting = ReconfirmSetting::new(12, starts(), "Asia/Tokyo", None, Some(late), late);
        assert_eq!(setting.undo_until, Some(starts()));
        assert!(setting.undo_open);
        assert!(!ReconfirmSetting::new(12, starts(), "Asia/Tokyo", None, Some(late), starts()).undo_open);
        assert_eq!(setting.deadline_label, "2026/12/20 07:00 JST", "12 h before 19:00 JST");
    }
}
