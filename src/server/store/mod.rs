//! Storage. Pages and server functions talk to one [`Store`]; its queries are written once
//! for SQLite and PostgreSQL (`db.rs`), and the store test suite runs against both.

mod accounts;
mod admin;
mod admin_edit;
mod bulk;
pub mod db;
mod events;
mod invitations;
mod materials;
mod messages;
mod moderation;
mod participants;
pub mod pg;
mod public_sql;
mod reconfirm;
mod registrations;
mod search;
pub(crate) mod search_sql;
pub(crate) mod search_text;
pub mod sqlite;
mod sqlite_fast;
pub mod visibility;
mod webhooks;

use std::sync::Arc;

use crate::error::AppError;

// Request and row types live with their domain; the store re-exports them so that
// `store::NewEvent` and the like read as what the store takes.
pub use crate::accounts::records::*;
pub use crate::admin::records::*;
pub use crate::events::public;
pub use crate::events::records::*;
pub use crate::messages::records::*;
pub use crate::registrations::records::*;
pub use crate::registrations::rules::drawn_order;
pub use moderation::REPORTS_PER_DAY;
pub use reconfirm::{Released, Restored};
pub use webhooks::DueDelivery;

pub type StoreResult<T> = Result<T, AppError>;

/// Shared handle to the store.
pub type DynStore = Arc<Store>;

/// Opens the store named by `database_url` (`sqlite://…`, created if missing, or
/// `postgres://…` / `postgresql://…`, which must exist) and migrates it.
/// Fails loudly (an error, never a half-migrated start) when a migration fails.
pub async fn connect(database_url: &str) -> anyhow::Result<DynStore> {
    if database_url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::connect(database_url).await?))
    } else if database_url.starts_with("postgres://") || database_url.starts_with("postgresql://") {
        Ok(Arc::new(pg::connect(database_url).await?))
    } else {
        // The URL may carry a password: name the scheme only.
        let scheme = database_url.split(':').next().unwrap_or_default();
        anyhow::bail!("unsupported DATABASE_URL scheme {scheme:?} (expected sqlite://… or postgres://…)")
    }
}

/// What a start does after the migrations, on either backend: search text for events from
/// before the search migration, and the hash of calendar secrets stored in clear.
async fn after_migrations(db: &db::Db) -> anyhow::Result<()> {
    let indexed = search_sql::index_missing(db).await?;
    if indexed > 0 {
        tracing::info!(events = indexed, "search index built for existing events");
    }
    let hashed = public_sql::hash_clear_calendar_tokens(db).await?;
    if hashed > 0 {
        tracing::info!(users = hashed, "calendar secrets now stored hashed");
    }
    Ok(())
}

/// Decodes a stored code (a status, a method) into its enum; an unknown value is an error
/// (logged, a 500), never a default.
pub(crate) fn decode<T>(value: &str, parse: impl Fn(&str) -> Option<T>, what: &'static str) -> StoreResult<T> {
    parse(value).ok_or_else(|| {
        tracing::error!(value, what, "unknown value in the database");
        AppError::Internal
    })
}

/// Everything Tsudoi persists. One database handle for the queries written once (`db`, see
/// `db.rs`) and what only one backend has (`backend`). Each domain's operations are
/// `impl Store` blocks in its own file: accounts (`accounts.rs`), events and the public
/// pages (`events.rs`), registrations (`registrations.rs`), the admin (`admin.rs`,
/// `admin_edit.rs`), messages (`messages.rs`), search (`search_sql.rs`) and the public API
/// and feeds (`public_sql.rs`).
pub struct Store {
    db: db::Db,
    backend: Backend,
    /// The in-memory search index (see `crate::search::index`), on either backend.
    search_index: Arc<crate::search::index::SearchIndex>,
}

/// What one backend has beside the shared queries.
enum Backend {
    /// The writer thread and the message batcher.
    Sqlite(sqlite::Sqlite),
    /// Seat announcements across instances go through LISTEN/NOTIFY on the pool.
    Pg,
}

impl Store {
    /// The SQLite reader pool (tests and benchmarks inspect rows directly); `None` on
    /// PostgreSQL.
    pub fn sqlite_pool(&self) -> Option<&sqlx::SqlitePool> {
        match &self.db {
            db::Db::Sqlite { reader, .. } => Some(reader),
            db::Db::Pg(_) => None,
        }
    }

    /// The PostgreSQL pool (tests inspect rows directly); `None` on SQLite.
    pub fn pg_pool(&self) -> Option<&sqlx::PgPool> {
        match &self.db {
            db::Db::Pg(pool) => Some(pool),
            db::Db::Sqlite { .. } => None,
        }
    }
}
