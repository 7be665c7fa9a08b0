//! The whole app over HTTP: pages, statuses, languages, server-function endpoints.

use chrono::Duration;
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewRegistration};

use crate::helpers::{TestApp, spawn_app};

const SEED_TITLE: &str = "[Deep Learning Theory Team Seminar] Talk by Prof. Qing Qu (UMich) on the Emergence of Generalizability and Semantic Low-Dim Subspaces in Diffusion Models";

/// Asserts that `pieces` occur in `body` in this order.
fn assert_in_order(body: &str, pieces: &[&str]) {
    let mut at = 0;
    for piece in pieces {
        match body[at..].find(piece) {
            Some(i) => at += i + piece.len(),
            None => panic!("{piece:?} missing after byte {at} (or out of order)"),
        }
    }
}

#[tokio::test]
async fn healthz_answers_when_the_database_does() {
    let app = spawn_app(false).await;
    let res = app.client.get(app.url("/healthz")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

#[tokio::test]
async fn the_seed_seminar_reads_as_on_the_seed_page() {
    let app = spawn_app(true).await;
    let (status, body) = app.get("/events/1").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="ja""#), "html lang follows the UI language");
    assert_in_order(
        &body,
        &[
            SEED_TITLE,
            "2025/04/21(月)",
            "02:00〜03:00",
            "JST",
            "dates=20250420T170000Z/20250420T180000Z",
            "Googleカレンダーに追加",
            "参加者",
            "108人/200人",
            "主催",
            r#"href="/groups/riken-aip-public""#,
            "RIKEN AIP Public",
            "Online and the Open Space at the RIKEN AIP Nihonbashi office",
            "英語",
            "The Emergence of Generalizability and Semantic Low-Dim Subspaces in Diffusion Models",
            "Recent empirical studies have shown that diffusion models possess a unique reproducibility property",
            "Qing Qu is an assistant professor in the EECS department at the University of Michigan.",
        ],
    );
    assert!(body.contains("このイベントは終了しました"), "a past event says so");
    assert!(!body.contains("zoom.us"), "the online URL never reaches a public page");
}

#[tokio::test]
async fn the_event_page_in_english_formats_dates_in_english() {
    let app = spawn_app(true).await;
    let (status, body) = app.get("/events/1?lang=en").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="en""#));
    assert_in_order(
        &body,
        &["Mon, Apr 21, 2025", "02:00–03:00", "JST", "Add to Google Calendar", "108/200", "Organizer", "English"],
    );
    assert!(body.contains("This event has ended"));
}

#[tokio::test]
async fn missing_events_groups_and_pages_are_real_404s() {
    let app = spawn_app(true).await;
    for path in ["/events/987654321", "/events/not-a-number", "/events/-3", "/groups/no-such-group", "/no/such/page"] {
        let (status, body) = app.get(path).await;
        assert_eq!(status, 404, "{path}");
        assert!(body.contains("ページが見つかりません"), "{path} shows the 404 page");
    }
}

#[tokio::test]
async fn drafts_are_not_public() {
    let app = spawn_app(true).await;
    let draft: Option<(i64,)> = sqlx::query_as("SELECT id FROM events WHERE status = 'draft' LIMIT 1")
        .fetch_optional(&sqlite_pool(&app))
        .await
        .unwrap();
    let (id,) = draft.expect("the demo data has drafts");
    let (status, _) = app.get(&format!("/events/{id}")).await;
    assert_eq!(status, 404);
}

/// Adds a published, free event of the test's own beside the demo data, starting `starts_in`
/// from now and tagged `tags` (slugs), with one frame of `capacity` and `registrants` demo
/// attendees in it (confirmed up to the capacity, then waitlisted): a test that needs a
/// particular kind of event makes it, whatever the demo data holds on the day it runs.
async fn own_event(
    app: &TestApp,
    title: &str,
    tags: &[&str],
    starts_in: Duration,
    capacity: i64,
    registrants: usize,
) -> i64 {
    let now = tsudoi::time::now();
    let dir = app.store().directory().await.unwrap();
    let tag_ids = tags.iter().map(|slug| dir.tags.iter().find(|t| t.1 == *slug).expect("a demo tag").0).collect();
    let mut frame = NewFrame::first_come("一般", capacity);
    frame.registrations = dir.attendee_ids[..registrants]
        .iter()
        .enumerate()
        .map(|(i, user_id)| NewRegistration {
            user_id: *user_id,
            status: if (i as i64) < capacity { RegStatus::Confirmed } else { RegStatus::Waitlisted },
            receipt_code: format!("OWN-{i}"),
            created_at: now - Duration::minutes(60 - i as i64),
        })
        .collect();
    app.store()
        .insert_events(&[NewEvent {
            created_at: now - Duration::days(2),
            tag_ids,
            frames: vec![frame],
            ..NewEvent::minimal(dir.groups[1].0, title, now + starts_in)
        }])
        .await
        .unwrap()[0]
}

fn sqlite_pool(app: &crate::helpers::TestApp) -> sqlx::SqlitePool {
    // The test app always runs on SQLite; reopen the same file for direct inspection.
    let url = app.state.config.database_url.clone();
    sqlx::SqlitePool::connect_lazy(&url).expect("pool")
}

#[tokio::test]
async fn home_lists_upcoming_events_as_cards_with_seats_and_paging() {
    let app = spawn_app(true).await;
    // The soonest event is full, with a waitlist (the demo data has such events on some days).
    own_event(&app, "満員の勉強会", &["python"], Duration::minutes(90), 2, 4).await;
    let (status, body) = app.get("/").await;
    assert_eq!(status, 200);
    assert!(body.contains("開催予定のイベント"));
    assert!(body.contains("満員の勉強会"), "the soonest event is on the first page");
    let cards = body.matches(r#"<article class="card"#).count();
    assert_eq!(cards, 20, "a full first page");
    assert!(body.contains(r#"class="seats__bar""#));
    assert!(body.contains("満席"), "some demo events are full");
    assert!(body.contains("補欠"), "full events show their waitlist");
    assert!(body.contains(r#"href="/?page=2""#), "a link to the next page");
    assert!(!body.contains(SEED_TITLE), "past events are not upcoming");

    let (status, page2) = app.get("/?page=2").await;
    assert_eq!(status, 200);
    assert!(page2.contains("2 / "));
    let first_ids = card_ids(&body);
    let second_ids = card_ids(&page2);
    assert!(first_ids.iter().all(|id| !second_ids.contains(id)), "pages do not overlap");
}

fn card_ids(body: &str) -> Vec<i64> {
    body.split(r#"<h3 class="card__title"><a href="/events/"#)
        .skip(1)
        .filter_map(|rest| rest.split('"').next()?.parse().ok())
        .collect()
}

#[tokio::test]
async fn the_upcoming_list_shows_dates_in_the_ui_format() {
    let app = spawn_app(true).await;
    let (_, body) = app.get("/").await;
    // e.g. 2026/12/01(火) 19:00〜21:00
    let re_like = body.split("<time").nth(1).expect("a time element");
    let text = re_like.split('>').nth(1).unwrap().split('<').next().unwrap();
    let chars: Vec<char> = text.chars().collect();
    assert_eq!(chars[4], '/', "{text}");
    assert_eq!(chars[7], '/', "{text}");
    assert_eq!(chars[10], '(', "{text}");
    assert!("月火水木金土日".contains(chars[11]), "{text}");
    assert!(text.contains('〜'), "{text}");
}

#[tokio::test]
async fn the_group_page_has_description_links_and_past_events() {
    let app = spawn_app(true).await;
    let (status, body) = app.get("/groups/riken-aip-public").await;
    assert_eq!(status, 200);
    assert!(body.contains("<h1>RIKEN AIP Public</h1>"));
    assert!(body.contains(r#"href="https://aip.riken.jp/""#));
    assert_in_order(&body, &["開催予定のイベント", "過去のイベント", SEED_TITLE]);
}

#[tokio::test]
async fn the_tag_list_has_every_seed_tag_with_counts_and_links() {
    let app = spawn_app(true).await;
    let (status, body) = app.get("/tags").await;
    assert_eq!(status, 200);
    let seed = include_str!("../fixtures/seed-tags.txt");
    for name in seed.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let escaped = name.replace('&', "&amp;");
        assert!(body.contains(&format!(r#"<span class="tag-list__name">{escaped}</span>"#)), "tag {name} listed");
        let href = format!(r#"href="/events?tags={}""#, urlencoding::encode(name));
        assert!(body.contains(&href), "tag {name} links to {href}");
    }
    // Counts are real: compare one with the store.
    let tags = app.store().list_tags(tsudoi::time::now()).await.unwrap();
    let js = tags.iter().find(|t| t.tag.name == "JavaScript").unwrap();
    assert!(body.contains(&format!("{}件", js.upcoming)));
    assert!(tags.iter().any(|t| t.upcoming > 0));
}

/// Only `?lang=` (or `hl=`) sets the language cookie. Pages answered while other visitors
/// switch language at the same moment carry no language cookie of their own: once a
/// Japanese visitor's page came back with `i18n_pref_locale=en`, written by the i18n layer
/// from another request.
#[tokio::test]
async fn only_a_language_choice_sets_the_language_cookie_even_under_concurrent_switches() {
    let app = spawn_app(true).await;
    let app = &app;
    let fetch = |path: &'static str, lang: &'static str| async move {
        let res = reqwest::Client::new().get(app.url(path)).header("accept-language", lang).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
        let cookies: Vec<String> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter(|v| v.starts_with("i18n_pref_locale="))
            .map(str::to_string)
            .collect();
        (path, cookies)
    };
    let mut calls = Vec::new();
    for _ in 0..12 {
        calls.push(fetch("/?lang=en", "ja-JP"));
        calls.push(fetch("/events", "ja-JP"));
        calls.push(fetch("/tags", "ja-JP"));
    }
    for (path, cookies) in futures::future::join_all(calls).await {
        if path.contains("lang=") {
            assert_eq!(cookies.len(), 1, "{path}: {cookies:?}");
            assert!(cookies[0].starts_with("i18n_pref_locale=en;"), "{path}: {cookies:?}");
        } else {
            assert!(cookies.is_empty(), "{path} set {cookies:?}");
        }
    }
}

#[tokio::test]
async fn language_follows_query_then_cookie_then_accept_language() {
    let app = spawn_app(true).await;
    // Default: Japanese.
    let (_, body) = app.get("/tags").await;
    assert!(body.contains(r#"<html lang="ja""#));

    // ?lang=en switches and sets the cookie.
    let res = app.client.get(app.url("/tags?lang=en")).send().await.unwrap();
    let cookie =
        res.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_string()).collect::<Vec<_>>();
    assert!(cookie.iter().any(|c| c.starts_with("i18n_pref_locale=en") && c.contains("SameSite=Lax")), "{cookie:?}");
    let body = res.text().await.unwrap().replace("<!>", "");
    assert!(body.contains(r#"<html lang="en""#));
    assert!(body.contains("<h1>Tags</h1>"));

    // The cookie is remembered.
    let body = app
        .client
        .get(app.url("/tags"))
        .header("cookie", "i18n_pref_locale=en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#"<html lang="en""#));

    // Without a choice, Accept-Language decides.
    let body = app
        .client
        .get(app.url("/tags"))
        .header("accept-language", "en-US,en;q=0.9")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#"<html lang="en""#));

    // A choice beats Accept-Language; an unsupported one is ignored.
    let body = app
        .client
        .get(app.url("/tags?lang=ja"))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(body.contains(r#"<html lang="ja""#));
    let (status, body) = app.get("/tags?lang=xx").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"<html lang="ja""#));
}

#[tokio::test]
async fn server_function_endpoints_are_stable_and_answer_json() {
    let app = spawn_app(true).await;
    let res = app.client.get(app.url("/api/events/get?id=1")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let event: serde_json::Value = res.json().await.unwrap();
    assert_eq!(event["card"]["title"], SEED_TITLE);
    assert_eq!(event["card"]["seats"]["accepted"], 108);
    assert_eq!(event["card"]["seats"]["limit"], 200);
    assert_eq!(event["url"], "http://tsudoi.test/events/1");
    assert!(event.get("online_url").is_none());

    let res = app.client.get(app.url("/api/events/get?id=987654321")).send().await.unwrap();
    assert_eq!(res.status(), 404);
    let err: serde_json::Value = res.json().await.unwrap();
    assert_eq!(err["error"], "not_found");

    let res = app.client.get(app.url("/api/events/get?id=abc")).send().await.unwrap();
    assert!(res.status().is_client_error(), "bad arguments are a 4xx, got {}", res.status());

    let res = app.client.get(app.url("/api/events/upcoming?page=1")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let page: serde_json::Value = res.json().await.unwrap();
    assert_eq!(page["items"].as_array().unwrap().len(), 20);
}

#[tokio::test]
async fn static_assets_are_served_and_compressed() {
    let app = spawn_app(false).await;
    let res = app.client.get(app.url("/favicon.svg")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = app.client.get(app.url("/")).header("accept-encoding", "br").send().await.unwrap();
    assert_eq!(res.headers().get("content-encoding").map(|v| v.to_str().unwrap()), Some("br"));
    assert_eq!(res.headers().get("x-content-type-options").map(|v| v.to_str().unwrap()), Some("nosniff"));
}

#[tokio::test]
async fn the_search_page_renders_results_server_side_and_never_fails_on_bad_input() {
    let app = spawn_app(true).await;
    own_event(&app, "無料の Python 勉強会", &["python"], Duration::days(3), 30, 5).await;
    let (status, body) = app.get("/events?tags=Python&pref=free").await;
    assert_eq!(status, 200);
    assert!(body.contains(r#"role="search""#), "the panel is a form");
    assert!(body.contains(r#"name="q""#));
    assert!(body.contains("facet__chip--on"), "the selected tag is marked");
    let cards = body.matches(r#"<article class="card"#).count();
    assert!(cards > 0);
    assert!(body.contains("無料の Python 勉強会"), "the test's own free Python event is found");
    let (status, body) = app.get("/events?date=someday&page=-4&pref=cheap&tags=%22%27%3Cscript%3E").await;
    assert_eq!(status, 200);
    assert!(body.contains("次の条件は読み取れなかったため無視しました"));
    assert!(!body.contains("\"'<script>"), "input is escaped");
    assert!(body.contains("&lt;script&gt;"), "and shown as text");
    let res = app
        .client
        .get(app.url("/api/events/search?q=%E3%83%8F%E3%83%B3%E3%82%BA%E3%82%AA%E3%83%B3&date=all"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let json: serde_json::Value = res.json().await.unwrap();
    assert!(json["results"]["total"].as_i64().unwrap() > 0);
    assert_eq!(json["facets"]["dates"].as_array().unwrap().len(), 10);
}

#[tokio::test]
async fn a_tag_page_describes_the_tag_and_lists_its_events() {
    let app = spawn_app(true).await;
    let (status, body) = app.get("/tags/python").await;
    assert_eq!(status, 200);
    assert!(body.contains("<h1>Python</h1>"));
    assert!(body.contains(r#"href="/events?tags=Python""#), "a link to the full search");
    let tags = app.store().list_tags(tsudoi::time::now()).await.unwrap();
    let python = tags.iter().find(|t| t.tag.slug == "python").unwrap();
    let cards = body.matches(r#"<article class="card"#).count() as i64;
    assert_eq!(cards, python.upcoming.min(20), "its upcoming events");
    let (status, body) = app.get("/tags/no-such-tag").await;
    assert_eq!(status, 404);
    assert!(body.contains("ページが見つかりません"));
}

#[tokio::test]
async fn pages_carry_a_content_security_policy_whose_nonce_is_the_hydration_scripts() {
    let app = spawn_app(true).await;
    let res = app.client.get(app.url("/events/1")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let policy = res.headers().get("content-security-policy").expect("a CSP on pages").to_str().unwrap().to_string();
    let body = res.text().await.unwrap();
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a nonce in script-src")
        .to_string();
    assert!(nonce.len() >= 16, "a fresh random nonce: {nonce}");
    assert!(body.contains(&format!(r#"nonce="{nonce}""#)), "the hydration script carries the header's nonce");
    for script in body.split("<script").skip(1) {
        let (tag, rest) = script.split_once('>').unwrap_or_default();
        // An empty element runs nothing (browsers skip it before asking the policy).
        let empty = rest.starts_with("</script>");
        assert!(
            empty || tag.contains(&format!(r#"nonce="{nonce}""#)) || tag.contains("application/ld+json"),
            "an inline script without the nonce: <script{tag}>"
        );
    }
    assert!(!policy.contains("script-src 'self' 'unsafe-inline'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'") && policy.contains("img-src 'self' data:"), "{policy}");
    let again = res_header(&app, "/events/1").await;
    let again = again.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).unwrap_or_default();
    assert!(!again.is_empty() && again != nonce, "every response gets its own nonce");
    // Responses that are not pages run nothing at all; no HSTS on plain HTTP.
    let api = app.client.get(app.url("/api/v2/events/?count=1")).send().await.unwrap();
    assert_eq!(api.headers().get("content-security-policy").unwrap(), "default-src 'none'; frame-ancestors 'none'");
    assert!(api.headers().get("strict-transport-security").is_none());
}

/// The CSP header of a fresh GET of `path`.
async fn res_header(app: &crate::helpers::TestApp, path: &str) -> String {
    let res = app.client.get(app.url(path)).send().await.unwrap();
    res.headers().get("content-security-policy").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}
