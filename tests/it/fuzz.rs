//! Garbage at every public GET route and every form endpoint (#14): random bytes, huge and
//! negative numbers, odd Unicode, NULs, repeated parameters and very long values. Whatever
//! arrives, the answer is a 2xx–4xx (never a 5xx, never a dropped connection, which is what
//! a panic in a handler looks like from outside), it carries no SQL or panic text, and it
//! comes within the request timeout: the work per request is bounded.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::helpers::{TestApp, spawn_app};

/// GET routes anyone can reach; `{}` takes a garbage path segment.
const GET_ROUTES: &[&str] = &[
    "/",
    "/events",
    "/events/{}",
    "/events/{}.ics",
    "/events/{}/receipt",
    "/groups/{}",
    "/groups/{}/events.ics",
    "/tags",
    "/tags/{}",
    "/users/{}",
    "/login",
    "/signup",
    "/feed.atom",
    "/sitemap.xml",
    "/calendar/{}/registrations.ics",
    "/api/v2/events/",
    "/api/v2/groups/",
    "/api/v2/users/",
    "/api/v2/events/{}/presentations",
    "/api/v2/users/{}/attended_events/",
    "/api/events/search",
    "/api/events/upcoming",
    "/api/events/get",
    "/api/groups/get",
    "/api/tags/get",
    "/api/users/get",
    "/api/materials/list",
    "/api/live/snapshots",
    "/live/events/{}",
    "/live/events",
];

/// Form endpoints (POST), signed in as a fresh account: every one a user can call.
const FORMS: &[&str] = &[
    "/api/auth/login",
    "/api/auth/signup",
    "/api/me/profile/update",
    "/api/me/password",
    "/api/admin/groups/create",
    "/api/admin/events/create",
    "/api/admin/events/update",
    "/api/admin/events/status",
    "/api/admin/frames/capacity",
    "/api/admin/frames/add",
    "/api/admin/questions/add",
    "/api/admin/messages/send",
    "/api/admin/events/checkin",
    "/api/admin/groups/members/invite",
    "/api/admin/groups/invitations/revoke",
    "/api/me/invitations/answer",
    "/api/registrations/register",
    "/api/registrations/cancel",
    "/api/groups/follow",
    "/api/materials/add",
    "/api/me/messages/read",
];

/// Parameter names the routes read, and some they do not.
const NAMES: &[&str] = &[
    "q",
    "tags",
    "tools",
    "date",
    "from",
    "to",
    "pref",
    "area",
    "lang",
    "sort",
    "page",
    "id",
    "ids",
    "slug",
    "nickname",
    "keyword",
    "keyword_or",
    "ym",
    "ymd",
    "count",
    "start",
    "order",
    "event_id",
    "frame_id",
    "group_id",
    "capacity",
    "title",
    "description",
    "starts_local",
    "ends_local",
    "time_zone",
    "login",
    "accept",
    "user_id",
    "role",
    "password",
    "email",
    "next",
    "answers",
    "action",
    "url",
    "kind",
    "options",
    "follow",
    "receipt",
    "x",
];

/// A hostile value: as text it is percent-encoded by the caller, so raw bytes arrive as such.
/// `long`: the most characters of a very long value (URLs are kept under the 64 KiB a
/// request line may have; form bodies go to 40,000 characters).
fn garbage(long: usize) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        // Random bytes, invalid UTF-8 included.
        proptest::collection::vec(any::<u8>(), 0..64),
        // Numbers at and past every limit.
        prop::sample::select(vec![
            "0",
            "-1",
            "-0",
            "1e308",
            "NaN",
            "9223372036854775807",
            "9223372036854775808",
            "-9223372036854775809",
            "99999999999999999999999999",
            "0x10",
            "1.5",
            "+262142-12-31",
            "2027-02-30",
            "2027-13-01",
            "0000-00-00T00:00",
            "-5000-01-01",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        // Odd Unicode: NUL, RTL override, combining marks, emoji, full-width, BOM.
        "[\\x00\u{202e}\u{0301}\u{1F600}ａ-ｚ\u{feff}'\"<>%_\\\\;,]{0,40}".prop_map(String::into_bytes),
        // Very long values.
        (1usize..long).prop_map(|n| "ア,".repeat(n / 2).into_bytes()),
    ]
}

fn encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("%{b:02X}")).collect()
}

/// A query or form body: 0–6 pairs, names repeated at will.
fn pairs(long: usize) -> impl Strategy<Value = Vec<(String, Vec<u8>)>> {
    proptest::collection::vec((prop::sample::select(NAMES), garbage(long)), 0..6)
        .prop_map(|v| v.into_iter().map(|(k, g)| (k.to_string(), g)).collect())
}

fn body_of(pairs: &[(String, Vec<u8>)]) -> String {
    pairs.iter().map(|(k, v)| format!("{k}={}", encode(v))).collect::<Vec<_>>().join("&")
}

/// The answer must be a clean 2xx–4xx with nothing internal in it.
async fn check(req: reqwest::RequestBuilder, what: &str) -> Result<(), TestCaseError> {
    let res = req.send().await.map_err(|e| TestCaseError::fail(format!("{what}: no answer ({e})")))?;
    let status = res.status().as_u16();
    prop_assert!(status < 500, "{what}: {status}");
    // Live streams stay open: the status line is the answer.
    if res.headers().get("content-type").is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream")) {
        return Ok(());
    }
    let body = res.text().await.map_err(|e| TestCaseError::fail(format!("{what}: body cut ({e})")))?;
    for word in ["panicked", "SELECT ", "INSERT ", "sqlx", "syntax error", "stack backtrace"] {
        prop_assert!(!body.contains(word), "{what}: {word} in {}", &body[..body.len().min(400)]);
    }
    Ok(())
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(cookies)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[test]
fn garbage_at_every_public_get_route_gets_a_clean_answer() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app: TestApp = rt.block_on(spawn_app(true));
    let c = client(false);
    let strategy = (prop::sample::select(GET_ROUTES), garbage(1_000), pairs(1_000));
    runner(300)
        .run(&strategy, |(route, segment, query)| {
            let path = route.replace("{}", &encode(&segment));
            let url = format!("{}?{}", app.url(&path), body_of(&query));
            rt.block_on(check(c.get(&url).header("accept", "application/json"), &url))?;
            rt.block_on(check(c.get(&url).header("accept", "text/html"), &url))
        })
        .unwrap();
}

#[test]
fn garbage_at_every_form_endpoint_gets_a_clean_answer() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let app: TestApp = rt.block_on(spawn_app(true));
    // Signed in (the demo organizer owns groups and events), so the checks past
    // authentication are reached too.
    let c = client(true);
    rt.block_on(async {
        let res = c
            .post(app.url("/api/auth/login"))
            .header("accept", "application/json")
            .form(&[("login", "organizer@example.com"), ("password", tsudoi::server::startup::DEMO_PASSWORD)])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    });
    let strategy = (prop::sample::select(FORMS), pairs(40_000), any::<bool>());
    runner(300)
        .run(&strategy, |(path, form, html)| {
            let req = c
                .post(app.url(path))
                .header("accept", if html { "text/html" } else { "application/json" })
                .header("content-type", "application/x-www-form-urlencoded")
                .header("origin", format!("http://{}", app.addr))
                .body(body_of(&form));
            rt.block_on(check(req, &format!("POST {path} {}", body_of(&form).chars().take(200).collect::<String>())))
        })
        .unwrap();
}
