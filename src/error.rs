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
    /// The request is valid but the state forbids it (closed, already registered…); the
    /// string is a stable code (409).
    #[error("conflict: {0}")]
    Conflict(String),
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
    use super::AppError;

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
                    AppError::Conflict("slug_taken".into())
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

/// Sets the response status (and `Retry-After` when rate limited) from a server-function
/// result while rendering or answering.
#[cfg(feature = "ssr")]
pub fn set_status_for<T>(result: &Result<T, AppError>) {
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
