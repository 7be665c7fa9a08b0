//! Hybrid events with per-frame venues (#15 item 3), on both backends: an organizer gives
//! each frame its own venue (in person elsewhere, online with its own URL); the event page,
//! the registration panel, the receipt, the private calendar and the e-mails give each
//! registrant the venue of their frame, and a frame's online URL reaches only that frame's
//! confirmed registrants.

use chrono::Duration;
use serde_json::Value;
use tsudoi::events::model::VenueKind;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewMessage};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";
const FRAME_URL: &str = "https://frame.example/room-42";
const EVENT_URL: &str = "https://event.example/stream";

struct World {
    event: i64,
    room: i64,
    online: i64,
    users: Vec<i64>,
}

/// `org` runs a hybrid event at the AIP Open Space with two frames, neither with a venue of
/// its own yet; `ann` and `ben` have accounts.
async fn world(app: &TestApp) -> World {
    let store = app.store();
    let users = crate::helpers::users_with_password(app, &["org", "ann", "ben"], PASSWORD).await;
    let group = store.insert_groups(&[NewGroup::owned_by("hybrid", "Hybrid", users[0])]).await.unwrap()[0];
    let starts = tsudoi::time::now() + Duration::days(3);
    let event = store
        .insert_events(&[NewEvent {
            venue_kind: VenueKind::Hybrid,
            place: "AIP Open Space".into(),
            address: "東京都中央区日本橋1-4-1".into(),
            online_url: Some(EVENT_URL.into()),
            frames: vec![NewFrame::first_come("会場参加枠", 10), NewFrame::first_come("オンライン参加枠", 50)],
            ..NewEvent::minimal(group, "Hybrid night", starts)
        }])
        .await
        .unwrap()[0];
    let frames: Vec<i64> = store.fetch_event(event).await.unwrap().unwrap().frames.iter().map(|f| f.id).collect();
    World { event, room: frames[0], online: frames[1], users }
}

async fn sign_in(app: &TestApp, nick: &str) -> reqwest::Client {
    crate::helpers::signed_in(app, nick, PASSWORD).await
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// The update form of a first-come frame named `name` with these venue fields.
fn frame_form(w: &World, frame: i64, name: &str, venue: &[(&str, &str)]) -> Vec<(&'static str, String)> {
    let mut form = vec![
        ("event_id", w.event.to_string()),
        ("frame_id", frame.to_string()),
        ("name", name.to_string()),
        ("method", "first_come".to_string()),
        ("fee", "0".to_string()),
    ];
    for (k, v) in venue {
        let key: &'static str = match *k {
            "venue_kind" => "venue_kind",
            "place" => "place",
            "address" => "address",
            "online_url" => "online_url",
            other => panic!("not a venue field: {other}"),
        };
        form.push((key, v.to_string()));
    }
    form
}

async fn each_frame_has_its_venue_and_only_its_attendees_get_its_url(app: TestApp) {
    let w = world(&app).await;
    let org = sign_in(&app, "org").await;

    // Bad values are refused field by field, and change nothing.
    let bad = frame_form(&w, w.online, "オンライン参加枠", &[("venue_kind", "moon"), ("online_url", "javascript:x")]);
    let (status, body) = post(&app, &org, "/api/admin/frames/update", &bad).await;
    assert_eq!(status, 422, "{body}");
    let fields: Vec<&str> = body["message"].as_array().unwrap().iter().filter_map(|f| f["field"].as_str()).collect();
    assert!(fields.contains(&"venue_kind") && fields.contains(&"online_url"), "{body}");

    let room = frame_form(
        &w,
        w.room,
        "会場参加枠",
        &[("venue_kind", "offline"), ("place", "Room A"), ("address", "大阪市北区梅田1-1")],
    );
    let (status, body) = post(&app, &org, "/api/admin/frames/update", &room).await;
    assert_eq!(status, 200, "{body}");
    let online = frame_form(&w, w.online, "オンライン参加枠", &[("venue_kind", "online"), ("online_url", FRAME_URL)]);
    let (status, editor) = post(&app, &org, "/api/admin/frames/update", &online).await;
    assert_eq!(status, 200, "{editor}");
    assert_eq!(editor["frames"][0]["venue"]["kind"], "offline", "{editor}");
    assert_eq!(editor["frames"][0]["venue"]["place"], "Room A");
    assert_eq!(editor["frames"][1]["venue"]["kind"], "online");
    assert_eq!(editor["frame_times"][1]["online_url"], FRAME_URL, "organizers see the frame's URL");

    // The public page shows each frame's venue and never a URL.
    let anonymous = reqwest::Client::new();
    let (status, page) = get(&app, &anonymous, &format!("/events/{}", w.event)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Room A, 大阪市北区梅田1-1"), "the room frame's place");
    assert!(page.contains("オンライン参加") && page.contains("現地参加"), "how each frame takes part");
    assert!(!page.contains(FRAME_URL) && !page.contains(EVENT_URL), "no online URL on the public page");
    let (_, api) = get(&app, &anonymous, &format!("/api/v2/events/?event_id={}", w.event)).await;
    assert!(!api.contains(FRAME_URL) && !api.contains(EVENT_URL), "nor in the API: {api}");

    // Ann takes the room, Ben the online frame.
    let ann = sign_in(&app, "ann").await;
    let ben = sign_in(&app, "ben").await;
    for (c, frame) in [(&ann, w.room), (&ben, w.online)] {
        let form = [("event_id", w.event.to_string()), ("frame_id", frame.to_string())];
        let (status, body) = post(&app, c, "/api/registrations/register", &form).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["status"], "confirmed");
    }
    let panel = |c: reqwest::Client| {
        let path = format!("/api/registrations/panel?event_id={}", w.event);
        let app = &app;
        async move { serde_json::from_str::<Value>(&get(app, &c, &path).await.1).unwrap() }
    };
    assert_eq!(panel(ann.clone()).await["online_url"], Value::Null, "in person only: no stream URL");
    assert_eq!(panel(ben.clone()).await["online_url"], FRAME_URL, "the online frame's own URL");

    // Receipts name each one's venue.
    let receipt = |c: reqwest::Client| {
        let path = format!("/api/registrations/receipt?event_id={}", w.event);
        let app = &app;
        async move { serde_json::from_str::<Value>(&get(app, &c, &path).await.1).unwrap() }
    };
    assert_eq!(receipt(ann.clone()).await["venue"], serde_json::json!(["offline", "Room A, 大阪市北区梅田1-1"]));
    assert_eq!(receipt(ben.clone()).await["venue"], serde_json::json!(["online", ""]));

    // Private calendars: LOCATION per attendee.
    for (c, location) in [(&ann, "Room A\\, 大阪市北区梅田1-1"), (&ben, "オンライン / Online")] {
        let (status, url) = post(&app, c, "/api/me/calendar/regenerate", &[]).await;
        assert_eq!(status, 200);
        let path = url.as_str().unwrap().trim_start_matches("http://tsudoi.test").to_string();
        let (status, ics) = get(&app, &anonymous, &path).await;
        assert_eq!(status, 200);
        let unfolded = ics.replace("\r\n ", "");
        assert!(unfolded.contains(&format!("LOCATION:{location}\r\n")), "{location} in {unfolded}");
    }
    // The public .ics keeps the event's venue.
    let (_, public_ics) = get(&app, &anonymous, &format!("/events/{}.ics", w.event)).await;
    assert!(public_ics.replace("\r\n ", "").contains("LOCATION:AIP Open Space"), "{public_ics}");

    // E-mails about the event name the recipient's frame venue.
    app.store()
        .create_message(&NewMessage {
            event_id: Some(w.event),
            sender_id: Some(w.users[0]),
            kind: tsudoi::messages::model::MessageKind::Organizer,
            audience: "all".into(),
            subject: "明日です".into(),
            body: "お待ちしています".into(),
            recipients: vec![w.users[1], w.users[2]],
            email: true,
            at: tsudoi::time::now(),
        })
        .await
        .unwrap();
    let jobs = app.store().claim_deliveries(tsudoi::time::now(), Duration::minutes(5), 10).await.unwrap();
    assert_eq!(jobs.len(), 2);
    for job in &jobs {
        let body = tsudoi::messages::mail::body_for(job);
        let expected = if job.user_id == w.users[1] {
            "現地 / in person — Room A, 大阪市北区梅田1-1"
        } else {
            "オンライン / online"
        };
        assert!(body.contains(expected), "{} gets {expected}: {body}", job.to);
    }
}

on_both_backends!(each_frame_has_its_venue_and_only_its_attendees_get_its_url);
