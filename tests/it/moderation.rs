//! Trust and safety (#17 items 3–4), on both backends: the sign-up form's honeypot and
//! minimum fill time, new accounts' daily limits, reports, and the site administrators'
//! moderation — a hidden event or group leaves every public path (tested like visibility),
//! a suspended account cannot sign in and its own groups go with it, each step logged.

use chrono::Duration;
use serde_json::Value;
use tsudoi::server::config::Config;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::{TempDb, TestApp, form_ticket, spawn_with};

const PASSWORD: &str = "correct horse battery";

fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

async fn get(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, String) {
    let res = c.get(app.url(path)).header("accept", "application/json").send().await.unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

fn s(v: impl ToString) -> String {
    v.to_string()
}

/// The first form-wide error code of a 422 answer.
fn form_code(body: &Value) -> String {
    body["message"][0]["code"].as_str().unwrap_or_default().to_string()
}

fn signup_form(nick: &str) -> Vec<(&'static str, String)> {
    vec![("nickname", s(nick)), ("email", format!("{nick}@example.com")), ("password", s(PASSWORD))]
}

async fn guarded_app(db: TempDb, min_fill_secs: u32) -> TestApp {
    let config = Config { form_min_fill_secs: min_fill_secs, ..Config::for_tests(db.url()) };
    spawn_with(config, db).await
}

async fn the_sign_up_form_refuses_bots_and_keeps_people(app: TestApp) {
    let c = client();
    let ticket = form_ticket(&app, &c).await;
    let with = |extra: &[(&'static str, String)]| {
        let mut f = signup_form("sora");
        f.extend(extra.iter().cloned());
        f
    };
    // Sent back at once: quicker than a person; nothing is created.
    let (status, body) = post(&c, &app, "/api/auth/signup", &with(&[("form_ticket", ticket.clone())])).await;
    assert_eq!((status, form_code(&body)), (422, s("too_fast")), "{body}");
    // No ticket, a forged one: the form has expired.
    for bad in [vec![], vec![("form_ticket", s("1700000000.00ff"))], vec![("form_ticket", format!("{ticket}0"))]] {
        let (status, body) = post(&c, &app, "/api/auth/signup", &with(&bad)).await;
        assert_eq!((status, form_code(&body)), (422, s("form_expired")), "{bad:?}: {body}");
    }
    tokio::time::sleep(std::time::Duration::from_millis(2_100)).await;
    // The honeypot filled in: refused whatever the ticket.
    let bot = with(&[("form_ticket", ticket.clone()), ("homepage", s("http://spam.example"))]);
    let (status, body) = post(&c, &app, "/api/auth/signup", &bot).await;
    assert_eq!((status, form_code(&body)), (422, s("form_rejected")), "{body}");
    let (status, _) = get(&c, &app, "/api/auth/me").await;
    assert_eq!(status, 200);
    assert_eq!(app.store().user_id_by_nickname("sora").await.unwrap(), None, "no refused form made an account");
    // A person, a few seconds later, with the honeypot empty: welcome.
    let (status, body) =
        post(&c, &app, "/api/auth/signup", &with(&[("form_ticket", ticket), ("homepage", s(""))])).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["nickname"], "sora");
    // The page carries both, the honeypot out of sight.
    let (_, page) = get(&reqwest::Client::new(), &app, "/signup").await;
    assert!(page.contains(r#"name="form_ticket""#) && page.contains(r#"name="homepage""#), "{page}");
    assert!(page.contains(r#"<div aria-hidden="true" class="hp">"#), "the honeypot is out of sight");
}

#[tokio::test]
async fn sign_up_guard_on_sqlite() {
    let db = TempDb::new();
    the_sign_up_form_refuses_bots_and_keeps_people(guarded_app(db, 2).await).await;
}

#[tokio::test]
async fn sign_up_guard_on_postgres() {
    let db = TempDb::postgres().await;
    the_sign_up_form_refuses_bots_and_keeps_people(guarded_app(db, 2).await).await;
}

async fn new_accounts_have_daily_limits_that_operator_accounts_do_not(app: TestApp) {
    let c = client();
    let mut form = signup_form("newbie");
    form.push(("form_ticket", form_ticket(&app, &c).await));
    assert_eq!(post(&c, &app, "/api/auth/signup", &form).await.0, 200);
    let group = |slug: &str| vec![("slug", s(slug)), ("title", format!("Group {slug}"))];
    for slug in ["newbie-1", "newbie-2"] {
        let (status, body) = post(&c, &app, "/api/admin/groups/create", &group(slug)).await;
        assert_eq!(status, 200, "{body}");
    }
    let res = c
        .post(app.url("/api/admin/groups/create"))
        .header("accept", "application/json")
        .form(&group("newbie-3"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 429, "a third group on the first day");
    let retry: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((86_000..=86_400).contains(&retry), "until the first leaves the day: {retry}");
    let (_, groups) = get(&c, &app, "/api/v2/groups/").await;
    assert!(!groups.contains("newbie-3"), "{groups}");
    // Sent all at once, a new account's creations are still counted one after another.
    let burst = client();
    let mut form = signup_form("burst");
    form.push(("form_ticket", form_ticket(&app, &burst).await));
    assert_eq!(post(&burst, &app, "/api/auth/signup", &form).await.0, 200);
    let tries = (0..6).map(|i| {
        let (c, app) = (burst.clone(), &app);
        async move { post(&c, app, "/api/admin/groups/create", &group(&format!("burst-{i}"))).await.0 }
    });
    let mut statuses = futures::future::join_all(tries).await;
    statuses.sort();
    assert_eq!(statuses, [200, 200, 429, 429, 429, 429], "exactly the day's two");
    // Accounts the operator loads (and older accounts) have no such limit.
    crate::helpers::users_with_password(&app, &["veteran"], PASSWORD).await;
    let vet = crate::helpers::signed_in(&app, "veteran", PASSWORD).await;
    for slug in ["vet-1", "vet-2", "vet-3"] {
        assert_eq!(post(&vet, &app, "/api/admin/groups/create", &group(slug)).await.0, 200);
    }
}

/// Group `spam` (owned by `spammer` alone) with an event; group `shared` owned by `spammer`
/// and `ok`; group `good` (owned by `ok`) with an event. Every title holds "Modcheck". `root`
/// is a site administrator; `rep` reports.
struct World {
    spam_event: i64,
    good_event: i64,
    spam_group: i64,
    good_group: i64,
    spammer: i64,
}

async fn world(app: &TestApp) -> World {
    let store = app.store();
    let u = crate::helpers::users_with_password(app, &["root", "rep", "spammer", "ok"], PASSWORD).await;
    store.set_site_admin("root", true).await.unwrap();
    let mut shared = NewGroup::owned_by("shared", "Modcheck shared", u[2]);
    shared.members.push((u[3], tsudoi::admin::model::Role::Owner));
    let g = store
        .insert_groups(&[
            NewGroup::owned_by("spam", "Modcheck spam group", u[2]),
            NewGroup::owned_by("good", "Modcheck good group", u[3]),
            shared,
        ])
        .await
        .unwrap();
    let starts = tsudoi::time::now() + Duration::days(5);
    let event = |group: i64, title: &str| NewEvent {
        frames: vec![NewFrame::first_come("一般", 10)],
        ..NewEvent::minimal(group, title, starts)
    };
    let ids =
        store.insert_events(&[event(g[0], "Modcheck spam event"), event(g[1], "Modcheck good event")]).await.unwrap();
    World { spam_event: ids[0], good_event: ids[1], spam_group: g[0], good_group: g[1], spammer: u[2] }
}

/// Every public path that lists or opens events and groups: none shows `gone`, and those
/// that list show "Modcheck good event".
async fn public_paths_leave_out(app: &TestApp, w: &World, gone: &[&str]) {
    let anyone = reqwest::Client::new();
    let lists = [
        "/",
        "/events?q=Modcheck",
        "/api/events/search?q=Modcheck",
        "/api/events/upcoming?page=1",
        "/events.ics?q=Modcheck",
        "/feed.atom",
        "/sitemap.xml",
        "/api/v2/events/?keyword=Modcheck",
        "/api/v2/groups/",
        "/groups/good",
    ];
    for path in lists {
        let (status, body) = get(&anyone, app, path).await;
        assert_eq!(status, 200, "{path}: {body}");
        for g in gone {
            assert!(!body.contains(g), "{path} shows {g}");
        }
        if !path.contains("groups/") && !path.contains("sitemap") {
            assert!(body.contains("Modcheck good event"), "{path} shows the good event: {body}");
        }
    }
    let _ = w;
}

async fn a_report_reaches_the_queue_and_hiding_removes_the_event_everywhere(app: TestApp) {
    let w = world(&app).await;
    let anyone = client();
    let rep = crate::helpers::signed_in(&app, "rep", PASSWORD).await;
    let root = crate::helpers::signed_in(&app, "root", PASSWORD).await;
    let report = |kind: &str, id: i64, reason: &str| vec![("kind", s(kind)), ("id", s(id)), ("reason", s(reason))];

    // Reporting needs an account, a reason and something that exists.
    assert_eq!(post(&anyone, &app, "/api/reports/create", &report("event", w.spam_event, "spam!")).await.0, 401);
    let (status, body) = post(&rep, &app, "/api/reports/create", &report("event", w.spam_event, " x ")).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("reason")), "{body}");
    let (status, body) = post(&rep, &app, "/api/reports/create", &report("comment", 1, "spam links")).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("kind")), "{body}");
    assert_eq!(post(&rep, &app, "/api/reports/create", &report("event", 999_999, "spam links")).await.0, 404);
    for _ in 0..2 {
        let (status, body) =
            post(&rep, &app, "/api/reports/create", &report("event", w.spam_event, "spam links")).await;
        assert_eq!(status, 200, "{body}");
    }

    // The queue is the site administrators' alone.
    assert_eq!(get(&anyone, &app, "/api/moderation/queue").await.0, 401);
    assert_eq!(get(&rep, &app, "/api/moderation/queue").await.0, 403);
    let act = |kind: &str, id: i64, action: &str| vec![("kind", s(kind)), ("id", s(id)), ("action", s(action))];
    assert_eq!(post(&rep, &app, "/api/moderation/act", &act("event", w.spam_event, "hide")).await.0, 403);
    let (status, queue) = get(&root, &app, "/api/moderation/queue").await;
    assert_eq!(status, 200, "{queue}");
    let queue: Value = serde_json::from_str(&queue).unwrap();
    assert_eq!(queue["open"].as_array().unwrap().len(), 1, "one target, reported twice by one person: {queue}");
    assert_eq!(queue["open"][0]["title"], "Modcheck spam event");
    assert_eq!(queue["open"][0]["reasons"].as_array().unwrap().len(), 1, "{queue}");
    assert_eq!(queue["open"][0]["reasons"][0]["reporter"], "rep");
    let (_, page) = get(&root, &app, "/admin/moderation").await;
    assert!(page.contains("Modcheck spam event") && page.contains("spam links"), "the queue page lists it");

    // Actions that do not fit are refused; hiding takes the event off every public path.
    let (status, body) = post(&root, &app, "/api/moderation/act", &act("event", w.spam_event, "suspend")).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("not_applicable")), "{body}");
    public_paths_leave_out(&app, &w, &[]).await;
    let (status, after) = post(&root, &app, "/api/moderation/act", &act("event", w.spam_event, "hide")).await;
    assert_eq!(status, 200, "{after}");
    assert_eq!(after["open"].as_array().unwrap().len(), 0, "its report is resolved: {after}");
    assert_eq!(after["hidden"][0]["title"], "Modcheck spam event");
    assert_eq!(after["log"][0]["action"], "event.hide");
    assert_eq!(after["log"][0]["actor"], "root");
    public_paths_leave_out(&app, &w, &["Modcheck spam event"]).await;
    let spam = w.spam_event;
    for path in [
        format!("/events/{spam}"),
        format!("/events/{spam}.ics"),
        format!("/api/events/get?id={spam}"),
        format!("/api/v2/events/{spam}/presentations/"),
    ] {
        let (status, body) = get(&reqwest::Client::new(), &app, &path).await;
        assert_eq!(status, 404, "{path}: {body}");
        assert!(!body.contains("Modcheck spam event"), "{path}");
    }
    let (status, page) = get(&reqwest::Client::new(), &app, "/groups/spam").await;
    assert_eq!(status, 200, "the group itself stays");
    assert!(!page.contains("Modcheck spam event"), "its page leaves the event out");
    for feed in ["/groups/spam/events.ics", "/groups/spam/feed.atom", "/embed/groups/spam"] {
        let (status, body) = get(&reqwest::Client::new(), &app, feed).await;
        assert_eq!(status, 200, "{feed}");
        assert!(!body.contains("Modcheck spam event"), "{feed} leaves the event out: {body}");
    }
    // Nobody registers for it; its organizer still sees it in the editor, with the step in its history.
    let (status, _) = post(&rep, &app, "/api/registrations/register", &[("event_id", s(spam))]).await;
    assert_eq!(status, 404);
    let spammer = crate::helpers::signed_in(&app, "spammer", PASSWORD).await;
    let (status, editor) = get(&spammer, &app, &format!("/api/admin/events/get?id={spam}")).await;
    assert_eq!(status, 200, "{editor}");
    let (_, audit) = get(&spammer, &app, &format!("/api/admin/events/audit?event_id={spam}")).await;
    assert!(audit.contains("moderation.event.hide"), "the event's audit log: {audit}");
    // A copy of a hidden event stays hidden, published or not.
    let starts = (tsudoi::time::now() + Duration::days(9)).format("%Y-%m-%dT19:00").to_string();
    let (status, copied) =
        post(&spammer, &app, "/api/admin/events/duplicate", &[("id", s(spam)), ("starts_local", starts)]).await;
    assert_eq!(status, 200, "{copied}");
    let copied = copied.as_i64().unwrap();
    let publish = vec![("id", s(copied)), ("action", s("publish"))];
    assert_eq!(post(&spammer, &app, "/api/admin/events/status", &publish).await.0, 200);
    assert_eq!(get(&reqwest::Client::new(), &app, &format!("/events/{copied}")).await.0, 404);

    // Restored: back everywhere.
    let (status, after) = post(&root, &app, "/api/moderation/act", &act("event", spam, "restore")).await;
    assert_eq!(status, 200, "{after}");
    let still: Vec<i64> = after["hidden"].as_array().unwrap().iter().map(|h| h["id"].as_i64().unwrap()).collect();
    assert_eq!(still, [copied], "the copy stays hidden until restored itself");
    let (status, page) = get(&reqwest::Client::new(), &app, &format!("/events/{spam}")).await;
    assert_eq!(status, 200);
    assert!(page.contains("Modcheck spam event"));
    let (_, found) = get(&reqwest::Client::new(), &app, "/api/events/search?q=Modcheck").await;
    assert!(found.contains("Modcheck spam event"), "{found}");
    let _ = w.good_event;
}

async fn a_hidden_group_and_a_suspended_account_leave_every_public_path(app: TestApp) {
    let w = world(&app).await;
    let root = crate::helpers::signed_in(&app, "root", PASSWORD).await;
    let act = |kind: &str, id: i64, action: &str| vec![("kind", s(kind)), ("id", s(id)), ("action", s(action))];

    // A hidden group takes its events with it.
    let (status, body) = post(&root, &app, "/api/moderation/act", &act("group", w.spam_group, "hide")).await;
    assert_eq!(status, 200, "{body}");
    public_paths_leave_out(&app, &w, &["Modcheck spam group", "Modcheck spam event", "/groups/spam"]).await;
    for path in
        ["/groups/spam", "/groups/spam/events.ics", "/groups/spam/feed.atom", &format!("/events/{}", w.spam_event)]
    {
        assert_eq!(get(&reqwest::Client::new(), &app, path).await.0, 404, "{path}");
    }
    assert_eq!(post(&root, &app, "/api/moderation/act", &act("group", w.spam_group, "restore")).await.0, 200);
    assert_eq!(get(&reqwest::Client::new(), &app, "/groups/spam").await.0, 200);

    // Suspending: sessions end, no sign-in, the profile and the groups it alone owns are hidden.
    let spammer = crate::helpers::signed_in(&app, "spammer", PASSWORD).await;
    let (_, me) = get(&spammer, &app, "/api/auth/me").await;
    assert!(me.contains("spammer"), "{me}");
    let (status, body) = post(&root, &app, "/api/moderation/act", &act("user", w.spammer, "suspend")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["log"][0]["action"], "user.suspend");
    let (_, me) = get(&spammer, &app, "/api/auth/me").await;
    assert_eq!(me, "null", "the session ended");
    let again = client();
    let (status, _) =
        post(&again, &app, "/api/auth/login", &[("login", s("spammer")), ("password", s(PASSWORD))]).await;
    assert_eq!(status, 422, "no sign-in while suspended (the same answer as a wrong password)");
    public_paths_leave_out(&app, &w, &["Modcheck spam group", "Modcheck spam event"]).await;
    assert_eq!(get(&reqwest::Client::new(), &app, "/users/spammer").await.0, 404);
    let (_, users) = get(&reqwest::Client::new(), &app, "/api/v2/users/?nickname=spammer").await;
    assert_eq!(serde_json::from_str::<Value>(&users).unwrap()["results_returned"], 0, "{users}");
    assert_eq!(get(&reqwest::Client::new(), &app, "/groups/spam").await.0, 404);
    assert_eq!(get(&reqwest::Client::new(), &app, "/groups/shared").await.0, 200, "another owner keeps it up");
    // Site administrators (oneself included) are not suspended this way.
    let root_id = app.store().user_id_by_nickname("root").await.unwrap().unwrap();
    let (status, body) = post(&root, &app, "/api/moderation/act", &act("user", root_id, "suspend")).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("site_admin")), "{body}");

    // Lifted: the account signs in again and exactly what went with it comes back.
    assert_eq!(post(&root, &app, "/api/moderation/act", &act("user", w.spammer, "unsuspend")).await.0, 200);
    let (status, _) =
        post(&again, &app, "/api/auth/login", &[("login", s("spammer")), ("password", s(PASSWORD))]).await;
    assert_eq!(status, 200);
    assert_eq!(get(&reqwest::Client::new(), &app, "/groups/spam").await.0, 200);
    assert_eq!(get(&reqwest::Client::new(), &app, &format!("/events/{}", w.spam_event)).await.0, 200);
    let (_, queue) = get(&root, &app, "/api/moderation/queue").await;
    let queue: Value = serde_json::from_str(&queue).unwrap();
    let actions: Vec<&str> = queue["log"].as_array().unwrap().iter().map(|l| l["action"].as_str().unwrap()).collect();
    assert_eq!(actions, ["user.unsuspend", "user.suspend", "group.restore", "group.hide"], "newest first");
}

on_both_backends!(
    new_accounts_have_daily_limits_that_operator_accounts_do_not,
    a_report_reaches_the_queue_and_hiding_removes_the_event_everywhere,
    a_hidden_group_and_a_suspended_account_leave_every_public_path,
    the_widget_is_tiny_framable_and_follows_the_group,
);

/// The embeddable widget (#17 item 5): a few kilobytes of HTML without the app, framable by
/// the sites the group chose, listing its upcoming events with live seat counts.
async fn the_widget_is_tiny_framable_and_follows_the_group(app: TestApp) {
    let w = world(&app).await;
    let anyone = reqwest::Client::new();
    let widget = |q: &str| {
        let req = anyone.get(app.url(&format!("/embed/groups/good{q}"))).header("accept-language", "en-US,en;q=0.8");
        async move {
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            (status, headers, res.text().await.unwrap())
        }
    };
    let (status, headers, page) = widget("").await;
    assert_eq!(status, 200, "{page}");
    println!("widget: {} bytes uncompressed", page.len());
    assert!(page.len() < 8 * 1024, "tiny: {} bytes", page.len());
    assert!(!page.contains("/pkg/") && !page.contains(".wasm"), "no app: {page}");
    assert!(page.contains("Modcheck good event") && page.contains("Upcoming events"), "{page}");
    assert!(page.contains(&format!(r#"data-event="{}""#, w.good_event)) && page.contains("0/10"), "{page}");
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("frame-ancestors *"), "{csp}");
    assert!(headers.get("x-frame-options").is_none(), "the one page that may be framed");
    let nonce = csp.split("'nonce-").nth(1).unwrap().split('\'').next().unwrap();
    assert!(page.contains(&format!(r#"<script nonce="{nonce}">"#)), "its script runs under its nonce");
    let (_, _, ja) = widget("?lang=ja&theme=dark").await;
    assert!(ja.contains("開催予定のイベント") && ja.contains("--bg:#161b26") && !ja.contains("prefers-color-scheme"));
    // Every other page still refuses to be framed.
    let res = anyone.get(app.url("/groups/good")).send().await.unwrap();
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    assert!(res.headers()["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));

    // The organizers choose who may frame it; bad origins are refused beside the field.
    let ok = crate::helpers::signed_in(&app, "ok", PASSWORD).await;
    let good_id = w.good_group;
    let set = |origins: &str| vec![("group_id", s(good_id)), ("embed_origins", s(origins))];
    let (status, body) = post(&ok, &app, "/api/admin/groups/embed", &set("https://a.example; script-src *")).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("embed_origins")), "{body}");
    let rep = crate::helpers::signed_in(&app, "rep", PASSWORD).await;
    assert_eq!(post(&rep, &app, "/api/admin/groups/embed", &set("https://a.example")).await.0, 403);
    let (status, body) =
        post(&ok, &app, "/api/admin/groups/embed", &set("https://a.example, https://*.b.example")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["embed_origins"], "https://a.example https://*.b.example");
    assert!(body["embed_snippet"].as_str().unwrap().contains("/embed/groups/good\""), "{body}");
    let (_, headers, _) = widget("").await;
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.ends_with("frame-ancestors https://a.example https://*.b.example"), "{csp}");

    // Hidden groups and unknown slugs have no widget.
    assert_eq!(anyone.get(app.url("/embed/groups/nope")).send().await.unwrap().status(), 404);
    let root = crate::helpers::signed_in(&app, "root", PASSWORD).await;
    let hide = vec![("kind", s("group")), ("id", s(good_id)), ("action", s("hide"))];
    assert_eq!(post(&root, &app, "/api/moderation/act", &hide).await.0, 200);
    assert_eq!(widget("").await.0, 404);
}
