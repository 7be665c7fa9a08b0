//! Accounts and registration over HTTP: stable endpoints, sessions and cookies, rate
//! limits, cross-origin refusal, the 500-client rush (and its canary), live SSE snapshots.

use std::time::Duration;
use tsudoi::admin::model::Role;

use futures::StreamExt;
use tsudoi::registrations::model::QuestionKind;
use tsudoi::server::config::Config;
use tsudoi::server::ratelimit::RateLimitConfig;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewQuestion, NewUser, SeatGuard};

use crate::helpers::{TempDb, TestApp, spawn_with};

const PASSWORD: &str = "correct horse battery";

async fn app_with(limits: RateLimitConfig, guard: SeatGuard) -> TestApp {
    app_on(TempDb::new(), limits, guard).await
}

/// The same on a given database (the rush tests run on SQLite and PostgreSQL).
async fn app_on(db: TempDb, limits: RateLimitConfig, guard: SeatGuard) -> TestApp {
    let mut config = Config::for_tests(db.url());
    config.rate_limits = limits;
    config.seat_guard = guard;
    spawn_with(config, db).await
}

fn relaxed() -> RateLimitConfig {
    RateLimitConfig {
        login_per_ip: 100_000,
        login_per_account: 100,
        signup_per_ip: 100_000,
        api_per_ip: 100_000,
        messages_per_hour: 1_000,
    }
}

/// A browser-like client with its own cookie jar.
fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn post(app: &TestApp, client: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, serde_json::Value) {
    let form = crate::helpers::as_sent(app, client, path, form).await;
    let res =
        client.post(app.url(path)).header("accept", "application/json").form(&form).send().await.expect("request");
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::String(body)))
}

/// An event starting tomorrow with one frame of `capacity`; returns its id.
async fn event_with_capacity(app: &TestApp, capacity: i64) -> i64 {
    event_with(app, capacity, vec![]).await
}

/// The same, asking `questions` at registration.
async fn event_with(app: &TestApp, capacity: i64, questions: Vec<NewQuestion>) -> i64 {
    let owner = app.store().insert_users(&[NewUser::attendee(&format!("owner{capacity}"))]).await.unwrap()[0];
    let group = app
        .store()
        .insert_groups(&[NewGroup {
            slug: format!("rush-{capacity}"),
            title: "Rush".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(owner, Role::Owner)],
        }])
        .await
        .unwrap()[0];
    let starts_at = tsudoi::time::now() + chrono::Duration::days(1);
    app.store()
        .insert_events(&[NewEvent {
            description: "**Come early**".into(),
            online_url: Some("https://meet.example/very-secret-room".into()),
            created_at: tsudoi::time::now(),
            frames: vec![NewFrame::first_come("一般", capacity)],
            questions,
            ..NewEvent::minimal(group, "Rush hour", starts_at)
        }])
        .await
        .unwrap()[0]
}

/// `n` accounts with the same password, each signed in on its own client.
async fn signed_in_clients(app: &TestApp, prefix: &str, n: usize) -> Vec<reqwest::Client> {
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    let users: Vec<NewUser> = (0..n)
        .map(|i| NewUser {
            nickname: format!("{prefix}{i:04}"),
            display_name: format!("{prefix} {i}"),
            email: Some(format!("{prefix}{i:04}@example.com")),
            password_hash: Some(hash.clone()),
            bio: String::new(),
        })
        .collect();
    app.store().insert_users(&users).await.unwrap();
    futures::stream::iter(0..n)
        .map(|i| async move {
            let c = client();
            let login = format!("{prefix}{i:04}");
            let (status, body) = post(app, &c, "/api/auth/login", &[("login", &login), ("password", PASSWORD)]).await;
            assert_eq!(status, 200, "login {login}: {body}");
            c
        })
        .buffer_unordered(8)
        .collect()
        .await
}

#[tokio::test]
async fn sign_up_sets_a_safe_session_cookie_and_log_out_ends_it() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let c = client();
    let res = c
        .post(app.url("/api/auth/signup"))
        .header("accept", "application/json")
        .form(&[
            ("nickname", "Taro_1"),
            ("email", "taro@example.com"),
            ("password", "tsudoi-pass"),
            ("display_name", "太郎"),
            ("form_ticket", &crate::helpers::form_ticket(&app, &c).await),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("tsudoi_session="))
        .expect("session cookie");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain HTTP here: {cookie}");
    let user: serde_json::Value = res.json().await.unwrap();
    assert_eq!(user["nickname"], "taro_1");
    assert_eq!(user["display_name"], "太郎");
    assert!(user.get("email").is_none() && user.get("password_hash").is_none());

    let me: serde_json::Value = c.get(app.url("/api/auth/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["nickname"], "taro_1");
    let (status, _) = post(&app, &c, "/api/auth/logout", &[]).await;
    assert_eq!(status, 200);
    let me: serde_json::Value = c.get(app.url("/api/auth/me")).send().await.unwrap().json().await.unwrap();
    assert!(me.is_null());

    // Log in again by email, case-insensitively; the session id changes at login.
    let (status, _) =
        post(&app, &c, "/api/auth/login", &[("login", "TARO@example.com"), ("password", "tsudoi-pass")]).await;
    assert_eq!(status, 200);

    // The account is read with the session on every request (never a stale copy), and
    // that copy is never written back into the stored session.
    let (status, _) = post(&app, &c, "/api/me/profile/update", &[("display_name", "たろう"), ("bio", "")]).await;
    assert_eq!(status, 200);
    let me: serde_json::Value = c.get(app.url("/api/auth/me")).send().await.unwrap().json().await.unwrap();
    assert_eq!(me["display_name"], "たろう");
    let res = c
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("login", "taro_1"), ("password", "tsudoi-pass")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let id = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().unwrap().strip_prefix("tsudoi_session="))
        .map(|v| v.split(';').next().unwrap().to_string())
        .next()
        .expect("a new session id at login");
    let (row, user) = app.state.store.session_load(&id, chrono::Utc::now().timestamp()).await.unwrap().unwrap();
    assert!(row.data.contains("\"uid\"") && !row.data.contains("__user"), "{}", row.data);
    assert_eq!(user.unwrap().display_name, "たろう");
}

#[tokio::test]
async fn bad_sign_ups_get_field_errors_and_taken_accounts_one_generic_answer() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let c = client();
    let (status, body) =
        post(&app, &c, "/api/auth/signup", &[("nickname", "a b"), ("email", "nope"), ("password", "short")]).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["message"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["nickname", "email", "password"]);

    let ok = [("nickname", "hanako"), ("email", "hanako@example.com"), ("password", "tsudoi-pass")];
    assert_eq!(post(&app, &client(), "/api/auth/signup", &ok).await.0, 200);
    let same_email = [("nickname", "hanako2"), ("email", "Hanako@Example.com"), ("password", "tsudoi-pass")];
    let same_nick = [("nickname", "HANAKO"), ("email", "other@example.com"), ("password", "tsudoi-pass")];
    let a = post(&app, &client(), "/api/auth/signup", &same_email).await;
    let b = post(&app, &client(), "/api/auth/signup", &same_nick).await;
    assert_eq!(a.0, 409);
    assert_eq!(a, b, "the answer does not reveal which one is taken");
}

#[tokio::test]
async fn wrong_logins_say_nothing_specific_and_are_rate_limited_with_retry_after() {
    let limits = RateLimitConfig { login_per_account: 3, ..relaxed() };
    let app = app_with(limits, SeatGuard::Atomic).await;
    let c = client();
    post(
        &app,
        &c,
        "/api/auth/signup",
        &[("nickname", "jiro"), ("email", "jiro@example.com"), ("password", "tsudoi-pass")],
    )
    .await;
    let wrong_password =
        post(&app, &client(), "/api/auth/login", &[("login", "jiro"), ("password", "nope-nope")]).await;
    let no_account = post(&app, &client(), "/api/auth/login", &[("login", "nobody"), ("password", "nope-nope")]).await;
    assert_eq!(wrong_password.0, 422);
    assert_eq!(wrong_password, no_account, "unknown accounts look like wrong passwords");
    // Third attempt for jiro within the minute (quota 3); the fourth is refused, even with
    // the right password.
    post(&app, &client(), "/api/auth/login", &[("login", "jiro"), ("password", "nope-nope")]).await;
    post(&app, &client(), "/api/auth/login", &[("login", "jiro"), ("password", "nope-nope")]).await;
    let res = client()
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("login", "jiro"), ("password", "tsudoi-pass")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 429);
    let retry: u64 = res.headers().get("retry-after").unwrap().to_str().unwrap().parse().unwrap();
    assert!(retry >= 1);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"], "rate_limited");
}

#[tokio::test]
async fn cross_origin_writes_are_refused_before_anything_runs() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let form = [("nickname", "mallory"), ("email", "m@example.com"), ("password", "tsudoi-pass")];
    for (header, value) in [("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")] {
        let res = client().post(app.url("/api/auth/signup")).header(header, value).form(&form).send().await.unwrap();
        assert_eq!(res.status(), 403, "{header}: {value}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"], "forbidden");
    }
    assert!(app.store().find_login("mallory").await.unwrap().is_none(), "no account was created");
    let c = client();
    let form = crate::helpers::as_sent(&app, &c, "/api/auth/signup", &form).await;
    let same = c
        .post(app.url("/api/auth/signup"))
        .header("origin", format!("http://{}", app.addr))
        .header("sec-fetch-site", "same-origin")
        .header("accept", "application/json")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(same.status(), 200);
}

#[tokio::test]
async fn registering_needs_a_session_and_get_cannot_change_state() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let event = event_with_capacity(&app, 5).await.to_string();
    let (status, body) = post(&app, &client(), "/api/registrations/register", &[("event_id", &event)]).await;
    assert_eq!(status, 401, "{body}");
    let res = client().get(app.url(&format!("/api/registrations/register?event_id={event}"))).send().await.unwrap();
    assert!(res.status().is_client_error(), "GET is not a registration: {}", res.status());
    assert_eq!(app.store().seat_snapshot(event.parse().unwrap()).await.unwrap().unwrap().accepted, 0);
}

#[tokio::test]
async fn registrant_sees_status_receipt_and_online_url_others_do_not() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let event = event_with_capacity(&app, 1).await;
    let id = event.to_string();
    let clients = signed_in_clients(&app, "r", 2).await;
    let (status, first) = post(&app, &clients[0], "/api/registrations/register", &[("event_id", &id)]).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["status"], "confirmed");
    let (_, second) = post(&app, &clients[1], "/api/registrations/register", &[("event_id", &id)]).await;
    assert_eq!(second["status"], "waitlisted");
    assert_eq!(second["waitlist_position"], 1);

    let panel: serde_json::Value = clients[0]
        .get(app.url(&format!("/api/registrations/panel?event_id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(panel["online_url"], "https://meet.example/very-secret-room");
    for c in [&clients[1], &client()] {
        let text = c
            .get(app.url(&format!("/api/registrations/panel?event_id={id}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!text.contains("very-secret-room"), "{text}");
        let page = c.get(app.url(&format!("/events/{id}"))).send().await.unwrap().text().await.unwrap();
        assert!(!page.contains("very-secret-room"));
    }

    let receipt = clients[0].get(app.url(&format!("/events/{id}/receipt"))).send().await.unwrap();
    assert_eq!(receipt.status(), 200);
    let html = receipt.text().await.unwrap();
    assert!(html.contains(first["receipt_code"].as_str().unwrap()));
    assert!(html.contains("<svg"), "a QR code");
    assert_eq!(client().get(app.url(&format!("/events/{id}/receipt"))).send().await.unwrap().status(), 401);
    let other = client().get(app.url(&format!("/api/registrations/receipt?event_id={id}"))).send().await.unwrap();
    assert_eq!(other.status(), 401);

    // Cancelling gives the seat to the waitlisted registrant at once.
    let (status, cancelled) = post(&app, &clients[0], "/api/registrations/cancel", &[("event_id", &id)]).await;
    assert_eq!(status, 200, "{cancelled}");
    assert_eq!(cancelled["status"], "cancelled");
    let promoted: serde_json::Value = clients[1]
        .get(app.url(&format!("/api/registrations/panel?event_id={id}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(promoted["registration"]["status"], "confirmed");
    assert_eq!(promoted["online_url"], "https://meet.example/very-secret-room");
}

#[tokio::test]
async fn answers_are_validated_beside_their_questions_and_stored() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let event = event_with(
        &app,
        10,
        vec![
            NewQuestion {
                kind: QuestionKind::Single,
                label: "経験レベル".into(),
                options: vec!["はじめて".into(), "業務で使っている".into()],
                required: true,
            },
            NewQuestion {
                kind: QuestionKind::Multiple,
                label: "興味".into(),
                options: vec!["Rust".into(), "Go".into()],
                required: false,
            },
        ],
    )
    .await;
    let questions = app.store().fetch_event(event).await.unwrap().unwrap().questions;
    let (q1, q2) = (questions[0].id, questions[1].id);
    let id = event.to_string();
    let c = &signed_in_clients(&app, "ans", 1).await[0];

    let (status, body) = post(&app, c, "/api/registrations/register", &[("event_id", &id)]).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["message"][0]["field"], format!("answers[{q1}]"));
    assert_eq!(body["message"][0]["code"], "required");
    let k1 = format!("answers[{q1}][]");
    let k2 = format!("answers[{q2}][]");
    let (status, body) = post(&app, c, "/api/registrations/register", &[("event_id", &id), (&k1, "たぶん")]).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("unknown_choice")));
    assert_eq!(app.store().seat_snapshot(event).await.unwrap().unwrap().accepted, 0, "nothing was registered");

    let (status, body) = post(
        &app,
        c,
        "/api/registrations/register",
        &[("event_id", &id), (&k1, "業務で使っている"), (&k2, "Rust"), (&k2, "Go")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let pool = sqlx::SqlitePool::connect_lazy(&app.state.config.database_url).unwrap();
    let stored: Vec<(i64, String)> =
        sqlx::query_as("SELECT question_id, value FROM answers ORDER BY question_id").fetch_all(&pool).await.unwrap();
    assert_eq!(stored, vec![(q1, "業務で使っている".to_string()), (q2, "Rust\nGo".to_string())]);
}

/// Fires one registration per client, all at once; returns the JSON answers.
async fn rush(app: &TestApp, clients: &[reqwest::Client], event: i64) -> Vec<(u16, serde_json::Value)> {
    let id = event.to_string();
    futures::future::join_all(clients.iter().map(|c| {
        let id = id.clone();
        async move { post(app, c, "/api/registrations/register", &[("event_id", &id)]).await }
    }))
    .await
}

#[tokio::test]
async fn five_hundred_concurrent_registrations_never_oversell_200_seats() {
    five_hundred_register_for_200_seats(TempDb::new()).await;
}

#[tokio::test]
async fn five_hundred_concurrent_registrations_never_oversell_200_seats_on_postgres() {
    five_hundred_register_for_200_seats(TempDb::postgres().await).await;
}

/// 500 signed-in clients register at once for 200 seats: exactly 200 confirmed, the rest
/// waitlisted in arrival order, counters equal to rows.
async fn five_hundred_register_for_200_seats(db: TempDb) {
    let app = app_on(db, relaxed(), SeatGuard::Atomic).await;
    let event = event_with_capacity(&app, 200).await;
    let clients = signed_in_clients(&app, "rush", 500).await;
    let answers = rush(&app, &clients, event).await;
    let statuses: Vec<u16> = answers.iter().map(|(s, _)| *s).collect();
    assert!(
        statuses.iter().all(|s| *s == 200),
        "every attempt answered, none 5xx: {:?}",
        answers.iter().find(|(s, _)| *s != 200)
    );
    let confirmed = answers.iter().filter(|(_, b)| b["status"] == "confirmed").count();
    let waitlisted = answers.iter().filter(|(_, b)| b["status"] == "waitlisted").count();
    assert_eq!((confirmed, waitlisted), (200, 300));
    let mut positions: Vec<i64> = answers.iter().filter_map(|(_, b)| b["waitlist_position"].as_i64()).collect();
    positions.sort();
    assert_eq!(positions, (1..=300).collect::<Vec<_>>(), "each waitlisted attempt has its own place");

    // Arrival order: every confirmed registration arrived before every waitlisted one.
    let rows = app.store().list_registrations(event).await.unwrap();
    let last_confirmed = rows.iter().filter(|r| r.status.as_str() == "confirmed").map(|r| r.position).max().unwrap();
    let first_waiting = rows.iter().filter(|r| r.status.as_str() == "waitlisted").map(|r| r.position).min().unwrap();
    assert!(last_confirmed < first_waiting);
    let snap = app.store().seat_snapshot(event).await.unwrap().unwrap();
    assert_eq!((snap.accepted, snap.waiting), (200, 300));
    for c in app.store().counter_check(&[event]).await.unwrap() {
        assert_eq!((c.accepted_count, c.waiting_count), (c.accepted_rows, c.waiting_rows));
    }
}

#[tokio::test]
async fn canary_without_the_guard_oversells_so_the_rush_test_can_fail() {
    canary_oversells(TempDb::new()).await;
}

#[tokio::test]
async fn canary_without_the_guard_oversells_so_the_rush_test_can_fail_on_postgres() {
    canary_oversells(TempDb::postgres().await).await;
}

async fn canary_oversells(db: TempDb) {
    let app = app_on(db, relaxed(), SeatGuard::UnguardedCanary).await;
    let event = event_with_capacity(&app, 200).await;
    let clients = signed_in_clients(&app, "canary", 500).await;
    let answers = rush(&app, &clients, event).await;
    let confirmed = answers.iter().filter(|(_, b)| b["status"] == "confirmed").count();
    assert!(confirmed > 200, "the unguarded path must oversell under this load, got {confirmed}");
}

/// Reads `event: seats` snapshots from an SSE response body.
struct SseReader {
    stream: futures::stream::BoxStream<'static, reqwest::Result<bytes::Bytes>>,
    buffer: String,
}

impl SseReader {
    async fn next_seats(&mut self) -> serde_json::Value {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                if block.lines().any(|l| l == "event: seats") {
                    let data: String =
                        block.lines().filter_map(|l| l.strip_prefix("data: ")).collect::<Vec<_>>().join("\n");
                    return serde_json::from_str(&data).expect("snapshot JSON");
                }
                continue;
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.stream.next())
                .await
                .expect("a snapshot within 5 s")
                .expect("stream open")
                .expect("chunk");
            self.buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

#[tokio::test]
async fn live_stream_sends_a_snapshot_on_connect_and_after_each_registration() {
    let app = app_with(relaxed(), SeatGuard::Atomic).await;
    let event = event_with_capacity(&app, 2).await;
    let res = client().get(app.url(&format!("/live/events/{event}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers().get("content-type").unwrap(), "text/event-stream");
    let mut sse = SseReader { stream: res.bytes_stream().boxed(), buffer: String::new() };
    let first = sse.next_seats().await;
    assert_eq!(first["event_id"], event);
    assert_eq!(
        (first["accepted"].as_i64(), first["limit"].as_i64(), first["waiting"].as_i64()),
        (Some(0), Some(2), Some(0))
    );
    assert_eq!(first["frames"][0]["limit"], 2);

    let clients = signed_in_clients(&app, "sse", 3).await;
    for (i, c) in clients.iter().enumerate() {
        post(&app, c, "/api/registrations/register", &[("event_id", &event.to_string())]).await;
        let snap = sse.next_seats().await;
        let expected = ((i as i64 + 1).min(2), (i as i64 - 1).max(0));
        assert_eq!((snap["accepted"].as_i64().unwrap(), snap["waiting"].as_i64().unwrap()), expected);
    }

    // One stream for a list page.
    let many = client().get(app.url(&format!("/live/events?ids={event},999999"))).send().await.unwrap();
    assert_eq!(many.status(), 200);
    let bad = client().get(app.url("/live/events?ids=x")).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    let missing = client().get(app.url("/live/events/999999")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

/// The whole site on PostgreSQL with the demo data: loading it (bulk inserts), then the
/// event page, the home page, searches and the public API list the same events as the same
/// demo data on SQLite.
#[tokio::test]
async fn the_demo_site_on_postgres_lists_what_it_lists_on_sqlite() {
    let db = TempDb::postgres().await;
    let mut config = Config::for_tests(db.url());
    config.demo = true;
    let pg = spawn_with(config, db).await;
    let sqlite = crate::helpers::spawn_app(true).await;
    let (status, body) = pg.get("/events/1").await;
    assert_eq!(status, 200);
    assert!(body.contains("2025/04/21(月)") && body.contains("108人/200人"), "{body}");
    let event_links = |body: &str| -> Vec<String> {
        body.match_indices("href=\"/events/")
            .map(|(i, m)| body[i + m.len()..].chars().take_while(|c| c.is_ascii_digit()).collect::<String>())
            .filter(|id| !id.is_empty())
            .collect()
    };
    for path in
        ["/", "/events?q=rust&date=all", "/events?tags=Python&pref=free&date=all", "/events?date=past&sort=popular"]
    {
        let (status, on_pg) = pg.get(path).await;
        assert_eq!(status, 200, "{path}");
        let (_, on_sqlite) = sqlite.get(path).await;
        let links = event_links(&on_pg);
        assert!(!links.is_empty(), "{path} lists events");
        assert_eq!(links, event_links(&on_sqlite), "{path}: same events in the same order");
    }
    let (status, body) = pg.get("/api/v2/events/?count=3").await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(json["events"].as_array().map(Vec::len), Some(3), "{json}");
}

/// Two instances on one PostgreSQL database (a multi-instance deployment): a registration
/// made through one reaches the live seat stream served by the other (LISTEN/NOTIFY).
#[tokio::test]
async fn a_registration_on_one_instance_reaches_the_live_stream_of_another_on_postgres() {
    let db = TempDb::postgres().await;
    let url = db.url();
    let a = app_on(db, relaxed(), SeatGuard::Atomic).await;
    let mut config = Config::for_tests(url);
    config.rate_limits = relaxed();
    // The second instance's own guard is an unused SQLite path: the database is A's.
    let b = spawn_with(config, TempDb::new()).await;
    let event = event_with_capacity(&a, 2).await;

    let res = client().get(b.url(&format!("/live/events/{event}"))).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let mut sse = SseReader { stream: res.bytes_stream().boxed(), buffer: String::new() };
    assert_eq!(sse.next_seats().await["accepted"], 0);

    let clients = signed_in_clients(&a, "multi", 1).await;
    let (status, body) =
        post(&a, &clients[0], "/api/registrations/register", &[("event_id", &event.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    let snap = sse.next_seats().await;
    assert_eq!(
        (snap["accepted"].as_i64(), snap["waiting"].as_i64()),
        (Some(1), Some(0)),
        "B hears of A's registration"
    );
}
