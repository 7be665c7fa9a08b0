//! Search benchmark: a fixed mix of 1,000 queries (ja/en keywords of 1–10 characters, 1–3
//! tags, date presets, preferences, sorts, deep pages) run through the store's search,
//! facets included, on a database of N generated events. Prints JSON for scripts/bench.py.
//!
//! cargo run --release --example bench_search --features ssr -- \
//!     --database sqlite://target/bench-search.db --events 100000
//!
//! With `--database postgres://postgres@127.0.0.1:5432/tsudoi_bench` the bench creates that
//! database (dropping a leftover of the same name) and drops it at the end; `--keep` keeps
//! it, and a kept database is reused by the next run (no generation).

use std::time::Instant;

use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::json;
use tsudoi::search::model::{SearchParams, SearchQuery};

const KEYWORDS: &[&str] = &[
    "AI",
    "Go",
    "LT",
    "機械",
    "入門",
    "Rust",
    "勉強会",
    "もくもく会",
    "ハンズオン",
    "Python",
    "Kubernetes",
    "データ分析",
    "セキュリティ",
    "初心者",
    "クラウド",
    "React",
    "TypeScript",
    "読書会",
    "生成AI",
    "フロントエンド",
    "hands-on",
    "meetup",
    "beginners",
    "Docker 入門",
    "機械学習 読書会",
    "Web",
    "SRE",
    "テスト",
    "デザイン",
    "ｐｙｔｈｏｎ",
];
const TAGS: &[&str] = &[
    "JavaScript",
    "Python",
    "Ruby",
    "Java",
    "AI",
    "Deep Learning",
    "クラウド",
    "セキュリティ",
    "Rust",
    "Go",
    "JS",
    "k8s",
    "C#",
    "CSS",
    "HTML",
    "テスト",
];
const TOOLS: &[&str] = &["Docker", "GitHub", "VS Code", "Terraform", "Kubernetes", "AWS"];
const DATES: &[&str] = &[
    "upcoming",
    "upcoming",
    "upcoming",
    "today",
    "this-week",
    "this-weekend",
    "next-week",
    "this-month",
    "next-month",
    "past",
    "all",
];
const PREFS: &[&str] =
    &["free", "online", "offline", "available", "waitlist-ok", "english", "beginner", "weekend", "evening", "hands-on"];
const SORTS: &[&str] = &["date", "date", "new", "popular", "seats"];

/// The fixed mix (seeded, so every run measures the same 1,000 queries).
fn mix() -> Vec<SearchQuery> {
    let mut rng = ChaCha8Rng::seed_from_u64(1000);
    (0..1000)
        .map(|_| {
            let mut p = SearchParams::default();
            if rng.random_bool(0.7) {
                let n = rng.random_range(1..=2);
                p.q = Some((0..n).map(|_| *KEYWORDS.choose(&mut rng).unwrap()).collect::<Vec<_>>().join(" "));
            }
            if rng.random_bool(0.4) {
                let n = rng.random_range(1..=3);
                p.tags = Some((0..n).map(|_| *TAGS.choose(&mut rng).unwrap()).collect::<Vec<_>>().join(","));
            }
            if rng.random_bool(0.15) {
                p.tools = Some(TOOLS.choose(&mut rng).unwrap().to_string());
            }
            p.date = Some(DATES.choose(&mut rng).unwrap().to_string());
            if rng.random_bool(0.4) {
                let n = rng.random_range(1..=2);
                p.pref = Some((0..n).map(|_| *PREFS.choose(&mut rng).unwrap()).collect::<Vec<_>>().join(","));
            }
            p.sort = Some(SORTS.choose(&mut rng).unwrap().to_string());
            if rng.random_bool(0.2) {
                p.page = Some(rng.random_range(2..=50).to_string());
            }
            p.parse().0
        })
        .collect()
}

/// Resident memory of this process.
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// `url` with its database name replaced by `name` (the server's maintenance database).
fn on_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let server = &base[..base.rfind('/').expect("postgres://host/database")];
    match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    }
}

/// The name of the database in a PostgreSQL URL (letters, digits and `_` only: it is quoted
/// into CREATE/DROP DATABASE).
fn pg_database_name(url: &str) -> String {
    let name = url.split('?').next().unwrap_or(url).rsplit('/').next().unwrap_or_default().to_string();
    assert!(
        !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && name != "postgres",
        "bench database name must be [A-Za-z0-9_]+ and not `postgres`: {name:?}"
    );
    name
}

/// Runs one statement on the server's `postgres` database (CREATE/DROP DATABASE).
async fn pg_admin(url: &str, statement: String) -> Result<(), sqlx::Error> {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&on_database(url, "postgres")).await?;
    sqlx::query(sqlx::AssertSqlSafe(statement)).execute(&mut admin).await?;
    admin.close().await
}

/// Whether the PostgreSQL database of `url` exists.
async fn pg_exists(url: &str, name: &str) -> bool {
    use sqlx::Connection;
    let mut admin = sqlx::PgConnection::connect(&on_database(url, "postgres")).await.expect("postgres server");
    let found: Option<(i32,)> = sqlx::query_as("SELECT 1 FROM pg_database WHERE datname = $1")
        .bind(name)
        .fetch_optional(&mut admin)
        .await
        .expect("pg_database");
    found.is_some()
}

#[tokio::main]
async fn main() {
    let mut database = "sqlite://target/bench-search.db".to_string();
    let mut events = 100_000usize;
    // Every n-th query of the mix is also answered by SQL alone (0: none, for quick runs).
    let mut sql_every = 5usize;
    let mut keep = false;
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--keep") {
        args.remove(i);
        keep = true;
    }
    for pair in args.chunks(2) {
        match pair[0].as_str() {
            "--database" => database = pair[1].clone(),
            "--events" => events = pair[1].parse().expect("--events N"),
            "--sql-every" => sql_every = pair[1].parse().expect("--sql-every N"),
            other => panic!("unknown argument {other}"),
        }
    }
    let pg = database.starts_with("postgres://") || database.starts_with("postgresql://");
    if pg {
        let name = pg_database_name(&database);
        if !(keep && pg_exists(&database, &name).await) {
            pg_admin(&database, format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.expect("drop");
            pg_admin(&database, format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
        }
    }
    let store = tsudoi::server::store::connect(&database).await.expect("database");
    let mut generated_secs = None;
    if store.is_empty().await.expect("store") {
        let started = Instant::now();
        let hash = tsudoi::server::password::hash("bench".into()).await.expect("hash");
        tsudoi::demo::load_demo(&store, chrono::Utc::now(), &hash).await.expect("demo");
        tsudoi::demo::add_generated_events(&store, events, chrono::Utc::now(), 7).await.expect("events");
        generated_secs = Some(started.elapsed().as_secs_f64());
    }
    // The mix measures each search itself, not answers kept for repeats in one second.
    store.keep_search_results(false);
    let now = chrono::Utc::now();
    let queries = mix();
    // The in-memory index: built in the background at start (large databases) or brought
    // up to date by the first search after the generation above.
    let rss_before = rss_mib();
    let started = Instant::now();
    while !store.search_index_ready() {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    store.search(&queries[0], now).await.expect("search");
    let index_secs = started.elapsed().as_secs_f64();
    let index_mib = rss_mib() - rss_before;
    // Warm-up: one pass over a tenth of the mix (page cache, statement cache).
    for q in queries.iter().step_by(10) {
        store.search(q, now).await.expect("search");
    }
    let mut baseline = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let t = Instant::now();
        store.ping().await.expect("ping");
        baseline.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let (hits0, misses0) = store.search_term_cache_stats();
    let mut latencies = Vec::with_capacity(queries.len());
    let mut keyword_short = Vec::new();
    let mut keyword_long = Vec::new();
    let mut results = 0i64;
    let started = Instant::now();
    for q in &queries {
        let t = Instant::now();
        let r = store.search(q, now).await.expect("search");
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        latencies.push(ms);
        results += r.results.total;
        let terms = q.terms();
        if !terms.is_empty() {
            if terms.iter().any(|t| t.text.chars().count() < 3) {
                keyword_short.push(ms);
            } else {
                keyword_long.push(ms);
            }
        }
    }
    let wall = started.elapsed().as_secs_f64();
    // The slowest queries of the mix, on stderr (what to look at next).
    let mut slowest: Vec<(f64, usize)> = latencies.iter().copied().zip(0..).collect();
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, i) in slowest.iter().take(12) {
        eprintln!("{ms:8.1} ms  {}", queries[*i].to_query_string());
    }
    let (hits1, misses1) = store.search_term_cache_stats();
    let (hits, misses) = (hits1 - hits0, misses1 - misses0);
    // The same queries with 3+ character terms again, each with the term cache emptied
    // first: what a search for terms nobody searched recently costs (FTS5 every time).
    let mut uncached = Vec::new();
    let mut cached = Vec::new();
    for (i, q) in queries.iter().enumerate() {
        if q.terms().iter().any(|t| t.text.chars().count() >= 3) {
            store.clear_search_term_cache();
            let t = Instant::now();
            store.search(q, now).await.expect("search");
            uncached.push(t.elapsed().as_secs_f64() * 1000.0);
            cached.push(latencies[i]);
        }
    }
    // The same-run baseline: SQL alone (the index bypassed) on every fifth query of the mix,
    // against the index on the same queries.
    let mut sql = Vec::new();
    let mut indexed = Vec::new();
    for (i, q) in queries.iter().enumerate().step_by(sql_every.max(1)).take(if sql_every == 0 { 0 } else { usize::MAX })
    {
        let t = Instant::now();
        store.search_with_sql(q, now).await.expect("sql search");
        sql.push(t.elapsed().as_secs_f64() * 1000.0);
        indexed.push(latencies[i]);
    }
    for v in [
        &mut latencies,
        &mut baseline,
        &mut keyword_short,
        &mut keyword_long,
        &mut sql,
        &mut indexed,
        &mut uncached,
        &mut cached,
    ] {
        v.sort_by(|a, b| a.total_cmp(b));
    }
    let (total_events,): (i64,) = (store.list_upcoming(now, 1, 1).await.map(|p| p.total).unwrap_or(0),);
    println!(
        "{}",
        json!({
            "backend": if pg { "postgres" } else { "sqlite" },
            "events": events,
            "generated_secs": generated_secs,
            "upcoming_events": total_events,
            "queries": queries.len(),
            "p50_ms": pct(&latencies, 0.5), "p95_ms": pct(&latencies, 0.95), "p99_ms": pct(&latencies, 0.99),
            "max_ms": latencies.last(),
            "short_terms_p95_ms": if keyword_short.is_empty() { f64::NAN } else { pct(&keyword_short, 0.95) },
            "long_terms_p95_ms": if keyword_long.is_empty() { f64::NAN } else { pct(&keyword_long, 0.95) },
            "sequential_queries_per_sec": queries.len() as f64 / wall,
            "ping_p50_ms": pct(&baseline, 0.5),
            "mean_results": results as f64 / queries.len() as f64,
            "term_cache_hit_rate": if hits + misses == 0 { f64::NAN } else { hits as f64 / (hits + misses) as f64 },
            "long_queries": cached.len(),
            "long_cached_p95_ms": if cached.is_empty() { f64::NAN } else { pct(&cached, 0.95) },
            "long_uncached_p50_ms": if uncached.is_empty() { f64::NAN } else { pct(&uncached, 0.5) },
            "long_uncached_p95_ms": if uncached.is_empty() { f64::NAN } else { pct(&uncached, 0.95) },
            "index_secs": index_secs,
            "index_rss_mib": index_mib,
            "sql_subset_p50_ms": if sql.is_empty() { f64::NAN } else { pct(&sql, 0.5) },
            "sql_subset_p95_ms": if sql.is_empty() { f64::NAN } else { pct(&sql, 0.95) },
            "index_subset_p50_ms": if indexed.is_empty() { f64::NAN } else { pct(&indexed, 0.5) },
            "index_subset_p95_ms": if indexed.is_empty() { f64::NAN } else { pct(&indexed, 0.95) },
        })
    );
    if pg && !keep {
        drop(store);
        let name = pg_database_name(&database);
        pg_admin(&database, format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")).await.expect("drop");
    }
}
