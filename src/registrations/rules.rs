//! The registration rules, decided in pure code: whether an event takes registrations,
//! which frame a request means, whether its window is open, what happens to a registration
//! already held, whether it may be cancelled, and whether a capacity may be set. A backend
//! loads a snapshot of what a decision needs under its write lock, asks these functions,
//! and applies the answer with conditional writes; it decides nothing itself. The SQLite
//! fast path (`sqlite_fast::FAST_REGISTRATION`) repeats these checks in one SQL
//! statement as an optimisation; the both-backend tests and the proptest hold it to the
//! same answers.

use crate::error::{AppError, Conflict, FieldError};
use crate::events::model::{EventStatus, FrameMethod};
use crate::registrations::model::RegStatus;

/// An event as the rules see it: its status and start (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventGate {
    pub status: EventStatus,
    pub starts_at: i64,
}

/// A frame as the rules see it: its method and window (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameGate {
    pub id: i64,
    pub method: FrameMethod,
    pub opens_at: Option<i64>,
    pub closes_at: Option<i64>,
    /// Lottery frames: when the draw is due (frames drawn at the same time are drawn
    /// together, see `draw`), and when it ran.
    pub draw_at: Option<i64>,
    pub drawn_at: Option<i64>,
}

impl FrameGate {
    /// A lottery frame collects applications until its draw: nobody gets a seat before.
    pub fn lottery_pending(&self) -> bool {
        self.method == FrameMethod::Lottery && self.drawn_at.is_none()
    }
}

/// A registration the user already has for the event (any status).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Held {
    pub id: i64,
    pub frame_id: i64,
    pub status: RegStatus,
}

impl Held {
    /// Holds a seat or a waitlist place (a cancelled registration holds nothing).
    pub fn is_active(&self) -> bool {
        self.status != RegStatus::Cancelled
    }
}

/// What a backend does for a registration request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegisterPlan {
    /// The frame to register to.
    pub frame: FrameGate,
    /// An active registration in another frame, released first (switching frames).
    pub release: Option<Held>,
    /// The registration row to reuse (a cancelled one, or the one being switched).
    pub reuse: Option<i64>,
    /// Only the waitlist (an undrawn lottery): no seat may be taken now.
    pub lottery_pending: bool,
}

/// Decides a registration request for `requested` (a frame id, or `None` for the event's
/// only frame) at `now`. Refusals: an unpublished event is not found, a cancelled one is
/// `event_cancelled`; a started event or closed frame is `registration_closed`; a frame
/// not yet open is `registration_not_open`; a frame of another event or a missing choice
/// among several is a field error; the same frame twice is `already_registered`.
pub fn plan_register(
    event: EventGate,
    frames: &[FrameGate],
    held: Option<Held>,
    requested: Option<i64>,
    now: i64,
) -> Result<RegisterPlan, AppError> {
    match event.status {
        EventStatus::Published => {}
        EventStatus::Cancelled => return Err(Conflict::EventCancelled.into()),
        EventStatus::Draft => return Err(AppError::NotFound),
    }
    if now >= event.starts_at {
        return Err(Conflict::RegistrationClosed.into());
    }
    let frame = match requested {
        Some(id) => *frames.iter().find(|f| f.id == id).ok_or_else(|| {
            AppError::Invalid(vec![FieldError::new(
                "frame_id",
                "unknown_frame",
                "This frame does not belong to the event.",
            )])
        })?,
        None if frames.len() == 1 => frames[0],
        None => return Err(AppError::Invalid(vec![FieldError::new("frame_id", "required", "Choose a frame.")])),
    };
    check_window(&frame, now)?;
    let active = held.filter(Held::is_active);
    if active.is_some_and(|h| h.frame_id == frame.id) {
        return Err(Conflict::AlreadyRegistered.into());
    }
    Ok(RegisterPlan { frame, release: active, reuse: held.map(|h| h.id), lottery_pending: frame.lottery_pending() })
}

/// A frame takes registrations from its opening (inclusive) to its closing (exclusive).
pub fn check_window(frame: &FrameGate, now: i64) -> Result<(), AppError> {
    if frame.opens_at.is_some_and(|o| now < o) {
        return Err(Conflict::RegistrationNotOpen.into());
    }
    if frame.closes_at.is_some_and(|c| now >= c) {
        return Err(Conflict::RegistrationClosed.into());
    }
    Ok(())
}

/// An active registration may be cancelled until the event starts or its frame closes.
/// `held` is the active registration with the event's start and the frame's closing.
pub fn plan_cancel(held: Option<(Held, i64, Option<i64>)>, now: i64) -> Result<Held, AppError> {
    let Some((held, starts_at, closes_at)) = held.filter(|(h, _, _)| h.is_active()) else {
        return Err(Conflict::NotRegistered.into());
    };
    if now >= starts_at || closes_at.is_some_and(|c| now >= c) {
        return Err(Conflict::CancellationClosed.into());
    }
    Ok(held)
}

/// A capacity is at least 1 and never below the number already confirmed (those seats are
/// given); raising it promotes the waitlist.
pub fn check_capacity(capacity: i64, confirmed: i64) -> Result<(), AppError> {
    if capacity < 1 {
        return Err(AppError::Invalid(vec![FieldError::new("capacity", "too_small", "Capacity must be at least 1.")]));
    }
    if capacity < confirmed {
        return Err(Conflict::CapacityBelowConfirmed { confirmed }.into());
    }
    Ok(())
}

/// The drawn order of a lottery: a Fisher–Yates shuffle of the applications (in
/// application order) driven by ChaCha8 seeded with `seed`. Every backend uses this, so
/// anyone holding the seed and the applications can re-derive the outcome.
#[cfg(feature = "ssr")]
pub fn drawn_order(applications: &[i64], seed: u64) -> Vec<i64> {
    use rand::SeedableRng;
    use rand::seq::SliceRandom;
    let mut order = applications.to_vec();
    order.shuffle(&mut rand_chacha::ChaCha8Rng::seed_from_u64(seed));
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000_000;

    fn event() -> EventGate {
        EventGate { status: EventStatus::Published, starts_at: NOW + 3_600 }
    }

    fn frame(id: i64) -> FrameGate {
        FrameGate { id, method: FrameMethod::FirstCome, opens_at: None, closes_at: None, draw_at: None, drawn_at: None }
    }

    fn held(frame_id: i64, status: RegStatus) -> Held {
        Held { id: 7, frame_id, status }
    }

    fn conflict(r: Result<impl std::fmt::Debug, AppError>) -> Conflict {
        match r {
            Err(AppError::Conflict(c)) => c,
            other => panic!("expected a conflict, got {other:?}"),
        }
    }

    fn field_code(r: Result<RegisterPlan, AppError>) -> String {
        match r {
            Err(AppError::Invalid(errors)) => errors[0].code.clone(),
            other => panic!("expected a field error, got {other:?}"),
        }
    }

    #[test]
    fn the_only_frame_is_chosen_when_none_is_named() {
        let plan = plan_register(event(), &[frame(1)], None, None, NOW).unwrap();
        assert_eq!(plan.frame.id, 1);
        assert_eq!((plan.release, plan.reuse, plan.lottery_pending), (None, None, false));
    }

    #[test]
    fn among_several_frames_one_must_be_named_and_belong_to_the_event() {
        let frames = [frame(1), frame(2)];
        assert_eq!(field_code(plan_register(event(), &frames, None, None, NOW)), "required");
        assert_eq!(field_code(plan_register(event(), &frames, None, Some(9), NOW)), "unknown_frame");
        assert_eq!(plan_register(event(), &frames, None, Some(2), NOW).unwrap().frame.id, 2);
    }

    #[test]
    fn drafts_are_not_found_and_cancelled_events_say_so() {
        let draft = EventGate { status: EventStatus::Draft, ..event() };
        assert_eq!(plan_register(draft, &[frame(1)], None, None, NOW), Err(AppError::NotFound));
        let cancelled = EventGate { status: EventStatus::Cancelled, ..event() };
        assert_eq!(conflict(plan_register(cancelled, &[frame(1)], None, None, NOW)), Conflict::EventCancelled);
    }

    #[test]
    fn registration_closes_when_the_event_starts() {
        let started = EventGate { starts_at: NOW, ..event() };
        assert_eq!(conflict(plan_register(started, &[frame(1)], None, None, NOW)), Conflict::RegistrationClosed);
    }

    #[test]
    fn a_window_opens_inclusive_and_closes_exclusive() {
        let f = FrameGate { opens_at: Some(NOW), closes_at: Some(NOW + 10), ..frame(1) };
        assert_eq!(conflict(check_window(&f, NOW - 1)), Conflict::RegistrationNotOpen);
        assert!(check_window(&f, NOW).is_ok());
        assert!(check_window(&f, NOW + 9).is_ok());
        assert_eq!(conflict(check_window(&f, NOW + 10)), Conflict::RegistrationClosed);
    }

    #[test]
    fn the_same_frame_twice_is_refused_but_another_frame_switches() {
        let frames = [frame(1), frame(2)];
        let mine = held(1, RegStatus::Waitlisted);
        assert_eq!(conflict(plan_register(event(), &frames, Some(mine), Some(1), NOW)), Conflict::AlreadyRegistered);
        let plan = plan_register(event(), &frames, Some(mine), Some(2), NOW).unwrap();
        assert_eq!((plan.release, plan.reuse), (Some(mine), Some(7)));
    }

    #[test]
    fn a_cancelled_registration_is_reused_and_releases_nothing() {
        let gone = held(1, RegStatus::Cancelled);
        let plan = plan_register(event(), &[frame(1)], Some(gone), None, NOW).unwrap();
        assert_eq!((plan.release, plan.reuse), (None, Some(7)));
    }

    #[test]
    fn an_undrawn_lottery_only_takes_applications() {
        let lottery = FrameGate { method: FrameMethod::Lottery, ..frame(1) };
        assert!(plan_register(event(), &[lottery], None, None, NOW).unwrap().lottery_pending);
        let drawn = FrameGate { drawn_at: Some(NOW - 1), ..lottery };
        assert!(!plan_register(event(), &[drawn], None, None, NOW).unwrap().lottery_pending);
    }

    #[test]
    fn cancelling_needs_an_active_registration_before_the_start_and_the_closing() {
        let mine = held(1, RegStatus::Confirmed);
        assert_eq!(plan_cancel(Some((mine, NOW + 1, None)), NOW), Ok(mine));
        assert_eq!(conflict(plan_cancel(None, NOW)), Conflict::NotRegistered);
        let gone = held(1, RegStatus::Cancelled);
        assert_eq!(conflict(plan_cancel(Some((gone, NOW + 1, None)), NOW)), Conflict::NotRegistered);
        assert_eq!(conflict(plan_cancel(Some((mine, NOW, None)), NOW)), Conflict::CancellationClosed);
        assert_eq!(conflict(plan_cancel(Some((mine, NOW + 9, Some(NOW))), NOW)), Conflict::CancellationClosed);
    }

    #[test]
    fn a_capacity_below_the_confirmed_count_names_that_count() {
        assert!(check_capacity(5, 5).is_ok());
        assert_eq!(conflict(check_capacity(4, 5)), Conflict::CapacityBelowConfirmed { confirmed: 5 });
        assert!(matches!(check_capacity(0, 0), Err(AppError::Invalid(_))));
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn the_drawn_order_is_re_derivable_from_the_seed() {
        let applicants: Vec<i64> = (1..=50).collect();
        assert_eq!(drawn_order(&applicants, 42), drawn_order(&applicants, 42));
        assert_ne!(drawn_order(&applicants, 42), drawn_order(&applicants, 43));
        let mut sorted = drawn_order(&applicants, 42);
        sorted.sort();
        assert_eq!(sorted, applicants, "a permutation: nobody lost or duplicated");
    }
}
