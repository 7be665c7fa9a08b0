//! Visibility (#15 item 2), on both backends: unlisted and invitation-only events, and the
//! events of an unlisted group, leak through none of the public paths that list events; an
//! unlisted event opens by its link (noindex); an invitation-only one only with its secret
//! (page, .ics, participant list, registration), for its organizers and for people already
//! registered.

use chrono::Duration;
use serde_json::Value;
use tsudoi::events::model::Visibility;
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewRegistration, NewSpeaker};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

struct World {
    public: i64,
    unlisted: i64,
    invitation: i64,
    /// A public event of an unlisted group.
    hidden_group_event: i64,
    secret: String,
}

/// Group `open` (listed) with a public, an unlisted and an invitation-only event; group
/// `quiet` (unlisted) with a public event. Every title holds "Leakcheck"; `fan` follows
/// `open`, `ann` is confirmed for the unlisted and invitation events and speaks at them.
async fn world(app: &TestApp) -> World {
    let store = app.store();
    let u = crate::helpers::users_with_password(app, &["org", "ann", "fan", "bob"], PASSWORD).await;
    let g = store
        .insert_groups(&[NewGroup::owned_by("open", "Open", u[0]), NewGroup::owned_by("quiet", "Quiet", u[0])])
        .await
        .unwrap();
    store.set_follow(g[0], u[2], true, tsudoi::time::now()).await.unwrap();
    let starts = tsudoi::time::now() + Duration::days(6);
    let ann = |code: &str| NewRegistration {
        user_id: u[1],
        status: RegStatus::Confirmed,
        receipt_code: code.into(),
        created_at: tsudoi::time::now() - Duration::days(1),
    };
    let event = |group: i64, title: &str, code: &str| NewEvent {
        frames: vec![NewFrame { registrations: vec![ann(code)], ..NewFrame::first_come("一般", 10) }],
        speakers: vec![NewSpeaker {
            name: "Ann".into(),
            affiliation: String::new(),
            bio: String::new(),
            talk_title: "Talk".into(),
            user_id: Some(u[1]),
        }],
        ..NewEvent::minimal(group, title, starts)
    };
    let ids = store
        .insert_events(&[
            event(g[0], "Leakcheck public", "VIS-0001"),
            event(g[0], "Leakcheck unlisted", "VIS-0002"),
            event(g[0], "Leakcheck invitation", "VIS-0003"),
            event(g[1], "Leakcheck quiet", "VIS-0004"),
        ])
        .await
        .unwrap();
    let secret = "s3cret-invitation-0123456789abcdef".to_string();
    store.set_event_visibility(ids[1], Visibility::Unlisted, None).await.unwrap();
    store.set_event_visibility(ids[2], Visibility::Invitation, Some(&secret)).await.unwrap();
    store.set_group_unlisted(g[1], true).await.unwrap();
    World { public: ids[0], unlisted: ids[1], invitation: ids[2], hidden_group_event: ids[3], secret }
}

async fn sign_in(app: &TestApp, nick: &str) -> reqwest::Client {
    crate::helpers::signed_in(app, nick, PASSWORD).await
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn every_list_path_shows_only_the_listed_event(app: TestApp) {
    let w = world(&app).await;
    let anyone = reqwest::Client::new();
    let fan = sign_in(&app, "fan").await;
    let ids = format!("{},{},{},{}", w.public, w.unlisted, w.invitation, w.hidden_group_event);
    // (path, who asks, whether the public event must be there)
    let paths: Vec<(String, &reqwest::Client, bool)> = vec![
        ("/".into(), &anyone, true),
        ("/events?q=Leakcheck".into(), &anyone, true),
        ("/api/events/search?q=Leakcheck".into(), &anyone, true),
        ("/api/events/upcoming?page=1".into(), &anyone, true),
        ("/events.ics?q=Leakcheck".into(), &anyone, true),
        ("/feed.atom".into(), &anyone, true),
        ("/groups/open".into(), &anyone, true),
        ("/groups/open/events.ics".into(), &anyone, true),
        ("/groups/open/feed.atom".into(), &anyone, true),
        ("/sitemap.xml".into(), &anyone, false),
        ("/api/v2/events/?keyword=Leakcheck".into(), &anyone, true),
        (format!("/api/v2/events/?event_id={ids}"), &anyone, true),
        ("/api/v2/events/?nickname=ann".into(), &anyone, false),
        ("/api/v2/events/?owner_nickname=org".into(), &anyone, true),
        ("/api/v2/users/ann/attended_events/".into(), &anyone, false),
        ("/api/v2/users/ann/presenter_events/".into(), &anyone, true),
        ("/users/ann".into(), &anyone, false),
        ("/users/org".into(), &anyone, true),
        ("/api/me/feed".into(), &fan, true),
    ];
    for (path, client, has_public) in &paths {
        let (status, body) = get(client, &app, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        for hidden in ["Leakcheck unlisted", "Leakcheck invitation", "Leakcheck quiet"] {
            assert!(!body.contains(hidden), "{path} leaks {hidden}");
        }
        for id in [w.unlisted, w.invitation, w.hidden_group_event] {
            assert!(
                !body.contains(&format!("/events/{id}\"")) && !body.contains(&format!("/events/{id}<")),
                "{path} links {id}"
            );
        }
        if *has_public {
            assert!(body.contains("Leakcheck public"), "{path} shows the public event: {body}");
        }
    }
    // Counts leave them out too: the API's user counts and the tag-free search total.
    let (_, users) = get(&anyone, &app, "/api/v2/users/?nickname=ann").await;
    let users: Value = serde_json::from_str(&users).unwrap();
    assert_eq!(users["users"][0]["attended_event_count"], 1, "of four, the listed one: {users}");
    assert_eq!(users["users"][0]["presenter_event_count"], 1, "{users}");
    let (_, found) = get(&anyone, &app, "/api/events/search?q=Leakcheck").await;
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"]["total"], 1, "{found}");
    // The unlisted group is in no group list; its own page and feed show its public event.
    let (_, groups) = get(&anyone, &app, "/api/v2/groups/").await;
    assert!(!groups.contains("quiet"), "{groups}");
    let (_, sitemap) = get(&anyone, &app, "/sitemap.xml").await;
    assert!(!sitemap.contains("/groups/quiet"), "{sitemap}");
    assert!(sitemap.contains(&format!("/events/{}<", w.public)), "{sitemap}");
    let (status, page) = get(&anyone, &app, "/groups/quiet").await;
    assert_eq!(status, 200);
    assert!(page.contains("Leakcheck quiet"), "an unlisted group's page shows its events");
    assert!(page.contains(r#"name="robots" content="noindex, nofollow""#), "and is not indexed");
    assert!(!page.contains("Leakcheck unlisted"));
    // The API answers as if they did not exist.
    let (status, _) = get(&anyone, &app, &format!("/api/v2/events/{}/presentations/", w.unlisted)).await;
    assert_eq!(status, 404);
}

async fn an_unlisted_event_opens_by_link_and_an_invitation_only_one_with_its_secret(app: TestApp) {
    let w = world(&app).await;
    let anyone = reqwest::Client::new();
    let (status, page) = get(&anyone, &app, &format!("/events/{}", w.unlisted)).await;
    assert_eq!(status, 200);
    assert!(page.contains("Leakcheck unlisted") && page.contains(r#"name="robots" content="noindex, nofollow""#));
    let (status, page) = get(&anyone, &app, &format!("/events/{}", w.public)).await;
    assert_eq!(status, 200);
    assert!(!page.contains("noindex"), "public pages are indexed");

    let inv = w.invitation;
    let with = |s: &str| format!("?invite={s}");
    for suffix in [String::new(), with("wrong"), with("")] {
        for path in [
            format!("/events/{inv}{suffix}"),
            format!("/events/{inv}.ics{suffix}"),
            format!("/api/events/get?id={inv}{}", suffix.replace('?', "&")),
            format!("/api/events/participants?event_id={inv}{}", suffix.replace('?', "&")),
        ] {
            let (status, body) = get(&anyone, &app, &path).await;
            assert_eq!(status, 404, "{path}: {body}");
            assert!(!body.contains("Leakcheck invitation"), "{path}");
        }
    }
    for path in [
        format!("/events/{inv}{}", with(&w.secret)),
        format!("/events/{inv}.ics{}", with(&w.secret)),
        format!("/api/events/participants?event_id={inv}&invite={}", w.secret),
    ] {
        let (status, body) = get(&anyone, &app, &path).await;
        assert_eq!(status, 200, "{path}: {body}");
        assert!(body.contains("Leakcheck invitation") || body.contains("\"frames\""), "{path}");
    }

    // Registering needs the secret; then the registrant opens the page without it.
    let bob = sign_in(&app, "bob").await;
    let register = |invite: Option<&str>| {
        let mut form = vec![("event_id", inv.to_string())];
        if let Some(s) = invite {
            form.push(("invite", s.to_string()));
        }
        let req = bob.post(app.url("/api/registrations/register")).header("accept", "application/json").form(&form);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(register(None).await, 404);
    assert_eq!(register(Some("wrong")).await, 404);
    assert_eq!(register(Some(&w.secret)).await, 200);
    let (status, _) = get(&bob, &app, &format!("/events/{inv}")).await;
    assert_eq!(status, 200, "a registrant keeps access");
    // Organizers open it without the secret and see the link; replacing it ends the old one.
    let org = sign_in(&app, "org").await;
    let (status, _) = get(&org, &app, &format!("/events/{inv}")).await;
    assert_eq!(status, 200, "organizers keep access");
    let (_, editor) = get(&org, &app, &format!("/api/admin/events/get?id={inv}")).await;
    let editor: Value = serde_json::from_str(&editor).unwrap();
    assert!(editor["invite_url"].as_str().unwrap().ends_with(&format!("/events/{inv}?invite={}", w.secret)));
    let res = org
        .post(app.url("/api/admin/events/invite/regenerate"))
        .header("accept", "application/json")
        .form(&[("id", inv.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let fresh: Value = res.json().await.unwrap();
    let fresh_url = fresh["invite_url"].as_str().unwrap().to_string();
    assert!(!fresh_url.ends_with(&w.secret));
    let (status, _) = get(&anyone, &app, &format!("/events/{inv}{}", with(&w.secret))).await;
    assert_eq!(status, 404, "the old link stops working");
    let fresh_path = fresh_url.split_once("/events/").map(|(_, p)| format!("/events/{p}")).unwrap();
    let (status, _) = get(&anyone, &app, &fresh_path).await;
    assert_eq!(status, 200, "the new link works");
    // A public event has no invitation link to replace.
    let res = org
        .post(app.url("/api/admin/events/invite/regenerate"))
        .header("accept", "application/json")
        .form(&[("id", w.public.to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 409);
}

async fn the_editor_sets_visibility_and_a_group_becomes_unlisted(app: TestApp) {
    let w = world(&app).await;
    let org = sign_in(&app, "org").await;
    let (_, editor) = get(&org, &app, &format!("/api/admin/events/get?id={}", w.public)).await;
    let editor: Value = serde_json::from_str(&editor).unwrap();
    let mut form: Vec<(String, String)> = editor["form"]
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
        .collect();
    form.push(("id".into(), w.public.to_string()));
    form.retain(|(k, _)| k != "visibility");
    let save = |visibility: &str| {
        let mut form = form.clone();
        form.push(("visibility".into(), visibility.to_string()));
        let req = org.post(app.url("/api/admin/events/update")).header("accept", "application/json").form(&form);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), res.text().await.unwrap())
        }
    };
    let (status, body) = save("secret").await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("visibility") && body.contains("invalid_choice"), "{body}");
    let (status, body) = save("unlisted").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["form"]["visibility"], "unlisted");
    let (_, found) = get(&reqwest::Client::new(), &app, "/api/events/search?q=Leakcheck").await;
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"]["total"], 0, "{found}");
    let (status, body) = save("invitation").await;
    assert_eq!(status, 200, "{body}");
    assert!(serde_json::from_str::<Value>(&body).unwrap()["invite_url"].as_str().is_some(), "a secret is made");
    let (status, _) = save("public").await;
    assert_eq!(status, 200);
    let (_, found) = get(&reqwest::Client::new(), &app, "/api/events/search?q=Leakcheck").await;
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"]["total"], 1, "{found}");
    let (_, log) = get(&org, &app, &format!("/api/admin/events/audit?event_id={}", w.public)).await;
    assert!(log.contains("event.visibility"), "{log}");

    // The whole group unlisted: its public event leaves the lists, and comes back.
    let group = app.store().event_group_id(w.public).await.unwrap().unwrap().to_string();
    let unlist = |flag: &'static str| {
        let req = org
            .post(app.url("/api/admin/groups/unlisted"))
            .header("accept", "application/json")
            .form(&[("group_id", group.clone()), ("unlisted", flag.to_string())]);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(unlist("true").await, 200);
    let (_, found) = get(&reqwest::Client::new(), &app, "/api/events/search?q=Leakcheck").await;
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"]["total"], 0, "{found}");
    let (status, _) = get(&reqwest::Client::new(), &app, &format!("/events/{}", w.public)).await;
    assert_eq!(status, 200, "still reachable by its link");
    assert_eq!(unlist("false").await, 200);
    let (_, found) = get(&reqwest::Client::new(), &app, "/api/events/search?q=Leakcheck").await;
    assert_eq!(serde_json::from_str::<Value>(&found).unwrap()["results"]["total"], 1, "{found}");
    let ann = sign_in(&app, "ann").await;
    let res = ann
        .post(app.url("/api/admin/groups/unlisted"))
        .header("accept", "application/json")
        .form(&[("group_id", group.clone()), ("unlisted", "true".to_string())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 403, "only the group's organizers");
}

on_both_backends!(
    every_list_path_shows_only_the_listed_event,
    an_unlisted_event_opens_by_link_and_an_invitation_only_one_with_its_secret,
    the_editor_sets_visibility_and_a_group_becomes_unlisted,
);
