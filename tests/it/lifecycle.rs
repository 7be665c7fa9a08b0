//! The real binary under a registration rush: killed with SIGKILL (nothing answered is lost,
//! nothing is half-written, a second PostgreSQL instance keeps serving) and stopped with
//! SIGTERM (every request in flight is answered, open seat streams are told to reconnect,
//! the process exits cleanly).

use std::net::SocketAddr;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use futures::StreamExt;
use serde_json::Value;
use tsudoi::messages::model::MessageKind;
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{DynStore, NewEvent, NewFrame, NewGroup, NewUser};

use crate::helpers::TempDb;

const PASSWORD: &str = "correct horse battery";

/// `tsudoi serve` on a free port, with the rate limits opened for one test client address.
pub struct Instance {
    pub child: Child,
    pub addr: SocketAddr,
    log: std::path::PathBuf,
}

pub fn free_addr() -> SocketAddr {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

impl Instance {
    pub async fn start(database_url: &str, name: &str) -> Instance {
        Instance::start_with(database_url, name, &[]).await
    }

    /// [`Instance::start`] with more settings (later ones win).
    pub async fn start_with(database_url: &str, name: &str, settings: &[(&str, String)]) -> Instance {
        let addr = free_addr();
        let log = std::env::temp_dir().join(format!("tsudoi-{name}-{}-{}.log", std::process::id(), addr.port()));
        let out = std::fs::File::create(&log).expect("log file");
        let child = Command::new(env!("CARGO_BIN_EXE_tsudoi"))
            .arg("serve")
            .env("DATABASE_URL", database_url)
            .env("LEPTOS_SITE_ADDR", addr.to_string())
            .env("LEPTOS_SITE_ROOT", "target/site")
            .env("TSUDOI_PUBLIC_URL", format!("http://{addr}"))
            .env("TSUDOI_RATE_LOGIN_PER_IP", "100000")
            .env("TSUDOI_RATE_LOGIN_PER_ACCOUNT", "100")
            .env("TSUDOI_RATE_API_PER_IP", "100000")
            .env("TSUDOI_SHUTDOWN_TIMEOUT", "15")
            .env("RUST_LOG", "info,sqlx=warn,tower_http=warn,leptos_i18n=warn")
            .env_remove("TSUDOI_DEMO")
            .env_remove("TSUDOI_METRICS_ADDR")
            .envs(settings.iter().map(|(k, v)| (k, v)))
            // The log goes to stdout.
            .stdout(out.try_clone().expect("log file"))
            .stderr(out)
            .spawn()
            .expect("start the tsudoi binary");
        let instance = Instance { child, addr, log };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = reqwest::get(instance.url("/healthz")).await
                && r.status() == 200
            {
                return instance;
            }
            assert!(Instant::now() < deadline, "{name} did not answer /healthz: {}", instance.log_text());
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn kill9(&mut self) {
        self.child.kill().expect("SIGKILL");
        let _ = self.child.wait();
    }

    /// Waits for the process to exit on its own; its exit status.
    async fn exited(&mut self, limit: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {limit:?}: {}", self.log_text());
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

/// `n` users with passwords, a group and an event starting tomorrow with one frame of
/// `capacity`, written straight into the database before any instance starts.
pub async fn seed(database_url: &str, prefix: &str, n: usize, capacity: i64) -> (i64, Vec<i64>) {
    let store = tsudoi::server::store::connect(database_url).await.expect("store");
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    let users: Vec<NewUser> = (0..n)
        .map(|i| NewUser {
            nickname: format!("{prefix}{i:04}"),
            display_name: format!("{prefix} {i}"),
            email: None,
            password_hash: Some(hash.clone()),
            bio: String::new(),
        })
        .collect();
    let ids = store.insert_users(&users).await.unwrap();
    let owner = store.insert_users(&[NewUser::attendee(&format!("{prefix}owner"))]).await.unwrap()[0];
    let group = store.insert_groups(&[NewGroup::owned_by(&format!("{prefix}-group"), "Rush", owner)]).await.unwrap()[0];
    let starts_at = tsudoi::time::now() + chrono::Duration::days(1);
    let event = store
        .insert_events(&[NewEvent {
            created_at: tsudoi::time::now(),
            frames: vec![NewFrame::first_come("一般", capacity)],
            ..NewEvent::minimal(group, "Rush", starts_at)
        }])
        .await
        .unwrap()[0];
    store.close().await;
    (event, ids)
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(60))
        .build()
        .unwrap()
}

/// Signs each user in on `instances[i % len]`; (client, instance index) per user.
async fn sign_in(instances: &[&Instance], prefix: &str, n: usize) -> Vec<(reqwest::Client, usize)> {
    futures::stream::iter(0..n)
        .map(|i| async move {
            let c = client();
            let at = i % instances.len();
            let login = format!("{prefix}{i:04}");
            let res = c
                .post(instances[at].url("/api/auth/login"))
                .header("accept", "application/json")
                .form(&[("login", login.as_str()), ("password", PASSWORD)])
                .send()
                .await
                .expect("login");
            assert_eq!(res.status(), 200, "login {login}");
            (c, at)
        })
        .buffered(8)
        .collect()
        .await
}

/// One registration; `Ok((status, body))` when answered, `Err` when the connection failed.
async fn register(c: &reqwest::Client, base: &Instance, event: i64) -> Result<(u16, Value), reqwest::Error> {
    let res = c
        .post(base.url("/api/registrations/register"))
        .header("accept", "application/json")
        .form(&[("event_id", event.to_string())])
        .send()
        .await?;
    let status = res.status().as_u16();
    let body = res.text().await?;
    Ok((status, serde_json::from_str(&body).unwrap_or(Value::String(body))))
}

/// What a rush left in the database, checked against what it answered: every registration
/// answered 200 is there with the same status and waitlist place; the frame's counters equal
/// its rows; every registration row has its confirmation message (written in the same
/// transaction). Returns (answered, found).
async fn check_nothing_lost(store: &DynStore, event: i64, users: &[i64], answers: &[Option<(u16, Value)>]) -> usize {
    let mut answered = 0;
    for (user, answer) in users.iter().zip(answers) {
        let Some((200, body)) = answer else { continue };
        answered += 1;
        let r = store.my_registration(event, *user).await.unwrap().unwrap_or_else(|| panic!("lost: {body}"));
        assert_eq!(r.status.as_str(), body["status"].as_str().unwrap(), "{body}");
        assert_eq!(r.waitlist_position, body["waitlist_position"].as_i64(), "{body}");
        assert_eq!(r.receipt_code, body["receipt_code"].as_str().unwrap(), "{body}");
    }
    for c in store.counter_check(&[event]).await.unwrap() {
        assert_eq!((c.accepted_count, c.waiting_count), (c.accepted_rows, c.waiting_rows), "counters equal rows");
    }
    let rows = store.list_registrations(event).await.unwrap();
    for row in &rows {
        let inbox = store.inbox(row.user_id, 10).await.unwrap();
        assert!(
            inbox.iter().any(|m| m.kind == MessageKind::Confirmation && m.event_id == Some(event)),
            "registration {} has its confirmation",
            row.id
        );
    }
    // Waitlist places are 1..n with no gap or repeat.
    let mut places: Vec<i64> = Vec::new();
    for row in rows.iter().filter(|r| r.status == RegStatus::Waitlisted) {
        places.push(store.my_registration(event, row.user_id).await.unwrap().unwrap().waitlist_position.unwrap());
    }
    places.sort_unstable();
    assert_eq!(places, (1..=places.len() as i64).collect::<Vec<_>>());
    answered
}

/// Sends `signal` to the instance's process at once (no `kill` process to start).
fn signal(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) with a pid this test started; it touches no memory of ours.
    let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
    assert_eq!(rc, 0, "kill({pid}, {signal})");
}

/// Runs the rush: all clients register at once; `act` runs when `after` answers are in.
/// Answers are in client order.
async fn rush(
    clients: &[(reqwest::Client, usize)],
    instances: &[&Instance],
    event: i64,
    after: usize,
    act: impl FnOnce(),
) -> Vec<Result<(u16, Value), reqwest::Error>> {
    let mut pending: futures::stream::FuturesUnordered<_> = clients
        .iter()
        .enumerate()
        .map(|(i, (c, at))| async move { (i, register(c, instances[*at], event).await) })
        .collect();
    let mut out: Vec<Option<Result<(u16, Value), reqwest::Error>>> = (0..clients.len()).map(|_| None).collect();
    let (mut act, mut done) = (Some(act), 0);
    while let Some((i, answer)) = pending.next().await {
        out[i] = Some(answer);
        done += 1;
        if done >= after
            && let Some(act) = act.take()
        {
            act();
        }
    }
    out.into_iter().map(|a| a.expect("every request ends")).collect()
}

/// The answer a client gets on retrying after the rush: 200 if its registration was never
/// written, `already_registered` if it was (written but unanswered when the process died).
async fn retry_answers_truthfully(store: &DynStore, c: &reqwest::Client, at: &Instance, event: i64, user: i64) {
    let written = store.my_registration(event, user).await.unwrap().is_some();
    let (status, body) = register(c, at, event).await.expect("answered");
    if written {
        assert_eq!((status, body["message"].as_str()), (409, Some("already_registered")), "{body}");
    } else {
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn kill_9_mid_rush_loses_nothing_answered_on_sqlite() {
    let db = TempDb::new();
    let url = db.url();
    let (event, users) = seed(&url, "k", 300, 100).await;
    let mut a = Instance::start(&url, "sqlite-a").await;
    let clients = sign_in(&[&a], "k", users.len()).await;
    let pid = a.child.id();
    let answers = rush(&clients, &[&a], event, 30, move || signal(pid, libc::SIGKILL)).await;
    a.kill9();
    let answered: Vec<Option<(u16, Value)>> = answers.into_iter().map(Result::ok).collect();
    let ok = answered.iter().filter(|a| matches!(a, Some((200, _)))).count();
    assert!(ok >= 30, "answered before the kill: {ok}");
    assert!(ok < users.len(), "the kill came mid-rush: every registration answered ({ok})");
    assert!(answered.iter().all(|a| a.as_ref().is_none_or(|(s, _)| *s == 200)), "no error answers");

    // Restarted on the same file: everything answered is there, and it serves again.
    let b = Instance::start(&url, "sqlite-b").await;
    let store = tsudoi::server::store::connect(&url).await.unwrap();
    let found = check_nothing_lost(&store, event, &users, &answered).await;
    assert_eq!(found, ok);
    let unanswered = answered.iter().position(Option::is_none).expect("an unanswered request");
    retry_answers_truthfully(&store, &clients[unanswered].0, &b, event, users[unanswered]).await;
    store.close().await;
    eprintln!("kill -9 on SQLite: {} requests, {ok} answered, {found} found after restart, lost 0", users.len());
}

#[tokio::test]
async fn kill_9_of_one_postgres_instance_loses_nothing_and_the_other_keeps_serving() {
    let db = TempDb::postgres().await;
    let url = db.url();
    let (event, users) = seed(&url, "p", 300, 100).await;
    let mut a = Instance::start(&url, "pg-a").await;
    let b = Instance::start(&url, "pg-b").await;
    let clients = sign_in(&[&a, &b], "p", users.len()).await;
    let pid = a.child.id();
    let answers = rush(&clients, &[&a, &b], event, 30, move || signal(pid, libc::SIGKILL)).await;
    a.kill9();
    // Every request sent to the surviving instance was answered.
    for ((_, at), answer) in clients.iter().zip(&answers) {
        if *at == 1 {
            let (status, body) = answer.as_ref().expect("the surviving instance answers");
            assert_eq!(*status, 200, "{body}");
        }
    }
    let answered: Vec<Option<(u16, Value)>> = answers.into_iter().map(Result::ok).collect();
    let ok = answered.iter().filter(|a| matches!(a, Some((200, _)))).count();
    let store = tsudoi::server::store::connect(&url).await.unwrap();
    let found = check_nothing_lost(&store, event, &users, &answered).await;
    assert_eq!(found, ok);
    // The survivor keeps taking registrations, for the clients of the killed one too (the
    // sessions are in the shared database).
    let lost_instance = clients
        .iter()
        .zip(&answered)
        .position(|((_, at), a)| *at == 0 && a.is_none())
        .expect("a request cut by the kill");
    retry_answers_truthfully(&store, &clients[lost_instance].0, &b, event, users[lost_instance]).await;
    store.close().await;
    eprintln!(
        "kill -9 of one of two PostgreSQL instances: {} requests, {ok} answered, {found} found, lost 0",
        users.len()
    );
}

#[tokio::test]
async fn sigterm_mid_rush_answers_every_request_in_flight_and_ends_seat_streams() {
    let db = TempDb::new();
    let url = db.url();
    let (event, users) = seed(&url, "t", 200, 80).await;
    let mut a = Instance::start(&url, "sigterm").await;
    let clients = sign_in(&[&a], "t", users.len()).await;
    // A seat stream open across the stop.
    let mut stream = reqwest::get(a.url(&format!("/live/events/{event}"))).await.unwrap();
    assert_eq!(stream.status(), 200);
    let first = stream.chunk().await.unwrap().unwrap();
    assert!(String::from_utf8_lossy(&first).contains("event: seats"));

    let pid = a.child.id();
    let started = std::sync::Arc::new(std::sync::Mutex::new(None));
    let mark = started.clone();
    let answers = rush(&clients, &[&a], event, 60, move || {
        *mark.lock().unwrap() = Some(Instant::now());
        signal(pid, libc::SIGTERM);
    })
    .await;
    // Every request was in flight when the signal came, and every one is answered whole.
    for answer in &answers {
        let (status, body) = answer.as_ref().expect("answered, not cut off");
        assert_eq!(*status, 200, "{body}");
    }
    // The stream is told to come back later, then ends cleanly.
    let mut rest = String::new();
    while let Some(chunk) = stream.chunk().await.expect("the stream ends cleanly, not with a reset") {
        rest.push_str(&String::from_utf8_lossy(&chunk));
    }
    assert!(rest.contains("event: restart"), "{rest}");
    assert!(rest.contains("retry:"), "{rest}");
    let status = a.exited(Duration::from_secs(20)).await;
    let drain = started.lock().unwrap().map(|t| t.elapsed());
    assert!(status.success(), "exit status {status:?}: {}", a.log_text());
    let log = a.log_text();
    assert!(log.contains("stopped"), "{log}");
    assert!(!log.contains("shutdown timeout"), "drained before the timeout: {log}");

    let answered: Vec<Option<(u16, Value)>> = answers.into_iter().map(Result::ok).collect();
    let store = tsudoi::server::store::connect(&url).await.unwrap();
    assert_eq!(check_nothing_lost(&store, event, &users, &answered).await, users.len());
    assert_eq!(store.list_registrations(event).await.unwrap().len(), users.len());
    store.close().await;
    eprintln!("SIGTERM mid-rush: {} requests answered; signal to exit {drain:?}", users.len());
}

/// `TSUDOI_LOG_FORMAT=json`: every log line is a JSON object, and the lines of a request
/// carry its id, which the answer names in `X-Request-Id` (a proxy's plain id is kept).
#[tokio::test]
async fn json_logs_carry_the_request_id_the_answer_names() {
    let db = TempDb::new();
    let settings = [("TSUDOI_LOG_FORMAT", "json".to_string()), ("RUST_LOG", "info,sqlx=warn".to_string())];
    let a = Instance::start_with(&db.url(), "json-logs", &settings).await;
    let c = reqwest::Client::new();
    let kept = c.get(a.url("/healthz")).header("x-request-id", "nginx-4f2a").send().await.unwrap();
    assert_eq!(kept.headers()["x-request-id"], "nginx-4f2a");
    let made = c.get(a.url("/healthz")).header("x-request-id", "two words\"").send().await.unwrap();
    let made = made.headers()["x-request-id"].to_str().unwrap().to_string();
    assert_ne!(made, "two words\"");
    assert!(made.len() > 8 && made.contains('-'), "{made}");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let log = a.log_text();
        let lines: Vec<Value> = log
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
            .collect();
        let ids: Vec<&str> = lines.iter().filter_map(|l| l["span"]["request_id"].as_str()).collect();
        if ids.contains(&"nginx-4f2a") && ids.contains(&made.as_str()) {
            break;
        }
        assert!(Instant::now() < deadline, "request ids in the log: {log}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// On PostgreSQL an instance holds a LISTEN connection for seat announcements: stopping
/// must let go of it and exit, not wait on it (found by `make bench`, whose servers hung).
#[tokio::test]
async fn sigterm_stops_a_postgres_instance_promptly() {
    let db = TempDb::postgres().await;
    let mut a = Instance::start(&db.url(), "pg-sigterm").await;
    let mut stream = reqwest::get(a.url("/live/events/1")).await.unwrap();
    let _ = stream.chunk().await;
    let started = Instant::now();
    signal(a.child.id(), libc::SIGTERM);
    let status = a.exited(Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}: {}", a.log_text());
    let log = a.log_text();
    assert!(log.contains("stopped"), "{log}");
    assert!(!log.contains("still in use"), "the pool closed without the timeout: {log}");
    eprintln!("PostgreSQL instance: SIGTERM to exit in {:?}", started.elapsed());
}
