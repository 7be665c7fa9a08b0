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

/// `--every`: whole seconds, minutes, hours or days (`90s`, `15m`, `1h`, `1d`), at most a
/// week.
pub fn parse_every(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let bad = || format!("--every {raw:?}: expected a number and a unit, like 15m, 1h or 1d (at most a week)");
    let unit = raw.chars().last().ok_or_else(bad)?;
    let n: u64 = raw[..raw.len() - unit.len_utf8()].parse().map_err(|_| bad())?;
    let secs = match unit {
        's' => n,
        'm' => n.checked_mul(60).ok_or_else(bad)?,
        'h' => n.checked_mul(3600).ok_or_else(bad)?,
        'd' => n.checked_mul(86_400).ok_or_else(bad)?,
        _ => return Err(bad()),
    };
    if !(1..=7 * 86_400).contains(&secs) {
        return Err(bad());
    }
    Ok(Duration::from_secs(secs))
}

/// The name of a scheduled snapshot taken at `at` (UTC): sorts by time.
pub fn snapshot_name(at: chrono::DateTime<chrono::Utc>) -> String {
    format!("tsudoi-{}.db", at.format("%Y%m%dT%H%M%SZ"))
}

/// Of the snapshot files in a directory (names as [`snapshot_name`] makes them; others are
/// never touched), the ones to delete so that the newest `keep` remain.
pub fn snapshots_to_prune(names: &[String], keep: usize) -> Vec<String> {
    let mut ours: Vec<&String> = names
        .iter()
        .filter(|n| n.starts_with("tsudoi-") && n.ends_with("Z.db") && n.len() == "tsudoi-20260101T000000Z.db".len())
        .collect();
    ours.sort();
    let extra = ours.len().saturating_sub(keep);
    ours.into_iter().take(extra).cloned().collect()
}

/// `tsudoi backup DIR --every 1h --keep 24`: a snapshot into `dir` now and then every
/// `every`, keeping the newest `keep` (older snapshots of this command are deleted after
/// each new one is written and checked). Runs until stopped; a failed snapshot is logged
/// and the next one tried on time.
pub async fn backup_every(database_url: &str, dir: &Path, every: Duration, keep: usize) -> anyhow::Result<()> {
    sqlite_only(database_url, "backup")?;
    if keep == 0 {
        bail!("--keep must be at least 1");
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
        let path = dir.join(snapshot_name(chrono::Utc::now()));
        match backup(database_url, &path).await {
            Ok(report) => {
                tracing::info!(path = %report.path.display(), bytes = report.bytes, elapsed = ?report.elapsed, "snapshot written");
                let names: Vec<String> = std::fs::read_dir(dir)?
                    .filter_map(|e| e.ok().and_then(|e| e.file_name().into_string().ok()))
                    .collect();
                for old in snapshots_to_prune(&names, keep) {
                    if let Err(e) = std::fs::remove_file(dir.join(&old)) {
                        tracing::warn!(error = %e, file = old, "an old snapshot could not be deleted");
                    }
                }
            }
            Err(e) => tracing::error!(error = %e, "snapshot failed; the next one is tried on time"),
        }
    }
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

#[cfg(test)]
mod schedule_tests {
    use super::*;

    #[test]
    fn every_takes_a_number_and_a_unit_within_bounds() {
        assert_eq!(parse_every("15m").unwrap(), Duration::from_secs(900));
        assert_eq!(parse_every("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse_every(" 1d ").unwrap(), Duration::from_secs(86_400));
        assert_eq!(parse_every("90s").unwrap(), Duration::from_secs(90));
        for bad in ["", "h", "1", "0s", "8d", "1w", "-1h", "1.5h", "99999999999999999999d"] {
            assert!(parse_every(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn only_the_oldest_of_our_own_snapshots_are_pruned() {
        let at =
            |h: u32| snapshot_name(chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 2026, 12, 3, h, 0, 0).unwrap());
        let names = vec![at(3), at(1), "notes.txt".to_string(), at(2), "tsudoi.db".to_string(), at(4)];
        assert_eq!(snapshots_to_prune(&names, 2), vec![at(1), at(2)]);
        assert_eq!(snapshots_to_prune(&names, 10), Vec::<String>::new());
    }
}
