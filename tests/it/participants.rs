//! The participant list (参加者一覧) and the privacy choices behind it, on both backends:
//! by frame and status, anonymous registrations counted but not named, a list the organizer
//! hides, and profiles (page and API) that keep attended events private.

use chrono::Duration;
use serde_json::Value;
use tsudoi::events::model::{EventStatus, FrameMethod};
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewRegistration, NewUser};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

struct World {
    event: i64,
    draft: i64,
    users: Vec<i64>,
}

/// An event with a first-come frame of one seat (ann confirmed, ben waitlisted) and an
/// undrawn lottery (cho applied); ann, ben, cho and the organizer can sign in.
async fn world(app: &TestApp) -> World {
    let store = app.store();
    let hash = tsudoi::server::password::hash(PASSWORD.into()).await.unwrap();
    let user = |nick: &str| NewUser {
        display_name: format!("{nick} san"),
        email: Some(format!("{nick}@example.com")),
        password_hash: Some(hash.clone()),
        ..NewUser::attendee(nick)
    };
    let users = store.insert_users(&[user("ann"), user("ben"), user("cho"), user("org")]).await.unwrap();
    let g = store.insert_groups(&[NewGroup::owned_by("list", "List", users[3])]).await.unwrap()[0];
    let reg = |user_id: i64, status: RegStatus, code: &str| NewRegistration {
        user_id,
        status,
        receipt_code: code.into(),
        created_at: tsudoi::time::now() - Duration::days(1),
    };
    let starts = tsudoi::time::now() + Duration::days(5);
    let ids = store
        .insert_events(&[
            NewEvent {
                frames: vec![
                    NewFrame {
                        registrations: vec![
                            reg(users[0], RegStatus::Confirmed, "PAR-0001"),
                            reg(users[1], RegStatus::Waitlisted, "PAR-0002"),
                        ],
                        ..NewFrame::first_come("一般", 1)
                    },
                    NewFrame {
                        method: FrameMethod::Lottery,
                        draw_at: Some(starts - Duration::days(1)),
                        registrations: vec![reg(users[2], RegStatus::Waitlisted, "PAR-0003")],
                        ..NewFrame::first_come("抽選枠", 5)
                    },
                ],
                ..NewEvent::minimal(g, "List target", starts)
            },
            NewEvent { status: EventStatus::Draft, ..NewEvent::minimal(g, "Draft", starts) },
        ])
        .await
        .unwrap();
    World { event: ids[0], draft: ids[1], users }
}

async fn sign_in(app: &TestApp, nick: &str) -> reqwest::Client {
    crate::helpers::signed_in(app, nick, PASSWORD).await
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, String) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

/// GET as `c`, asking for JSON: the body parsed.
async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> Value {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    let body = res.text().await.unwrap();
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{path}: {e}: {body}"))
}

async fn list(app: &TestApp, event: i64) -> Value {
    let (status, body) = app.get(&format!("/api/events/participants?event_id={event}")).await;
    assert_eq!(status, 200, "{body}");
    serde_json::from_str(&body).unwrap()
}

/// (named nicknames, others) of one status of one frame.
fn group(list: &Value, frame: usize, status: &str) -> (Vec<String>, i64) {
    let g = &list["frames"][frame][status];
    let people = g["people"].as_array().unwrap().iter().map(|p| p["nickname"].as_str().unwrap().to_string()).collect();
    (people, g["others"].as_i64().unwrap())
}

async fn the_list_names_people_by_frame_and_counts_the_anonymous(app: TestApp) {
    let w = world(&app).await;
    let l = list(&app, w.event).await;
    assert_eq!(l["hidden"], false);
    assert_eq!(group(&l, 0, "confirmed"), (vec!["ann".to_string()], 0));
    assert_eq!(group(&l, 0, "waitlisted"), (vec!["ben".to_string()], 0));
    assert_eq!(group(&l, 1, "applicants"), (vec!["cho".to_string()], 0), "an undrawn lottery has applicants");
    assert_eq!(group(&l, 1, "waitlisted"), (vec![], 0));
    assert_eq!(l["frames"][0]["people"], Value::Null);
    assert_eq!(l["frames"][0]["confirmed"]["people"][0]["display_name"], "ann san");

    // Ben hides his name: counted as one other, still waitlisted.
    let ben = sign_in(&app, "ben").await;
    let (status, body) = post(
        &ben,
        &app,
        "/api/registrations/anonymous",
        &[("event_id", w.event.to_string()), ("anonymous", "true".into())],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let l = list(&app, w.event).await;
    assert_eq!(group(&l, 0, "waitlisted"), (vec![], 1));
    let panel = get_json(&ben, &app, &format!("/api/registrations/panel?event_id={}", w.event)).await;
    assert_eq!(panel["anonymous"], true, "{panel}");
    // The organizer still sees him.
    let org = sign_in(&app, "org").await;
    let attendees = get_json(&org, &app, &format!("/api/admin/events/attendees?event_id={}", w.event)).await;
    assert!(attendees.to_string().contains("\"ben\""), "{attendees}");

    // Someone not registered cannot toggle; nobody signed out can.
    let ann_for_draft = sign_in(&app, "ann").await;
    let (status, _) = post(
        &ann_for_draft,
        &app,
        "/api/registrations/anonymous",
        &[("event_id", w.draft.to_string()), ("anonymous", "true".into())],
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = post(
        &reqwest::Client::new(),
        &app,
        "/api/registrations/anonymous",
        &[("event_id", w.event.to_string()), ("anonymous", "true".into())],
    )
    .await;
    assert_eq!(status, 401);

    // A new registration can be anonymous from the start (the full path, not the fast one).
    let cho = sign_in(&app, "cho").await;
    let (status, body) = post(&cho, &app, "/api/registrations/cancel", &[("event_id", w.event.to_string())]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post(
        &cho,
        &app,
        "/api/registrations/register",
        &[
            ("event_id", w.event.to_string()),
            ("frame_id", l["frames"][1]["frame_id"].to_string()),
            ("anonymous", "true".into()),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(group(&list(&app, w.event).await, 1, "applicants"), (vec![], 1));

    // Drafts have no public list.
    let (status, _) = app.get(&format!("/api/events/participants?event_id={}", w.draft)).await;
    assert_eq!(status, 404);
}

async fn an_organizer_hides_the_list_and_only_counts_remain(app: TestApp) {
    let w = world(&app).await;
    let ann = sign_in(&app, "ann").await;
    let (status, _) =
        post(&ann, &app, "/api/admin/events/participants", &[("id", w.event.to_string()), ("hidden", "true".into())])
            .await;
    assert_eq!(status, 403, "only the event's organizers");
    let org = sign_in(&app, "org").await;
    let (status, body) =
        post(&org, &app, "/api/admin/events/participants", &[("id", w.event.to_string()), ("hidden", "true".into())])
            .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["participants_hidden"], true);
    let l = list(&app, w.event).await;
    assert_eq!(l["hidden"], true);
    assert_eq!((group(&l, 0, "confirmed"), group(&l, 0, "waitlisted")), ((vec![], 1), (vec![], 1)));
    let (_, page) = app.get(&format!("/events/{}/participants", w.event)).await;
    assert!(!page.contains("ann san") && !page.contains("/users/ann"), "no name on the hidden page");
    let log = get_json(&org, &app, &format!("/api/admin/events/audit?event_id={}", w.event)).await;
    assert!(log.to_string().contains("event.participants"), "{log}");
    let (status, _) =
        post(&org, &app, "/api/admin/events/participants", &[("id", w.event.to_string()), ("hidden", "false".into())])
            .await;
    assert_eq!(status, 200);
    assert_eq!(group(&list(&app, w.event).await, 0, "confirmed"), (vec!["ann".to_string()], 0));
}

async fn attended_events_follow_the_person_s_choice_on_the_profile_and_the_api(app: TestApp) {
    let w = world(&app).await;
    let attended = |app: &TestApp| {
        let url = app.url("/api/v2/users/ann/attended_events/");
        async move {
            let v: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            v["results_returned"].as_i64().unwrap()
        }
    };
    let profile = |app: &TestApp| {
        let url = app.url("/api/users/get?nickname=ann");
        async move {
            let c = reqwest::Client::new();
            let v: Value = c.get(url).header("accept", "application/json").send().await.unwrap().json().await.unwrap();
            (v["attended_hidden"].as_bool().unwrap(), v["attended"].as_array().unwrap().len())
        }
    };
    assert_eq!((attended(&app).await, profile(&app).await), (1, (false, 1)));
    let (_, page) = app.get("/users/ann").await;
    assert!(page.contains("List target"), "the attended event is on the profile");

    // Anonymous to one event: it leaves her profile and the API.
    app.store().set_registration_anonymous(w.event, w.users[0], true).await.unwrap();
    assert_eq!((attended(&app).await, profile(&app).await), (0, (false, 0)));
    app.store().set_registration_anonymous(w.event, w.users[0], false).await.unwrap();

    // Private attended events: nothing on the profile or in the API, and the page says so.
    let ann = sign_in(&app, "ann").await;
    let (status, body) = post(&ann, &app, "/api/me/privacy", &[("hide_attended", "true".into())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["hide_attended"], true);
    assert_eq!((attended(&app).await, profile(&app).await), (0, (true, 0)));
    let (_, page) = app.get("/users/ann").await;
    assert!(!page.contains("List target"), "no attended event on the page");
    let v: Value = reqwest::get(app.url("/api/v2/events/?nickname=ann")).await.unwrap().json().await.unwrap();
    assert_eq!(v["results_returned"], 0, "the API's nickname filter follows the choice");
    // Still on the event's participant list (that is the per-event choice).
    assert_eq!(group(&list(&app, w.event).await, 0, "confirmed").0, vec!["ann".to_string()]);
    let (status, _) = post(&reqwest::Client::new(), &app, "/api/me/privacy", &[("hide_attended", "true".into())]).await;
    assert_eq!(status, 401);
}

/// /me's time zone (#15 item 5): an IANA name or empty (the browser's); the signed-in user
/// carries it, so pages use it.
async fn a_time_zone_choice_is_validated_and_kept(app: TestApp) {
    world(&app).await;
    let ann = sign_in(&app, "ann").await;
    for bad in ["Mars/Olympus", "JST+9", &"A".repeat(100)] {
        let (status, body) = post(&ann, &app, "/api/me/time-zone", &[("time_zone", bad.to_string())]).await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert!(body.contains("invalid_zone"), "{body}");
    }
    let (status, body) = post(&ann, &app, "/api/me/time-zone", &[("time_zone", "Europe/Berlin".into())]).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["time_zone"], "Europe/Berlin");
    assert_eq!(get_json(&ann, &app, "/api/auth/me").await["time_zone"], "Europe/Berlin");
    let (status, _) = post(&ann, &app, "/api/me/time-zone", &[("time_zone", String::new())]).await;
    assert_eq!(status, 200);
    assert_eq!(get_json(&ann, &app, "/api/auth/me").await["time_zone"], Value::Null, "back to the browser's");
    let (status, _) = post(&reqwest::Client::new(), &app, "/api/me/time-zone", &[("time_zone", "UTC".into())]).await;
    assert_eq!(status, 401);
}

on_both_backends!(
    a_time_zone_choice_is_validated_and_kept,
    the_list_names_people_by_frame_and_counts_the_anonymous,
    an_organizer_hides_the_list_and_only_counts_remain,
    attended_events_follow_the_person_s_choice_on_the_profile_and_the_api,
);
