//! The PostgreSQL backend: a pool of 16 connections, migrated on start
//! (`migrations/postgres`). Same semantics as the SQLite backend: the store tests run the
//! same cases against both. Flags are BOOLEAN, instants and counters BIGINT; sums are cast
//! back to BIGINT (PostgreSQL's SUM of BIGINT is NUMERIC). What only this backend does:
//! announcing seat changes to every instance (LISTEN/NOTIFY). Each instance keeps its own
//! in-memory search index, in step with the others through `search_changes` (migration 0009).

use std::time::Duration;

use sqlx::postgres::PgPoolOptions;

use super::db::Db;
use super::{Backend, Store, StoreResult};

/// Connects to the (existing) database at `url` and migrates it.
pub async fn connect(url: &str) -> anyhow::Result<Store> {
    let pool = PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
    sqlx::migrate!("migrations/postgres").run(&pool).await?;
    let db = Db::Pg(pool);
    super::after_migrations(&db).await?;
    let search_index = crate::search::index::SearchIndex::start(&db).await?;
    Ok(Store { db, backend: Backend::Pg, search_index })
}

impl Store {
    /// Tells every instance sharing this database that an event's seats changed (after
    /// the commit). A single-process backend (SQLite) has nobody else to tell.
    pub async fn announce_seats(&self, event_id: i64) -> StoreResult<()> {
        if let Db::Pg(pool) = &self.db {
            sqlx::query("SELECT pg_notify('tsudoi_seats', $1)").bind(event_id.to_string()).execute(pool).await?;
        }
        Ok(())
    }

    /// Seat changes announced by any instance (this one included), for the live hub; `None`
    /// for a single-process backend.
    pub async fn seat_announcements(&self) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<i64>>> {
        // LISTEN on a connection of its own; PgListener reconnects after a lost connection
        // (changes announced while it was away are missed: the clients' periodic refresh
        // covers that gap).
        let Db::Pg(pool) = &self.db else { return Ok(None) };
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen("tsudoi_seats").await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let pool = pool.clone();
        tokio::spawn(async move {
            loop {
                // A stopping instance closes its pool: the listener lets go of its connection
                // (which the close waits for) instead of retrying on a closed pool.
                if pool.is_closed() {
                    break;
                }
                match listener.recv().await {
                    Ok(note) => {
                        if let Ok(id) = note.payload().parse::<i64>()
                            && tx.send(id).is_err()
                        {
                            break;
                        }
                    }
                    Err(_) if pool.is_closed() => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "seat announcements: listener lost its connection; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }
}
