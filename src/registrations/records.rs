//! What the store takes and gives for registrations and lotteries (server only).

use chrono::{DateTime, Utc};

use super::model::MyRegistration;

/// A frame's cached counters next to the counts of its registration rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterCheck {
    pub frame_id: i64,
    pub accepted_count: i64,
    pub accepted_rows: i64,
    pub waiting_count: i64,
    pub waiting_rows: i64,
}

/// How a first-come seat is taken. `Atomic` is the only mode a running server uses;
/// `UnguardedCanary` checks capacity outside the write transaction, which oversells under
/// concurrency: the race test runs it to prove it can detect overselling. It cannot be
/// selected from the environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SeatGuard {
    #[default]
    Atomic,
    UnguardedCanary,
}

/// A registration request, already authenticated and validated.
#[derive(Debug, Clone)]
pub struct RegisterRequest {
    pub event_id: i64,
    pub user_id: i64,
    /// Required when the event has more than one frame.
    pub frame_id: Option<i64>,
    /// A lottery application's other acceptable frames, best first (the ranked lottery).
    pub also: Vec<i64>,
    pub answers: Vec<(i64, String)>,
    /// Kept off the public participant list (counted as one of "others").
    pub anonymous: bool,
    pub now: DateTime<Utc>,
    pub guard: SeatGuard,
    /// The confirmation (and any promotion) the write stores with itself (the outbox).
    pub notices: crate::messages::records::Notices,
}

/// What a registration write changed, for live updates and messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationChange {
    pub event_id: i64,
    pub registration: Option<MyRegistration>,
    /// Users moved from the waitlist to confirmed by this write.
    pub promoted_user_ids: Vec<i64>,
}

/// A frame whose lottery is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueDraw {
    pub frame_id: i64,
    pub event_id: i64,
}

/// The outcome of one lottery draw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawOutcome {
    pub frame_id: i64,
    pub event_id: i64,
    pub seed: u64,
    /// The frames drawn (the frame asked for and those drawn with it).
    pub frames: Vec<i64>,
    /// Registration ids in drawn order.
    pub order: Vec<i64>,
    pub winners: usize,
}

/// One registration as organizers see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistrationRow {
    pub id: i64,
    pub user_id: i64,
    pub frame_id: i64,
    pub status: crate::registrations::model::RegStatus,
    pub position: i64,
}
