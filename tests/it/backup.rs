//! `tsudoi backup` / `tsudoi restore` on SQLite: a backup taken while registrations are being
//! written is a consistent snapshot (intact, counters equal to rows), a restore refuses a
//! database in use and a copy that is not a Tsudoi database, and the restored database holds
//! exactly the backup's rows, table by table.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use chrono::Duration;
use tsudoi::server::backup::{backup, restore};
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewUser, RegisterRequest, SeatGuard};

use crate::helpers::{TempDb, fresh_sqlite};

/// Rows of every table of `a` that `b` lacks, and the reverse (0: the same rows).
async fn differing_rows(a: &std::path::Path, b: &std::path::Path) -> Vec<(String, i64)> {
    use sqlx::ConnectOptions;
    let mut conn = sqlx::sqlite::SqliteConnectOptions::new().filename(a).read_only(true).connect().await.unwrap();
    sqlx::query("ATTACH DATABASE ? AS other").bind(b.to_str().unwrap()).execute(&mut conn).await.unwrap();
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%' \
         AND name NOT LIKE 'event_fts_%' ORDER BY name",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(tables.len() > 20, "every table of the schema: {tables:?}");
    let mut out = Vec::new();
    for (t,) in tables {
        let q = format!(
            "SELECT (SELECT COUNT(*) FROM (SELECT * FROM main.\"{t}\" EXCEPT SELECT * FROM other.\"{t}\")) \
                  + (SELECT COUNT(*) FROM (SELECT * FROM other.\"{t}\" EXCEPT SELECT * FROM main.\"{t}\"))"
        );
        // The table names come from the schema itself.
        let (n,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(q)).fetch_one(&mut conn).await.unwrap();
        out.push((t, n));
    }
    out
}

#[tokio::test]
async fn a_backup_under_write_load_is_a_consistent_snapshot_and_restores_exactly() {
    let (store, db) = fresh_sqlite().await;
    let url = db.url();
    let now = tsudoi::time::now();
    let users: Vec<i64> =
        store.insert_users(&(0..400).map(|i| NewUser::attendee(&format!("b{i}"))).collect::<Vec<_>>()).await.unwrap();
    let group = store.insert_groups(&[NewGroup::owned_by("backup", "Backup", users[0])]).await.unwrap()[0];
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame::first_come("一般枠", 150)],
            ..NewEvent::minimal(group, "Rush", now + Duration::days(3))
        }])
        .await
        .unwrap()[0];

    // Registrations keep coming (a seat, then the waitlist) while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (store, stop, written, users) = (store.clone(), stop.clone(), written.clone(), users.clone());
        tokio::spawn(async move {
            for user_id in users {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let req = RegisterRequest {
                    event_id: event,
                    user_id,
                    frame_id: None,
                    also: vec![],
                    answers: vec![],
                    anonymous: false,
                    now: tsudoi::time::now(),
                    guard: SeatGuard::Atomic,
                    notices: Default::default(),
                };
                store.register(&req).await.unwrap();
                written.fetch_add(1, Ordering::Relaxed);
            }
        })
    };
    while written.load(Ordering::Relaxed) < 20 {
        tokio::task::yield_now().await;
    }
    let dir = std::env::temp_dir().join(format!("tsudoi-backup-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("snapshot.db");
    let _ = std::fs::remove_file(&copy);
    let report = backup(&url, &copy).await.expect("backup while writing");
    let during = written.load(Ordering::Relaxed);
    stop.store(true, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(report.bytes > 0);
    assert!(backup(&url, &copy).await.is_err(), "a backup never overwrites");

    // The snapshot: intact, its counters equal its rows, and it holds some of the
    // registrations (those before the snapshot), none half-written.
    let snapshot = tsudoi::server::store::connect(&format!("sqlite://{}", copy.display())).await.unwrap();
    for c in snapshot.counter_check(&[event]).await.unwrap() {
        assert_eq!((c.accepted_count, c.waiting_count), (c.accepted_rows, c.waiting_rows), "{c:?}");
    }
    let rows = snapshot.list_registrations(event).await.unwrap().len();
    assert!(rows >= 20 && rows <= during + 1, "{rows} registrations in the snapshot ({during} answered by then)");
    drop(snapshot);

    // Restore: refused over the live database (the store has it open), refused from a file
    // that is not a Tsudoi database; into a database not in use, the exact rows.
    let live = restore(&url, &copy).await.expect_err("the live database is in use");
    assert!(live.to_string().contains("in use"), "{live}");
    let junk = dir.join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    assert!(restore(&url, &junk).await.is_err(), "not a database");
    let target = TempDb::new();
    let restored = restore(&target.url(), &copy).await.expect("restore into a database not in use");
    let differing: Vec<(String, i64)> =
        differing_rows(&copy, &restored).await.into_iter().filter(|(_, n)| *n != 0).collect();
    assert!(differing.is_empty(), "tables that differ: {differing:?}");
    let served = tsudoi::server::store::connect(&target.url()).await.expect("the restored database opens and migrates");
    assert_eq!(served.list_registrations(event).await.unwrap().len(), rows);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn postgres_points_to_its_own_tools() {
    let err = backup("postgres://postgres@127.0.0.1/x", std::path::Path::new("/tmp/x.db")).await.unwrap_err();
    assert!(err.to_string().contains("pg_dump"), "{err}");
    let err = restore("postgres://postgres@127.0.0.1/x", std::path::Path::new("/tmp/x.db")).await.unwrap_err();
    assert!(err.to_string().contains("pg_restore"), "{err}");
}

/// `tsudoi backup DIR --every 1s --keep 2` (the real binary): snapshots on schedule, each an
/// intact copy, only the newest two kept, other files in the directory untouched, and Ctrl-C
/// (SIGINT) stops it cleanly.
#[tokio::test]
async fn scheduled_snapshots_keep_the_newest_and_stop_on_interrupt() {
    let db = TempDb::new();
    let store = tsudoi::server::store::connect(&db.url()).await.unwrap();
    store.insert_users(&[NewUser::attendee("snap")]).await.unwrap();
    let dir = std::env::temp_dir().join(format!("tsudoi-snapshots-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tsudoi"))
        .args(["backup", dir.to_str().unwrap(), "--every", "1s", "--keep", "2"])
        .env("DATABASE_URL", db.url())
        .env("RUST_LOG", "warn")
        .spawn()
        .unwrap();
    let snapshots = || {
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n.starts_with("tsudoi-"))
            .collect();
        names.sort();
        names
    };
    // Three or more snapshots taken (a second apart), never more than two kept.
    tokio::time::sleep(std::time::Duration::from_millis(3_500)).await;
    // SAFETY: kill(2) on the child this test started.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGINT) }, 0);
    let status = child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let kept = snapshots();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(std::fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
    for name in &kept {
        let copy = tsudoi::server::store::connect(&format!("sqlite://{}", dir.join(name).display())).await.unwrap();
        assert!(copy.user_id_by_nickname("snap").await.unwrap().is_some(), "{name} holds the data");
        copy.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
    store.close().await;
}
