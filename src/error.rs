//! One error type for both sides of the wire. Server functions return it directly; under
//! `ssr` it also maps storage errors (logged, never shown) and sets the HTTP status.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A problem with one form field: `code` is stable (the UI translates it), `message` is
/// English for API clients.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    pub field: String,
    pub code: String,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, code: &str, message: &str) -> Self {
        FieldError { field: field.into(), code: code.into(), message: message.into() }
    }
}

/// What went wrong, in terms a user (or an API client) can act on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "error", content = "message", rename_all = "snake_case")]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("bad request: {0}")]
    BadRequest(String),
    /// Input that fails validation, field by field (422).
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// The request is valid but the state forbids it (closed, already registered…): 409,
    /// with the conflict's stable code as `message`.
    #[error("conflict: {0}")]
    Conflict(Conflict),
    /// Too many attempts; retry after this many seconds (429).
    #[error("too many requests, retry after {0} s")]
    RateLimited(u64),
    #[error("sign-in required")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("internal error")]
    Internal,
    /// Transport or encoding failure between browser and server.
    #[error("request failed: {0}")]
    Transport(String),
}

/// Why a valid request cannot be done in the current state (409). It travels as a stable
/// snake_case code (`"frame_full"`, `"capacity_below_confirmed:3"`), exactly the strings of
/// docs/API.md; [`Conflict::code`] and [`str::parse`] are the only translation between them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Conflict {
    /// The nickname or e-mail is taken.
    AccountExists,
    AlreadyMember,
    AlreadyRegistered,
    CancellationClosed,
    /// Lowering a capacity below the seats already given.
    CapacityBelowConfirmed {
        confirmed: i64,
    },
    EventCancelled,
    /// Confirming by hand needs a free seat.
    FrameFull,
    FrameHasRegistrations,
    LastFrame,
    LastOwner,
    LotteryAlreadyDrawn,
    /// A cancelled registration, or a move to the status it has.
    NotMovable,
    /// Only an invitation-only event has an invitation link.
    NotInvitationOnly,
    NotRegistered,
    /// Reconfirming after the deadline (or where none is asked), changing the requirement
    /// after the release, or undoing a release after its grace period.
    ReconfirmationClosed,
    RegistrationClosed,
    RegistrationNotOpen,
    SlugTaken,
}

impl Conflict {
    /// Every conflict without data, for exhaustive tests and documentation.
    pub const SIMPLE: [Conflict; 17] = [
        Conflict::AccountExists,
        Conflict::AlreadyMember,
        Conflict::AlreadyRegistered,
        Conflict::CancellationClosed,
        Conflict::EventCancelled,
        Conflict::FrameFull,
        Conflict::FrameHasRegistrations,
        Conflict::LastFrame,
        Conflict::LastOwner,
        Conflict::LotteryAlreadyDrawn,
        Conflict::NotMovable,
        Conflict::NotInvitationOnly,
        Conflict::NotRegistered,
        Conflict::ReconfirmationClosed,
        Conflict::RegistrationClosed,
        Conflict::RegistrationNotOpen,
        Conflict::SlugTaken,
    ];

    /// The stable code of a conflict without data (`capacity_below_confirmed` for the one
    /// that carries a number; its wire form adds `:<n>`, see `Display`).
    pub fn code(self) -> &'static str {
        match self {
            Conflict::AccountExists => "account_exists",
            Conflict::AlreadyMember => "already_member",
            Conflict::AlreadyRegistered => "already_registered",
            Conflict::CancellationClosed => "cancellation_closed",
            Conflict::CapacityBelowConfirmed { .. } => "capacity_below_confirmed",
            Conflict::EventCancelled => "event_cancelled",
            Conflict::FrameFull => "frame_full",
            Conflict::FrameHasRegistrations => "frame_has_registrations",
            Conflict::LastFrame => "last_frame",
            Conflict::LastOwner => "last_owner",
            Conflict::LotteryAlreadyDrawn => "lottery_already_drawn",
            Conflict::NotMovable => "not_movable",
            Conflict::NotInvitationOnly => "not_invitation_only",
            Conflict::NotRegistered => "not_registered",
            Conflict::ReconfirmationClosed => "reconfirmation_closed",
            Conflict::RegistrationClosed => "registration_closed",
            Conflict::RegistrationNotOpen => "registration_not_open",
            Conflict::SlugTaken => "slug_taken",
        }
    }
}

impl std::fmt::Display for Conflict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Conflict::CapacityBelowConfirmed { confirmed } => write!(f, "capacity_below_confirmed:{confirmed}"),
            other => f.write_str(other.code()),
        }
    }
}

impl std::str::FromStr for Conflict {
    type Err = String;

    /// The inverse of `Display`; an unknown code is an error, never a default.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if let Some(n) = s.strip_prefix("capacity_below_confirmed:") {
            let confirmed = n.parse().map_err(|_| format!("bad count in conflict code {s:?}"))?;
            return Ok(Conflict::CapacityBelowConfirmed { confirmed });
        }
        Conflict::SIMPLE.into_iter().find(|c| c.code() == s).ok_or_else(|| format!("unknown conflict code {s:?}"))
    }
}

impl Serialize for Conflict {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Conflict {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl From<Conflict> for AppError {
    fn from(c: Conflict) -> Self {
        AppError::Conflict(c)
    }
}

impl AppError {
    /// The HTTP status this error is answered with.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::NotFound => 404,
            AppError::BadRequest(_) => 400,
            AppError::Invalid(_) => 422,
            AppError::Conflict(_) => 409,
            AppError::RateLimited(_) => 429,
            AppError::Unauthorized => 401,
            AppError::Forbidden => 403,
            AppError::Internal => 500,
            AppError::Transport(_) => 502,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            // Arguments that do not decode are the caller's fault: a 400, not a 500.
            ServerFnErrorErr::Args(msg) => AppError::BadRequest(msg),
            other => AppError::Transport(other.to_string()),
        }
    }
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::{AppError, Conflict};

    impl From<tower_sessions::session::Error> for AppError {
        fn from(err: tower_sessions::session::Error) -> Self {
            tracing::error!(error = %err, "session error");
            AppError::Internal
        }
    }

    impl From<sqlx::Error> for AppError {
        fn from(err: sqlx::Error) -> Self {
            match err {
                sqlx::Error::RowNotFound => AppError::NotFound,
                // Unique keys users choose themselves are conflicts they can fix, named by
                // constraint (PostgreSQL) or column (SQLite's message).
                sqlx::Error::Database(db)
                    if db.is_unique_violation()
                        && (db.constraint() == Some("groups_slug_key") || db.message().contains("groups.slug")) =>
                {
                    AppError::Conflict(Conflict::SlugTaken)
                }
                // PostgreSQL cannot store a NUL character in text (SQLSTATE 22021): the
                // input is refused as a bad request, not a server error.
                sqlx::Error::Database(db) if db.code().as_deref() == Some("22021") => {
                    AppError::BadRequest("text must not contain NUL characters".into())
                }
                other => {
                    tracing::error!(error = %other, "database error");
                    AppError::Internal
                }
            }
        }
    }

    impl From<sqlx::migrate::MigrateError> for AppError {
        fn from(err: sqlx::migrate::MigrateError) -> Self {
            tracing::error!(error = %err, "migration error");
            AppError::Internal
        }
    }
}

impl AppError {
    /// The first field error's code for `field`, if any (forms show it beside the field).
    pub fn field_code(&self, field: &str) -> Option<&str> {
        match self {
            AppError::Invalid(errors) => errors.iter().find(|e| e.field == field).map(|e| e.code.as_str()),
            _ => None,
        }
    }
}

/// Awaits a server function's body and answers with its result, setting the response
/// status from it (and `Retry-After` when rate limited): the one way our server functions
/// end, so an error is a real 4xx/5xx both while rendering and over the API.
#[cfg(feature = "ssr")]
pub async fn respond<T>(body: impl Future<Output = Result<T, AppError>>) -> Result<T, AppError> {
    let result = body.await;
    set_status_for(&result);
    result
}

#[cfg(feature = "ssr")]
fn set_status_for<T>(result: &Result<T, AppError>) {
    if let Err(err) = result
        && let Some(opts) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
    {
        opts.set_status(
            axum::http::StatusCode::from_u16(err.status_code())
                .unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
        if let AppError::RateLimited(secs) = err {
            opts.insert_header(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(*secs));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_conflict_code_round_trips_and_unknown_codes_are_errors() {
        for c in Conflict::SIMPLE.into_iter().chain([Conflict::CapacityBelowConfirmed { confirmed: 12 }]) {
            assert_eq!(c.to_string().parse::<Conflict>(), Ok(c), "{c}");
        }
        assert!("conflict_of_interest".parse::<Conflict>().is_err());
        assert!("capacity_below_confirmed:many".parse::<Conflict>().is_err());
        let codes: std::collections::HashSet<&str> = Conflict::SIMPLE.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), Conflict::SIMPLE.len(), "codes are distinct");
    }

    #[test]
    fn a_conflict_serialises_to_the_documented_json() {
        let json = serde_json::to_string(&AppError::Conflict(Conflict::FrameFull)).unwrap();
        assert_eq!(json, r#"{"error":"conflict","message":"frame_full"}"#);
        let json =
            serde_json::to_string(&AppError::Conflict(Conflict::CapacityBelowConfirmed { confirmed: 3 })).unwrap();
        assert_eq!(json, r#"{"error":"conflict","message":"capacity_below_confirmed:3"}"#);
        let back: AppError = serde_json::from_str(&json).unwrap();
        assert_eq!(back, AppError::Conflict(Conflict::CapacityBelowConfirmed { confirmed: 3 }));
        assert!(serde_json::from_str::<AppError>(r#"{"error":"conflict","message":"nope"}"#).is_err());
    }
}
