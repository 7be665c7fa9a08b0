//! E-mail delivery against a small SMTP server in the test: messages reach mailboxes,
//! failures are retried and visible to organizers.

use std::sync::{Arc, Mutex};
use std::time::Duration as StdDuration;
use tsudoi::admin::model::Role;
use tsudoi::registrations::model::RegStatus;

use chrono::Duration;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tsudoi::server::config::Config;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewRegistration, NewUser};

use crate::helpers::{TempDb, TestApp, spawn_with};

/// What the fake server received: (RCPT TO lines, DATA bodies).
#[derive(Default)]
pub struct Mailbox {
    pub rcpt: Vec<String>,
    pub data: Vec<String>,
}

/// A minimal SMTP server on 127.0.0.1:0 that accepts mail, or refuses every DATA (`fail`).
pub async fn fake_smtp(fail: bool) -> (u16, Arc<Mutex<Mailbox>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let mailbox = Arc::new(Mutex::new(Mailbox::default()));
    let boxed = mailbox.clone();
    tokio::spawn(async move {
        loop {
            let Ok((socket, _)) = listener.accept().await else { return };
            let boxed = boxed.clone();
            tokio::spawn(async move {
                let (read, mut write) = socket.into_split();
                let mut lines = BufReader::new(read).lines();
                let _ = write.write_all(b"220 fake ESMTP\r\n").await;
                while let Ok(Some(line)) = lines.next_line().await {
                    let upper = line.to_ascii_uppercase();
                    let reply: &[u8] = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
                        b"250 fake\r\n"
                    } else if upper.starts_with("RCPT TO") {
                        boxed.lock().unwrap().rcpt.push(line.clone());
                        b"250 ok\r\n"
                    } else if upper.starts_with("DATA") {
                        if fail {
                            b"554 rejected\r\n"
                        } else {
                            let _ = write.write_all(b"354 go ahead\r\n").await;
                            let mut data = String::new();
                            while let Ok(Some(l)) = lines.next_line().await {
                                if l == "." {
                                    break;
                                }
                                data.push_str(&l);
                                data.push('\n');
                            }
                            boxed.lock().unwrap().data.push(data);
                            b"250 queued\r\n"
                        }
                    } else if upper.starts_with("QUIT") {
                        let _ = write.write_all(b"221 bye\r\n").await;
                        return;
                    } else {
                        b"250 ok\r\n"
                    };
                    if write.write_all(reply).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (port, mailbox)
}

/// An app mailing through `port`, with an event that has one confirmed registrant, and a
/// signed-in owner.
async fn app_mailing(port: u16) -> (TestApp, i64, reqwest::Client) {
    let db = TempDb::new();
    let mut config = Config::for_tests(db.url());
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.mail_from = "Tsudoi <noreply@tsudoi.test>".into();
    let app = spawn_with(config, db).await;
    let hash = tsudoi::server::password::hash("correct horse battery".into()).await.unwrap();
    let users = app
        .store()
        .insert_users(&[
            NewUser {
                nickname: "boss".into(),
                display_name: "Boss".into(),
                email: Some("boss@example.com".into()),
                password_hash: Some(hash),
                bio: String::new(),
            },
            NewUser { email: Some("hanako@example.com".into()), ..NewUser::attendee("hanako") },
            NewUser::attendee("no_mail"),
        ])
        .await
        .unwrap();
    let group = app
        .store()
        .insert_groups(&[NewGroup {
            slug: "mailers".into(),
            title: "Mailers".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(users[0], Role::Owner)],
        }])
        .await
        .unwrap()[0];
    let reg = |user_id: i64, code: &str| NewRegistration {
        user_id,
        status: RegStatus::Confirmed,
        receipt_code: code.into(),
        created_at: tsudoi::time::now(),
    };
    let event = app
        .store()
        .insert_events(&[NewEvent {
            frames: vec![NewFrame {
                registrations: vec![reg(users[1], "M-1"), reg(users[2], "M-2")],
                ..NewFrame::first_come("一般", 10)
            }],
            ..NewEvent::minimal(group, "メールの会", tsudoi::time::now() + Duration::days(5))
        }])
        .await
        .unwrap()[0];
    let client = reqwest::Client::builder().cookie_store(true).build().unwrap();
    let res = client
        .post(app.url("/api/auth/login"))
        .header("accept", "application/json")
        .form(&[("login", "boss"), ("password", "correct horse battery")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    (app, event, client)
}

async fn send(app: &TestApp, client: &reqwest::Client, event: i64) {
    let res = client
        .post(app.url("/api/admin/messages/send"))
        .header("accept", "application/json")
        .form(&[
            ("event_id", event.to_string().as_str()),
            ("audience", "all"),
            ("subject", "会場のご案内"),
            ("body", "3階です"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

async fn delivery(app: &TestApp, client: &reqwest::Client, event: i64) -> Value {
    let res = client.get(app.url("/api/admin/messages/list")).query(&[("event_id", event)]).send().await.unwrap();
    let list: Value = res.json().await.unwrap();
    list[0]["delivery"].clone()
}

/// Waits (the background worker runs every 200 ms in tests) until `done` holds.
async fn eventually(mut done: impl FnMut() -> bool) {
    for _ in 0..100 {
        if done() {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
    }
    panic!("timed out");
}

#[tokio::test]
async fn messages_are_mailed_to_recipients_with_an_address() {
    let (port, mailbox) = fake_smtp(false).await;
    let (app, event, client) = app_mailing(port).await;
    send(&app, &client, event).await;
    eventually(|| mailbox.lock().unwrap().data.len() == 1).await;
    let (rcpt, data) = {
        let m = mailbox.lock().unwrap();
        (m.rcpt.clone(), m.data[0].clone())
    };
    assert_eq!(rcpt.len(), 1, "the registrant without an address is not mailed: {rcpt:?}");
    assert!(rcpt[0].contains("hanako@example.com"));
    assert!(data.contains("From: Tsudoi <noreply@tsudoi.test>"), "{data}");
    assert!(data.to_ascii_lowercase().contains("subject:"), "{data}");
    let mut d = delivery(&app, &client, event).await;
    for _ in 0..50 {
        if d["sent"] == 1 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        d = delivery(&app, &client, event).await;
    }
    assert_eq!((d["sent"].as_i64(), d["none"].as_i64(), d["pending"].as_i64()), (Some(1), Some(1), Some(0)), "{d}");
}

#[tokio::test]
async fn a_refused_mail_is_retried_later_and_shown_as_retrying() {
    let (port, mailbox) = fake_smtp(true).await;
    let (app, event, client) = app_mailing(port).await;
    send(&app, &client, event).await;
    eventually(|| !mailbox.lock().unwrap().rcpt.is_empty()).await;
    let mut d = delivery(&app, &client, event).await;
    for _ in 0..50 {
        if d["retrying"] == 1 {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(100)).await;
        d = delivery(&app, &client, event).await;
    }
    assert_eq!((d["retrying"].as_i64(), d["pending"].as_i64(), d["sent"].as_i64()), (Some(1), Some(1), Some(0)), "{d}");
    // The retry waits (a minute at first): no second attempt right away.
    tokio::time::sleep(StdDuration::from_millis(600)).await;
    assert_eq!(mailbox.lock().unwrap().rcpt.len(), 1);
    assert_eq!(tsudoi::messages::mail::MAX_ATTEMPTS, 5);
}
