//! Operations (#16 item 4), on both backends: `/readyz` says when an instance can take
//! traffic, and `/metrics` counts requests by route pattern (never a raw id), registrations
//! by outcome, and reads connections, mail and the search index at each scrape.

use chrono::Duration;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

/// The value of the metric line starting with `prefix` (labels included), if any.
fn value(body: &str, prefix: &str) -> Option<f64> {
    body.lines().find(|l| l.starts_with(prefix)).and_then(|l| l.rsplit(' ').next()).and_then(|v| v.parse().ok())
}

async fn readiness_and_metrics_describe_the_instance(app: TestApp) {
    let (status, body) = app.get("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"ready\""), "{body}");

    let store = app.store();
    let users = crate::helpers::users_with_password(&app, &["org", "amy", "bob"], PASSWORD).await;
    let group = store.insert_groups(&[NewGroup::owned_by("ops", "Ops", users[0])]).await.unwrap()[0];
    let event = store
        .insert_events(&[NewEvent {
            frames: vec![NewFrame::first_come("一般枠", 1)],
            ..NewEvent::minimal(group, "Ops night", tsudoi::time::now() + Duration::days(2))
        }])
        .await
        .unwrap()[0];
    let register = |c: reqwest::Client| {
        let url = app.url("/api/registrations/register");
        async move {
            let res = c.post(url).header("accept", "application/json").form(&[("event_id", event.to_string())]);
            res.send().await.unwrap().status().as_u16()
        }
    };
    for nick in ["amy", "bob"] {
        let c = crate::helpers::signed_in(&app, nick, PASSWORD).await;
        assert_eq!(register(c.clone()).await, 200);
        if nick == "amy" {
            assert_eq!(register(c).await, 409, "registered already");
        }
    }
    assert_eq!(app.get("/events/987654321").await.0, 404);
    assert_eq!(app.get(&format!("/events/{event}")).await.0, 200);

    let res = reqwest::get(app.url("/metrics")).await.unwrap();
    assert_eq!(res.status().as_u16(), 200);
    let kind = res.headers()["content-type"].to_str().unwrap().to_string();
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    let body = res.text().await.unwrap();
    assert!(body.trim_end().ends_with("# EOF"), "a whole exposition");
    // Requests by the route that matched, never by the raw path.
    assert!(
        value(&body, "tsudoi_http_requests_total{method=\"GET\",route=\"/readyz\",status=\"2xx\"}").unwrap() >= 1.0
    );
    assert!(
        body.contains("route=\"/events/:id\"") || body.contains("route=\"/events/{id}\""),
        "the event page's pattern"
    );
    assert!(!body.contains("987654321"), "no raw id becomes a series");
    assert!(body.contains("tsudoi_http_request_duration_seconds_bucket{"), "latency histogram");
    // One seat: one confirmed, one waitlisted (counts accumulate across servers in a process).
    assert!(value(&body, "tsudoi_registrations_total{outcome=\"confirmed\"}").unwrap() >= 1.0, "{body}");
    assert!(value(&body, "tsudoi_registrations_total{outcome=\"waitlisted\"}").unwrap() >= 1.0);
    assert!(value(&body, "tsudoi_registrations_total{outcome=\"already_registered\"}").unwrap() >= 1.0);
    // A refused server function counts as the 4xx it answers.
    assert!(
        body.lines()
            .any(|l| l.starts_with("tsudoi_http_requests_total{method=\"POST\"") && l.contains("status=\"4xx\"")),
        "{body}"
    );
    // Read at the scrape.
    assert!(body.contains("tsudoi_db_connections{pool=\""), "{body}");
    assert!(body.contains("tsudoi_mail_deliveries{state=\"pending\"}"));
    assert!(value(&body, "tsudoi_search_index_events").unwrap() >= 1.0, "the event is in the index");
    assert!(body.contains("tsudoi_live_streams_open"));
}

on_both_backends!(readiness_and_metrics_describe_the_instance);
