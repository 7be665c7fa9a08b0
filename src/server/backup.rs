//! `tsudoi backup PATH` and `tsudoi restore PATH` for the embedded SQLite database.
//!
//! Copying `tsudoi.db` by hand while Tsudoi runs is not a backup: the newest commits live in
//! `tsudoi.db-wal` until a checkpoint. `VACUUM INTO` writes a consistent copy from one read
//! transaction (a snapshot: writers keep going meanwhile, and the copy holds every commit
//! before the snapshot and none after), compacted, as a plain database file without a WAL.
//! A restore checks the copy (`PRAGMA integrity_check`, and that it is a Tsudoi database),
//! refuses to replace a database another process has open, and swaps the file in with a
//! rename. PostgreSQL has its own tools (`pg_dump`, `pg_restore`: see the README).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use sqlx::ConnectOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteConnection};

/// What a backup wrote.
#[derive(Debug, Clone)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub elapsed: Duration,
}

fn sqlite_only(database_url: &str, what: &str) -> anyhow::Result<()> {
    if database_url.starts_with("sqlite:") {
        return Ok(());
    }
    match what {
        "backup" => bail!(
            "tsudoi backup copies the embedded SQLite database; for PostgreSQL use pg_dump \
             (e.g. pg_dump -Fc -f tsudoi.dump \"$DATABASE_URL\"; see the README, Commands, backups and restores)"
        ),
        _ => bail!(
            "tsudoi restore replaces the embedded SQLite database; for PostgreSQL use pg_restore \
             (e.g. pg_restore --clean --if-exists -d \"$DATABASE_URL\" tsudoi.dump; see the README)"
        ),
    }
}

async fn open(options: SqliteConnectOptions) -> anyhow::Result<SqliteConnection> {
    Ok(options.connect().await?)
}

/// Checks that `path` is an intact Tsudoi database.
async fn check_copy(path: &Path) -> anyhow::Result<()> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = open(options).await.with_context(|| format!("{} is not a database", path.display()))?;
    let (integrity,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut conn).await?;
    if integrity != "ok" {
        bail!("{} fails its integrity check: {integrity}", path.display());
    }
    let (tsudoi,): (bool,) = sqlx::query_as(
        "SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations') \
         AND EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events')",
    )
    .fetch_one(&mut conn)
    .await?;
    if !tsudoi {
        bail!("{} is not a Tsudoi database", path.display());
    }
    Ok(())
}

/// Writes a consistent copy of the live database at `database_url` to `dest` (which must
/// not exist), then checks it.
pub async fn backup(database_url: &str, dest: &Path) -> anyhow::Result<BackupReport> {
    sqlite_only(database_url, "backup")?;
    if dest.exists() {
        bail!("{} exists already: choose a new file (a backup never overwrites)", dest.display());
    }
    let started = Instant::now();
    let options =
        SqliteConnectOptions::from_str(database_url)?.create_if_missing(false).busy_timeout(Duration::from_secs(30));
    let mut conn = open(options).await.with_context(|| format!("cannot open {database_url}"))?;
    let dest_str = dest.to_str().context("the backup path is not UTF-8")?;
    sqlx::query("VACUUM INTO ?").bind(dest_str).execute(&mut conn).await.context("VACUUM INTO failed")?;
    drop(conn);
    check_copy(dest).await?;
    let bytes = std::fs::metadata(dest)?.len();
    Ok(BackupReport { path: dest.to_path_buf(), bytes, elapsed: started.elapsed() })
}

/// Replaces the database at `database_url` with the backup at `src`. Refused when the copy
/// is not an intact Tsudoi database, or when the database is in use (a running Tsudoi
/// holds it open: stop it first).
pub async fn restore(database_url: &str, src: &Path) -> anyhow::Result<PathBuf> {
    sqlite_only(database_url, "restore")?;
    check_copy(src).await?;
    let options = SqliteConnectOptions::from_str(database_url)?;
    let target = options.get_filename().to_path_buf();
    if target.exists() {
        // Leaving WAL mode needs the only connection: it fails while any other process has
        // the database open, which is exactly when it must not be replaced.
        let probe = SqliteConnectOptions::new().filename(&target).busy_timeout(Duration::ZERO);
        let mut conn = open(probe).await?;
        let mode: Result<(String,), _> = sqlx::query_as("PRAGMA journal_mode = DELETE").fetch_one(&mut conn).await;
        drop(conn);
        match mode {
            Ok((mode,)) if mode.eq_ignore_ascii_case("delete") => {}
            _ => bail!("{} is in use (is Tsudoi running?): stop it, then restore", target.display()),
        }
    }
    let staging = target.with_extension("restoring");
    std::fs::copy(src, &staging).with_context(|| format!("cannot write {}", staging.display()))?;
    for suffix in ["-wal", "-shm"] {
        let side = PathBuf::from(format!("{}{suffix}", target.display()));
        if side.exists() {
            std::fs::remove_file(&side)?;
        }
    }
    std::fs::rename(&staging, &target)?;
    Ok(target)
}
