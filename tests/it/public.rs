//! The public read surfaces over HTTP: calendars checked by a third-party iCalendar parser,
//! Atom checked by a feed parser, the connpass-compatible API (contract and client request
//! shapes), JSON-LD, sitemap, materials, and the calendar SEQUENCE trigger.

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use tsudoi::admin::model::Role;
use tsudoi::events::model::{EventStatus, VenueKind};
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::config::Config;
use tsudoi::server::ratelimit::RateLimitConfig;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewRegistration, NewSpeaker, NewTag, NewUser};
use tsudoi::tags::model::TagKind;

use crate::helpers::{TempDb, TestApp, fresh_sqlite, spawn_app, spawn_with};

const PASSWORD: &str = "correct horse battery";

struct Ids {
    rust_night: i64,
    berlin: i64,
    cancelled: i64,
    draft: i64,
    past: i64,
    dai: i64,
}

fn jst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Tokyo.with_ymd_and_hms(y, m, d, h, min, 0).unwrap().with_timezone(&Utc)
}

fn reg(user_id: i64, status: RegStatus, code: &str) -> NewRegistration {
    NewRegistration { user_id, status, receipt_code: code.into(), created_at: jst(2026, 11, 1, 12, 0) }
}

/// Two groups, three tags, five events (one draft, one cancelled, one past, one in Berlin
/// across the 2027 switch to summer time), five users with roles, speakers, registrations.
async fn fixture(app: &TestApp) -> Ids {
    // The events below sit on fixed dates (a DST switch in March 2027, JST dates the API
    // prints): the server's clock is pinned to a day before them, whatever day this runs.
    tsudoi::time::clock::pin(jst(2026, 12, 1, 12, 0));
    let store = app.store();
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    let user = |nick: &str| NewUser {
        nickname: nick.into(),
        display_name: format!("{nick} san"),
        email: Some(format!("{nick}@example.com")),
        password_hash: Some(hash.clone()),
        bio: format!("I am {nick}."),
    };
    let u = store.insert_users(&[user("akiko"), user("ben"), user("chie"), user("dai"), user("eri")]).await.unwrap();
    let (akiko, ben, chie, dai, eri) = (u[0], u[1], u[2], u[3], u[4]);
    let g = store
        .insert_groups(&[
            NewGroup {
                slug: "rust-tokyo".into(),
                title: "Rust.Tokyo".into(),
                description: "Rust の勉強会".into(),
                website: Some("https://rust.tokyo/".into()),
                image_url: None,
                members: vec![(akiko, Role::Owner), (ben, Role::Admin)],
            },
            NewGroup {
                slug: "berlin-go".into(),
                title: "Berlin Gophers".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![(eri, Role::Owner)],
            },
        ])
        .await
        .unwrap();
    let tag = |slug: &str, name: &str, kind: TagKind, aliases: &[&str]| NewTag {
        slug: slug.into(),
        name: name.into(),
        kind,
        description: String::new(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    };
    let t = store
        .insert_tags(&[
            tag("rust", "Rust", TagKind::Topic, &["rustlang"]),
            tag("python", "Python", TagKind::Topic, &["py"]),
            tag("docker", "Docker", TagKind::Tool, &[]),
        ])
        .await
        .unwrap();
    let created = jst(2026, 10, 1, 9, 0);
    let events = vec![
        NewEvent {
            catch: "はじめての Rust, 所有権; 借用".into(),
            description: "## 内容\n\n所有権と**借用**を学びます。\nカンマ, セミコロン; バックスラッシュ \\ も。".into(),
            ends_at: jst(2027, 1, 15, 21, 30),
            venue_kind: VenueKind::Offline,
            place: "Tsudoi Hall".into(),
            address: "東京都千代田区丸の内1-1".into(),
            prefecture: Some("tokyo".into()),
            lat: Some(35.681236),
            lon: Some(139.767125),
            hashtag: "#rusttokyo".into(),
            created_at: created,
            tag_ids: vec![t[0], t[2]],
            frames: vec![NewFrame {
                registrations: vec![reg(dai, RegStatus::Confirmed, "R-DAI-1")],
                ..NewFrame::first_come("一般", 2)
            }],
            speakers: vec![NewSpeaker {
                name: "Chie".into(),
                affiliation: "Ferris Inc.".into(),
                bio: String::new(),
                talk_title: "Ownership".into(),
                user_id: Some(chie),
            }],
            ..NewEvent::minimal(g[0], "Rust 入門ハンズオン", jst(2027, 1, 15, 19, 0))
        },
        NewEvent {
            // 23:00 CET on 27 March to 04:00 CEST on 28 March 2027: the clocks go forward
            // at 02:00 in between.
            starts_at: Utc.with_ymd_and_hms(2027, 3, 27, 22, 0, 0).unwrap(),
            ends_at: Utc.with_ymd_and_hms(2027, 3, 28, 2, 0, 0).unwrap(),
            time_zone: "Europe/Berlin".into(),
            created_at: created + chrono::Duration::days(1),
            tag_ids: vec![t[1]],
            language: tsudoi::events::model::SpokenLanguage::En,
            frames: vec![NewFrame {
                registrations: vec![
                    reg(eri, RegStatus::Confirmed, "R-ERI-2"),
                    reg(dai, RegStatus::Waitlisted, "R-DAI-2"),
                ],
                ..NewFrame::first_come("General", 1)
            }],
            ..NewEvent::minimal(g[1], "Go night across the DST switch", jst(2027, 3, 28, 7, 0))
        },
        NewEvent {
            status: EventStatus::Cancelled,
            prefecture: Some("osaka".into()),
            venue_kind: VenueKind::Offline,
            created_at: created + chrono::Duration::days(2),
            tag_ids: vec![t[1]],
            frames: vec![NewFrame::first_come("一般", 10)],
            ..NewEvent::minimal(g[0], "中止になった Python 勉強会", jst(2027, 1, 20, 19, 0))
        },
        NewEvent {
            status: EventStatus::Draft,
            created_at: created,
            ..NewEvent::minimal(g[0], "Draft secret plan", jst(2027, 2, 1, 19, 0))
        },
        NewEvent {
            created_at: jst(2026, 5, 1, 9, 0),
            tag_ids: vec![t[0]],
            frames: vec![NewFrame {
                registrations: vec![reg(dai, RegStatus::Confirmed, "R-DAI-5")],
                ..NewFrame::first_come("一般", 50)
            }],
            ..NewEvent::minimal(g[0], "Past Rust night", jst(2026, 6, 1, 19, 0))
        },
    ];
    let e = store.insert_events(&events).await.unwrap();
    Ids { rust_night: e[0], berlin: e[1], cancelled: e[2], draft: e[3], past: e[4], dai }
}

async fn get_text(app: &TestApp, path: &str) -> (u16, reqwest::header::HeaderMap, String) {
    let res = app.client.get(app.url(path)).send().await.expect("request");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.text().await.expect("body"))
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let (status, _, body) = get_text(app, path).await;
    (status, serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {body}")))
}

// --- calendars ---------------------------------------------------------------------

fn parse_ics(text: &str) -> icalendar::Calendar {
    text.parse::<icalendar::Calendar>().unwrap_or_else(|e| panic!("third-party parser refused: {e}\n{text}"))
}

fn vevents(cal: &icalendar::Calendar) -> Vec<&icalendar::Event> {
    cal.components.iter().filter_map(|c| c.as_event()).collect()
}

/// The instant a `DTSTART`/`DTEND` denotes, resolved through its TZID with chrono-tz.
fn instant_of(ev: &icalendar::Event, prop: &str) -> DateTime<Utc> {
    use icalendar::Component;
    let p = ev.properties().get(prop).unwrap_or_else(|| panic!("{prop} missing"));
    let tzid = p.params().get("TZID").map(|v| v.value().to_string()).expect("TZID");
    let tz: chrono_tz::Tz = tzid.parse().expect("IANA TZID");
    let local = chrono::NaiveDateTime::parse_from_str(p.value(), "%Y%m%dT%H%M%S").expect("local date-time");
    tz.from_local_datetime(&local).single().expect("unambiguous").with_timezone(&Utc)
}

fn prop(ev: &icalendar::Event, name: &str) -> Option<String> {
    use icalendar::Component;
    ev.property_value(name).map(str::to_string)
}

#[tokio::test]
async fn one_event_ics_is_rfc5545_with_its_zone_and_a_stable_uid() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (status, headers, text) = get_text(&app, &format!("/events/{}.ics", ids.rust_night)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/calendar; charset=utf-8");
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("attachment"));
    assert!(text.contains("\r\n") && text.lines().all(|l| l.trim_end_matches('\r').len() <= 75), "folded at 75 octets");
    assert!(text.contains("BEGIN:VTIMEZONE\r\nTZID:Asia/Tokyo"), "{text}");
    let cal = parse_ics(&text);
    let events = vevents(&cal);
    assert_eq!(events.len(), 1);
    let ev = events[0];
    assert_eq!(prop(ev, "UID").unwrap(), format!("event-{}@tsudoi.test", ids.rust_night));
    assert_eq!(prop(ev, "SEQUENCE").as_deref(), Some("0"));
    assert_eq!(instant_of(ev, "DTSTART"), jst(2027, 1, 15, 19, 0));
    assert_eq!(instant_of(ev, "DTEND"), jst(2027, 1, 15, 21, 30));
    assert_eq!(prop(ev, "SUMMARY").as_deref(), Some("Rust 入門ハンズオン"));
    assert_eq!(prop(ev, "STATUS").as_deref(), Some("CONFIRMED"));
    assert_eq!(prop(ev, "LOCATION").as_deref(), Some("Tsudoi Hall, 東京都千代田区丸の内1-1"));
    assert_eq!(prop(ev, "URL"), Some(format!("http://tsudoi.test/events/{}", ids.rust_night)));
    let description =
        prop(ev, "DESCRIPTION").expect("DESCRIPTION").replace("\\,", ",").replace("\\;", ";").replace("\\n", "\n");
    assert!(description.contains("はじめての Rust, 所有権; 借用"), "escaped text round-trips: {description}");
    assert!(!description.contains("**"), "plain text, not Markdown: {description}");
    assert!(text.contains("CATEGORIES:Rust,Docker"), "{text}");
    // The same request twice gives the same bytes (stable UID, DTSTAMP from the event).
    assert_eq!(get_text(&app, &format!("/events/{}.ics", ids.rust_night)).await.2, text);
}

#[tokio::test]
async fn a_zone_with_summer_time_gets_both_observances_and_the_right_instants() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (_, _, text) = get_text(&app, &format!("/events/{}.ics", ids.berlin)).await;
    let cal = parse_ics(&text);
    let ev = vevents(&cal)[0];
    assert_eq!(instant_of(ev, "DTSTART"), Utc.with_ymd_and_hms(2027, 3, 27, 22, 0, 0).unwrap());
    assert_eq!(instant_of(ev, "DTEND"), Utc.with_ymd_and_hms(2027, 3, 28, 2, 0, 0).unwrap());
    assert!(text.contains("DTSTART;TZID=Europe/Berlin:20270327T230000"), "{text}");
    assert!(text.contains("DTEND;TZID=Europe/Berlin:20270328T040000"), "{text}");
    assert!(
        text.contains(
            "BEGIN:DAYLIGHT\r\nDTSTART:20270328T020000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0200\r\nTZNAME:CEST"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "BEGIN:STANDARD\r\nDTSTART:19700101T000000\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0100\r\nTZNAME:CET"
        ),
        "{text}"
    );
}

#[tokio::test]
async fn cancelled_events_say_so_and_drafts_and_unknown_ids_are_404() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (_, _, text) = get_text(&app, &format!("/events/{}.ics", ids.cancelled)).await;
    let cal = parse_ics(&text);
    let ev = vevents(&cal)[0];
    assert_eq!(prop(ev, "STATUS").as_deref(), Some("CANCELLED"));
    assert!(prop(ev, "SUMMARY").unwrap().starts_with("【中止】"));
    for path in
        [format!("/events/{}.ics", ids.draft), "/events/999999.ics".into(), "/calendar/nope/registrations.ics".into()]
    {
        let (status, headers, body) = get_text(&app, &path).await;
        assert_eq!(status, 404, "{path}");
        assert!(headers["content-type"].to_str().unwrap().starts_with("application/json"), "{path}");
        assert!(!body.contains("Draft secret"));
    }
}

#[tokio::test]
async fn the_sequence_grows_when_calendar_fields_change_and_only_then() {
    let (store, _db) = fresh_sqlite().await;
    let g = store
        .insert_groups(&[NewGroup {
            slug: "g".into(),
            title: "G".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![],
        }])
        .await
        .unwrap()[0];
    let id = store.insert_events(&[NewEvent::minimal(g, "Seq", jst(2027, 1, 1, 10, 0))]).await.unwrap()[0];
    let seq = || async {
        let (s, u): (i64, i64) = sqlx::query_as("SELECT sequence, updated_at FROM events WHERE id = ?")
            .bind(id)
            .fetch_one(store.sqlite_pool().expect("sqlite store"))
            .await
            .unwrap();
        (s, u)
    };
    let (s0, u0) = seq().await;
    assert_eq!(s0, 0);
    sqlx::query("UPDATE events SET hands_on = 1 WHERE id = ?")
        .bind(id)
        .execute(store.sqlite_pool().expect("sqlite store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 0, "a field calendars do not show");
    sqlx::query("UPDATE events SET title = title WHERE id = ?")
        .bind(id)
        .execute(store.sqlite_pool().expect("sqlite store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 0, "an update that changes nothing");
    sqlx::query("UPDATE events SET starts_at = starts_at + 3600, ends_at = ends_at + 3600 WHERE id = ?")
        .bind(id)
        .execute(store.sqlite_pool().expect("sqlite store"))
        .await
        .unwrap();
    let (s1, u1) = seq().await;
    assert_eq!(s1, 1, "one statement, one revision");
    assert!(u1 > u0);
    sqlx::query("UPDATE events SET status = 'cancelled' WHERE id = ?")
        .bind(id)
        .execute(store.sqlite_pool().expect("sqlite store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 2);
}

#[tokio::test]
async fn group_tag_and_search_feeds_name_themselves_and_hold_their_events() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let uids = |text: &str| -> Vec<String> {
        let cal = parse_ics(text);
        vevents(&cal).iter().map(|e| prop(e, "UID").unwrap()).collect()
    };
    let uid = |id: i64| format!("event-{id}@tsudoi.test");

    let (status, headers, text) = get_text(&app, "/groups/rust-tokyo/events.ics").await;
    assert_eq!(status, 200);
    assert!(headers["content-disposition"].to_str().unwrap().starts_with("inline"));
    assert!(text.contains("X-WR-CALNAME:Tsudoi: Rust.Tokyo"), "{text}");
    // Soonest first; the draft never, the long-past event neither (feeds keep 90 days).
    assert_eq!(uids(&text), [uid(ids.rust_night), uid(ids.cancelled)]);

    let (_, _, text) = get_text(&app, "/tags/python/events.ics").await;
    assert!(text.contains("X-WR-CALNAME:Tsudoi: Python"));
    assert_eq!(uids(&text), [uid(ids.cancelled), uid(ids.berlin)]);

    // Any search: the search page's parameters (published, upcoming by default).
    let (_, _, text) = get_text(&app, "/events.ics?tags=rustlang").await;
    assert!(text.contains("X-WR-CALNAME:Tsudoi: rustlang"), "named as asked: {text}");
    assert_eq!(uids(&text), [uid(ids.rust_night)]);
    let (_, _, text) = get_text(&app, "/events.ics?q=DST&lang=en").await;
    assert_eq!(uids(&text), [uid(ids.berlin)], "lang is the event-language filter here");
    assert!(text.contains("X-WR-TIMEZONE:Europe/Berlin"));
    let (_, _, text) = get_text(&app, "/events.ics?date=past&tags=rust").await;
    assert_eq!(uids(&text), [uid(ids.past)]);
    let (status, _, _) = get_text(&app, "/events.ics?date=nonsense&page=-4").await;
    assert_eq!(status, 200, "malformed search values are ignored, as on the page");

    for missing in ["/groups/nope/events.ics", "/tags/nope/events.ics"] {
        assert_eq!(get_text(&app, missing).await.0, 404, "{missing}");
    }
}

#[tokio::test]
async fn the_private_feed_lists_my_registrations_at_a_secret_url_that_can_be_replaced() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let post = |path: &'static str, form: Vec<(&'static str, &'static str)>| {
        let c = c.clone();
        let url = app.url(path);
        async move {
            let res = c.post(url).header("accept", "application/json").form(&form).send().await.unwrap();
            let status = res.status().as_u16();
            (status, res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, _) = post("/api/me/calendar/regenerate", vec![]).await;
    assert_eq!(status, 401, "signed-in users only");
    assert_eq!(post("/api/auth/login", vec![("login", "dai"), ("password", PASSWORD)]).await.0, 200);
    let (status, url) = post("/api/me/calendar/regenerate", vec![]).await;
    assert_eq!(status, 200);
    let url = url.as_str().unwrap().to_string();
    assert!(url.starts_with("http://tsudoi.test/calendar/") && url.ends_with("/registrations.ics"), "{url}");
    let path = url.trim_start_matches("http://tsudoi.test").to_string();
    let (status, headers, text) = get_text(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(headers["cache-control"], "private, max-age=300");
    let cal = parse_ics(&text);
    let evs = vevents(&cal);
    let by_uid = |id: i64| evs.iter().find(|e| prop(e, "UID") == Some(format!("event-{id}@tsudoi.test"))).copied();
    assert_eq!(evs.len(), 2, "confirmed and waitlisted, not the long-past one: {text}");
    assert_eq!(prop(by_uid(ids.rust_night).unwrap(), "STATUS").as_deref(), Some("CONFIRMED"));
    let waiting = by_uid(ids.berlin).unwrap();
    assert_eq!(prop(waiting, "STATUS").as_deref(), Some("TENTATIVE"));
    assert!(prop(waiting, "SUMMARY").unwrap().starts_with("【補欠】"));
    // The secret is stored hashed: the owner learns that a feed exists, not its URL again
    // (it was shown once, above); regenerating it kills the old one.
    let (status, shown) = get_json_with(&c, &app, "/api/me/calendar").await;
    assert_eq!((status, shown.as_bool()), (200, Some(true)));
    let secret = path.trim_start_matches("/calendar/").trim_end_matches("/registrations.ics").to_string();
    let stored: Vec<String> = match (app.store().sqlite_pool(), app.store().pg_pool()) {
        (Some(p), _) => sqlx::query_scalar("SELECT calendar_token FROM users WHERE calendar_token IS NOT NULL")
            .fetch_all(p)
            .await
            .unwrap(),
        (_, Some(p)) => sqlx::query_scalar("SELECT calendar_token FROM users WHERE calendar_token IS NOT NULL")
            .fetch_all(p)
            .await
            .unwrap(),
        _ => unreachable!(),
    };
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains(&secret), "the database holds a hash, not the secret");
    let (_, fresh) = post("/api/me/calendar/regenerate", vec![]).await;
    assert_ne!(fresh.as_str(), Some(url.as_str()));
    assert_eq!(get_text(&app, &path).await.0, 404, "the old secret no longer works");
    let _ = ids.dai;
}

/// My private calendar holds every event I am registered for, whatever the public sees of
/// it: registered anonymously, attended events kept off my profile, an unlisted event and
/// one of an unlisted group (the participant filter of the public API applies none of these
/// to me).
#[tokio::test]
async fn the_private_feed_keeps_what_i_hide_from_others_and_unlisted_events() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let c = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let login = c.post(app.url("/api/auth/login")).header("accept", "application/json");
    let res = login.form(&[("login", "dai"), ("password", PASSWORD)]).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let res = c.post(app.url("/api/me/calendar/regenerate")).header("accept", "application/json").send().await.unwrap();
    let url: Value = res.json().await.unwrap();
    let path = url.as_str().unwrap().trim_start_matches("http://tsudoi.test").to_string();
    let uids = |text: &str| {
        let cal = parse_ics(text);
        let mut uids: Vec<String> = vevents(&cal).iter().filter_map(|e| prop(e, "UID")).collect();
        uids.sort();
        uids
    };
    let (status, _, before) = get_text(&app, &path).await;
    assert_eq!(status, 200);
    let before = uids(&before);
    assert_eq!(before.len(), 2, "{before:?}");

    let store = app.store();
    store.set_registration_anonymous(ids.rust_night, ids.dai, true).await.unwrap();
    store.set_hide_attended(ids.dai, true).await.unwrap();
    store.set_event_visibility(ids.rust_night, tsudoi::events::model::Visibility::Unlisted, None).await.unwrap();
    let (status, _, after) = get_text(&app, &path).await;
    assert_eq!(status, 200);
    assert_eq!(uids(&after), before, "the same events, hidden from others or not: {after}");
    let (_, v) = get_json(&app, "/api/v2/users/dai/attended_events").await;
    assert_eq!(v["results_available"], 0, "while others see none of them: {v}");
}

async fn get_json_with(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Value) {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

// --- Atom, sitemap, robots, JSON-LD --------------------------------------------------------

#[tokio::test]
async fn atom_feeds_parse_and_list_new_events_newest_first() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (status, headers, body) = get_text(&app, "/feed.atom").await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/atom+xml; charset=utf-8");
    let feed = feed_rs::parser::parse(body.as_bytes()).expect("feed-rs parses it");
    let links: Vec<String> = feed.entries.iter().map(|e| e.links[0].href.clone()).collect();
    let url = |id: i64| format!("http://tsudoi.test/events/{id}");
    assert_eq!(links, [url(ids.cancelled), url(ids.berlin), url(ids.rust_night), url(ids.past)]);
    assert!(feed.entries[0].title.as_ref().unwrap().content.starts_with("【中止】"));
    let rust = &feed.entries[2];
    assert!(rust.content.as_ref().unwrap().body.as_ref().unwrap().contains("<strong>借用</strong>"));
    assert_eq!(rust.categories.iter().map(|c| c.term.as_str()).collect::<Vec<_>>(), ["rust", "docker"]);

    let group = feed_rs::parser::parse(get_text(&app, "/groups/berlin-go/feed.atom").await.2.as_bytes()).unwrap();
    assert_eq!(group.entries.len(), 1);
    assert_eq!(group.title.unwrap().content, "Tsudoi: Berlin Gophers の新着イベント");
    let tag = feed_rs::parser::parse(get_text(&app, "/tags/rust/feed.atom").await.2.as_bytes()).unwrap();
    assert_eq!(tag.entries.len(), 2);
    assert_eq!(get_text(&app, "/tags/nope/feed.atom").await.0, 404);
}

#[tokio::test]
async fn sitemap_lists_public_events_and_groups_and_robots_points_to_it() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (status, headers, xml) = get_text(&app, "/sitemap.xml").await;
    assert_eq!(status, 200);
    assert!(headers["content-type"].to_str().unwrap().starts_with("application/xml"));
    for id in [ids.rust_night, ids.berlin, ids.cancelled, ids.past] {
        assert!(xml.contains(&format!("<loc>http://tsudoi.test/events/{id}</loc>")), "{id}");
    }
    assert!(!xml.contains(&format!("/events/{}<", ids.draft)));
    assert!(xml.contains("<loc>http://tsudoi.test/groups/rust-tokyo</loc>"));
    let (_, _, robots) = get_text(&app, "/robots.txt").await;
    assert!(robots.contains("Sitemap: http://tsudoi.test/sitemap.xml"));
    assert!(robots.contains("Disallow: /calendar/"));
}

#[tokio::test]
async fn the_event_page_carries_json_ld_ogp_and_a_canonical_url() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let (status, html) = app.get(&format!("/events/{}", ids.rust_night)).await;
    assert_eq!(status, 200);
    let start = html.find(r#"<script type="application/ld+json">"#).expect("JSON-LD script") + 35;
    let end = start + html[start..].find("</script>").unwrap();
    let ld: Value = serde_json::from_str(&html[start..end]).expect("JSON-LD parses");
    assert_eq!(ld["@context"], "https://schema.org");
    assert_eq!(ld["@type"], "Event");
    assert_eq!(ld["name"], "Rust 入門ハンズオン");
    assert_eq!(ld["startDate"], "2027-01-15T19:00:00+09:00");
    assert_eq!(ld["endDate"], "2027-01-15T21:30:00+09:00");
    assert_eq!(ld["eventStatus"], "https://schema.org/EventScheduled");
    assert_eq!(ld["eventAttendanceMode"], "https://schema.org/OfflineEventAttendanceMode");
    assert_eq!(ld["location"][0]["@type"], "Place");
    assert_eq!(ld["location"][0]["address"]["addressRegion"], "東京都");
    assert_eq!(ld["location"][0]["geo"]["latitude"], 35.681236);
    assert_eq!(ld["organizer"]["name"], "Rust.Tokyo");
    assert_eq!(ld["performer"][0]["name"], "Chie");
    assert_eq!(ld["offers"][0]["price"], 0);
    assert_eq!(ld["offers"][0]["priceCurrency"], "JPY");
    assert_eq!(ld["offers"][0]["availability"], "https://schema.org/LimitedAvailability", "1 of 2 seats left");
    assert_eq!(ld["inLanguage"], "ja");
    assert_eq!(ld["remainingAttendeeCapacity"], 1);
    let canonical = format!(r#"<link href="http://tsudoi.test/events/{}" rel="canonical">"#, ids.rust_night);
    assert!(html.contains(&canonical), "canonical link");
    assert!(html.contains(r#"<meta property="og:title" content="Rust 入門ハンズオン""#));
    assert!(html.contains(r#"<meta name="twitter:card" content="summary""#));
    assert!(html.contains(&format!(r#"href="/events/{}.ics""#, ids.rust_night)), "the .ics link");

    let (_, html) = app.get(&format!("/events/{}", ids.cancelled)).await;
    assert!(html.contains("https://schema.org/EventCancelled"));
    assert!(!html.contains("calendar.google.com"), "no Google Calendar button for a cancelled event");
    let (_, html) = app.get(&format!("/events/{}", ids.berlin)).await;
    assert!(html.contains("\"startDate\":\"2027-03-27T23:00:00+01:00\""), "offset at the start");
    assert!(html.contains("\"endDate\":\"2027-03-28T04:00:00+02:00\""), "offset at the end");
    assert!(html.contains("https://schema.org/SoldOut"));
    assert!(html.contains("VirtualLocation"));
}

#[tokio::test]
async fn json_ld_cannot_be_closed_by_event_text() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let _ = ids;
    let g = app.store().directory().await.unwrap().groups[0].0;
    let id = app
        .store()
        .insert_events(&[NewEvent {
            created_at: tsudoi::time::now(),
            ..NewEvent::minimal(g, "</title></script><script>alert(1)</script>", jst(2027, 5, 1, 10, 0))
        }])
        .await
        .unwrap()[0];
    let (_, html) = app.get(&format!("/events/{id}")).await;
    assert!(!html.contains("<script>alert(1)"), "escaped everywhere");
    assert!(html.contains(r"\u003c/script\u003e"), "inside JSON-LD");
    assert!(html.contains("<title>&lt;/title&gt;"), "inside <title>");
}

// --- materials -----------------------------------------------------------------------

#[tokio::test]
async fn organizers_and_speakers_attach_materials_others_cannot() {
    let app = spawn_app(false).await;
    let ids = fixture(&app).await;
    let event = ids.rust_night.to_string();
    let signed_in = |nick: &'static str| crate::helpers::signed_in(&app, nick, PASSWORD);
    let add = |c: reqwest::Client, title: &'static str, url: &'static str, kind: &'static str| {
        let target = app.url("/api/materials/add");
        let event = event.clone();
        async move {
            let res = c
                .post(target)
                .header("accept", "application/json")
                .form(&[("event_id", event.as_str()), ("url", url), ("title", title), ("kind", kind)])
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let anonymous = reqwest::Client::new();
    assert_eq!(add(anonymous, "x", "https://a.example/", "slide").await.0, 401);
    let (status, _) = add(signed_in("dai").await, "x", "https://a.example/", "slide").await;
    assert_eq!(status, 403, "an attendee may not");
    let (status, _) = add(signed_in("eri").await, "x", "https://a.example/", "slide").await;
    assert_eq!(status, 403, "the owner of another group may not");
    let akiko = signed_in("akiko").await;
    let (status, body) = add(akiko.clone(), "", "javascript:alert(1)", "slide").await;
    assert_eq!(status, 422);
    let fields: Vec<&str> = body["message"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["url", "title"]);
    let (status, owner_added) = add(akiko, "Rust 入門スライド", "https://speakerdeck.example/rust", "slide").await;
    assert_eq!(status, 200, "{owner_added}");
    let (status, _) = add(signed_in("chie").await, "当日の動画", "https://video.example/watch?v=1", "movie").await;
    assert_eq!(status, 200, "a linked speaker may");
    let (status, _) = add(signed_in("ben").await, "ブログ", "https://blog.example/rust", "blog").await;
    assert_eq!(status, 200, "an admin of the group may");

    let (status, list) = get_json(&app, &format!("/api/v2/events/{}/presentations/", ids.rust_night)).await;
    assert_eq!(status, 200);
    assert_eq!(list["results_available"], 3);
    let p = &list["presentations"][0];
    assert_eq!(p["name"], "Rust 入門スライド");
    assert_eq!(p["url"], "https://speakerdeck.example/rust");
    assert_eq!(p["presentation_type"], "slide");
    assert_eq!(p["user"]["nickname"], "akiko");
    assert_eq!(p["presenter"]["nickname"], "akiko");
    assert!(p["created_at"].as_str().unwrap().ends_with("+09:00"));
    let (_, html) = app.get(&format!("/events/{}", ids.rust_night)).await;
    assert!(html.contains("Rust 入門スライド") && html.contains("当日の動画"), "listed on the event page");

    // Removing: the speaker may remove only their own; the organizer any.
    let chie = signed_in("chie").await;
    let owner_material = owner_added["id"].as_i64().unwrap().to_string();
    let res = chie
        .post(app.url("/api/materials/delete"))
        .header("accept", "application/json")
        .form(&[("id", owner_material.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403);
    let (_, list) = get_json(&app, &format!("/api/v2/events/{}/presentations", ids.rust_night)).await;
    assert_eq!(list["results_available"], 3, "nothing removed by a refused request");
    let res = signed_in("akiko")
        .await
        .post(app.url("/api/materials/delete"))
        .header("accept", "application/json")
        .form(&[("id", owner_material.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200, "the uploader removes their own");
    let (_, list) = get_json(&app, &format!("/api/v2/events/{}/presentations", ids.rust_night)).await;
    assert_eq!(list["results_available"], 2);
    let (_, chie_user) = get_json(&app, "/api/v2/users/?nickname=chie").await;
    assert_eq!(chie_user["users"][0]["presenter_event_count"], 1);
}

// --- the public API ------------------------------------------------------------------

fn event_ids(v: &Value) -> Vec<i64> {
    v["events"]
        .as_array()
        .unwrap_or_else(|| panic!("no events: {v}"))
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect()
}

/// On both backends: the keyword filter runs through each one's trigram engine.
async fn api_events_each_parameter_alone_and_combined(app: TestApp) {
    let i = fixture(&app).await;
    let (n, b, c, p) = (i.rust_night, i.berlin, i.cancelled, i.past);
    let sorted = |mut v: Vec<i64>| {
        v.sort();
        v
    };
    let cases: Vec<(String, Vec<i64>)> = vec![
        ("".into(), vec![n, b, c, p]),
        (format!("event_id={n}"), vec![n]),
        (format!("event_id={n},{b}&event_id={p}"), vec![n, b, p]),
        (format!("event_id={}", i.draft), vec![]),
        ("keyword=rust".into(), vec![n, c, p] /* the group is Rust.Tokyo */),
        ("keyword=RUST&keyword=入門".into(), vec![n]),
        ("keyword=Ｒｕｓｔ,ハンズオン".into(), vec![n]),
        ("keyword=丸の内".into(), vec![n]),
        ("keyword_or=DST,Python".into(), vec![b, c]),
        ("keyword_or=DST&keyword_or=nothing-matches".into(), vec![b]),
        ("keyword=rust&keyword_or=past,入門".into(), vec![n, p]),
        ("ym=202701".into(), vec![n, c]),
        ("ym=202606,202703".into(), vec![b, p]),
        ("ymd=20270115".into(), vec![n]),
        ("ymd=20270328".into(), vec![b]),
        ("ymd=20270327".into(), vec![] /* 23:00 in Berlin is the 28th in Tokyo */),
        ("nickname=dai".into(), vec![n, p] /* confirmed only, as connpass */),
        ("nickname=eri".into(), vec![b]),
        ("owner_nickname=ben".into(), vec![n, c, p]),
        ("owner_nickname=akiko,eri".into(), vec![n, b, c, p]),
        ("owner_nickname=dai".into(), vec![]),
        ("subdomain=berlin-go".into(), vec![b]),
        ("prefecture=tokyo".into(), vec![n]),
        ("prefecture=online".into(), vec![b, p]),
        ("prefecture=osaka&prefecture=tokyo".into(), vec![n, c]),
        ("tag=python".into(), vec![b, c]),
        ("keyword=rust&ym=202606".into(), vec![p]),
        ("subdomain=rust-tokyo&prefecture=online&nickname=dai".into(), vec![p]),
        ("nonsense=1&Subdomain=x&order=1".into(), vec![n, b, c, p]),
    ];
    for (query, expected) in cases {
        let (status, v) = get_json(&app, &format!("/api/v2/events/?{query}")).await;
        assert_eq!(status, 200, "{query}: {v}");
        assert_eq!(sorted(event_ids(&v)), sorted(expected.clone()), "{query}");
        assert_eq!(v["results_available"], expected.len(), "{query}");
    }
    let (_, g) = get_json(&app, "/api/v2/groups/?subdomain=rust-tokyo").await;
    let gid = g["groups"][0]["id"].as_i64().unwrap();
    let (_, v) = get_json(&app, &format!("/api/v2/events/?group_id={gid}")).await;
    assert_eq!(sorted(event_ids(&v)), sorted(vec![n, c, p]));
}

#[tokio::test]
async fn api_events_order_and_paging_edges() {
    let app = spawn_app(false).await;
    let i = fixture(&app).await;
    let (_, v) = get_json(&app, "/api/v2/events/?order=2").await;
    assert_eq!(event_ids(&v), [i.past, i.rust_night, i.cancelled, i.berlin], "start time, soonest first");
    let (_, v) = get_json(&app, "/api/v2/events/?order=3").await;
    assert_eq!(event_ids(&v), [i.cancelled, i.berlin, i.rust_night, i.past], "newest first");
    let (_, v) = get_json(&app, "/api/v2/events/?order=2&start=2&count=2").await;
    assert_eq!(event_ids(&v), [i.rust_night, i.cancelled]);
    assert_eq!(
        (v["results_returned"].as_i64(), v["results_available"].as_i64(), v["results_start"].as_i64()),
        (Some(2), Some(4), Some(2))
    );
    let (_, v) = get_json(&app, "/api/v2/events/?order=2&start=4&count=100").await;
    assert_eq!(event_ids(&v), [i.berlin], "the last one");
    let (status, v) = get_json(&app, "/api/v2/events/?start=5").await;
    assert_eq!(status, 200);
    assert_eq!((v["results_returned"].as_i64(), v["results_available"].as_i64()), (Some(0), Some(4)), "past the end");
    let (_, v) = get_json(&app, "/api/v2/events/?count=1").await;
    assert_eq!(v["results_returned"], 1);
}

#[tokio::test]
async fn api_bad_values_are_400_naming_the_parameter() {
    let app = spawn_app(false).await;
    fixture(&app).await;
    for (query, param) in [
        ("count=0", "count"),
        ("count=101", "count"),
        ("count=ten", "count"),
        ("start=0", "start"),
        ("start=-1", "start"),
        ("order=4", "order"),
        ("event_id=abc", "event_id"),
        ("event_id=1,x", "event_id"),
        ("group_id=1.5", "group_id"),
        ("ym=2027", "ym"),
        ("ym=202713", "ym"),
        ("ymd=20270230", "ymd"),
        ("ymd=2027-01-15", "ymd"),
        ("prefecture=atlantis", "prefecture"),
    ] {
        let (status, v) = get_json(&app, &format!("/api/v2/events/?{query}")).await;
        assert_eq!(status, 400, "{query}");
        assert_eq!(v["error"], "invalid_parameter", "{query}");
        assert_eq!(v["parameter"], param, "{query}");
        assert!(v["message"].as_str().unwrap().starts_with(param), "{query}: {v}");
    }
    for (path, status) in [
        ("/api/v2/users/nobody/attended_events/", 404),
        ("/api/v2/events/999999/presentations/", 404),
        ("/api/v2/events/abc/presentations/", 400),
        ("/api/v2/nothing-here/", 404),
        ("/api/v2/groups/?count=500", 400),
        ("/api/v2/users/?start=zero", 400),
    ] {
        let (got, v) = get_json(&app, path).await;
        assert_eq!(got, status, "{path}: {v}");
        assert!(v["message"].is_string(), "{path}");
    }
}

#[tokio::test]
async fn api_event_fields_have_connpass_names_and_types() {
    let app = spawn_app(false).await;
    let i = fixture(&app).await;
    let (_, v) = get_json(&app, &format!("/api/v2/events/?event_id={}", i.rust_night)).await;
    let e = &v["events"][0];
    assert_eq!(e["title"], "Rust 入門ハンズオン");
    assert_eq!(e["url"], format!("http://tsudoi.test/events/{}", i.rust_night));
    assert_eq!(e["started_at"], "2027-01-15T19:00:00+09:00");
    assert_eq!(e["ended_at"], "2027-01-15T21:30:00+09:00");
    assert_eq!(e["limit"], 2);
    assert_eq!(e["accepted"], 1);
    assert_eq!(e["waiting"], 0);
    assert_eq!(e["event_type"], "participation");
    assert_eq!(e["open_status"], "open");
    assert_eq!(e["group"]["subdomain"], "rust-tokyo");
    assert_eq!(e["group"]["url"], "http://tsudoi.test/groups/rust-tokyo");
    assert_eq!(e["lat"], "35.681236000000", "a decimal string, as connpass");
    assert_eq!(e["lon"], "139.767125000000");
    assert_eq!(e["owner_nickname"], "akiko");
    assert_eq!(e["owner_display_name"], "akiko san");
    assert_eq!(e["hash_tag"], "#rusttokyo");
    assert_eq!(e["image_url"], "", "strings are never null");
    assert!(e["description"].as_str().unwrap().contains("<strong>借用</strong>"), "HTML, sanitised");
    assert!(e["updated_at"].as_str().unwrap().ends_with("+09:00"));
    // Tsudoi's additions.
    assert_eq!(e["time_zone"], "Asia/Tokyo");
    assert_eq!(e["language"], "ja");
    assert_eq!(e["tags"][0]["name"], "Rust");
    assert_eq!(e["tools"][0]["name"], "Docker");
    assert_eq!(e["frames"][0]["limit"], 2);
    assert_eq!(e["frames"][0]["method"], "first_come");
    assert_eq!(e["registration"]["closes_at"], "2027-01-15T19:00:00+09:00");
    assert!(e.get("online_url").is_none());

    let (_, v) = get_json(&app, &format!("/api/v2/events/?event_id={},{}", i.berlin, i.cancelled)).await;
    let by_id = |id: i64| v["events"].as_array().unwrap().iter().find(|e| e["id"] == id).unwrap().clone();
    let berlin = by_id(i.berlin);
    assert_eq!(berlin["started_at"], "2027-03-27T23:00:00+01:00");
    assert_eq!(berlin["ended_at"], "2027-03-28T04:00:00+02:00");
    assert_eq!(berlin["lat"], Value::Null);
    assert_eq!(berlin["language"], "en");
    assert_eq!(by_id(i.cancelled)["open_status"], "cancelled");

    let (_, u) = get_json(&app, "/api/v2/users/?nickname=dai,akiko").await;
    assert_eq!(u["results_available"], 2);
    let dai = u["users"].as_array().unwrap().iter().find(|u| u["nickname"] == "dai").unwrap().clone();
    assert_eq!(dai["attended_event_count"], 2, "confirmed, published (the waitlisted one is not attended)");
    assert_eq!(dai["description"], "I am dai.");
    assert!(dai.get("email").is_none());
    let (_, akiko) = get_json(&app, "/api/v2/users/akiko/groups/").await;
    assert_eq!(akiko["groups"][0]["subdomain"], "rust-tokyo");
    assert_eq!(akiko["groups"][0]["member_users_count"], 2);
    assert_eq!(akiko["groups"][0]["owner_text"], "akiko san");
    let (_, att) = get_json(&app, "/api/v2/users/dai/attended_events/?count=2").await;
    assert_eq!(event_ids(&att), [i.past, i.rust_night]);
    assert_eq!(att["results_available"], 2);
    let (_, pres) = get_json(&app, "/api/v2/users/chie/presenter_events").await;
    assert_eq!(event_ids(&pres), [i.rust_night]);
}

#[tokio::test]
async fn connpass_client_request_shapes_work_unchanged() {
    let app = spawn_app(false).await;
    let i = fixture(&app).await;
    let client = reqwest::Client::new();
    // (client, request) as their public code sends them.
    let shapes = [
        // go-connpass: no trailing slash, repeated keys, X-API-Key.
        ("go", "/api/v2/events?keyword=rust&keyword=%E5%85%A5%E9%96%80&count=10&order=2", "X-API-Key"),
        // connpass_api_v2-ruby: trailing slash, comma-joined lists, X-Api-Key.
        ("ruby", "/api/v2/events/?count=100&event_id=1,2,3,4,5&order=1&ym=202701,202703&ymd=20270115", "X-Api-Key"),
        // connpass-py: urlencode(doseq=True), no trailing slash.
        ("python", "/api/v2/events?keyword_or=Python&keyword_or=DST&start=1&count=10", "X-API-Key"),
        // node-connpass: qs repeat, all endpoints without the slash.
        ("node", "/api/v2/groups?subdomain=rust-tokyo&subdomain=berlin-go", "X-API-Key"),
        ("node", "/api/v2/users?nickname=akiko", "X-API-Key"),
        // kajidog: trailing slash, comma-joined ymd and prefecture, undocumented params.
        ("kajidog", "/api/v2/events/?ymd=20270115,20270116&prefecture=tokyo,online&ymd_from=x", "X-API-Key"),
        ("kajidog", "/api/v2/groups/?order=2&keyword=rust&country_code=JP", "X-API-Key"),
        ("kajidog", "/api/v2/users/dai/attended_events/?order=2&start=1&count=100", "X-API-Key"),
    ];
    for (who, path, header) in shapes {
        let res = client.get(app.url(path)).header(header, "any-key").send().await.unwrap();
        assert_eq!(res.status(), 200, "{who}: {path}");
        let v: Value = res.json().await.unwrap();
        for key in ["results_returned", "results_available", "results_start"] {
            assert!(v[key].is_i64(), "{who}: {key}");
        }
        if let Some(events) = v["events"].as_array() {
            for e in events {
                // connpass-py requires these as non-null strings; go-connpass needs lat as a
                // string or null.
                for k in
                    ["title", "catch", "description", "image_url", "hash_tag", "started_at", "ended_at", "updated_at"]
                {
                    assert!(e[k].is_string(), "{who}: {k} in {e}");
                }
                assert!(e["lat"].is_string() || e["lat"].is_null(), "{who}");
                assert!(e["owner_id"].is_i64() && e["group"]["subdomain"].is_string(), "{who}");
                DateTime::parse_from_rfc3339(e["started_at"].as_str().unwrap()).expect("RFC 3339");
            }
        }
    }
    let (_, v) = get_json(&app, "/api/v2/events?keyword=rust&keyword=%E5%85%A5%E9%96%80&order=2").await;
    assert_eq!(event_ids(&v), [i.rust_night]);
}

#[tokio::test]
async fn api_caching_cors_and_rate_limit() {
    let db = TempDb::new();
    let mut config = Config::for_tests(db.url());
    config.rate_limits = RateLimitConfig { api_per_ip: 5, ..RateLimitConfig::default() };
    let app = spawn_with(config, db).await;
    fixture(&app).await;
    let res = app.client.get(app.url("/api/v2/events/")).header("origin", "https://bot.example").send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(res.headers()["cache-control"], "public, max-age=60");
    let etag = res.headers()["etag"].to_str().unwrap().to_string();
    let res = app.client.get(app.url("/api/v2/events/")).header("if-none-match", &etag).send().await.unwrap();
    assert_eq!(res.status(), 304, "unchanged content costs nothing");
    assert!(res.bytes().await.unwrap().is_empty());
    let pre = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/api/v2/events/"))
        .header("origin", "https://bot.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-api-key")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success(), "preflight: {}", pre.status());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
    // Five per minute in this configuration: three more pass, then 429 with Retry-After.
    for _ in 0..3 {
        assert_eq!(app.client.get(app.url("/api/v2/groups/")).send().await.unwrap().status(), 200);
    }
    let res = app.client.get(app.url("/api/v2/users/")).send().await.unwrap();
    assert_eq!(res.status(), 429);
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!(wait >= 1);
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["error"], "rate_limited");
    // Pages are not rate limited by the API's budget.
    assert_eq!(app.get("/").await.0, 200);
}

#[tokio::test]
async fn the_openapi_document_describes_every_route_and_parameter() {
    let app = spawn_app(false).await;
    let (status, doc) = get_json(&app, "/api/v2/openapi.json").await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/events/",
        "/events/{event_id}/presentations/",
        "/groups/",
        "/users/",
        "/users/{nickname}/attended_events/",
        "/users/{nickname}/presenter_events/",
        "/users/{nickname}/groups/",
    ] {
        assert!(paths.contains_key(p), "{p} documented");
        // And served.
        let concrete = p.replace("{event_id}", "1").replace("{nickname}", "x");
        let (status, _) = get_json(&app, &format!("/api/v2{concrete}")).await;
        assert_ne!(status, 405, "{p}");
    }
    let documented: Vec<&str> = paths["/events/"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    for name in [
        "event_id",
        "keyword",
        "keyword_or",
        "ym",
        "ymd",
        "nickname",
        "owner_nickname",
        "group_id",
        "subdomain",
        "prefecture",
        "order",
        "start",
        "count",
    ] {
        assert!(documented.contains(&name), "{name} documented");
    }
    let required = doc["components"]["schemas"]["Event"]["required"].as_array().unwrap();
    assert!(required.len() >= 20);
}

on_both_backends!(api_events_each_parameter_alone_and_combined);
