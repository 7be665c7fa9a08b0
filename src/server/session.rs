//! Sessions (tower-sessions) stored through our `Store`, and the current-user helpers that
//! every server function uses to authenticate itself.

use async_trait::async_trait;
use tower_sessions::Session;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, SessionStore};

use super::state::app_state;
use super::store::{DynStore, SessionRow};
use crate::accounts::model::CurrentUser;
use crate::error::AppError;

/// Session key holding the signed-in user's id.
pub const USER_ID_KEY: &str = "uid";
/// Session key holding the signed-in user as loaded with the session (same query, see
/// [`Store::session_load`](super::store::Store::session_load)). Transient: it is put in
/// at load and never written back, so it is as fresh as the request.
const LOADED_USER_KEY: &str = "__user";
/// Name of the session cookie.
pub const SESSION_COOKIE: &str = "tsudoi_session";
/// Session key: when the user signed in (Unix seconds), for the absolute cap.
pub const SIGNED_IN_AT_KEY: &str = "since";
/// Session key: the last day (Unix days) the session was used; a new day saves the session,
/// which moves its idle expiry (and the cookie's) forward: one write per session per day.
pub const SEEN_DAY_KEY: &str = "seen";
/// A session unused this long ends (the layer's `Expiry::OnInactivity`).
pub const IDLE_DAYS: i64 = 30;
/// A session ends this long after sign-in however much it is used: sign in again.
pub const ABSOLUTE_DAYS: i64 = 90;

/// tower-sessions' storage over the configured backend.
#[derive(Clone)]
pub struct DbSessionStore {
    store: DynStore,
}

impl DbSessionStore {
    pub fn new(store: DynStore) -> Self {
        DbSessionStore { store }
    }
}

impl std::fmt::Debug for DbSessionStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DbSessionStore")
    }
}

fn backend(err: AppError) -> session_store::Error {
    session_store::Error::Backend(err.to_string())
}

fn to_row(record: &Record) -> session_store::Result<SessionRow> {
    // Everything but the transient account.
    let stored: std::collections::HashMap<&String, &serde_json::Value> =
        record.data.iter().filter(|(k, _)| k.as_str() != LOADED_USER_KEY).collect();
    Ok(SessionRow {
        data: serde_json::to_string(&stored).map_err(|e| session_store::Error::Encode(e.to_string()))?,
        expires_at: record.expiry_date.unix_timestamp(),
    })
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // A colliding id (2^-128) gets a fresh one instead of overwriting someone's session.
        loop {
            let row = to_row(record)?;
            if self.store.session_create(&record.id.to_string(), &row).await.map_err(backend)? {
                return Ok(());
            }
            record.id = Id::default();
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.store.session_save(&record.id.to_string(), &to_row(record)?).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        let Some((row, user)) = self.store.session_load(&id.to_string(), now).await.map_err(backend)? else {
            return Ok(None);
        };
        let mut data: std::collections::HashMap<String, serde_json::Value> =
            serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        data.remove(LOADED_USER_KEY);
        if let Some(user) = user {
            data.insert(
                LOADED_USER_KEY.into(),
                serde_json::to_value(user).map_err(|e| session_store::Error::Encode(e.to_string()))?,
            );
        }
        Ok(Some(Record {
            id: *id,
            data,
            expiry_date: time::OffsetDateTime::from_unix_timestamp(row.expires_at)
                .map_err(|e| session_store::Error::Decode(e.to_string()))?,
        }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.store.session_delete(&id.to_string()).await.map_err(backend)
    }
}

/// The request's session (inside a server function or SSR).
pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>().await.map_err(|e| {
        tracing::error!(error = %e, "session layer missing");
        AppError::Internal
    })
}

/// The signed-in user, if any.
pub async fn current_user() -> Result<Option<CurrentUser>, AppError> {
    let session = session().await?;
    let Some(uid) = session.get::<i64>(USER_ID_KEY).await? else { return Ok(None) };
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    match session.get::<i64>(SIGNED_IN_AT_KEY).await? {
        Some(since) if now - since > ABSOLUTE_DAYS * 86_400 => {
            session.flush().await?;
            return Ok(None);
        }
        Some(_) => {}
        // Signed in before the cap existed: it counts from now.
        None => session.insert(SIGNED_IN_AT_KEY, now).await?,
    }
    let today = now.div_euclid(86_400);
    if session.get::<i64>(SEEN_DAY_KEY).await? != Some(today) {
        session.insert(SEEN_DAY_KEY, today).await?;
    }
    // Loaded with the session in this request (one query); a login or logout in this
    // request changes the uid, and then the account is read again.
    if let Ok(Some(user)) = session.get::<CurrentUser>(LOADED_USER_KEY).await
        && user.id == uid
    {
        return Ok(Some(user));
    }
    let user = app_state()?.store.fetch_user(uid).await?;
    if user.is_none() {
        // The account is gone: forget the stale session.
        session.flush().await?;
    }
    Ok(user)
}

/// The signed-in user, or `Unauthorized` (401).
pub async fn require_user() -> Result<CurrentUser, AppError> {
    current_user().await?.ok_or(AppError::Unauthorized)
}

/// The signed-in user (401 otherwise) and the app state: how most "my …" server functions
/// start.
pub async fn require_user_state() -> Result<(CurrentUser, super::state::AppState), AppError> {
    let user = require_user().await?;
    Ok((user, app_state()?))
}

/// Ends every session of `user_id` but `keep` (the current one, when it stays).
pub async fn end_sessions_of(user_id: i64, keep: Option<&Session>) -> Result<u64, AppError> {
    let keep = keep.and_then(Session::id).map(|id| id.to_string());
    app_state()?.store.sessions_end_for_user(user_id, keep.as_deref()).await
}
