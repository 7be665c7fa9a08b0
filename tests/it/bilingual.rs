//! Bilingual events (#15 item 4), over HTTP on both backends: an organizer gives an event an
//! English title, catch and description beside the Japanese; the page shows the reader's
//! language with a switch (`?hl=`), search finds either text, the API returns both, calendars
//! and feeds follow `?hl=`, and bad or partial English is refused or kept as the rules say.

use chrono::Duration;
use serde_json::Value;
use tsudoi::events::model::EnglishText;
use tsudoi::search::model::{DatePreset, SearchQuery};
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap_or(Value::Null))
}

async fn text(app: &TestApp, path: &str) -> String {
    let res = reqwest::get(app.url(path)).await.unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.text().await.unwrap()
}

async fn an_event_speaks_japanese_and_english(app: TestApp) {
    let store = app.store();
    let users = crate::helpers::users_with_password(&app, &["org"], PASSWORD).await;
    let group = store.insert_groups(&[NewGroup::owned_by("bilingual", "Bilingual", users[0])]).await.unwrap()[0];
    let starts = tsudoi::time::now() + Duration::days(7);
    let event = store
        .insert_events(&[NewEvent {
            catch: "関数型の基礎".into(),
            description: "**型クラス**を学びます".into(),
            english: EnglishText {
                title: "Ferris meetup".into(),
                catch: String::new(),
                description: "We learn **type classes**".into(),
            },
            frames: vec![NewFrame::first_come("一般枠", 10)],
            ..NewEvent::minimal(group, "フェリス勉強会", starts)
        }])
        .await
        .unwrap()[0];

    // The page: Japanese by default, English with ?hl=en; each links to the other.
    let ja = text(&app, &format!("/events/{event}")).await;
    assert!(ja.contains("フェリス勉強会") && ja.contains("<strong>型クラス</strong>"), "Japanese first");
    assert!(ja.contains(&format!("/events/{event}?hl=en")), "a switch to English");
    let en = text(&app, &format!("/events/{event}?hl=en")).await;
    assert!(en.contains(">Ferris meetup<"), "the English title");
    assert!(en.contains("<strong>type classes</strong>") && !en.contains("<strong>型クラス</strong>"));
    assert!(en.contains("関数型の基礎"), "an empty English catch shows the Japanese one");
    assert!(en.contains(&format!("/events/{event}?hl=ja")), "and back");

    // Search finds either text.
    let find = |q: &str| SearchQuery { q: q.into(), date: DatePreset::All, ..SearchQuery::default() };
    for q in ["Ferris", "type classes", "フェリス"] {
        let found = store.search(&find(q), tsudoi::time::now()).await.unwrap();
        assert!(found.results.items.iter().any(|c| c.id == event), "{q} finds the event");
        let sql = store.search_with_sql(&find(q), tsudoi::time::now()).await.unwrap();
        assert_eq!(found.results.total, sql.results.total, "{q}: index and SQL agree");
    }

    // The API: both texts, and `title` as stored.
    let api: Value = serde_json::from_str(&text(&app, &format!("/api/v2/events/?event_id={event}")).await).unwrap();
    let e = &api["events"][0];
    assert_eq!(
        (e["title"].as_str(), e["title_ja"].as_str(), e["title_en"].as_str()),
        (Some("フェリス勉強会"), Some("フェリス勉強会"), Some("Ferris meetup"))
    );
    assert_eq!(e["catch_en"], "関数型の基礎");
    assert!(e["description_en"].as_str().unwrap().contains("<strong>type classes</strong>"), "{e}");

    // Calendars and feeds follow ?hl=.
    let ics_ja = text(&app, &format!("/events/{event}.ics")).await;
    assert!(ics_ja.contains("SUMMARY:フェリス勉強会"), "{ics_ja}");
    let ics_en = text(&app, &format!("/events/{event}.ics?hl=en")).await;
    assert!(ics_en.contains("SUMMARY:Ferris meetup"), "{ics_en}");
    let atom = text(&app, "/groups/bilingual/feed.atom?hl=en").await;
    assert!(atom.contains("Ferris meetup") && !atom.contains("フェリス勉強会"), "{atom}");

    // Editing: English needs its title; an update that does not send the English keeps it;
    // an empty English title removes it.
    let org = crate::helpers::signed_in(&app, "org", PASSWORD).await;
    let current = store.admin_event(event).await.unwrap().unwrap().form;
    assert_eq!(current.title_en.as_deref(), Some("Ferris meetup"));
    let form = |extra: &[(&'static str, &str)]| {
        let mut f: Vec<(&str, String)> = vec![
            ("id", event.to_string()),
            ("title_ja", "フェリス勉強会 第2回".into()),
            ("catch", current.catch.clone()),
            ("description", current.description.clone()),
            ("starts_local", current.starts_local.clone()),
            ("ends_local", current.ends_local.clone()),
            ("time_zone", current.time_zone.clone()),
            ("venue_kind", current.venue_kind.clone()),
            ("language", current.language.clone()),
        ];
        f.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        f
    };
    let (status, body) =
        post(&app, &org, "/api/admin/events/update", &form(&[("title_en", ""), ("catch_en", "Basics")])).await;
    assert_eq!(
        (status, body["message"][0]["field"].as_str(), body["message"][0]["code"].as_str()),
        (422, Some("title_en"), Some("required")),
        "{body}"
    );
    let long = "x".repeat(201);
    let (status, body) = post(&app, &org, "/api/admin/events/update", &form(&[("title_en", &long)])).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("too_long")), "{body}");
    let (status, editor) = post(&app, &org, "/api/admin/events/update", &form(&[])).await;
    assert_eq!(status, 200, "{editor}");
    assert_eq!(editor["form"]["title"], "フェリス勉強会 第2回", "title_ja is the Japanese title");
    assert_eq!(editor["form"]["title_en"], "Ferris meetup", "not sent: kept");
    let (status, editor) = post(&app, &org, "/api/admin/events/update", &form(&[("title_en", "")])).await;
    assert_eq!(status, 200, "{editor}");
    let api: Value = serde_json::from_str(&text(&app, &format!("/api/v2/events/?event_id={event}")).await).unwrap();
    assert_eq!(api["events"][0]["title_en"], "", "no English any more");
    let page = text(&app, &format!("/events/{event}?hl=en")).await;
    assert!(page.contains("フェリス勉強会 第2回") && !page.contains("?hl=ja"), "one language, no switch");
    let found = store.search(&find("Ferris"), tsudoi::time::now()).await.unwrap();
    assert!(!found.results.items.iter().any(|c| c.id == event), "the English text left the search");
}

on_both_backends!(an_event_speaks_japanese_and_english);
