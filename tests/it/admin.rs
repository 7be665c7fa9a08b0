//! Organizer admin over HTTP: the authorisation table (every admin server function and
//! route as anonymous, an attendee, staff, admin, owner and an admin of another group),
//! the editor's validation, capacity changes, check-in, CSV and the audit log; messages,
//! reminders, deliveries and follows. Every scenario runs on SQLite and on PostgreSQL.

use chrono::{Duration, Utc};
use serde_json::Value;
use tsudoi::admin::model::Role;
use tsudoi::registrations::model::QuestionKind;
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewQuestion, NewRegistration, NewUser};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";
const WHO: [&str; 6] = ["anonymous", "attendee", "staff", "admin", "owner", "other_admin"];

struct World {
    event: i64,
    frame: i64,
    group: i64,
    clients: Vec<(&'static str, reqwest::Client)>,
}

async fn world(app: &TestApp) -> World {
    let store = app.store();
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    let user = |nick: &str| NewUser {
        nickname: nick.into(),
        display_name: format!("{nick} san"),
        email: Some(format!("{nick}@example.com")),
        password_hash: Some(hash.clone()),
        bio: String::new(),
    };
    let u = store
        .insert_users(&[
            user("attendee"),
            user("staff"),
            user("admin"),
            user("owner"),
            user("other_admin"),
            user("waiter"),
        ])
        .await
        .unwrap();
    let g = store
        .insert_groups(&[
            NewGroup {
                slug: "home".into(),
                title: "Home".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![(u[1], Role::Staff), (u[2], Role::Admin), (u[3], Role::Owner)],
            },
            NewGroup {
                slug: "other".into(),
                title: "Other".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![(u[4], Role::Admin)],
            },
        ])
        .await
        .unwrap();
    let reg = |user_id: i64, status: RegStatus, code: &str| NewRegistration {
        user_id,
        status,
        receipt_code: code.into(),
        created_at: tsudoi::time::now() - Duration::days(1),
    };
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame {
                registrations: vec![
                    reg(u[0], RegStatus::Confirmed, "ATT-0001"),
                    reg(u[5], RegStatus::Waitlisted, "WAI-0001"),
                ],
                ..NewFrame::first_come("一般", 1)
            }],
            questions: vec![NewQuestion {
                kind: QuestionKind::Text,
                label: "懇親会".into(),
                options: vec![],
                required: false,
            }],
            ..NewEvent::minimal(g[0], "Admin target", tsudoi::time::now() + Duration::days(3))
        }])
        .await
        .unwrap()[0];
    let frame = store.admin_event(event).await.unwrap().unwrap().frames[0].id;
    let mut clients = vec![("anonymous", reqwest::Client::new())];
    for nick in &WHO[1..] {
        clients.push((nick, login(app, nick).await));
    }
    World { event, frame, group: g[0], clients }
}

/// A client signed in as `nick` (one of the world's accounts).
async fn login(app: &TestApp, nick: &str) -> reqwest::Client {
    crate::helpers::signed_in(app, nick, PASSWORD).await
}

/// (name, path, form) of a POST.
type Call<'a> = (&'a str, &'a str, Vec<(&'a str, String)>);

/// (name, method, path, form, the roles allowed).
type Cell<'a> = (&'a str, &'a str, String, Vec<(&'a str, String)>, &'a [&'a str]);

async fn registration_of(app: &TestApp, w: &World, nickname: &str) -> i64 {
    app.store().attendees(w.event).await.unwrap().into_iter().find(|a| a.nickname == nickname).unwrap().registration_id
}

/// What a refused call must leave untouched.
async fn snapshot(app: &TestApp, w: &World) -> String {
    let e = app.store().admin_event(w.event).await.unwrap().unwrap();
    let a = app.store().attendees(w.event).await.unwrap();
    let log = app.store().audit_log(w.group, None).await.unwrap();
    let messages = app.store().sent_messages(w.event).await.unwrap();
    format!("{e:?}|{a:?}|{}|{}", log.len(), messages.len())
}

async fn call(c: &reqwest::Client, app: &TestApp, method: &str, path: &str, form: &[(&str, String)]) -> (u16, String) {
    let req = if method == "GET" { c.get(app.url(path)).query(form) } else { c.post(app.url(path)).form(form) };
    let res = req.header("accept", "application/json").send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

pub(crate) fn form_fields(title: &str) -> Vec<(&'static str, String)> {
    let start = (tsudoi::time::now() + Duration::days(10)).format("%Y-%m-%dT19:00").to_string();
    let end = (tsudoi::time::now() + Duration::days(10)).format("%Y-%m-%dT21:00").to_string();
    vec![
        ("title", title.into()),
        ("catch", "catch".into()),
        ("description", "**bold**".into()),
        ("starts_local", start),
        ("ends_local", end),
        ("time_zone", "Asia/Tokyo".into()),
        ("venue_kind", "offline".into()),
        ("place", "Hall".into()),
        ("address", "Tokyo".into()),
        ("prefecture", "tokyo".into()),
        ("online_url", String::new()),
        ("language", "ja".into()),
        ("hashtag", "#t".into()),
    ]
}

async fn every_admin_call_is_allowed_exactly_for_its_roles(app: TestApp) {
    let w = world(&app).await;
    let ev = w.event.to_string();
    let waiter_reg = registration_of(&app, &w, "waiter").await;
    let staff_id =
        app.store().members(w.group).await.unwrap().into_iter().find(|m| m.nickname == "staff").unwrap().user_id;
    let mut update = form_fields("Edited");
    update.push(("id", ev.clone()));
    let mut create = form_fields("New draft");
    create.extend([("group_id", w.group.to_string()), ("capacity", "30".into())]);
    // (name, method, path, form, allowed roles)
    let editors: &[&str] = &["admin", "owner"];
    let members: &[&str] = &["staff", "admin", "owner"];
    let signed_in: &[&str] = &["attendee", "staff", "admin", "owner", "other_admin"];
    let table: Vec<Cell> = vec![
        ("dashboard", "GET", "/api/admin/dashboard".into(), vec![], signed_in),
        ("get event", "GET", "/api/admin/events/get".into(), vec![("id", ev.clone())], editors),
        ("update event", "POST", "/api/admin/events/update".into(), update.clone(), editors),
        (
            "publish",
            "POST",
            "/api/admin/events/status".into(),
            vec![("id", ev.clone()), ("action", "publish".into())],
            editors,
        ),
        (
            "capacity",
            "POST",
            "/api/admin/frames/capacity".into(),
            vec![("event_id", ev.clone()), ("frame_id", w.frame.to_string()), ("capacity", "1".into())],
            editors,
        ),
        ("attendees", "GET", "/api/admin/events/attendees".into(), vec![("event_id", ev.clone())], members),
        (
            "check in",
            "POST",
            "/api/admin/events/checkin".into(),
            vec![("event_id", ev.clone()), ("code", "ATT-0001".into())],
            members,
        ),
        ("audit", "GET", "/api/admin/events/audit".into(), vec![("event_id", ev.clone())], editors),
        (
            "add frame",
            "POST",
            "/api/admin/frames/add".into(),
            vec![
                ("event_id", ev.clone()),
                ("name", "LT".into()),
                ("capacity", "5".into()),
                ("method", "first_come".into()),
            ],
            editors,
        ),
        (
            "update frame",
            "POST",
            "/api/admin/frames/update".into(),
            vec![
                ("event_id", ev.clone()),
                ("frame_id", w.frame.to_string()),
                ("name", "一般".into()),
                ("method", "first_come".into()),
            ],
            editors,
        ),
        (
            "add question",
            "POST",
            "/api/admin/questions/add".into(),
            vec![("event_id", ev.clone()), ("kind", "text".into()), ("label", "所属".into())],
            editors,
        ),
        (
            "send message",
            "POST",
            "/api/admin/messages/send".into(),
            vec![
                ("event_id", ev.clone()),
                ("audience", "all".into()),
                ("subject", "お知らせ".into()),
                ("body", "本文".into()),
            ],
            editors,
        ),
        ("messages", "GET", "/api/admin/messages/list".into(), vec![("event_id", ev.clone())], editors),
        ("group page", "GET", "/api/admin/groups/get".into(), vec![("group_id", w.group.to_string())], editors),
        (
            "set role",
            "POST",
            "/api/admin/groups/members/role".into(),
            vec![("group_id", w.group.to_string()), ("user_id", staff_id.to_string()), ("role", "staff".into())],
            editors,
        ),
        (
            "move",
            "POST",
            "/api/admin/registrations/move".into(),
            vec![("event_id", ev.clone()), ("registration_id", waiter_reg.to_string()), ("to", "waitlisted".into())],
            editors,
        ),
        ("create event", "POST", "/api/admin/events/create".into(), create.clone(), editors),
        ("csv", "GET", format!("/admin/events/{}/attendees.csv", w.event), vec![], members),
        ("preview", "POST", "/api/admin/preview".into(), vec![("markdown", "**x**".into())], signed_in),
    ];
    for (name, method, path, form, allowed) in &table {
        for (who, client) in &w.clients {
            let before = snapshot(&app, &w).await;
            let (status, body) = call(client, &app, method, path, form).await;
            if allowed.contains(who) {
                assert_eq!(status, 200, "{name} as {who}: {body}");
            } else {
                let expected = if *who == "anonymous" { 401 } else { 403 };
                assert_eq!(status, expected, "{name} as {who}: {body}");
                assert_eq!(snapshot(&app, &w).await, before, "{name} as {who} changed nothing");
            }
        }
    }
    // Unknown events are 404 for members and strangers alike (after authentication).
    let (_, owner) = &w.clients[4];
    let (status, _) = call(owner, &app, "GET", "/api/admin/events/get", &[("id", "999999".into())]).await;
    assert_eq!(status, 404);
}

async fn the_editor_validates_beside_the_fields_and_keeps_the_calendar_in_step(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let ev = w.event.to_string();
    let mut bad = form_fields("");
    for (k, v) in bad.iter_mut() {
        match *k {
            "ends_local" => *v = "2020-01-01T10:00".into(),
            "starts_local" => *v = "2020-01-01T12:00".into(),
            "online_url" => *v = "javascript:alert(1)".into(),
            "prefecture" => *v = "atlantis".into(),
            _ => {}
        }
    }
    bad.push(("id", ev.clone()));
    let before = snapshot(&app, &w).await;
    let (status, body) = call(owner, &app, "POST", "/api/admin/events/update", &bad).await;
    assert_eq!(status, 422, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = v["message"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "prefecture", "online_url", "ends_local"]);
    assert_eq!(snapshot(&app, &w).await, before, "a refused save changes nothing");

    // A zone with summer time: the local time is read in that zone.
    // 1 July of next year, whatever day this runs.
    let year = chrono::Datelike::year(&tsudoi::time::now()) + 1;
    let mut berlin = form_fields("Berlin edition");
    for (k, v) in berlin.iter_mut() {
        match *k {
            "time_zone" => *v = "Europe/Berlin".into(),
            "starts_local" => *v = format!("{year}-07-01T18:30"),
            "ends_local" => *v = format!("{year}-07-01T20:00"),
            _ => {}
        }
    }
    berlin.push(("id", ev.clone()));
    let (status, body) = call(owner, &app, "POST", "/api/admin/events/update", &berlin).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["form"]["starts_local"], format!("{year}-07-01T18:30"));
    assert_eq!(v["span"]["starts_at"], format!("{year}-07-01T16:30:00Z"), "CEST is UTC+2");
    // The public calendar and search follow: SEQUENCE grew, the new title is searchable.
    let (_, ics) = app.get(&format!("/events/{}.ics", w.event)).await;
    assert!(ics.contains("SEQUENCE:1") && ics.contains("SUMMARY:Berlin edition"), "{ics}");
    let (_, api) = app.get("/api/v2/events/?keyword=edition").await;
    assert!(api.contains("Berlin edition"), "{api}");
    let (_, log) = call(owner, &app, "GET", "/api/admin/events/audit", &[("event_id", ev.clone())]).await;
    let log: Value = serde_json::from_str(&log).unwrap();
    assert_eq!(log[0]["action"], "event.update");
    assert_eq!(log[0]["nickname"], "owner");
    assert!(log[0]["detail"].as_str().unwrap().contains("title"), "{log}");
}

async fn capacity_lowering_is_refused_raising_promotes_and_checkin_and_csv_work(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let (_, staff) = &w.clients[2];
    let ev = w.event.to_string();
    let fr = w.frame.to_string();
    // Confirmed 1 of 1: lowering below 1 is refused (validation), raising promotes the waiter.
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/capacity",
        &[("event_id", ev.clone()), ("frame_id", fr.clone()), ("capacity", "0".into())],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/capacity",
        &[("event_id", ev.clone()), ("frame_id", fr.clone()), ("capacity", "2".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let frames: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(frames[0]["seats"]["accepted"], 2, "the waitlisted attendee was promoted");
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/capacity",
        &[("event_id", ev.clone()), ("frame_id", fr.clone()), ("capacity", "1".into())],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("capacity_below_confirmed:2"), "says how many are confirmed: {body}");
    // A frame of another event is not reachable through this one.
    let (status, _) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/capacity",
        &[("event_id", ev.clone()), ("frame_id", "999999".into()), ("capacity", "5".into())],
    )
    .await;
    assert_eq!(status, 404);

    // Check-in by receipt code (any case), idempotent; unknown codes are a field error.
    let (status, body) = call(
        staff,
        &app,
        "POST",
        "/api/admin/events/checkin",
        &[("event_id", ev.clone()), ("code", " att-0001 ".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let first: Value = serde_json::from_str(&body).unwrap();
    let (_, again) = call(
        staff,
        &app,
        "POST",
        "/api/admin/events/checkin",
        &[("event_id", ev.clone()), ("code", "ATT-0001".into())],
    )
    .await;
    let again: Value = serde_json::from_str(&again).unwrap();
    assert_eq!(first["checked_in_at"], again["checked_in_at"], "the first check-in time stays");
    let (status, body) =
        call(staff, &app, "POST", "/api/admin/events/checkin", &[("event_id", ev.clone()), ("code", "NOPE".into())])
            .await;
    assert_eq!(status, 422);
    assert!(body.contains("unknown_code"));
    let (_, list) = call(staff, &app, "GET", "/api/admin/events/attendees", &[("event_id", ev.clone())]).await;
    let list: Value = serde_json::from_str(&list).unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
    assert!(list["items"][0]["checked_in_at"].is_string());

    // CSV: BOM by default, plain with ?bom=0; parsed back as CSV.
    let res = staff.get(app.url(&format!("/admin/events/{}/attendees.csv", w.event))).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(res.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "UTF-8 BOM for Excel");
    let text = std::str::from_utf8(&bytes[3..]).unwrap();
    let rows: Vec<&str> = text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(rows[0], "nickname,display_name,frame,status,position,receipt_code,registered_at,checked_in_at,懇親会");
    assert!(rows[1].starts_with("attendee,attendee san,一般,confirmed,"), "{}", rows[1]);
    let plain = staff.get(app.url(&format!("/admin/events/{}/attendees.csv?bom=0", w.event))).send().await.unwrap();
    assert!(plain.text().await.unwrap().starts_with("nickname,"));
}

async fn a_signed_in_user_creates_a_group_and_a_draft_then_publishes_it(app: TestApp) {
    let w = world(&app).await;
    let (_, attendee) = &w.clients[1];
    let (status, body) = call(
        attendee,
        &app,
        "POST",
        "/api/admin/groups/create",
        &[("slug", "Bad Slug".into()), ("title", String::new())],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) =
        call(attendee, &app, "POST", "/api/admin/groups/create", &[("slug", "home".into()), ("title", "Dup".into())])
            .await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("slug_taken"));
    let (status, body) = call(
        attendee,
        &app,
        "POST",
        "/api/admin/groups/create",
        &[("slug", "my-meetup".into()), ("title", "My Meetup".into()), ("website", "https://meetup.example".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let group: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(group["role"], "owner");
    let mut create = form_fields("はじめての会");
    create.extend([("group_id", group["id"].to_string()), ("capacity", "0".into())]);
    let (status, body) = call(attendee, &app, "POST", "/api/admin/events/create", &create).await;
    assert_eq!(status, 422);
    assert!(body.contains("capacity"));
    create.retain(|(k, _)| *k != "capacity");
    create.push(("capacity", "20".into()));
    let (status, body) = call(attendee, &app, "POST", "/api/admin/events/create", &create).await;
    assert_eq!(status, 200, "{body}");
    let id: i64 = body.parse().unwrap();
    assert_eq!(app.get(&format!("/events/{id}")).await.0, 404, "a draft is not public");
    let (_, dash) = call(attendee, &app, "GET", "/api/admin/dashboard", &[]).await;
    let dash: Value = serde_json::from_str(&dash).unwrap();
    assert_eq!(dash["drafts"][0]["id"], id);
    let (status, _) = call(
        attendee,
        &app,
        "POST",
        "/api/admin/events/status",
        &[("id", id.to_string()), ("action", "publish".into())],
    )
    .await;
    assert_eq!(status, 200);
    let (status, page) = app.get(&format!("/events/{id}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("はじめての会") && page.contains("0人/20人"), "public with its capacity");
    let (status, _) = call(
        attendee,
        &app,
        "POST",
        "/api/admin/events/status",
        &[("id", id.to_string()), ("action", "explode".into())],
    )
    .await;
    assert_eq!(status, 400);
}

async fn frames_questions_and_manual_moves_follow_the_rules(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let ev = w.event.to_string();
    let app = &app;
    let post = |path: &'static str, form: Vec<(&'static str, String)>| async move {
        call(owner, app, "POST", path, &form).await
    };
    let starts = app.store().admin_event(w.event).await.unwrap().unwrap().span.starts_at;
    let local = |hours_before: i64| {
        (starts - Duration::hours(hours_before))
            .with_timezone(&chrono_tz::Asia::Tokyo)
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };

    // Frame rules are checked against the event.
    let (status, body) = post(
        "/api/admin/frames/add",
        vec![
            ("event_id", ev.clone()),
            ("name", String::new()),
            ("capacity", "0".into()),
            ("method", "lottery".into()),
            ("fee", "-5".into()),
            ("closes_local", "2099-01-01T00:00".into()),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let fields: Vec<&str> = v["message"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["name", "capacity", "fee", "closes_local", "draw_local"], "{body}");
    let (status, body) = post(
        "/api/admin/frames/add",
        vec![
            ("event_id", ev.clone()),
            ("name", "抽選枠".into()),
            ("capacity", "10".into()),
            ("method", "lottery".into()),
            ("fee", "1000".into()),
            ("closes_local", local(3)),
            ("draw_local", local(2)),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let lottery = &v["frames"][1];
    assert_eq!(
        (lottery["name"].as_str(), lottery["method"].as_str(), lottery["fee"].as_i64()),
        (Some("抽選枠"), Some("lottery"), Some(1000))
    );
    assert_eq!(v["frame_times"][1]["draw_local"], local(2), "shown back in the event's zone");
    let lottery_id = lottery["id"].as_i64().unwrap().to_string();

    // Freeze promotions on the first frame; the public event shows both frames.
    let (status, body) = post(
        "/api/admin/frames/update",
        vec![
            ("event_id", ev.clone()),
            ("frame_id", w.frame.to_string()),
            ("name", "一般枠".into()),
            ("method", "first_come".into()),
            ("frozen", "on".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["frames"][0]["promotion_frozen"], true);
    let (_, page) = app.get(&format!("/events/{}", w.event)).await;
    assert!(page.contains("一般枠") && page.contains("抽選枠"), "both frames are public");

    // Deleting: not a frame with registrations; an empty one, yes.
    let (status, body) =
        post("/api/admin/frames/delete", vec![("event_id", ev.clone()), ("frame_id", w.frame.to_string())]).await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("frame_has_registrations"));
    let (status, _) =
        post("/api/admin/frames/delete", vec![("event_id", ev.clone()), ("frame_id", lottery_id.clone())]).await;
    assert_eq!(status, 200);
    let (status, body) =
        post("/api/admin/frames/delete", vec![("event_id", ev.clone()), ("frame_id", lottery_id)]).await;
    assert_eq!(status, 409, "the last frame (or an unknown one) stays: {body}");

    // A single-choice question needs two choices, then appears on the registration form.
    let (status, body) = post(
        "/api/admin/questions/add",
        vec![
            ("event_id", ev.clone()),
            ("kind", "single".into()),
            ("label", "懇親会に参加しますか".into()),
            ("options", "はい".into()),
        ],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("too_few_choices"));
    let (status, body) = post(
        "/api/admin/questions/add",
        vec![
            ("event_id", ev.clone()),
            ("kind", "single".into()),
            ("label", "懇親会に参加しますか".into()),
            ("options", "はい\nいいえ\nはい".into()),
            ("required", "on".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    let q = &v["questions"][1];
    assert_eq!(q["options"], serde_json::json!(["はい", "いいえ"]), "choices deduplicated");
    assert_eq!(q["required"], true);
    let detail = app.store().fetch_event(w.event).await.unwrap().unwrap();
    assert_eq!(detail.questions.len(), 2);

    // Manual moves: confirming the waiter needs a free seat; demoting the attendee promotes
    // nobody while promotions are frozen, and then confirming the waiter takes that seat.
    let waiter = registration_of(app, &w, "waiter").await.to_string();
    let attendee = registration_of(app, &w, "attendee").await.to_string();
    let (status, body) = post(
        "/api/admin/registrations/move",
        vec![("event_id", ev.clone()), ("registration_id", waiter.clone()), ("to", "confirmed".into())],
    )
    .await;
    assert_eq!(status, 409);
    assert!(body.contains("frame_full"));
    let (status, body) = post(
        "/api/admin/registrations/move",
        vec![("event_id", ev.clone()), ("registration_id", attendee), ("to", "waitlisted".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        "/api/admin/registrations/move",
        vec![("event_id", ev.clone()), ("registration_id", waiter), ("to", "confirmed".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let list: Value = serde_json::from_str(&body).unwrap();
    let status_of = |nick: &str| {
        list["items"].as_array().unwrap().iter().find(|a| a["nickname"] == nick).unwrap()["status"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!((status_of("waiter"), status_of("attendee")), ("confirmed".into(), "waitlisted".into()));
    let checks = app.store().counter_check(&[w.event]).await.unwrap();
    assert!(
        checks.iter().all(|c| c.accepted_count == c.accepted_rows && c.waiting_count == c.waiting_rows),
        "{checks:?}"
    );
    let (_, log) = call(owner, app, "GET", "/api/admin/events/audit", &[("event_id", ev)]).await;
    for action in ["frame.add", "frame.update", "frame.delete", "question.add", "attendee.move"] {
        assert!(log.contains(action), "{action} audited");
    }
}

async fn members_are_managed_within_their_roles_and_a_group_keeps_an_owner(app: TestApp) {
    let w = world(&app).await;
    let app = &app;
    let (_, admin) = &w.clients[3];
    let (_, owner) = &w.clients[4];
    let g = w.group.to_string();
    let id_of = |nick: &'static str| async move {
        app.store().members(w.group).await.unwrap().into_iter().find(|m| m.nickname == nick).map(|m| m.user_id)
    };

    // An admin invites staff by nickname, never by e-mail (that would tell who has an
    // account), and not as owners; unknown nicknames and members are field errors.
    let invite = |nickname: &'static str, role: &'static str| {
        let g = g.clone();
        async move {
            call(
                admin,
                app,
                "POST",
                "/api/admin/groups/members/invite",
                &[("group_id", g), ("nickname", nickname.into()), ("role", role.into())],
            )
            .await
        }
    };
    let (status, body) = invite("waiter@example.com", "staff").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("unknown_user"), "an address is not looked up: {body}");
    let (status, body) = invite("waiter", "staff").await;
    assert_eq!(status, 200, "{body}");
    assert!(id_of("waiter").await.is_none(), "an invitation is not a membership");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["invitations"][0]["nickname"], "waiter", "{body}");
    let (status, _) = invite("attendee", "owner").await;
    assert_eq!(status, 403, "admins do not make owners");
    let (status, body) = invite("nobody", "staff").await;
    assert_eq!(status, 422);
    assert!(body.contains("unknown_user"));
    let (status, body) = invite("staff", "staff").await;
    assert_eq!(status, 422);
    assert!(body.contains("already_member"));

    // The invited person sees it on /me and accepts: now a member with the role offered.
    let waiter = login(app, "waiter").await;
    let (status, body) = call(&waiter, app, "GET", "/api/me/invitations", &[]).await;
    assert_eq!(status, 200, "{body}");
    let mine: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((mine[0]["id"].as_i64(), mine[0]["role"].as_str()), (Some(w.group), Some("staff")), "{body}");
    let answer = |client: &reqwest::Client, accept: &'static str| {
        let (client, g) = (client.clone(), g.clone());
        async move {
            call(&client, app, "POST", "/api/me/invitations/answer", &[("group_id", g), ("accept", accept.into())])
                .await
        }
    };
    let (status, body) = answer(&waiter, "true").await;
    assert_eq!(status, 200, "{body}");
    assert!(id_of("waiter").await.is_some(), "accepting makes a member");
    let (status, _) = answer(&waiter, "true").await;
    assert_eq!(status, 404, "an invitation is answered once");

    // Declined and withdrawn invitations make nobody a member.
    let (_, attendee) = &w.clients[1];
    assert_eq!(invite("attendee", "admin").await.0, 200);
    assert_eq!(answer(attendee, "false").await.0, 200);
    assert!(id_of("attendee").await.is_none(), "declining makes no member");
    assert_eq!(invite("attendee", "staff").await.0, 200);
    let attendee_id = app.store().user_id_by_nickname("attendee").await.unwrap().unwrap().to_string();
    let (status, body) = call(
        admin,
        app,
        "POST",
        "/api/admin/groups/invitations/revoke",
        &[("group_id", g.clone()), ("user_id", attendee_id)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(answer(attendee, "true").await.0, 404, "a withdrawn invitation cannot be accepted");
    assert!(id_of("attendee").await.is_none());
    let (_, body) = call(attendee, app, "GET", "/api/me/invitations", &[]).await;
    assert_eq!(body.trim(), "[]");

    // Admins do not touch owners; the last owner stays.
    let owner_id = id_of("owner").await.unwrap().to_string();
    let (status, _) = call(
        admin,
        app,
        "POST",
        "/api/admin/groups/members/role",
        &[("group_id", g.clone()), ("user_id", owner_id.clone()), ("role", "remove".into())],
    )
    .await;
    assert_eq!(status, 403);
    let (status, body) = call(
        owner,
        app,
        "POST",
        "/api/admin/groups/members/role",
        &[("group_id", g.clone()), ("user_id", owner_id.clone()), ("role", "admin".into())],
    )
    .await;
    assert_eq!(status, 409, "{body}");
    assert!(body.contains("last_owner"));
    let (status, _) = call(owner, app, "POST", "/api/admin/groups/leave", &[("group_id", g.clone())]).await;
    assert_eq!(status, 409, "the last owner cannot leave");

    // Ownership passes to the admin; the former owner is an admin and may leave.
    let admin_id = id_of("admin").await.unwrap().to_string();
    let (status, _) = call(
        admin,
        app,
        "POST",
        "/api/admin/groups/transfer",
        &[("group_id", g.clone()), ("user_id", admin_id.clone())],
    )
    .await;
    assert_eq!(status, 403, "only the owner transfers");
    let (status, body) =
        call(owner, app, "POST", "/api/admin/groups/transfer", &[("group_id", g.clone()), ("user_id", admin_id)]).await;
    assert_eq!(status, 200, "{body}");
    let roles: Vec<(String, String)> = app
        .store()
        .members(w.group)
        .await
        .unwrap()
        .into_iter()
        .map(|m| (m.nickname, m.role.as_str().to_string()))
        .collect();
    assert!(
        roles.contains(&("admin".into(), "owner".into())) && roles.contains(&("owner".into(), "admin".into())),
        "{roles:?}"
    );
    let (status, _) = call(owner, app, "POST", "/api/admin/groups/leave", &[("group_id", g.clone())]).await;
    assert_eq!(status, 200);
    assert!(id_of("owner").await.is_none());
    let (status, _) = call(owner, app, "GET", "/api/admin/groups/get", &[("group_id", g.clone())]).await;
    assert_eq!(status, 403, "a former member sees nothing");
    let (_, page) = call(admin, app, "GET", "/api/admin/groups/get", &[("group_id", g)]).await;
    for action in
        ["member.invite", "member.join", "member.decline", "member.uninvite", "member.transfer", "member.leave"]
    {
        assert!(page.contains(action), "{action} in the group's log");
    }
}

async fn duplicating_copies_everything_but_the_registrations_onto_a_new_date(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let before = app.store().admin_event(w.event).await.unwrap().unwrap();
    let new_start = (before.span.starts_at + Duration::days(28)).with_timezone(&chrono_tz::Asia::Tokyo);
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/events/duplicate",
        &[("id", w.event.to_string()), ("starts_local", new_start.format("%Y-%m-%dT%H:%M").to_string())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let copy = app.store().admin_event(body.parse().unwrap()).await.unwrap().unwrap();
    assert_eq!(copy.status, tsudoi::events::model::EventStatus::Draft);
    assert_eq!(copy.form.title, before.form.title);
    // The form's minute precision: the copy starts at the minute asked for.
    let asked = new_start.format("%Y-%m-%dT%H:%M").to_string();
    assert_eq!(copy.form.starts_local, asked);
    assert_eq!(copy.span.ends_at - copy.span.starts_at, before.span.ends_at - before.span.starts_at);
    assert_eq!(copy.frames.len(), 1);
    assert_eq!((copy.frames[0].seats.limit, copy.frames[0].seats.accepted, copy.frames[0].seats.waiting), (1, 0, 0));
    assert_eq!(copy.questions.len(), 1);
    assert!(app.store().attendees(copy.id).await.unwrap().is_empty());
    let (status, _) = call(
        owner,
        &app,
        "POST",
        "/api/admin/events/duplicate",
        &[("id", w.event.to_string()), ("starts_local", "soon".into())],
    )
    .await;
    assert_eq!(status, 422);
}

async fn inbox_of(app: &TestApp, nickname: &str) -> Vec<tsudoi::messages::model::InboxMessage> {
    let id = app.store().find_login(nickname).await.unwrap().unwrap().0;
    app.store().inbox(id, 100).await.unwrap()
}

async fn organizers_write_to_an_audience_and_tsudoi_writes_on_changes(app: TestApp) {
    use tsudoi::messages::model::MessageKind;
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let (_, attendee) = &w.clients[1];
    let ev = w.event.to_string();
    let kinds = |msgs: &[tsudoi::messages::model::InboxMessage]| msgs.iter().map(|m| m.kind).collect::<Vec<_>>();

    // To the confirmed only: the attendee has it, the waitlisted person does not.
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/messages/send",
        &[
            ("event_id", ev.clone()),
            ("audience", "confirmed".into()),
            ("subject", "持ち物".into()),
            ("body", "PC を持ってきてください".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let sent: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(sent[0]["recipients"], 1);
    assert_eq!(sent[0]["delivery"]["pending"], 0, "no SMTP configured: nothing queued for e-mail");
    assert_eq!(inbox_of(&app, "attendee").await[0].subject, "持ち物");
    assert!(inbox_of(&app, "waiter").await.is_empty());
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/messages/send",
        &[("event_id", ev.clone()), ("audience", "frame:x".into()), ("subject", String::new()), ("body", "x".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("subject") && body.contains("audience"));

    // The recipient reads it; nobody else can mark it.
    let msg_id = inbox_of(&app, "attendee").await[0].id.to_string();
    let (status, _) = call(owner, &app, "POST", "/api/me/messages/read", &[("id", msg_id.clone())]).await;
    assert_eq!(status, 404);
    let (status, _) = call(attendee, &app, "POST", "/api/me/messages/read", &[("id", msg_id)]).await;
    assert_eq!(status, 200);
    assert!(inbox_of(&app, "attendee").await[0].read);

    // Raising the capacity promotes the waiter, who is told.
    let (status, _) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/capacity",
        &[("event_id", ev.clone()), ("frame_id", w.frame.to_string()), ("capacity", "2".into())],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(kinds(&inbox_of(&app, "waiter").await), [MessageKind::Promotion]);

    // Moving the start tells everyone registered; renaming alone does not.
    let current = app.store().admin_event(w.event).await.unwrap().unwrap().form;
    let mut form: Vec<(&str, String)> = vec![
        ("id", ev.clone()),
        ("title", "Renamed".into()),
        ("catch", current.catch.clone()),
        ("description", current.description.clone()),
        ("starts_local", current.starts_local.clone()),
        ("ends_local", current.ends_local.clone()),
        ("time_zone", current.time_zone.clone()),
        ("venue_kind", current.venue_kind.clone()),
        ("place", current.place.clone()),
        ("address", current.address.clone()),
        ("prefecture", current.prefecture.clone()),
        ("online_url", current.online_url.clone()),
        ("language", current.language.clone()),
        ("hashtag", current.hashtag.clone()),
    ];
    assert_eq!(call(owner, &app, "POST", "/api/admin/events/update", &form).await.0, 200);
    assert_eq!(inbox_of(&app, "waiter").await.len(), 1, "a new title is not a change of plans");
    for (k, v) in form.iter_mut() {
        if *k == "ends_local" {
            *v = format!("{}T23:59", &current.ends_local[..10]);
        }
    }
    assert_eq!(call(owner, &app, "POST", "/api/admin/events/update", &form).await.0, 200);
    assert_eq!(kinds(&inbox_of(&app, "waiter").await)[0], MessageKind::EventChanged);
    assert_eq!(kinds(&inbox_of(&app, "attendee").await)[0], MessageKind::EventChanged);

    // Cancelling tells everyone registered, once.
    for _ in 0..2 {
        let (status, _) =
            call(owner, &app, "POST", "/api/admin/events/status", &[("id", ev.clone()), ("action", "cancel".into())])
                .await;
        assert_eq!(status, 200);
    }
    let waiter = kinds(&inbox_of(&app, "waiter").await);
    assert_eq!(waiter.iter().filter(|k| **k == MessageKind::EventCancelled).count(), 1, "{waiter:?}");

    // The organizer sees every message of the event with its reach.
    let (_, list) = call(owner, &app, "GET", "/api/admin/messages/list", &[("event_id", ev)]).await;
    let list: Value = serde_json::from_str(&list).unwrap();
    let kinds_sent: Vec<&str> = list.as_array().unwrap().iter().map(|m| m["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds_sent, ["event_cancelled", "event_changed", "promotion", "organizer"]);
}

async fn a_registration_is_confirmed_by_message_and_the_day_before_brings_one_reminder(app: TestApp) {
    use tsudoi::messages::model::MessageKind;
    let w = world(&app).await;
    let (_, staff) = &w.clients[2];
    // Staff registers for the event (full: waitlisted) and is told.
    let (status, body) =
        call(staff, &app, "POST", "/api/registrations/register", &[("event_id", w.event.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(inbox_of(&app, "staff").await[0].kind, MessageKind::Confirmation);

    // The event starts in three days: no reminder yet. Move it to tomorrow: one reminder to
    // the confirmed attendee, and only one however often the task runs.
    tsudoi::messages::notify::send_due_reminders(&app.state).await;
    assert!(inbox_of(&app, "attendee").await.iter().all(|m| m.kind != MessageKind::Reminder));
    let form = app.store().admin_event(w.event).await.unwrap().unwrap();
    let tomorrow = tsudoi::time::now() + Duration::hours(20);
    let fields = tsudoi::server::store::EventFields {
        title: form.form.title.clone(),
        catch: String::new(),
        description: String::new(),
        starts_at: tomorrow,
        ends_at: tomorrow + Duration::hours(2),
        time_zone: "Asia/Tokyo".into(),
        venue_kind: tsudoi::events::model::VenueKind::Online,
        place: String::new(),
        address: String::new(),
        prefecture: None,
        online_url: None,
        language: tsudoi::events::model::SpokenLanguage::Ja,
        hashtag: String::new(),
        tag_ids: Vec::new(),
        lat: None,
        lon: None,
        beginner_ok: false,
        hands_on: false,
        english: None,
    };
    app.store().update_event(w.event, &fields, tsudoi::time::now()).await.unwrap();
    for _ in 0..3 {
        tsudoi::messages::notify::send_due_reminders(&app.state).await;
    }
    let reminders: Vec<_> =
        inbox_of(&app, "attendee").await.into_iter().filter(|m| m.kind == MessageKind::Reminder).collect();
    assert_eq!(reminders.len(), 1);
    assert!(reminders[0].body.contains(&format!("/events/{}/cant-go", w.event)));
    assert!(
        inbox_of(&app, "waiter").await.iter().all(|m| m.kind != MessageKind::Reminder),
        "the waitlist is not reminded"
    );

    // The reminder's link shows a page; only its button (a POST) releases the seat.
    let (_, attendee) = &w.clients[1];
    let page = attendee.get(app.url(&format!("/events/{}/cant-go", w.event))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(
        app.store()
            .attendees(w.event)
            .await
            .unwrap()
            .iter()
            .filter(|a| a.status == tsudoi::registrations::model::RegStatus::Confirmed)
            .count(),
        1
    );
    let (status, _) =
        call(attendee, &app, "POST", "/api/registrations/cancel", &[("event_id", w.event.to_string())]).await;
    assert_eq!(status, 200);
    let waiter = inbox_of(&app, "waiter").await;
    assert_eq!(waiter[0].kind, MessageKind::Promotion, "the seat went to the waitlist at once");
}

async fn followers_hear_of_new_events_and_see_them_on_me(app: TestApp) {
    use tsudoi::messages::model::MessageKind;
    let w = world(&app).await;
    let (_, attendee) = &w.clients[1];
    let (_, owner) = &w.clients[4];
    let (status, _) = call(
        &w.clients[0].1,
        &app,
        "POST",
        "/api/groups/follow",
        &[("slug", "home".into()), ("follow", "true".into())],
    )
    .await;
    assert_eq!(status, 401, "signed-in users follow");
    let (status, body) =
        call(attendee, &app, "POST", "/api/groups/follow", &[("slug", "home".into()), ("follow", "true".into())]).await;
    assert_eq!(status, 200, "{body}");
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((state["followers"].as_i64(), state["following"].as_bool()), (Some(1), Some(true)));
    let (status, _) =
        call(attendee, &app, "POST", "/api/groups/follow", &[("slug", "nope".into()), ("follow", "true".into())]).await;
    assert_eq!(status, 404);

    let mut create = form_fields("フォロワー向け新イベント");
    create.extend([("group_id", w.group.to_string()), ("capacity", "10".into())]);
    let (_, id) = call(owner, &app, "POST", "/api/admin/events/create", &create).await;
    assert!(inbox_of(&app, "attendee").await.iter().all(|m| m.kind != MessageKind::NewEvent), "a draft says nothing");
    let (status, _) =
        call(owner, &app, "POST", "/api/admin/events/status", &[("id", id.clone()), ("action", "publish".into())])
            .await;
    assert_eq!(status, 200);
    let news: Vec<_> =
        inbox_of(&app, "attendee").await.into_iter().filter(|m| m.kind == MessageKind::NewEvent).collect();
    assert_eq!(news.len(), 1);
    assert!(news[0].subject.contains("フォロワー向け新イベント"));
    // Unpublishing and publishing again is not news again (once per event).
    for action in ["unpublish", "publish"] {
        let form = [("id", id.clone()), ("action", action.to_string())];
        assert_eq!(call(owner, &app, "POST", "/api/admin/events/status", &form).await.0, 200, "{action}");
    }
    let again = inbox_of(&app, "attendee").await.into_iter().filter(|m| m.kind == MessageKind::NewEvent).count();
    assert_eq!(again, 1, "followers are told once");
    let (_, feed) = call(attendee, &app, "GET", "/api/me/feed", &[]).await;
    let feed: Value = serde_json::from_str(&feed).unwrap();
    let ids: Vec<i64> = feed.as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
    assert!(ids.contains(&id.parse::<i64>().unwrap()) && ids.contains(&w.event), "{ids:?}");
    let (_, body) =
        call(attendee, &app, "POST", "/api/groups/follow", &[("slug", "home".into()), ("follow", "false".into())])
            .await;
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((state["followers"].as_i64(), state["following"].as_bool()), (Some(0), Some(false)));
    let (_, feed) = call(attendee, &app, "GET", "/api/me/feed", &[]).await;
    assert_eq!(feed, "[]");
}

async fn the_editor_sets_tags_position_flags_and_speakers(app: TestApp) {
    use tsudoi::server::store::NewTag;
    use tsudoi::tags::model::TagKind;
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let (_, staff) = &w.clients[2];
    let tag = |slug: &str, name: &str, kind: TagKind, aliases: &[&str]| NewTag {
        slug: slug.into(),
        name: name.into(),
        kind,
        description: String::new(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    };
    app.store()
        .insert_tags(&[tag("rust", "Rust", TagKind::Topic, &["rustlang"]), tag("docker", "Docker", TagKind::Tool, &[])])
        .await
        .unwrap();
    let ev = w.event.to_string();
    let with = |pairs: &[(&'static str, &str)]| {
        let mut f = form_fields("Tagged");
        for (k, v) in pairs {
            if let Some(slot) = f.iter_mut().find(|(name, _)| name == k) {
                slot.1 = v.to_string();
            } else {
                f.push((k, v.to_string()));
            }
        }
        f.push(("id", ev.clone()));
        f
    };
    let before = snapshot(&app, &w).await;
    let (status, body) =
        call(owner, &app, "POST", "/api/admin/events/update", &with(&[("tags", "Cobol, rust"), ("lat", "35.6")])).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("unknown_tag") && body.contains("Cobol") && body.contains("invalid_position"), "{body}");
    assert_eq!(snapshot(&app, &w).await, before);

    let form = with(&[
        ("tags", "rustlang, Docker"),
        ("lat", "35.6812"),
        ("lon", "139.7671"),
        ("beginner_ok", "on"),
        ("hands_on", "on"),
    ]);
    let (status, body) = call(owner, &app, "POST", "/api/admin/events/update", &form).await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["form"]["tags"], "Rust, Docker", "aliases resolve to names");
    assert_eq!((v["form"]["lat"].as_str(), v["form"]["beginner_ok"].as_str()), (Some("35.6812"), Some("on")));
    let (_, api) = app.get(&format!("/api/v2/events/?event_id={}", w.event)).await;
    let api: Value = serde_json::from_str(&api).unwrap();
    assert_eq!(api["events"][0]["tags"][0]["name"], "Rust");
    assert_eq!(api["events"][0]["tools"][0]["name"], "Docker");
    assert_eq!(api["events"][0]["lat"], "35.681200000000");
    let (_, search) = app.get("/api/events/search?tags=rust&pref=beginner,hands-on").await;
    assert!(search.contains("Tagged"), "search follows the editor: {search}");

    // A speaker linked to an account may then attach materials.
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/speakers/add",
        &[("event_id", ev.clone()), ("name", "Staff Speaker".into()), ("nickname", "nobody".into())],
    )
    .await;
    assert_eq!(status, 422);
    assert!(body.contains("speaker_nickname"));
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/speakers/add",
        &[
            ("event_id", ev.clone()),
            ("name", "Staff Speaker".into()),
            ("talk_title", "Ownership".into()),
            ("nickname", "staff".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let v: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(v["speakers"][0]["nickname"], "staff");
    let (status, body) = call(
        staff,
        &app,
        "POST",
        "/api/materials/add",
        &[
            ("event_id", ev.clone()),
            ("url", "https://slides.example/s".into()),
            ("title", "Slides".into()),
            ("kind", "slide".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let speaker_id = v["speakers"][0]["id"].to_string();
    let (status, _) = call(
        owner,
        &app,
        "POST",
        "/api/admin/speakers/delete",
        &[("event_id", ev.clone()), ("speaker_id", speaker_id)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(app.store().admin_event(w.event).await.unwrap().unwrap().speakers.is_empty());
}

async fn organizers_see_the_lottery_draw_log_with_its_seed(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let starts = app.store().admin_event(w.event).await.unwrap().unwrap().span.starts_at;
    let local =
        |t: chrono::DateTime<Utc>| t.with_timezone(&chrono_tz::Asia::Tokyo).format("%Y-%m-%dT%H:%M").to_string();
    // A lottery frame whose draw is due at once; two applicants.
    let (status, body) = call(
        owner,
        &app,
        "POST",
        "/api/admin/frames/add",
        &[
            ("event_id", w.event.to_string()),
            ("name", "抽選".into()),
            ("capacity", "1".into()),
            ("method", "lottery".into()),
            ("closes_local", local(tsudoi::time::now() + Duration::minutes(1))),
            ("draw_local", local(tsudoi::time::now() + Duration::minutes(2))),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let frame: i64 = serde_json::from_str::<Value>(&body).unwrap()["frames"][1]["id"].as_i64().unwrap();
    for who in [2, 3] {
        let (_, c) = &w.clients[who];
        let (status, body) = call(
            c,
            &app,
            "POST",
            "/api/registrations/register",
            &[("event_id", w.event.to_string()), ("frame_id", frame.to_string())],
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
    let outcome = app.store().draw_lottery(frame, 42, starts - Duration::hours(1)).await.unwrap().expect("drawn");
    assert_eq!(outcome.winners, 1);
    let (_, body) = call(owner, &app, "GET", "/api/admin/events/get", &[("id", w.event.to_string())]).await;
    let v: Value = serde_json::from_str(&body).unwrap();
    let draw = &v["draws"][0];
    assert_eq!(draw["seed"], "42");
    assert_eq!(draw["winners"], 1);
    let entries = draw["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let nicks: Vec<&str> = entries.iter().map(|e| e[1].as_str().unwrap()).collect();
    assert!(nicks.contains(&"staff") && nicks.contains(&"admin"), "{nicks:?}");
    assert_eq!(entries.iter().filter(|e| e[2] == true).count(), 1);
}

async fn destructive_and_membership_calls_are_allowed_exactly_for_their_roles(app: TestApp) {
    let w = world(&app).await;
    let (_, owner) = &w.clients[4];
    let ev = w.event.to_string();
    let editors = ["admin", "owner"];
    for (i, (who, client)) in w.clients.iter().enumerate() {
        // Fresh targets for this caller, made by the owner.
        let (_, body) = call(
            owner,
            &app,
            "POST",
            "/api/admin/frames/add",
            &[
                ("event_id", ev.clone()),
                ("name", format!("F{i}")),
                ("capacity", "3".into()),
                ("method", "first_come".into()),
            ],
        )
        .await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let frame = v["frames"].as_array().unwrap().last().unwrap()["id"].to_string();
        let (_, body) = call(
            owner,
            &app,
            "POST",
            "/api/admin/questions/add",
            &[("event_id", ev.clone()), ("kind", "text".into()), ("label", format!("Q{i}"))],
        )
        .await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let question = v["questions"].as_array().unwrap().last().unwrap()["id"].to_string();
        let (_, body) = call(
            owner,
            &app,
            "POST",
            "/api/admin/speakers/add",
            &[("event_id", ev.clone()), ("name", format!("S{i}"))],
        )
        .await;
        let v: Value = serde_json::from_str(&body).unwrap();
        let speaker = v["speakers"].as_array().unwrap().last().unwrap()["id"].to_string();
        let newcomer = format!("newcomer{i}");
        app.store()
            .insert_users(&[NewUser {
                password_hash: Some("x".into()),
                email: Some(format!("{newcomer}@example.com")),
                ..NewUser::attendee(&newcomer)
            }])
            .await
            .unwrap();
        let starts = app.store().admin_event(w.event).await.unwrap().unwrap().form.starts_local;
        let calls: Vec<Call> = vec![
            ("delete frame", "/api/admin/frames/delete", vec![("event_id", ev.clone()), ("frame_id", frame)]),
            (
                "delete question",
                "/api/admin/questions/delete",
                vec![("event_id", ev.clone()), ("question_id", question)],
            ),
            ("delete speaker", "/api/admin/speakers/delete", vec![("event_id", ev.clone()), ("speaker_id", speaker)]),
            ("duplicate", "/api/admin/events/duplicate", vec![("id", ev.clone()), ("starts_local", starts)]),
            (
                "invite member",
                "/api/admin/groups/members/invite",
                vec![("group_id", w.group.to_string()), ("nickname", newcomer.clone()), ("role", "staff".into())],
            ),
        ];
        for (name, path, form) in calls {
            let before = format!("{}|{:?}", snapshot(&app, &w).await, app.store().members(w.group).await.unwrap());
            let (status, body) = call(client, &app, "POST", path, &form).await;
            if editors.contains(who) {
                assert_eq!(status, 200, "{name} as {who}: {body}");
            } else {
                assert_eq!(status, if *who == "anonymous" { 401 } else { 403 }, "{name} as {who}: {body}");
                let after = format!("{}|{:?}", snapshot(&app, &w).await, app.store().members(w.group).await.unwrap());
                assert_eq!(after, before, "{name} as {who} changed nothing");
            }
        }
    }
    // Transfer is the owner's alone; leaving is anyone's who is a member.
    let (_, admin) = &w.clients[3];
    let (_, attendee) = &w.clients[1];
    let staff_id =
        app.store().members(w.group).await.unwrap().into_iter().find(|m| m.nickname == "staff").unwrap().user_id;
    let (status, _) = call(
        admin,
        &app,
        "POST",
        "/api/admin/groups/transfer",
        &[("group_id", w.group.to_string()), ("user_id", staff_id.to_string())],
    )
    .await;
    assert_eq!(status, 403);
    let (status, _) =
        call(attendee, &app, "POST", "/api/admin/groups/leave", &[("group_id", w.group.to_string())]).await;
    assert_eq!(status, 403, "not a member");
    let (_, staff) = &w.clients[2];
    let (status, _) = call(staff, &app, "POST", "/api/admin/groups/leave", &[("group_id", w.group.to_string())]).await;
    assert_eq!(status, 200);
}

/// The work SQLite hands out under its single writer is handed out exactly once on every
/// backend, also when claimers race: e-mail deliveries (with retries and failures counted
/// for organizers), day-before reminders, the last owner of a group and the last frame of an
/// event.
async fn deliveries_reminders_owners_and_frames_hold_under_concurrent_calls(app: TestApp) {
    use futures::future::join_all;
    use tsudoi::messages::model::MessageKind;
    use tsudoi::server::store::NewMessage;
    let w = world(&app).await;
    let store = app.store();
    let members = store.members(w.group).await.unwrap();
    let id_of = |nick: &str| members.iter().find(|m| m.nickname == nick).unwrap().user_id;
    let attendees = store.attendees(w.event).await.unwrap();
    assert_eq!(attendees.len(), 2);
    let no_mail = store
        .insert_users(&[NewUser {
            nickname: "no_mail".into(),
            display_name: "No Mail".into(),
            email: None,
            password_hash: None,
            bio: String::new(),
        }])
        .await
        .unwrap()[0];
    let reach = store.audience_user_ids(w.event, tsudoi::messages::model::Audience::All).await.unwrap();
    assert_eq!(reach.len(), 2, "confirmed and waitlisted");

    // Deliveries: four workers claim at once; each e-mail goes to exactly one of them.
    let now = tsudoi::time::now();
    let message = store
        .create_message(&NewMessage {
            event_id: Some(w.event),
            sender_id: Some(id_of("owner")),
            kind: MessageKind::Organizer,
            audience: "all".into(),
            subject: "お知らせ".into(),
            body: "本文".into(),
            recipients: [reach.clone(), vec![no_mail, no_mail]].concat(),
            email: true,
            at: now,
        })
        .await
        .unwrap();
    let lease = Duration::minutes(5);
    let claims = join_all((0..4).map(|_| store.claim_deliveries(now, lease, 50))).await;
    let mut jobs: Vec<_> = claims.into_iter().flat_map(|c| c.unwrap()).collect();
    jobs.sort_by_key(|j| j.user_id);
    let mut expected = reach.clone();
    expected.sort();
    assert_eq!(jobs.iter().map(|j| j.user_id).collect::<Vec<_>>(), expected, "each e-mail claimed once");
    assert!(jobs.iter().all(|j| j.message_id == message && j.attempts == 0 && j.subject == "お知らせ"));
    assert!(jobs.iter().all(|j| j.to.ends_with("@example.com")), "{jobs:?}");
    assert!(store.claim_deliveries(now, lease, 50).await.unwrap().is_empty(), "leased");
    let delivery = |m: &tsudoi::messages::model::SentMessage| m.delivery;
    store.record_delivery(message, jobs[0].user_id, &Ok(()), None).await.unwrap();
    store.record_delivery(message, jobs[1].user_id, &Err("421 busy".into()), Some(now)).await.unwrap();
    let sent = store.sent_messages(w.event).await.unwrap();
    assert_eq!((sent.len(), sent[0].recipients, sent[0].read), (1, 3, 0));
    let d = delivery(&sent[0]);
    assert_eq!((d.none, d.pending, d.retrying, d.sent, d.failed), (1, 1, 1, 1, 0));
    // The retry is due again (and claimed once more, with its attempt counted); then it fails
    // for good.
    let retry = store.claim_deliveries(now, lease, 50).await.unwrap();
    assert_eq!(retry.iter().map(|j| (j.user_id, j.attempts)).collect::<Vec<_>>(), vec![(jobs[1].user_id, 1)]);
    store.record_delivery(message, jobs[1].user_id, &Err("550 no such user".into()), None).await.unwrap();
    let d = delivery(&store.sent_messages(w.event).await.unwrap()[0]);
    assert_eq!((d.none, d.pending, d.retrying, d.sent, d.failed), (1, 0, 0, 1, 1));
    assert!(store.claim_deliveries(now + Duration::hours(1), lease, 50).await.unwrap().is_empty());
    assert!(store.mark_read(no_mail, message, now).await.unwrap());
    assert!(store.mark_read(no_mail, message, now + Duration::hours(1)).await.unwrap(), "idempotent");
    assert!(!store.mark_read(id_of("staff"), message, now).await.unwrap(), "not a recipient");
    assert_eq!(store.sent_messages(w.event).await.unwrap()[0].read, 1);

    // Reminders: the event starts within the window; racing claimers remind it once.
    let window = Duration::days(4);
    let claims = join_all((0..4).map(|_| store.claim_due_reminders(now, window))).await;
    let claimed: Vec<i64> = claims.into_iter().flat_map(|c| c.unwrap()).collect();
    assert_eq!(claimed, vec![w.event]);
    assert!(store.claim_due_reminders(now, window).await.unwrap().is_empty());

    // Two owners step down at once: one of them stays owner.
    store.set_member(w.group, id_of("admin"), Some(Role::Owner)).await.unwrap();
    let steps =
        join_all(["owner", "admin"].map(|nick| store.set_member(w.group, id_of(nick), Some(Role::Admin)))).await;
    assert_eq!(steps.iter().filter(|r| r.is_ok()).count(), 1, "{steps:?}");
    assert!(steps.contains(&Err(tsudoi::error::AppError::Conflict(tsudoi::error::Conflict::LastOwner))));
    let owners = store.members(w.group).await.unwrap().into_iter().filter(|m| m.role == Role::Owner).count();
    assert_eq!(owners, 1);
    // Ownership moves in one step (the old owner becomes an admin).
    let owner = store.members(w.group).await.unwrap().into_iter().find(|m| m.role == Role::Owner).unwrap().user_id;
    store.transfer_ownership(w.group, owner, id_of("staff")).await.unwrap();
    let roles: Vec<_> = store.members(w.group).await.unwrap().into_iter().map(|m| (m.user_id, m.role)).collect();
    assert!(roles.contains(&(id_of("staff"), Role::Owner)) && roles.contains(&(owner, Role::Admin)), "{roles:?}");

    // Two frames of an event deleted at once: one stays.
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame::first_come("A", 5), NewFrame::first_come("B", 5)],
            ..NewEvent::minimal(w.group, "Two frames", tsudoi::time::now() + Duration::days(20))
        }])
        .await
        .unwrap()[0];
    let frames: Vec<i64> = store.admin_event(event).await.unwrap().unwrap().frames.iter().map(|f| f.id).collect();
    let deletions = join_all(frames.iter().map(|f| store.delete_frame(event, *f))).await;
    assert_eq!(deletions.iter().filter(|r| r.is_ok()).count(), 1, "{deletions:?}");
    assert!(deletions.contains(&Err(tsudoi::error::AppError::Conflict(tsudoi::error::Conflict::LastFrame))));
    assert_eq!(store.admin_event(event).await.unwrap().unwrap().frames.len(), 1);
}

on_both_backends!(
    every_admin_call_is_allowed_exactly_for_its_roles,
    the_editor_validates_beside_the_fields_and_keeps_the_calendar_in_step,
    capacity_lowering_is_refused_raising_promotes_and_checkin_and_csv_work,
    a_signed_in_user_creates_a_group_and_a_draft_then_publishes_it,
    frames_questions_and_manual_moves_follow_the_rules,
    members_are_managed_within_their_roles_and_a_group_keeps_an_owner,
    duplicating_copies_everything_but_the_registrations_onto_a_new_date,
    organizers_write_to_an_audience_and_tsudoi_writes_on_changes,
    a_registration_is_confirmed_by_message_and_the_day_before_brings_one_reminder,
    followers_hear_of_new_events_and_see_them_on_me,
    the_editor_sets_tags_position_flags_and_speakers,
    organizers_see_the_lottery_draw_log_with_its_seed,
    destructive_and_membership_calls_are_allowed_exactly_for_their_roles,
    deliveries_reminders_owners_and_frames_hold_under_concurrent_calls,
);
