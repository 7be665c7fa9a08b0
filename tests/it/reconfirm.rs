//! Reconfirmation (#15 item 7), over HTTP on both backends with the server's clock moved
//! through the days: the organizer requires it; a day before the deadline everyone confirmed
//! is asked (a message with the reconfirm link); those who reconfirm keep their seats; at the
//! deadline the others' seats go to the waitlist in order (messages to both); the organizer
//! sees who and can undo a release for two hours; nothing changes after that.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> Value {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.json().await.unwrap()
}

/// The kinds of my messages about the event, newest first.
async fn message_kinds(app: &TestApp, c: &reqwest::Client, event: i64) -> Vec<String> {
    let all = get(app, c, "/api/me/messages").await;
    all.as_array()
        .unwrap()
        .iter()
        .filter(|m| m["event_id"] == event)
        .map(|m| m["kind"].as_str().unwrap().to_string())
        .collect()
}

fn at(t: DateTime<Utc>) {
    tsudoi::time::clock::pin(t);
}

async fn unreconfirmed_seats_go_to_the_waitlist_and_the_organizer_can_undo(app: TestApp) {
    // Whole seconds, as the store keeps times.
    let start = DateTime::from_timestamp(tsudoi::time::now().timestamp(), 0).unwrap();
    at(start);
    let store = app.store();
    let users = crate::helpers::users_with_password(&app, &["org", "ann", "ben", "cal", "dan", "eve"], PASSWORD).await;
    let group = store.insert_groups(&[NewGroup::owned_by("reconfirm", "Reconfirm", users[0])]).await.unwrap()[0];
    let starts = start + Duration::days(5);
    let soon = start + Duration::hours(30);
    let events = store
        .insert_events(&[
            NewEvent {
                frames: vec![NewFrame::first_come("一般枠", 3)], ..NewEvent::minimal(group, "Seats", starts)
            },
            NewEvent { frames: vec![NewFrame::first_come("一般枠", 3)], ..NewEvent::minimal(group, "Soon", soon) },
        ])
        .await
        .unwrap();
    let (event, soon_event) = (events[0], events[1]);
    let mut c = Vec::new();
    for nick in ["org", "ann", "ben", "cal", "dan", "eve"] {
        c.push(crate::helpers::signed_in(&app, nick, PASSWORD).await);
    }
    let (org, ann, ben, cal, dan, eve) = (&c[0], &c[1], &c[2], &c[3], &c[4], &c[5]);
    for who in [ann, ben, cal, dan] {
        let (status, body) = post(&app, who, "/api/registrations/register", &[("event_id", event.to_string())]).await;
        assert_eq!(status, 200, "{body}");
    }
    let ev = event.to_string();

    // The requirement: organizers only, one of the offered deadlines, a day's notice.
    let set = |e: i64, hours: &str| vec![("event_id", e.to_string()), ("hours", hours.to_string())];
    let (status, _) = post(&app, ann, "/api/admin/events/reconfirmation", &set(event, "24")).await;
    assert_eq!(status, 403);
    let (status, body) = post(&app, org, "/api/admin/events/reconfirmation", &set(event, "5")).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("invalid_choice")), "{body}");
    let (status, body) = post(&app, org, "/api/admin/events/reconfirmation", &set(soon_event, "12")).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("too_late")), "{body}");
    // Two days before the start: the day-before reminder (sent by the running app's own task
    // loop, which sees the pinned clock too) is not due at the deadline, so it cannot come
    // between the release and the promotion messages this test reads.
    let (status, editor) = post(&app, org, "/api/admin/events/reconfirmation", &set(event, "48")).await;
    assert_eq!(status, 200, "{editor}");
    assert_eq!(editor["reconfirm"]["hours"], 48);
    let deadline = starts - Duration::hours(48);
    let said: DateTime<Utc> = editor["reconfirm"]["deadline"].as_str().unwrap().parse().unwrap();
    assert_eq!(said, deadline);

    // Ann reconfirms early; the others are asked a day before the deadline, once.
    let (status, body) = post(&app, ann, "/api/registrations/reconfirm", &[("event_id", ev.clone())]).await;
    assert_eq!((status, body["reconfirmed"].as_bool()), (200, Some(true)), "{body}");
    let (status, body) = post(&app, eve, "/api/registrations/reconfirm", &[("event_id", ev.clone())]).await;
    assert_eq!((status, body["message"].as_str()), (409, Some("not_registered")), "eve holds no seat: {body}");
    at(deadline - Duration::hours(23));
    tsudoi::messages::notify::run_reconfirmation(&app.state).await;
    tsudoi::messages::notify::run_reconfirmation(&app.state).await;
    assert_eq!(message_kinds(&app, cal, event).await.iter().filter(|k| *k == "reconfirm").count(), 1, "asked once");
    assert!(!message_kinds(&app, ann, event).await.contains(&"reconfirm".to_string()), "ann had reconfirmed");
    assert!(!message_kinds(&app, dan, event).await.contains(&"reconfirm".to_string()), "dan waits, not asked");
    let panel = get(&app, cal, &format!("/api/registrations/panel?event_id={event}")).await;
    assert_eq!(panel["reconfirm"]["reconfirmed"], false, "{panel}");
    assert!(panel["reconfirm"]["deadline_label"].as_str().unwrap().ends_with("JST"), "{panel}");
    // Ben reconfirms from the message's page; Eve registers after the request and waits.
    let (status, _) = post(&app, ben, "/api/registrations/reconfirm", &[("event_id", ev.clone())]).await;
    assert_eq!(status, 200);
    let (status, body) = post(&app, eve, "/api/registrations/register", &[("event_id", ev.clone())]).await;
    assert_eq!((status, body["waitlist_position"].as_i64()), (200, Some(2)), "{body}");

    // The deadline: Cal's seat goes to Dan (head of the waitlist); Ann and Ben keep theirs.
    at(deadline + Duration::minutes(1));
    tsudoi::messages::notify::run_reconfirmation(&app.state).await;
    tsudoi::messages::notify::run_reconfirmation(&app.state).await;
    let users = &users;
    let status_of = |u: usize| async move { store.my_registration(event, users[u]).await.unwrap().unwrap() };
    assert_eq!(status_of(3).await.status, tsudoi::registrations::model::RegStatus::Cancelled, "cal released");
    for u in [1, 2, 4] {
        assert_eq!(status_of(u).await.status, tsudoi::registrations::model::RegStatus::Confirmed, "user {u}");
    }
    assert_eq!(status_of(5).await.waitlist_position, Some(1), "eve moves up");
    assert_eq!(message_kinds(&app, cal, event).await.first().map(String::as_str), Some("released"));
    assert_eq!(message_kinds(&app, dan, event).await.first().map(String::as_str), Some("promotion"));
    for check in store.counter_check(&[event]).await.unwrap() {
        assert_eq!((check.accepted_count, check.waiting_count), (check.accepted_rows, check.waiting_rows));
    }
    // After the deadline nobody reconfirms, and the requirement is fixed.
    let (status, body) = post(&app, ann, "/api/registrations/reconfirm", &[("event_id", ev.clone())]).await;
    assert_eq!((status, body["message"].as_str()), (409, Some("reconfirmation_closed")), "{body}");
    let (status, body) = post(&app, org, "/api/admin/events/reconfirmation", &set(event, "72")).await;
    assert_eq!((status, body["message"].as_str()), (409, Some("reconfirmation_closed")), "{body}");

    // The organizer sees who was released, and undoes it within two hours: the seat is
    // Dan's now, so Cal goes to the head of the waitlist, before Eve.
    let list = get(&app, org, &format!("/api/admin/events/attendees?event_id={event}")).await;
    assert_eq!(list["reconfirm"]["undo_open"], true, "{list}");
    let row = |list: &Value, nick: &str| {
        list["items"].as_array().unwrap().iter().find(|a| a["nickname"] == nick).cloned().unwrap()
    };
    assert!(row(&list, "cal")["released_at"].is_string());
    assert!(row(&list, "ann")["reconfirmed_at"].is_string());
    assert_eq!(row(&list, "dan")["reconfirm_asked"], false);
    let cal_id = row(&list, "cal")["registration_id"].to_string();
    let restore = vec![("event_id", ev.clone()), ("registration_id", cal_id.clone())];
    let (status, _) = post(&app, ben, "/api/admin/registrations/restore", &restore).await;
    assert_eq!(status, 403, "attendees cannot");
    at(deadline + Duration::hours(3));
    let (status, body) = post(&app, org, "/api/admin/registrations/restore", &restore).await;
    assert_eq!((status, body["message"].as_str()), (409, Some("reconfirmation_closed")), "too late: {body}");
    at(deadline + Duration::minutes(30));
    let (status, list) = post(&app, org, "/api/admin/registrations/restore", &restore).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(row(&list, "cal")["status"], "waitlisted");
    assert_eq!(status_of(3).await.waitlist_position, Some(1));
    assert_eq!(status_of(5).await.waitlist_position, Some(2));
    let (status, body) = post(&app, org, "/api/admin/registrations/restore", &restore).await;
    assert_eq!((status, body["message"].as_str()), (409, Some("not_movable")), "once: {body}");
    for check in store.counter_check(&[event]).await.unwrap() {
        assert_eq!((check.accepted_count, check.waiting_count), (check.accepted_rows, check.waiting_rows));
    }
    // A seat freed now goes to Cal first.
    let (status, _) = post(&app, dan, "/api/registrations/cancel", &[("event_id", ev.clone())]).await;
    assert_eq!(status, 200);
    assert_eq!(status_of(3).await.status, tsudoi::registrations::model::RegStatus::Confirmed);
}

on_both_backends!(unreconfirmed_seats_go_to_the_waitlist_and_the_organizer_can_undo);

/// The message asking to reconfirm links to the page with both answers.
#[test]
fn the_request_links_to_the_reconfirm_page() {
    let (subject, body) = tsudoi::messages::model::template(
        tsudoi::messages::model::MessageKind::Reconfirm,
        "Rust 勉強会",
        "2026/12/20 19:00",
        "https://tsudoi.example/events/7",
    );
    assert!(subject.contains("参加の再確認"), "{subject}");
    assert!(body.contains("https://tsudoi.example/events/7/reconfirm"), "{body}");
}
