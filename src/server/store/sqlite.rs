//! The embedded default backend: one SQLite file, WAL mode, migrated on start.

use std::str::FromStr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};

use super::db::Db;
use super::{
    Backend, NewMessage, RegisterRequest, RegistrationChange, Store, StoreResult, messages as msg_sql,
    registrations as regs,
};
use crate::error::AppError;

/// What only the SQLite backend has: the writer thread and the message batcher. The pools
/// themselves are in the store's [`Db`].
pub(super) struct Sqlite {
    /// Messages wait here for the writer and commit in batches (see `message_queue`).
    messages: tokio::sync::mpsc::UnboundedSender<QueuedMessage>,
    /// The runtime the hot write transactions run on (see `WriterRuntime`).
    writer_rt: WriterRuntime,
    /// Whether registrations try the one-round-trip path first (see `sqlite_fast.rs`); off
    /// only in the test that proves it answers exactly as the full path does.
    fast_path: AtomicBool,
}

/// A single-threaded runtime on its own OS thread for the hot write transactions
/// (registrations, cancellations, message batches). A transaction is a chain of statements,
/// each a hop to the connection's thread and back; on the shared runtime each hop back
/// queues behind every ready HTTP task, so under a rush the write lock was held mostly by
/// a transaction waiting for its turn to run. Here the next statement runs as soon as the
/// previous answers. The thread ends when the store is dropped.
struct WriterRuntime {
    handle: tokio::runtime::Handle,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl WriterRuntime {
    fn start() -> anyhow::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::Builder::new().name("tsudoi-writer".into()).spawn(move || {
            let _ = runtime.block_on(stopped);
        })?;
        Ok(WriterRuntime { handle, _stop: stop })
    }

    /// Runs `work` on the writer thread and waits for its result.
    async fn run<T: Send + 'static>(
        &self,
        work: impl std::future::Future<Output = StoreResult<T>> + Send + 'static,
    ) -> StoreResult<T> {
        self.handle.spawn(work).await.map_err(|e| {
            tracing::error!(error = %e, "write task failed");
            crate::error::AppError::Internal
        })?
    }
}

type QueuedMessage = (super::NewMessage, tokio::sync::oneshot::Sender<StoreResult<i64>>);

/// Most messages committed in one transaction.
const MESSAGE_BATCH: usize = 256;

/// Group commit for messages: each automatic message (a confirmation per registration in a
/// rush) would be a write transaction of its own, queueing behind the registrations for the
/// one writer. Instead the caller's message joins whatever is waiting and all commit in one
/// transaction; the caller still gets its id only after that commit, so nothing changes for
/// it. A batch that fails is retried message by message, so one bad message fails alone.
fn message_queue(
    runtime: &tokio::runtime::Handle,
    db: super::db::Db,
) -> tokio::sync::mpsc::UnboundedSender<QueuedMessage> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<QueuedMessage>();
    runtime.spawn(async move {
        while let Some(first) = rx.recv().await {
            // Wait for the writer first (BEGIN IMMEDIATE): whatever arrives meanwhile joins this batch.
            let mut write = match db.begin().await {
                Ok(write) => write,
                Err(e) => {
                    let _ = first.1.send(Err(e.into()));
                    continue;
                }
            };
            let mut batch = vec![first];
            while batch.len() < MESSAGE_BATCH {
                match rx.try_recv() {
                    Ok(next) => batch.push(next),
                    Err(_) => break,
                }
            }
            let messages: Vec<super::NewMessage> = batch.iter().map(|(m, _)| m.clone()).collect();
            // The transaction ends (committed, or rolled back when dropped) before any retry.
            let stored: StoreResult<Vec<i64>> = async move {
                let ids = msg_sql::insert_messages(&mut write, &messages).await?;
                write.commit().await?;
                Ok(ids)
            }
            .await;
            match stored {
                Ok(ids) => {
                    for ((_, reply), id) in batch.into_iter().zip(ids) {
                        let _ = reply.send(Ok(id));
                    }
                }
                Err(_) => {
                    for (m, reply) in batch {
                        let _ = reply.send(msg_sql::create_message(&db, &m).await);
                    }
                }
            }
        }
    });
    tx
}

/// `TSUDOI_SQLITE_SYNC`: `normal` (the default) or `full`. In WAL mode `normal` loses no
/// committed transaction when the process dies (kill -9, a crash) but may lose the last
/// commits if the machine loses power; `full` syncs the WAL on every commit and loses none.
pub fn synchronous_from(value: Option<&str>) -> anyhow::Result<SqliteSynchronous> {
    match value.map(str::trim) {
        None | Some("") => Ok(SqliteSynchronous::Normal),
        Some(v) if v.eq_ignore_ascii_case("normal") => Ok(SqliteSynchronous::Normal),
        Some(v) if v.eq_ignore_ascii_case("full") => Ok(SqliteSynchronous::Full),
        Some(other) => anyhow::bail!("TSUDOI_SQLITE_SYNC={other:?}: expected normal or full"),
    }
}

/// Opens (creating if missing) and migrates the database at `url`.
pub async fn connect(url: &str) -> anyhow::Result<Store> {
    let synchronous = synchronous_from(std::env::var("TSUDOI_SQLITE_SYNC").ok().as_deref())?;
    let options = SqliteConnectOptions::from_str(url)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(synchronous)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true);
    let writer = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(30))
        .connect_with(options.clone())
        .await?;
    sqlx::migrate!("migrations/sqlite").run(&writer).await?;
    let db = Db::Sqlite { reader: writer.clone(), writer: writer.clone() };
    super::after_migrations(&db).await?;
    // Readers: each sqlx SQLite connection is a thread, and every statement is a hand-off
    // to it; more connections than cores mostly add context switches.
    let readers = std::env::var("TSUDOI_SQLITE_READERS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let pool = SqlitePoolOptions::new().max_connections(readers).connect_with(options).await?;
    let db = Db::Sqlite { reader: pool, writer };
    let search_index = crate::search::index::SearchIndex::start(&db).await?;
    let writer_rt = WriterRuntime::start()?;
    let messages = message_queue(&writer_rt.handle, db.clone());
    Ok(Store {
        db,
        backend: Backend::Sqlite(Sqlite { messages, writer_rt, fast_path: AtomicBool::new(true) }),
        search_index,
    })
}

impl Sqlite {
    /// A registration: the common case is one round trip (see `register_fast`) and runs
    /// here; the full path, a chain of statements under the write lock, runs on the writer
    /// thread.
    pub(super) async fn register(&self, db: &Db, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        let Db::Sqlite { writer, .. } = db else { return Err(AppError::Internal) };
        if self.fast_path.load(Ordering::Relaxed)
            && let Some(change) = super::sqlite_fast::register_fast(writer, req).await?
        {
            return Ok(change);
        }
        let (db, req) = (db.clone(), req.clone());
        self.writer_rt.run(async move { regs::register(&db, &req).await }).await
    }

    /// A cancellation, on the writer thread.
    pub(super) async fn cancel(
        &self,
        db: &Db,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
        outbox: Option<super::Outbox>,
    ) -> StoreResult<RegistrationChange> {
        let db = db.clone();
        self.writer_rt.run(async move { regs::cancel(&db, event_id, user_id, now, outbox).await }).await
    }

    /// A message, committed with whatever else waits for the writer (see `message_queue`).
    pub(super) async fn create_message(&self, db: &Db, message: &NewMessage) -> StoreResult<i64> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        if self.messages.send((message.clone(), reply)).is_err() {
            // The queue's task is gone (runtime shutting down): write directly.
            return msg_sql::create_message(db, message).await;
        }
        answer.await.map_err(|_| AppError::Internal)?
    }
}

impl Store {
    /// Turns the SQLite fast registration path off or on (no effect on PostgreSQL). Only
    /// for the test that runs the same operations both ways and compares the answers.
    #[doc(hidden)]
    pub fn set_sqlite_fast_path(&self, on: bool) {
        if let Backend::Sqlite(sqlite) = &self.backend {
            sqlite.fast_path.store(on, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_durability_setting_is_normal_or_full_and_nothing_else() {
        assert!(matches!(synchronous_from(None).unwrap(), SqliteSynchronous::Normal));
        assert!(matches!(synchronous_from(Some("")).unwrap(), SqliteSynchronous::Normal));
        assert!(matches!(synchronous_from(Some("FULL")).unwrap(), SqliteSynchronous::Full));
        let err = synchronous_from(Some("off")).unwrap_err().to_string();
        assert!(err.contains("TSUDOI_SQLITE_SYNC") && err.contains("normal or full"), "{err}");
    }
}
