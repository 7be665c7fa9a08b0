//! Outgoing webhooks (#17 item 6), on both backends, with a receiver inside the test: every
//! delivery is signed as the Standard Webhooks specification says (checked here with the
//! test's own HMAC), failed deliveries are retried with the same `webhook-id`, deliveries
//! about one event arrive in the order things happened, and only owners and admins manage
//! a group's webhooks.

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use base64::Engine;
use chrono::Duration;
use hmac::{KeyInit, Mac};
use serde_json::Value;
use tsudoi::events::model::EventStatus;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup};

use crate::helpers::TestApp;

const PASSWORD: &str = "correct horse battery";

#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: String,
    signature: String,
    body: String,
}

#[derive(Default)]
struct Receiver {
    got: Mutex<Vec<Received>>,
    /// Answer 500 to this many requests first.
    fail_first: Mutex<usize>,
}

async fn receiver() -> (Arc<Receiver>, String) {
    let r = Arc::new(Receiver::default());
    let inner = r.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: String| {
            let r = inner.clone();
            async move {
                let h = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
                r.got.lock().unwrap().push(Received {
                    id: h("webhook-id"),
                    timestamp: h("webhook-timestamp"),
                    signature: h("webhook-signature"),
                    body,
                });
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::NO_CONTENT
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (r, format!("http://{addr}/hook"))
}

/// Verifies a delivery as a receiver would: HMAC-SHA256 over `{id}.{timestamp}.{body}` with
/// the base64 key after `whsec_`, compared with the `v1,` signature.
fn verified(secret: &str, r: &Received) -> bool {
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap()).unwrap();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", r.id, r.timestamp, r.body).as_bytes());
    let expected = format!("v1,{}", b64.encode(mac.finalize().into_bytes()));
    r.signature.split(' ').any(|s| s == expected)
}

async fn post(c: &reqwest::Client, app: &TestApp, path: &str, form: &[(&str, String)]) -> (u16, Value) {
    let res = c.post(app.url(path)).header("accept", "application/json").form(form).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

/// Waits (up to 10 s) until the receiver holds `n` successful… or any `n` requests.
async fn wait_for(r: &Receiver, n: usize) -> Vec<Received> {
    for _ in 0..200 {
        let got = r.got.lock().unwrap().clone();
        if got.len() >= n {
            return got;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("the receiver got {:?}", r.got.lock().unwrap());
}

fn types(got: &[Received]) -> Vec<String> {
    got.iter().map(|r| serde_json::from_str::<Value>(&r.body).unwrap()["type"].as_str().unwrap().to_string()).collect()
}

async fn signed_ordered_and_retried(app: TestApp) {
    let store = app.store();
    let u = crate::helpers::users_with_password(&app, &["org", "aki", "ben", "staffer"], PASSWORD).await;
    let mut group = NewGroup::owned_by("hooked", "Hooked", u[0]);
    group.members.push((u[3], tsudoi::admin::model::Role::Staff));
    let g = store.insert_groups(&[group]).await.unwrap()[0];
    let starts = tsudoi::time::now() + Duration::days(7);
    let draft = NewEvent {
        status: EventStatus::Draft,
        frames: vec![NewFrame::first_come("一般", 1)],
        ..NewEvent::minimal(g, "Hooked meetup", starts)
    };
    let event = store.insert_events(&[draft]).await.unwrap()[0];
    let (rx, url) = receiver().await;
    let org = crate::helpers::signed_in(&app, "org", PASSWORD).await;
    let staff = crate::helpers::signed_in(&app, "staffer", PASSWORD).await;
    let all = "event.published,event.updated,event.cancelled,registration.created,registration.cancelled,registration.promoted";
    let create = |url: &str, events: &str| {
        vec![("group_id", g.to_string()), ("url", url.to_string()), ("events", events.to_string())]
    };

    // Owners and admins only; bad URLs and types are refused beside their fields.
    assert_eq!(post(&staff, &app, "/api/admin/webhooks/create", &create(&url, all)).await.0, 403);
    let (status, body) = post(&org, &app, "/api/admin/webhooks/create", &create("ftp://x", "event.deleted")).await;
    let fields: Vec<&str> = body["message"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
    assert_eq!((status, fields), (422, vec!["url", "events"]), "{body}");
    let (status, hook) = post(&org, &app, "/api/admin/webhooks/create", &create(&url, all)).await;
    assert_eq!(status, 200, "{hook}");
    let secret = hook["secret"].as_str().unwrap().to_string();
    assert!(secret.starts_with("whsec_"));
    let hook_id = hook["id"].as_i64().unwrap();
    let (_, listed) = post(&org, &app, "/api/admin/webhooks/test", &[("id", hook_id.to_string())]).await;
    assert!(!listed.to_string().contains(&secret), "the secret is shown once: {listed}");

    // The test delivery, then what happens to the event, in order.
    let first = wait_for(&rx, 1).await;
    assert_eq!(types(&first), ["webhook.test"]);
    assert!(verified(&secret, &first[0]), "{:?}", first[0]);
    let act = |action: &str| vec![("id", event.to_string()), ("action", action.to_string())];
    assert_eq!(post(&org, &app, "/api/admin/events/status", &act("publish")).await.0, 200);
    let aki = crate::helpers::signed_in(&app, "aki", PASSWORD).await;
    let ben = crate::helpers::signed_in(&app, "ben", PASSWORD).await;
    let reg = vec![("event_id", event.to_string())];
    assert_eq!(post(&aki, &app, "/api/registrations/register", &reg).await.0, 200);
    assert_eq!(post(&ben, &app, "/api/registrations/register", &reg).await.0, 200);
    wait_for(&rx, 4).await;
    // The receiver stumbles: the next two attempts fail and are retried, in order.
    *rx.fail_first.lock().unwrap() = 2;
    assert_eq!(post(&aki, &app, "/api/registrations/cancel", &reg).await.0, 200);
    let mut fields = crate::admin::form_fields("Hooked meetup, new room");
    fields.push(("id", event.to_string()));
    let (status, body) = post(&org, &app, "/api/admin/events/update", &fields).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(post(&org, &app, "/api/admin/events/status", &act("cancel")).await.0, 200);

    let got = wait_for(&rx, 1 + 7 + 2).await;
    assert!(got.iter().all(|r| verified(&secret, r)), "every delivery is signed");
    let delivered: Vec<Received> = {
        // The last attempt of each message, in arrival order of first attempts.
        let mut seen: Vec<String> = Vec::new();
        for r in &got {
            if !seen.contains(&r.id) {
                seen.push(r.id.clone());
            }
        }
        seen.iter().map(|id| got.iter().rev().find(|r| &r.id == id).unwrap().clone()).collect()
    };
    assert_eq!(
        types(&delivered),
        [
            "webhook.test",
            "event.published",
            "registration.created",
            "registration.created",
            "registration.cancelled",
            "registration.promoted",
            "event.updated",
            "event.cancelled",
        ],
        "one event's deliveries arrive in order, retries included"
    );
    let retried = got.iter().filter(|r| types(std::slice::from_ref(r))[0] == "registration.cancelled").count();
    assert_eq!(retried, 3, "two failures, then delivered, with the same webhook-id");
    let promoted: Value = serde_json::from_str(&delivered[5].body).unwrap();
    assert_eq!(promoted["data"]["registration"]["user"]["nickname"], "ben");
    assert_eq!(promoted["data"]["registration"]["status"], "confirmed");
    assert_eq!(promoted["data"]["event"]["id"], event);
    assert!(promoted["data"]["event"]["url"].as_str().unwrap().ends_with(&format!("/events/{event}")));
    assert!(!delivered[5].body.contains("@example"), "no e-mail addresses leave");

    // The log says what happened; rotating changes the key from then on; deleting stops them.
    let (_, panel) = post(&org, &app, "/api/admin/webhooks/test", &[("id", hook_id.to_string())]).await;
    let logged = panel["deliveries"].as_array().unwrap();
    wait_for(&rx, 11).await;
    assert!(
        logged.iter().any(|d| d["type"] == "registration.cancelled" && d["attempts"] == 3 && d["state"] == "sent"),
        "{panel}"
    );
    let (status, rotated) = post(&org, &app, "/api/admin/webhooks/rotate", &[("id", hook_id.to_string())]).await;
    assert_eq!(status, 200, "{rotated}");
    let fresh = rotated["secret"].as_str().unwrap();
    assert_ne!(fresh, secret);
    assert_eq!(post(&org, &app, "/api/admin/webhooks/test", &[("id", hook_id.to_string())]).await.0, 200);
    let got = wait_for(&rx, 12).await;
    let last_two = &got[got.len() - 2..];
    assert!(last_two.iter().all(|r| types(std::slice::from_ref(r))[0] == "webhook.test"));
    assert!(verified(fresh, &got[got.len() - 1]) && !verified(&secret, &got[got.len() - 1]));
    assert_eq!(post(&staff, &app, "/api/admin/webhooks/delete", &[("id", hook_id.to_string())]).await.0, 403);
    let (status, panel) = post(&org, &app, "/api/admin/webhooks/delete", &[("id", hook_id.to_string())]).await;
    assert_eq!(status, 200);
    assert_eq!(panel["hooks"].as_array().unwrap().len(), 0);
}

on_both_backends!(signed_ordered_and_retried);
