//! Hostile input (#14): for each request that used to stall or panic the server, the answer
//! it gets now: a clear 4xx (or a harmless 200), quickly, with no SQL text, on both backends
//! where storage is involved.

use std::time::{Duration, Instant};
use tsudoi::admin::model::Role;
use tsudoi::registrations::model::RegStatus;

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use tsudoi::error::AppError;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewRegistration, NewTag, NewUser};
use tsudoi::tags::model::TagKind;

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

/// A fresh account, signed in: what anyone on the internet can get.
async fn stranger(app: &TestApp, nickname: &str) -> reqwest::Client {
    account(app, nickname, nickname).await;
    sign_in(app, nickname).await
}

/// A new account with a password; its id.
async fn account(app: &TestApp, nickname: &str, display_name: &str) -> i64 {
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    app.store()
        .insert_users(&[NewUser {
            nickname: nickname.into(),
            display_name: display_name.into(),
            email: Some(format!("{nickname}@example.com")),
            password_hash: Some(hash),
            bio: String::new(),
        }])
        .await
        .unwrap()[0]
}

/// A client with the session of `nickname`.
async fn sign_in(app: &TestApp, nickname: &str) -> reqwest::Client {
    let c = reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap();
    let res = c
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("login", nickname), ("password", PASSWORD)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "{nickname} logs in");
    c
}

/// POSTs a form as JSON-accepting client: status, body and how long it took.
async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, String, Duration) {
    let t = Instant::now();
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, body, t.elapsed())
}

/// The `(field, code)` pairs of a 422 body.
fn field_errors(body: &str) -> Vec<(String, String)> {
    let v: Value = serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    assert_eq!(v["error"], "invalid", "{body}");
    v["message"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_string(), e["code"].as_str().unwrap().to_string()))
        .collect()
}

/// A body a user may see: no SQL, no panic text.
fn harmless(body: &str) {
    for word in ["SELECT", "INSERT", "sqlx", "panicked", "syntax error"] {
        assert!(!body.contains(word), "{word} in {body}");
    }
}

/// A group the stranger owns (anyone may create one) and the event form for it.
async fn own_group(app: &TestApp, c: &reqwest::Client) -> i64 {
    let (status, body, _) =
        post(c, app, "/api/admin/groups/create", &[("slug", "hostile".into()), ("title", "Hostile".into())]).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap()
}

fn event_form(group_id: i64, starts: &str, ends: &str) -> Vec<(&'static str, String)> {
    vec![
        ("group_id", group_id.to_string()),
        ("capacity", "10".into()),
        ("title", "Hostile".into()),
        ("catch", String::new()),
        ("description", String::new()),
        ("starts_local", starts.into()),
        ("ends_local", ends.into()),
        ("time_zone", "Asia/Tokyo".into()),
        ("venue_kind", "online".into()),
        ("place", String::new()),
        ("address", String::new()),
        ("prefecture", String::new()),
        ("online_url", String::new()),
        ("language", "ja".into()),
        ("hashtag", String::new()),
    ]
}

fn with(mut form: Vec<(&'static str, String)>, key: &'static str, value: String) -> Vec<(&'static str, String)> {
    form.retain(|(k, _)| *k != key);
    form.push((key, value));
    form
}

/// Distinct names, comma-separated, `bytes` long at least: the old dedup compared each with
/// every earlier one.
fn distinct_names(bytes: usize, sep: &str) -> String {
    let mut s = String::with_capacity(bytes + 16);
    let mut i = 0u64;
    while s.len() < bytes {
        s.push_str(&format!("n{i}{sep}"));
        i += 1;
    }
    s
}

async fn a_two_megabyte_tag_list_gets_a_field_error_quickly(app: TestApp) {
    let c = stranger(&app, "mallory").await;
    let group = own_group(&app, &c).await;
    let year = chrono::Datelike::year(&tsudoi::time::now()) + 1;
    let form = event_form(group, &format!("{year}-05-01T10:00"), &format!("{year}-05-01T12:00"));
    // Just under the 2 MiB body limit once encoded (commas become %2C).
    let (status, body, took) =
        post(&c, &app, "/api/admin/events/create", &with(form.clone(), "tags", distinct_names(1_500_000, ","))).await;
    assert_eq!(status, 422, "{}", &body[..body.len().min(300)]);
    assert_eq!(field_errors(&body), [("tags".to_string(), "too_many".to_string())]);
    assert!(body.len() < 1000, "the answer does not echo the list");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    // 21 names are too many, a 51-character name too long, 20 fine (unknown ones named).
    let names = |n: usize| (0..n).map(|i| format!("t{i}")).collect::<Vec<_>>().join(", ");
    let (status, body, _) = post(&c, &app, "/api/admin/events/create", &with(form.clone(), "tags", names(21))).await;
    assert_eq!((status, field_errors(&body)), (422, vec![("tags".into(), "too_many".into())]));
    let (status, body, _) =
        post(&c, &app, "/api/admin/events/create", &with(form.clone(), "tags", "x".repeat(51))).await;
    assert_eq!((status, field_errors(&body)), (422, vec![("tags".into(), "too_long".into())]));
    let (status, body, _) = post(&c, &app, "/api/admin/events/create", &with(form, "tags", names(20))).await;
    assert_eq!((status, field_errors(&body)), (422, vec![("tags".into(), "unknown_tag".into())]));
    harmless(&body);
    // Over the body limit, the request is refused before it is read as a form.
    let (status, body, _) =
        post(&c, &app, "/api/admin/events/create", &with(event_form(group, "", ""), "tags", "t,".repeat(1 << 20)))
            .await;
    assert!((400..500).contains(&status), "{status} {body}");
    harmless(&body);
}

async fn a_two_megabyte_choice_list_gets_a_field_error_quickly(app: TestApp) {
    let c = stranger(&app, "mallory").await;
    let group = own_group(&app, &c).await;
    let year = chrono::Datelike::year(&tsudoi::time::now()) + 1;
    let form = event_form(group, &format!("{year}-05-01T10:00"), &format!("{year}-05-01T12:00"));
    let (status, body, _) = post(&c, &app, "/api/admin/events/create", &form).await;
    assert_eq!(status, 200, "{body}");
    let event: i64 = body.parse().unwrap();
    let question = |options: String| {
        vec![
            ("event_id", event.to_string()),
            ("kind", "multiple".to_string()),
            ("label", "Which?".to_string()),
            ("options", options),
        ]
    };
    let (status, body, took) =
        post(&c, &app, "/api/admin/questions/add", &question(distinct_names(1_500_000, "\n"))).await;
    assert_eq!(status, 422, "{}", &body[..body.len().min(300)]);
    assert_eq!(field_errors(&body), [("options".to_string(), "too_many".to_string())]);
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let (status, body, _) =
        post(&c, &app, "/api/admin/questions/add", &question(format!("a\n{}", "b".repeat(201)))).await;
    assert_eq!((status, field_errors(&body)), (422, vec![("options".into(), "too_long".into())]));
    let (status, body, _) = post(&c, &app, "/api/admin/questions/add", &question("a\nb\na\n".into())).await;
    assert_eq!(status, 200, "{body}");
    let saved = &app.store().admin_event(event).await.unwrap().unwrap().questions[0].options;
    assert_eq!(saved, &["a", "b"], "repeats are dropped, order kept");
}

/// Names, slugs, aliases, full-width forms and repeats resolve with one vocabulary pass and
/// one alias query, unknown names come back as typed.
async fn tag_names_resolve_by_slug_name_and_alias_without_repeats(app: TestApp) {
    let tag = |slug: &str, name: &str, aliases: &[&str]| NewTag {
        slug: slug.into(),
        name: name.into(),
        kind: TagKind::Topic,
        description: String::new(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    };
    let store = app.store();
    let t = store
        .insert_tags(&[tag("rust", "Rust", &["rustlang"]), tag("k8s", "Kubernetes", &["kube"]), tag("go", "Go", &[])])
        .await
        .unwrap();
    let names: Vec<String> =
        ["Ｒｕｓｔ", "kubernetes", "kube", "RUSTLANG", "Cobol", "go", "rust", "Fortran"].map(String::from).to_vec();
    let (ids, unknown) = store.resolve_tag_names(&names).await.unwrap();
    assert_eq!(ids, [t[0], t[1], t[2]]);
    assert_eq!(unknown, ["Cobol", "Fortran"]);
}

async fn event_dates_are_bounded_in_year_and_span(app: TestApp) {
    let c = stranger(&app, "mallory").await;
    let group = own_group(&app, &c).await;
    let cases = [
        (
            "+200000-05-01T10:00",
            "+200000-05-01T12:00",
            vec![("starts_local", "year_out_of_range"), ("ends_local", "year_out_of_range")],
        ),
        ("1999-12-31T10:00", "2000-01-01T12:00", vec![("starts_local", "year_out_of_range")]),
        ("2027-05-01T10:00", "2101-01-01T12:00", vec![("ends_local", "year_out_of_range")]),
        ("2027-05-01T10:00", "2027-06-01T10:01", vec![("ends_local", "span_too_long")]),
    ];
    for (starts, ends, expected) in cases {
        let (status, body, _) = post(&c, &app, "/api/admin/events/create", &event_form(group, starts, ends)).await;
        assert_eq!(status, 422, "{starts} {ends}: {body}");
        let expected: Vec<(String, String)> = expected.iter().map(|(f, c)| (f.to_string(), c.to_string())).collect();
        assert_eq!(field_errors(&body), expected, "{starts} {ends}");
    }
    let (status, body, _) =
        post(&c, &app, "/api/admin/events/create", &event_form(group, "2027-05-01T10:00", "2027-06-01T10:00")).await;
    assert_eq!(status, 200, "31 days are fine: {body}");
}

/// Events saved before the bounds (or written by hand) at chrono's limits and years apart:
/// their calendars come back at once, nothing panics or walks the years between.
async fn calendars_of_events_at_the_edge_of_time_are_quick(app: TestApp) {
    let store = app.store();
    let g = store
        .insert_groups(&[NewGroup {
            slug: "edge".into(),
            title: "Edge".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![],
        }])
        .await
        .unwrap()[0];
    let berlin = |e: NewEvent| NewEvent { time_zone: "Europe/Berlin".into(), ..e };
    let soon = Utc.with_ymd_and_hms(2027, 3, 27, 22, 0, 0).unwrap();
    let last = DateTime::<Utc>::MAX_UTC - chrono::Duration::hours(3);
    let ids = store
        .insert_events(&[
            // Ends a quarter of a million years after it starts: the old walk took a step a week.
            berlin(NewEvent { ends_at: last, ..NewEvent::minimal(g, "Forever", soon) }),
            // Ends an hour before chrono's last instant: the old window added a day to it.
            berlin(NewEvent::minimal(g, "Last", last - chrono::Duration::hours(1))),
            berlin(NewEvent::minimal(g, "Spring", soon)),
        ])
        .await
        .unwrap();
    for path in [
        format!("/events/{}.ics", ids[0]),
        format!("/events/{}.ics", ids[1]),
        format!("/events/{}.ics", ids[2]),
        "/groups/edge/events.ics".to_string(),
    ] {
        let t = Instant::now();
        let (status, body) = app.get(&path).await;
        let took = t.elapsed();
        assert_eq!(status, 200, "{path}: {body}");
        assert!(took < Duration::from_secs(5), "{path} took {took:?}");
        assert!(body.starts_with("BEGIN:VCALENDAR") && body.contains("END:VTIMEZONE"), "{path}: {body}");
    }
    // The spring event still gets the real change to summer time.
    let (_, spring) = app.get(&format!("/events/{}.ics", ids[2])).await;
    assert!(spring.contains("BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100"), "{spring}");
}

/// Search and feed days at chrono's limits, and list parameters far too long.
async fn search_parameters_at_the_limits_are_ignored_with_a_warning(app: TestApp) {
    let long_tags: String = (0..5_000).map(|i| format!("t{i},")).collect();
    for path in [
        "/events?to=%2B262142-12-31".to_string(),
        "/events?from=-262143-01-01&to=%2B262142-12-31".to_string(),
        "/events.ics?to=%2B262142-12-31".to_string(),
        format!("/events?tags={long_tags}"),
        format!("/events.ics?tools={long_tags}"),
    ] {
        let t = Instant::now();
        let (status, body) = app.get(&path).await;
        let took = t.elapsed();
        assert_eq!(status, 200, "{}: {}", &path[..path.len().min(80)], &body[..body.len().min(500)]);
        assert!(took < Duration::from_secs(5), "took {took:?}");
        harmless(&body);
    }
    let (_, page) = app.get("/events?to=%2B262142-12-31").await;
    assert!(page.contains("+262142-12-31"), "the ignored day is named on the page");
}

/// Bounds on public lists: the upcoming list's `page` and the live stream's `ids`.
async fn pages_and_live_ids_beyond_their_caps_are_400(app: TestApp) {
    for page in ["0", "501", "4294967295"] {
        let (status, body) = app.get(&format!("/api/events/upcoming?page={page}")).await;
        assert_eq!(status, 400, "page={page}: {body}");
        assert!(body.contains("page must be between 1 and 500"), "{body}");
    }
    let (status, body) = app.get("/api/events/upcoming?page=500").await;
    assert_eq!(status, 200, "{body}");
    let t = Instant::now();
    let (status, body) = app.get(&format!("/live/events?ids={}", "7,".repeat(20_000))).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most 100 ids per stream"), "{body}");
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// An attendee's display name that a spreadsheet would run as a formula reaches the
/// organizer's Excel CSV as text; the plain CSV keeps it as typed.
async fn the_excel_csv_does_not_carry_formulas(app: TestApp) {
    let store = app.store();
    let owner = account(&app, "owner", "Owner").await;
    let mallory = account(&app, "mallory", "=HYPERLINK(\"http://evil.example\",\"x\")").await;
    let g = store
        .insert_groups(&[NewGroup {
            slug: "csv".into(),
            title: "CSV".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(owner, Role::Owner)],
        }])
        .await
        .unwrap()[0];
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame {
                registrations: vec![NewRegistration {
                    user_id: mallory,
                    status: RegStatus::Confirmed,
                    receipt_code: "MAL-0001".into(),
                    created_at: tsudoi::time::now(),
                }],
                ..NewFrame::first_come("一般", 10)
            }],
            ..NewEvent::minimal(g, "CSV", tsudoi::time::now() + chrono::Duration::days(3))
        }])
        .await
        .unwrap()[0];
    let c = sign_in(&app, "owner").await;
    let get = |q: &'static str| {
        let c = c.clone();
        let url = app.url(&format!("/admin/events/{event}/attendees.csv{q}"));
        async move {
            let res = c.get(url).send().await.unwrap();
            assert_eq!(res.status(), 200);
            res.text().await.unwrap()
        }
    };
    let excel = get("").await;
    assert!(excel.contains("mallory,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\","), "{excel}");
    let plain = get("?bom=0").await;
    assert!(plain.contains("mallory,\"=HYPERLINK("), "{plain}");
}

/// (id, capacity) of an event's frames.
async fn frames_of(app: &TestApp, event: i64) -> Vec<(i64, i64)> {
    app.store().admin_event(event).await.unwrap().unwrap().frames.iter().map(|f| (f.id, f.seats.limit)).collect()
}

/// A frame id of another event is not found, whichever event the caller edits: the store
/// scopes it in SQL, so no rule (has registrations? below confirmed?) ever looks at it.
async fn another_events_frame_is_not_found(app: TestApp) {
    let store = app.store();
    let owner = account(&app, "owner", "Owner").await;
    let attendee = account(&app, "attendee", "Attendee").await;
    let g = store
        .insert_groups(&[NewGroup {
            slug: "frames".into(),
            title: "Frames".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(owner, Role::Owner)],
        }])
        .await
        .unwrap()[0];
    let soon = tsudoi::time::now() + chrono::Duration::days(3);
    let two_frames = || vec![NewFrame::first_come("A", 5), NewFrame::first_come("B", 5)];
    let events = store
        .insert_events(&[
            NewEvent { frames: two_frames(), ..NewEvent::minimal(g, "Mine", soon) },
            NewEvent {
                frames: vec![
                    NewFrame {
                        registrations: vec![NewRegistration {
                            user_id: attendee,
                            status: RegStatus::Confirmed,
                            receipt_code: "ATT-0001".into(),
                            created_at: tsudoi::time::now(),
                        }],
                        ..NewFrame::first_come("A", 5)
                    },
                    NewFrame::first_come("B", 5),
                ],
                ..NewEvent::minimal(g, "Theirs", soon)
            },
        ])
        .await
        .unwrap();
    let (mine, theirs) = (events[0], events[1]);
    let their_frames = frames_of(&app, theirs).await;
    let their_full = their_frames[0].0;
    // The store itself.
    assert_eq!(store.set_capacity(mine, their_full, 1, tsudoi::time::now()).await.unwrap_err(), AppError::NotFound);
    assert_eq!(
        store.delete_frame(mine, their_full).await.unwrap_err(),
        AppError::NotFound,
        "not frame_has_registrations"
    );
    assert_eq!(store.delete_frame(mine, their_frames[1].0).await.unwrap_err(), AppError::NotFound);
    // Over HTTP, as the owner of both.
    let c = sign_in(&app, "owner").await;
    let form =
        |f: i64| vec![("event_id", mine.to_string()), ("frame_id", f.to_string()), ("capacity", "1".to_string())];
    let (status, body, _) = post(&c, &app, "/api/admin/frames/capacity", &form(their_full)).await;
    assert_eq!(status, 404, "{body}");
    let (status, body, _) = post(&c, &app, "/api/admin/frames/delete", &form(their_full)).await;
    assert_eq!(status, 404, "{body}");
    harmless(&body);
    assert_eq!(frames_of(&app, theirs).await, their_frames, "the other event's frames are untouched");
    // Its own frames still work.
    let my_frames = frames_of(&app, mine).await;
    assert_eq!(store.set_capacity(mine, my_frames[0].0, 7, tsudoi::time::now()).await.unwrap().event_id, mine);
    store.delete_frame(mine, my_frames[1].0).await.unwrap();
    assert_eq!(frames_of(&app, mine).await, vec![(my_frames[0].0, 7)]);
}

/// `next` after a login: only a path on this site is followed; a tab (browsers drop it, so
/// `/\t/evil.example` is `//evil.example`) or a newline (which used to panic the redirect)
/// sends the user to /me.
#[tokio::test]
async fn a_login_redirects_only_to_a_path_on_this_site() {
    let app = crate::helpers::spawn_app(false).await;
    let _ = stranger(&app, "alice").await;
    let login = |next: &'static str| {
        let app = &app;
        async move {
            // A form post without JavaScript, as the no-JS login page sends it.
            let c = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
            let res = c
                .post(app.url("/api/auth/login"))
                .header("accept", "text/html")
                .form(&[("login", "alice"), ("password", PASSWORD), ("next", next)])
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let location = res.headers().get("location").map(|v| v.to_str().unwrap().to_string());
            (status, location)
        }
    };
    for bad in ["/\t/evil.example", "/\n/evil.example", "/me\r\nSet-Cookie: x=1", "//evil.example", "/\\evil.example"] {
        let (status, location) = login(bad).await;
        assert!((300..400).contains(&status), "{bad:?}: {status} {location:?}");
        assert_eq!(location.as_deref(), Some("/me"), "{bad:?}");
    }
    let (_, location) = login("/events?q=rust").await;
    assert_eq!(location.as_deref(), Some("/events?q=rust"));
    // The login page does not carry a bad `next` into its form either.
    for raw in ["/%09/evil.example", "/%0A/evil.example"] {
        let (status, page) = app.get(&format!("/login?next={raw}")).await;
        assert_eq!(status, 200, "{raw}");
        assert!(page.contains(r#"name="next" value="/me""#), "{raw}: {page}");
    }
}

/// An app with its own settings on a fresh SQLite file.
async fn app_with(change: impl FnOnce(&mut tsudoi::server::config::Config)) -> TestApp {
    let db = crate::helpers::TempDb::new();
    let mut config = tsudoi::server::config::Config::for_tests(db.url());
    change(&mut config);
    crate::helpers::spawn_with(config, db).await
}

/// An event with one frame, published: something to stream.
async fn one_event(app: &TestApp) -> i64 {
    let store = app.store();
    let owner = store.insert_users(&[NewUser::attendee("host")]).await.unwrap()[0];
    let g = store.insert_groups(&[NewGroup::owned_by("live", "Live", owner)]).await.unwrap()[0];
    let starts = Utc::now() + chrono::Duration::days(7);
    store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame::first_come("一般", 10)],
            ..NewEvent::minimal(g, "Live", starts)
        }])
        .await
        .unwrap()[0]
}

/// Seat streams are capped per client and in all: beyond, 503 with `Retry-After` and a JSON
/// body; a closed stream frees its place; ids that name no event leave no channel behind.
#[tokio::test]
async fn live_streams_are_capped_per_client_and_in_all() {
    let app = app_with(|c| {
        c.stream_limits = tsudoi::live::hub::StreamLimits { per_client: 2, total: 3 };
        c.trusted_proxies = tsudoi::server::client_ip::parse_trusted("127.0.0.1").unwrap();
    })
    .await;
    let event = one_event(&app).await;
    let open = |from: &'static str| {
        let url = app.url(&format!("/live/events/{event}"));
        async move { reqwest::Client::new().get(url).header("x-forwarded-for", from).send().await.unwrap() }
    };
    let a1 = open("203.0.113.1").await;
    let a2 = open("203.0.113.1").await;
    assert_eq!((a1.status().as_u16(), a2.status().as_u16()), (200, 200));
    let a3 = open("203.0.113.1").await;
    assert_eq!(a3.status().as_u16(), 503, "a third stream of one client");
    assert_eq!(a3.headers()["retry-after"], "30");
    let body: Value = a3.json().await.unwrap();
    assert_eq!(body["error"], "unavailable");
    let b1 = open("203.0.113.2").await;
    assert_eq!(b1.status().as_u16(), 200, "another client has its own places");
    let c1 = open("203.0.113.3").await;
    assert_eq!(c1.status().as_u16(), 503, "the instance holds 3 in all");
    assert_eq!(app.state.live.open_streams(), 3);
    drop(a1);
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.state.live.open_streams() > 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let c2 = open("203.0.113.3").await;
    assert_eq!(c2.status().as_u16(), 200, "a closed stream frees its place");
    drop((a2, b1, c2));
    // Unknown ids: 404, and no channel kept for them.
    let before = app.state.live.channel_count();
    let (status, _) = app.get("/live/events?ids=999991,999992,999993").await;
    assert_eq!(status, 404);
    assert_eq!(app.state.live.channel_count(), before, "no channel for ids that name no event");
}

/// Behind a trusted proxy each client has its own rate-limit bucket (IPv6 by its /64);
/// from anyone else `X-Forwarded-For` is ignored, so it cannot buy a fresh bucket.
#[tokio::test]
async fn rate_limits_count_the_client_a_trusted_proxy_names_and_ignore_the_header_otherwise() {
    let limited = |trust: &'static str| {
        app_with(move |c| {
            c.rate_limits.api_per_ip = 2;
            c.trusted_proxies = tsudoi::server::client_ip::parse_trusted(trust).unwrap();
        })
    };
    let statuses = |app: &TestApp, from: &'static str, n: usize| {
        let url = app.url("/api/v2/events/");
        async move {
            let mut out = Vec::new();
            for _ in 0..n {
                let res = reqwest::Client::new().get(url.clone()).header("x-forwarded-for", from).send().await.unwrap();
                out.push(res.status().as_u16());
            }
            out
        }
    };
    let behind = limited("127.0.0.1").await;
    assert_eq!(statuses(&behind, "203.0.113.1", 3).await, [200, 200, 429]);
    assert_eq!(statuses(&behind, "203.0.113.2", 1).await, [200], "another client");
    assert_eq!(statuses(&behind, "2001:db8:0:1::1", 2).await, [200, 200]);
    assert_eq!(statuses(&behind, "2001:db8:0:1::ffff", 1).await, [429], "the same /64");
    let direct = limited("").await;
    assert_eq!(statuses(&direct, "203.0.113.1", 2).await, [200, 200]);
    assert_eq!(statuses(&direct, "203.0.113.2", 1).await, [429], "the header is not believed");
}

/// Every free-text field has a length cap, answered beside the field; a body over the limit
/// is a 413 with a JSON body.
async fn free_text_fields_are_capped_and_an_oversized_body_is_413(app: TestApp) {
    let c = stranger(&app, "mallory").await;
    let huge = "長".repeat(30_000);
    let group = [("slug", "capped".to_string()), ("title", "Capped".to_string()), ("description", huge.clone())];
    let (status, body, _) = post(&c, &app, "/api/admin/groups/create", &group).await;
    assert_eq!((status, field_errors(&body)), (422, vec![("description".into(), "too_long".into())]));
    let group = own_group(&app, &c).await;
    let year = chrono::Datelike::year(&tsudoi::time::now()) + 1;
    let form = event_form(group, &format!("{year}-05-01T10:00"), &format!("{year}-05-01T12:00"));
    for (field, value) in [
        ("place", "場".repeat(201)),
        ("address", "住".repeat(301)),
        ("online_url", format!("https://meet.example/{}", "x".repeat(2_000))),
    ] {
        let (status, body, _) = post(&c, &app, "/api/admin/events/create", &with(form.clone(), field, value)).await;
        assert_eq!((status, field_errors(&body)), (422, vec![(field.to_string(), "too_long".to_string())]), "{field}");
    }
    let (status, body, _) = post(&c, &app, "/api/admin/events/create", &with(form, "place", "場".repeat(200))).await;
    assert_eq!(status, 200, "200 characters are fine: {body}");
    // 3 MiB to a form endpoint and to the public API.
    for path in ["/api/admin/events/create", "/api/auth/login", "/api/v2/events/"] {
        let res = c
            .post(app.url(path))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(vec![b'a'; 3 << 20])
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let body = res.text().await.unwrap();
        if path.starts_with("/api/v2") {
            assert!((400..500).contains(&status), "{path}: {status}");
            continue;
        }
        assert_eq!(status, 413, "{path}: {body}");
        let v: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"));
        assert_eq!(v["error"], "payload_too_large", "{body}");
    }
}

/// An organizer sends at most `TSUDOI_MESSAGES_PER_HOUR` messages an hour (20 by default,
/// counted in the database); beyond, 429 with `Retry-After` and nothing stored. Another
/// organizer keeps their own allowance.
async fn messages_per_organizer_are_limited_per_hour(app: TestApp) {
    let allowance = app.state.config.rate_limits.messages_per_hour as usize;
    let send = |c: reqwest::Client, event: i64, n: usize| {
        let app = &app;
        async move {
            let form = [
                ("event_id", event.to_string()),
                ("audience", "all".to_string()),
                ("subject", format!("Notice {n}")),
                ("body", "Doors open at 18:30.".to_string()),
            ];
            let res = c.post(app.url("/api/admin/messages/send")).header("accept", "application/json").form(&form);
            let res = res.send().await.unwrap();
            let retry = res.headers().get("retry-after").map(|v| v.to_str().unwrap().parse::<u64>().unwrap());
            (res.status().as_u16(), retry, res.text().await.unwrap())
        }
    };
    let mut events = Vec::new();
    let mut clients = Vec::new();
    for nick in ["spammer", "neighbour"] {
        let c = stranger(&app, nick).await;
        let (status, body, _) =
            post(&c, &app, "/api/admin/groups/create", &[("slug", nick.to_string()), ("title", nick.to_string())])
                .await;
        assert_eq!(status, 200, "{body}");
        let group = serde_json::from_str::<Value>(&body).unwrap()["id"].as_i64().unwrap();
        let year = chrono::Datelike::year(&tsudoi::time::now()) + 1;
        let form = event_form(group, &format!("{year}-05-01T10:00"), &format!("{year}-05-01T12:00"));
        let (status, body, _) = post(&c, &app, "/api/admin/events/create", &form).await;
        assert_eq!(status, 200, "{body}");
        events.push(body.trim().parse::<i64>().unwrap());
        clients.push(c);
    }
    for n in 0..allowance {
        let (status, _, body) = send(clients[0].clone(), events[0], n).await;
        assert_eq!(status, 200, "message {n}: {body}");
    }
    let (status, retry, body) = send(clients[0].clone(), events[0], allowance).await;
    assert_eq!(status, 429, "{body}");
    assert!(retry.is_some_and(|s| (3_000..=3_600).contains(&s)), "retry after the hour: {retry:?}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["error"], "rate_limited", "{body}");
    harmless(&body);
    let stored = app.store().sent_messages(events[0]).await.unwrap();
    assert_eq!(
        stored.iter().filter(|m| m.subject.starts_with("Notice")).count(),
        allowance,
        "the refused one is not stored"
    );
    let (status, _, body) = send(clients[1].clone(), events[1], 0).await;
    assert_eq!(status, 200, "another organizer's allowance: {body}");
}

/// Who `c` is signed in as (`None`: signed out).
async fn whoami(c: &reqwest::Client, app: &TestApp) -> Option<String> {
    let res = c.get(app.url("/api/auth/me")).header("accept", "application/json").send().await.unwrap();
    let v: Value = res.json().await.unwrap();
    v["nickname"].as_str().map(str::to_string)
}

/// A password change signs out every other device and keeps this one; "log out everywhere"
/// ends all of them; password changes count as login attempts on the account.
async fn a_password_change_ends_other_sessions_and_logout_everywhere_ends_all(app: TestApp) {
    account(&app, "mika", "Mika").await;
    account(&app, "other", "Other").await;
    let (laptop, phone, bystander) =
        (sign_in(&app, "mika").await, sign_in(&app, "mika").await, sign_in(&app, "other").await);
    assert_eq!(whoami(&phone, &app).await.as_deref(), Some("mika"));
    let form = [("current_password", PASSWORD.to_string()), ("new_password", "a brand new secret".to_string())];
    let (status, body, _) = post(&laptop, &app, "/api/me/password", &form).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(whoami(&laptop, &app).await.as_deref(), Some("mika"), "this device stays signed in");
    assert_eq!(whoami(&phone, &app).await, None, "the other device is signed out");
    assert_eq!(whoami(&bystander, &app).await.as_deref(), Some("other"), "other accounts are untouched");

    let tablet = {
        let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
        let form = [("login", "mika"), ("password", "a brand new secret")];
        let res =
            c.post(app.url("/api/auth/login")).header("accept", "application/json").form(&form).send().await.unwrap();
        assert_eq!(res.status(), 200);
        c
    };
    let (status, body, _) = post(&laptop, &app, "/api/auth/logout-everywhere", &[]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(whoami(&laptop, &app).await, None);
    assert_eq!(whoami(&tablet, &app).await, None);
    assert_eq!(whoami(&bystander, &app).await.as_deref(), Some("other"));
    let (status, _, _) = post(&laptop, &app, "/api/auth/logout-everywhere", &[]).await;
    assert_eq!(status, 401, "signed-in users only");

    // Guessing the current password through the change form is limited like logins.
    let guesser = sign_in(&app, "other").await;
    let mut statuses = Vec::new();
    for i in 0..12 {
        let form = [("current_password", format!("guess {i}")), ("new_password", "whatever it is".to_string())];
        statuses.push(post(&guesser, &app, "/api/me/password", &form).await.0);
    }
    assert!(statuses.contains(&422) && statuses.last() == Some(&429), "{statuses:?}");
}

/// Runs one SQL statement on the app's database, whichever it is.
async fn exec(app: &TestApp, sql: &str) {
    match (app.store().sqlite_pool(), app.store().pg_pool()) {
        (Some(p), _) => sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.map(|_| ()).unwrap(),
        (_, Some(p)) => sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(p).await.map(|_| ()).unwrap(),
        _ => unreachable!(),
    }
}

async fn latest_session_expiry(app: &TestApp) -> i64 {
    let q = "SELECT MAX(expires_at) FROM sessions";
    match (app.store().sqlite_pool(), app.store().pg_pool()) {
        (Some(p), _) => sqlx::query_scalar(q).fetch_one(p).await.unwrap(),
        (_, Some(p)) => sqlx::query_scalar(q).fetch_one(p).await.unwrap(),
        _ => unreachable!(),
    }
}

/// A session ends 90 days after sign-in however much it is used, and its idle expiry moves
/// forward when it is used on a new day.
async fn sessions_slide_while_used_and_end_at_the_absolute_cap(app: TestApp) {
    account(&app, "nao", "Nao").await;
    let c = sign_in(&app, "nao").await;
    // Last used on another day (the "seen" key renamed away), expiring in an hour: a request
    // today saves it with a new idle expiry.
    let soon = Utc::now().timestamp() + 3_600;
    exec(&app, &format!("UPDATE sessions SET expires_at = {soon}")).await;
    exec(&app, r#"UPDATE sessions SET data = REPLACE(data, '"seen":', '"was":')"#).await;
    assert_eq!(whoami(&c, &app).await.as_deref(), Some("nao"));
    assert!(latest_session_expiry(&app).await > soon + 20 * 86_400, "used today: the idle expiry moved forward");
    // Signed in 91 days ago: signed out, however recently used.
    let long_ago = Utc::now().timestamp() - 91 * 86_400;
    exec(&app, &format!(r#"UPDATE sessions SET data = REPLACE(data, '"since":', '"since":{long_ago},"old_since":')"#))
        .await;
    assert_eq!(whoami(&c, &app).await, None, "past the absolute cap");
}

on_both_backends!(
    a_two_megabyte_tag_list_gets_a_field_error_quickly,
    a_two_megabyte_choice_list_gets_a_field_error_quickly,
    tag_names_resolve_by_slug_name_and_alias_without_repeats,
    event_dates_are_bounded_in_year_and_span,
    calendars_of_events_at_the_edge_of_time_are_quick,
    search_parameters_at_the_limits_are_ignored_with_a_warning,
    pages_and_live_ids_beyond_their_caps_are_400,
    the_excel_csv_does_not_carry_formulas,
    another_events_frame_is_not_found,
    a_password_change_ends_other_sessions_and_logout_everywhere_ends_all,
    sessions_slide_while_used_and_end_at_the_absolute_cap,
    free_text_fields_are_capped_and_an_oversized_body_is_413,
    messages_per_organizer_are_limited_per_hour,
);

/// The public API's keyword filter is bounded: at most 30 keywords (`keyword` and
/// `keyword_or` together) per request, each one a lookup in the text index; more is a 400
/// naming the parameter, not 400 lookups.
#[tokio::test]
async fn the_api_answers_at_most_thirty_keywords() {
    let app = app_with(|_| {}).await;
    let words = |n: usize| (0..n).map(|i| format!("kw{i}")).collect::<Vec<_>>().join(",");
    let (status, body) = app.get(&format!("/api/v2/events/?keyword={}&keyword_or=x", words(29))).await;
    assert_eq!(status, 200, "30 in all: {body}");
    let (status, body) = app.get(&format!("/api/v2/events/?keyword={}&keyword_or=x,y", words(29))).await;
    assert_eq!(status, 400, "31 in all: {body}");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(v.to_string().contains("keyword"), "names the parameter: {v}");
    let (status, _) = app.get(&format!("/api/v2/events/?keyword_or={}", words(400))).await;
    assert_eq!(status, 400);
}
