//! Registration-burst and live-stream benchmarks against a running Tsudoi (release build).
//! Driven by `make bench` (scripts/bench.py), which starts the server and reads the JSON this
//! prints. Users and their sessions are written straight into the server's database so the
//! measurement is registration, not password hashing.
//!
//! cargo run --release --example bench --features ssr -- \
//!     --base http://127.0.0.1:3200 --database sqlite://target/bench.db --server-pid 1234

use std::collections::HashMap;
use std::time::{Duration, Instant};
use tsudoi::admin::model::Role;

use chrono::Utc;
use futures::StreamExt;
use serde_json::json;
use tsudoi::server::store::{self, DynStore, NewEvent, NewFrame, NewGroup, NewUser, SessionRow};

struct Args {
    base: String,
    database: String,
    server_pid: u32,
    burst_clients: usize,
    burst_seats: i64,
    throughput_clients: usize,
    concurrency: usize,
    sse_latency_subscribers: usize,
    sse_held_subscribers: usize,
}

fn parse_args() -> Args {
    let mut a = Args {
        base: "http://127.0.0.1:3200".into(),
        database: "sqlite://target/bench.db".into(),
        server_pid: 0,
        burst_clients: 2_000,
        burst_seats: 200,
        throughput_clients: 20_000,
        concurrency: 64,
        sse_latency_subscribers: 1_000,
        sse_held_subscribers: 10_000,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    for pair in args.chunks(2) {
        let v = pair.get(1).cloned().unwrap_or_default();
        match pair[0].as_str() {
            "--base" => a.base = v,
            "--database" => a.database = v,
            "--server-pid" => a.server_pid = v.parse().expect("pid"),
            "--burst-clients" => a.burst_clients = v.parse().expect("n"),
            "--throughput-clients" => a.throughput_clients = v.parse().expect("n"),
            "--concurrency" => a.concurrency = v.parse().expect("n"),
            "--sse-latency" => a.sse_latency_subscribers = v.parse().expect("n"),
            "--sse-held" => a.sse_held_subscribers = v.parse().expect("n"),
            other => panic!("unknown argument {other}"),
        }
    }
    a
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Users with ready sessions: returns their session cookies.
async fn users_with_sessions(store: &DynStore, prefix: &str, n: usize) -> Vec<String> {
    let users: Vec<NewUser> = (0..n).map(|i| NewUser::attendee(&format!("{prefix}{i}"))).collect();
    let ids = store.insert_users(&users).await.expect("users");
    let now = Utc::now().timestamp();
    let expires = now + 3600;
    let mut cookies = Vec::with_capacity(n);
    for id in ids {
        let sid = tower_sessions::session::Id::default().to_string();
        // As a sign-in writes it: the user, when they signed in, the day last seen (without
        // those, each first request would save the session again: not what a rush looks like).
        let data = json!({ "uid": id, "since": now, "seen": now.div_euclid(86_400) });
        let row = SessionRow { data: data.to_string(), expires_at: expires };
        store.session_save(&sid, &row).await.expect("session");
        cookies.push(format!("tsudoi_session={sid}"));
    }
    cookies
}

async fn event(store: &DynStore, slug: &str, capacity: i64) -> i64 {
    let owner = store
        .insert_users(&[NewUser {
            nickname: format!("{slug}-owner"),
            display_name: "Owner".into(),
            email: None,
            password_hash: Some("x".into()),
            bio: String::new(),
        }])
        .await
        .expect("owner")[0];
    let group = store
        .insert_groups(&[NewGroup {
            slug: slug.into(),
            title: slug.into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(owner, Role::Owner)],
        }])
        .await
        .expect("group")[0];
    let starts_at = Utc::now() + chrono::Duration::days(2);
    store
        .insert_events(&[NewEvent {
            created_at: Utc::now(),
            frames: vec![NewFrame::first_come("一般", capacity)],
            ..NewEvent::minimal(group, &format!("Bench {slug}"), starts_at)
        }])
        .await
        .expect("event")[0]
}

struct Burst {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    statuses: HashMap<String, usize>,
    errors: usize,
}

/// One registration per cookie, `concurrency` in flight.
async fn burst(client: &reqwest::Client, base: &str, event_id: i64, cookies: &[String], concurrency: usize) -> Burst {
    let started = Instant::now();
    let results: Vec<(f64, Result<String, String>)> = futures::stream::iter(cookies.iter())
        .map(|cookie| async move {
            let t = Instant::now();
            let res = client
                .post(format!("{base}/api/registrations/register"))
                .header("cookie", cookie)
                .header("accept", "application/json")
                .form(&[("event_id", event_id.to_string())])
                .send()
                .await;
            let outcome = match res {
                Ok(r) if r.status().is_success() => {
                    let v: serde_json::Value = r.json().await.unwrap_or_default();
                    Ok(v["status"].as_str().unwrap_or("?").to_string())
                }
                Ok(r) => Err(format!("HTTP {}", r.status())),
                Err(e) => Err(e.to_string()),
            };
            (t.elapsed().as_secs_f64() * 1000.0, outcome)
        })
        .buffer_unordered(concurrency)
        .collect()
        .await;
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results.iter().map(|(l, _)| *l).collect();
    latencies.sort_by(|a, b| a.total_cmp(b));
    let mut statuses = HashMap::new();
    let mut errors = 0;
    for (_, r) in &results {
        match r {
            Ok(s) => *statuses.entry(s.clone()).or_insert(0) += 1,
            Err(_) => errors += 1,
        }
    }
    Burst {
        per_sec: results.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        statuses,
        errors,
    }
}

/// `GET /healthz` at the same concurrency: the baseline of the same server in the same run.
async fn healthz_rate(client: &reqwest::Client, base: &str, n: usize, concurrency: usize) -> f64 {
    let started = Instant::now();
    let ok = futures::stream::iter(0..n)
        .map(|_| async move { client.get(format!("{base}/healthz")).send().await.map(|r| r.status().is_success()) })
        .buffer_unordered(concurrency)
        .filter(|r| futures::future::ready(matches!(r, Ok(true))))
        .count()
        .await;
    ok as f64 / started.elapsed().as_secs_f64()
}

/// Opens an SSE stream and reports each `seats` snapshot (subscriber, accepted, arrival).
fn subscribe(
    client: reqwest::Client,
    url: String,
    tx: tokio::sync::mpsc::UnboundedSender<(usize, i64, Instant)>,
    who: usize,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Ok(res) = client.get(url).send().await else { return };
        let mut stream = res.bytes_stream();
        let mut buf = String::new();
        while let Some(Ok(chunk)) = stream.next().await {
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                if let Some(data) = block.lines().find_map(|l| l.strip_prefix("data: "))
                    && let Ok(v) = serde_json::from_str::<serde_json::Value>(data)
                {
                    let _ = tx.send((who, v["accepted"].as_i64().unwrap_or(-1), Instant::now()));
                }
            }
        }
    })
}

#[tokio::main]
async fn main() {
    let a = parse_args();
    let store = store::connect(&a.database).await.expect("database");
    let client = reqwest::Client::builder().pool_max_idle_per_host(a.concurrency).build().expect("client");
    let mut out = serde_json::Map::new();

    // 1. The rush: 2,000 clients on 200 seats.
    let rush_event = event(&store, "bench-rush", a.burst_seats).await;
    let cookies = users_with_sessions(&store, "rush", a.burst_clients).await;
    let baseline = healthz_rate(&client, &a.base, a.burst_clients, a.concurrency).await;
    let rush = burst(&client, &a.base, rush_event, &cookies, a.concurrency).await;
    let snap = store.seat_snapshot(rush_event).await.expect("snapshot").expect("event");
    let counters_ok = store
        .counter_check(&[rush_event])
        .await
        .expect("counters")
        .iter()
        .all(|c| c.accepted_count == c.accepted_rows && c.waiting_count == c.waiting_rows);
    out.insert(
        "rush".into(),
        json!({
            "clients": a.burst_clients, "seats": a.burst_seats, "per_sec": rush.per_sec,
            "p50_ms": rush.p50_ms, "p99_ms": rush.p99_ms, "statuses": rush.statuses, "errors": rush.errors,
            "accepted": snap.accepted, "waiting": snap.waiting, "oversold": (snap.accepted - snap.limit).max(0),
            "counters_match_rows": counters_ok, "healthz_per_sec": baseline,
        }),
    );

    // 2. Throughput: a 20,000-seat frame, every registration takes a seat.
    let big_event = event(&store, "bench-big", 20_000).await;
    let cookies = users_with_sessions(&store, "big", a.throughput_clients).await;
    let big = burst(&client, &a.base, big_event, &cookies, a.concurrency).await;
    let snap = store.seat_snapshot(big_event).await.expect("snapshot").expect("event");
    out.insert(
        "throughput".into(),
        json!({
            "clients": a.throughput_clients, "seats": 20_000, "per_sec": big.per_sec, "p50_ms": big.p50_ms,
            "p99_ms": big.p99_ms, "errors": big.errors, "accepted": snap.accepted,
        }),
    );

    // 3. Live latency: 1,000 subscribers, 20 registrations; commit → delivery per subscriber.
    let live_event = event(&store, "bench-live", 1_000).await;
    let cookies = users_with_sessions(&store, "live", 20).await;
    let sse_client = reqwest::Client::builder().pool_max_idle_per_host(0).build().expect("client");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let url = format!("{}/live/events/{live_event}", a.base);
    let mut tasks = Vec::new();
    for who in 0..a.sse_latency_subscribers {
        tasks.push(subscribe(sse_client.clone(), url.clone(), tx.clone(), who));
    }
    // Wait until everyone has the initial snapshot.
    let mut connected = 0;
    while connected < a.sse_latency_subscribers {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some((_, 0, _))) => connected += 1,
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    let mut latencies = Vec::new();
    let mut missed = 0usize;
    for (i, cookie) in cookies.iter().enumerate() {
        let committed = {
            let res = client
                .post(format!("{}/api/registrations/register", a.base))
                .header("cookie", cookie)
                .header("accept", "application/json")
                .form(&[("event_id", live_event.to_string())])
                .send()
                .await
                .expect("register");
            assert!(res.status().is_success());
            Instant::now()
        };
        let want = i as i64 + 1;
        let mut got = 0;
        let deadline = Instant::now() + Duration::from_secs(10);
        while got < connected && Instant::now() < deadline {
            match tokio::time::timeout(Duration::from_secs(10), rx.recv()).await {
                Ok(Some((_, accepted, at))) if accepted == want => {
                    // A delivery before the response arrived counts as 0 ms.
                    latencies.push(at.saturating_duration_since(committed).as_secs_f64() * 1000.0);
                    got += 1;
                }
                Ok(Some(_)) => {}
                _ => break,
            }
        }
        missed += connected - got;
    }
    latencies.sort_by(|x, y| x.total_cmp(y));
    out.insert(
        "sse_latency".into(),
        json!({
            "subscribers": connected, "changes": cookies.len(), "p50_ms": percentile(&latencies, 0.5),
            "p95_ms": percentile(&latencies, 0.95), "p99_ms": percentile(&latencies, 0.99), "missed": missed,
        }),
    );
    for t in tasks {
        t.abort();
    }
    drop(rx);

    // 4. Held subscribers: how many streams one instance holds, and its memory.
    let rss_before = rss_mib(a.server_pid);
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let mut tasks = Vec::new();
    for who in 0..a.sse_held_subscribers {
        tasks.push(subscribe(sse_client.clone(), url.clone(), tx.clone(), who));
    }
    let mut held = 0;
    while held < a.sse_held_subscribers {
        match tokio::time::timeout(Duration::from_secs(60), rx.recv()).await {
            Ok(Some(_)) => held += 1,
            _ => break,
        }
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_held = rss_mib(a.server_pid);
    out.insert(
        "sse_held".into(),
        json!({ "target": a.sse_held_subscribers, "held": held, "rss_mib_before": rss_before, "rss_mib_held": rss_held }),
    );
    for t in tasks {
        t.abort();
    }
    println!("{}", serde_json::Value::Object(out));
}
