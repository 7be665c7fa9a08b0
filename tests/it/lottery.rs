//! The ranked lottery (#15 item 6), over HTTP on both backends: an applicant ranks the
//! lottery frames drawn at the same time; refused rankings change nothing; the frames are
//! drawn together, each winner gets a frame they ranked, the outcome is re-derivable from
//! the seed, counters equal rows, and the organizer's draw log shows which choice each won.

use std::collections::HashMap;

use chrono::Duration;
use serde_json::Value;
use tsudoi::events::model::FrameMethod;
use tsudoi::registrations::draw::{Application, draw_ranked};
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";
const APPLICANTS: [&str; 5] = ["a1", "a2", "a3", "a4", "a5"];

fn lottery(name: &str, capacity: i64, draw_at: chrono::DateTime<chrono::Utc>) -> NewFrame {
    NewFrame { method: FrameMethod::Lottery, draw_at: Some(draw_at), ..NewFrame::first_come(name, capacity) }
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn ranked_applicants_are_drawn_into_the_frames_they_ranked(app: TestApp) {
    let store = app.store();
    let mut nicks = vec!["org"];
    nicks.extend(APPLICANTS);
    let users = crate::helpers::users_with_password(&app, &nicks, PASSWORD).await;
    let group = store.insert_groups(&[NewGroup::owned_by("lottery", "Lottery", users[0])]).await.unwrap()[0];
    let starts = tsudoi::time::now() + Duration::days(5);
    let draw_at = starts - Duration::days(2);
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![
                lottery("会場（抽選）", 2, draw_at),
                lottery("オンライン（抽選）", 2, draw_at),
                NewFrame::first_come("当日枠", 5),
                lottery("懇親会（抽選）", 3, draw_at + Duration::hours(6)),
            ],
            ..NewEvent::minimal(group, "Ranked", starts)
        }])
        .await
        .unwrap()[0];
    let frames: Vec<i64> = store.fetch_event(event).await.unwrap().unwrap().frames.iter().map(|f| f.id).collect();
    let (room, online, door, party) = (frames[0], frames[1], frames[2], frames[3]);
    let mut clients = Vec::new();
    for nick in APPLICANTS {
        clients.push(crate::helpers::signed_in(&app, nick, PASSWORD).await);
    }
    let apply = |frame: i64, also: &[&str]| {
        let mut form = vec![("event_id", event.to_string()), ("frame_id", frame.to_string())];
        form.extend(also.iter().map(|a| ("also[]", a.to_string())));
        form
    };

    // Refused rankings: a first-come frame, a frame drawn at another time, the same frame
    // twice, not a frame id. Each is a field error on `also` and registers nobody.
    let refusals = [
        (apply(room, &[&door.to_string()]), "not_drawn_together"),
        (apply(room, &[&party.to_string()]), "not_drawn_together"),
        (apply(room, &[&room.to_string()]), "duplicate"),
        (apply(room, &[&online.to_string(), &online.to_string()]), "duplicate"),
        (apply(room, &["x"]), "invalid_choice"),
        (apply(door, &[&room.to_string()]), "not_a_lottery"),
    ];
    for (form, code) in refusals {
        let (status, body) = post(&app, &clients[0], "/api/registrations/register", &form).await;
        assert_eq!(status, 422, "{form:?}: {body}");
        assert_eq!(body["message"][0]["field"], "also", "{body}");
        assert_eq!(body["message"][0]["code"], code, "{form:?}: {body}");
    }
    assert!(store.my_registration(event, users[1]).await.unwrap().is_none(), "nothing registered");

    // a1–a4 want the room, online second ("no further choice" values are skipped); a5
    // wants the room only.
    for c in &clients[..4] {
        let (status, body) =
            post(&app, c, "/api/registrations/register", &apply(room, &[&online.to_string(), ""])).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["lottery_pending"], true);
        assert_eq!(body["ranked"], serde_json::json!(["会場（抽選）", "オンライン（抽選）"]), "{body}");
    }
    let (status, body) = post(&app, &clients[4], "/api/registrations/register", &apply(room, &[""])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ranked"], serde_json::json!([]), "one frame is not a ranking");
    let mine = store.my_registration(event, users[1]).await.unwrap().unwrap();
    assert_eq!(mine.ranked, ["会場（抽選）", "オンライン（抽選）"], "the panel shows the ranking");
    // Re-applying replaces the ranking (a2 now ranks online only).
    let (status, body) = post(&app, &clients[1], "/api/registrations/register", &apply(online, &[""])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ranked"], serde_json::json!([]));

    let outcome = store.draw_lottery(room, 4242, draw_at).await.unwrap().expect("drawn");
    assert_eq!(outcome.frames, [room, online], "the frames due at the same time, not the party's");
    assert!(store.draw_lottery(online, 1, draw_at).await.unwrap().is_none(), "drawn with the room, once");
    assert_eq!(store.due_draws(draw_at + Duration::hours(6)).await.unwrap().len(), 1, "the party is drawn later");

    // Re-derive the outcome from the seed and the applications as they stood.
    let ranked = vec![room, online];
    let applications: Vec<Application> = store
        .list_registrations(event)
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let choices = match users.iter().position(|u| *u == r.user_id) {
                Some(1) | Some(3) | Some(4) => ranked.clone(),
                Some(2) => vec![online],
                _ => vec![room],
            };
            Application { id: r.id, choices }
        })
        .collect();
    let placements = draw_ranked(&applications, &HashMap::from([(room, 2), (online, 2)]), 4242);
    assert_eq!(outcome.order, placements.iter().map(|p| p.id).collect::<Vec<_>>());
    assert_eq!(outcome.winners, 4, "five applicants for four seats, all of them ranked by someone");
    let rows = store.list_registrations(event).await.unwrap();
    for p in &placements {
        let row = rows.iter().find(|r| r.id == p.id).unwrap();
        match p.frame_id {
            Some(frame) => assert_eq!((row.status, row.frame_id), (RegStatus::Confirmed, frame)),
            None => assert_eq!(row.status, RegStatus::Waitlisted),
        }
        let ranking = &applications.iter().find(|a| a.id == p.id).unwrap().choices;
        assert!(p.frame_id.is_none_or(|f| ranking.contains(&f)), "only a ranked frame");
    }
    for c in store.counter_check(&[event]).await.unwrap() {
        assert_eq!((c.accepted_count, c.waiting_count), (c.accepted_rows, c.waiting_rows), "{c:?}");
    }
    let confirmed =
        |frame: i64| rows.iter().filter(|r| r.frame_id == frame && r.status == RegStatus::Confirmed).count();
    assert_eq!((confirmed(room), confirmed(online)), (2, 2));

    // The organizer's log: the room's applicants, each with the frame and choice won.
    let org = crate::helpers::signed_in(&app, "org", PASSWORD).await;
    let res = org.get(app.url(&format!("/api/admin/events/get?id={event}"))).send().await.unwrap();
    let editor: Value = res.json().await.unwrap();
    let room_log = editor["draws"].as_array().unwrap().iter().find(|d| d["frame_id"] == room).unwrap();
    let entries = room_log["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 4, "a1, a3, a4, a5 applied to the room: {room_log}");
    let second_choices: Vec<&Value> = entries.iter().filter(|e| e[4] == 2).collect();
    for e in &second_choices {
        assert_eq!((e[2].as_bool(), e[3].as_i64()), (Some(true), Some(online)), "{e}");
    }
    let placed_second = placements.iter().filter(|p| p.choice == Some(2)).count();
    assert_eq!(second_choices.len(), placed_second, "{room_log}");
    assert!(placed_second >= 1, "a2 took one online seat, so a room applicant got the other");
    let mine = store.my_registration(event, users[1]).await.unwrap().unwrap();
    assert!(mine.ranked.is_empty() && !mine.lottery_pending, "after the draw: {mine:?}");
}

on_both_backends!(ranked_applicants_are_drawn_into_the_frames_they_ranked);
