//! E-mail verification with SMTP on: a sign-up is mailed a link; until it is opened (by a
//! button: the page itself changes nothing) messages reach the account on the site only,
//! then by mail too. Links are single-use and a new one replaces the old.

use serde_json::Value;
use tsudoi::server::config::Config;
use tsudoi::server::store::{NewEvent, NewFrame, NewGroup, NewUser};

use crate::helpers::{TempDb, TestApp, spawn_with};
use crate::password_reset::{client, mailing_app, mails, post, unquote};

fn token_after(mail: &str, path: &str) -> String {
    let text = unquote(mail);
    let start = text.find(path).unwrap_or_else(|| panic!("{path} in {text}")) + path.len();
    text[start..start + 64].to_string()
}

async fn profile(app: &TestApp, c: &reqwest::Client) -> Value {
    let res = c.get(app.url("/api/me/profile")).header("accept", "application/json").send().await.unwrap();
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

/// Two published events starting tomorrow, one frame of 10 each.
async fn two_events(app: &TestApp) -> [i64; 2] {
    let store = app.store();
    let owner = store.insert_users(&[NewUser::attendee("host")]).await.unwrap()[0];
    let group = store.insert_groups(&[NewGroup::owned_by("verifiers", "Verifiers", owner)]).await.unwrap()[0];
    let starts = tsudoi::time::now() + chrono::Duration::days(2);
    let event = |title: &str| NewEvent {
        created_at: tsudoi::time::now(),
        frames: vec![NewFrame::first_come("一般", 10)],
        ..NewEvent::minimal(group, title, starts)
    };
    let ids = store.insert_events(&[event("One"), event("Two")]).await.unwrap();
    [ids[0], ids[1]]
}

/// An account with an unconfirmed address that may sign in.
async fn unconfirmed_account(app: &TestApp, nickname: &str, password: &str) {
    let hash = tsudoi::server::password::hash(password.to_string()).await.unwrap();
    let user = NewUser {
        email: Some(format!("{nickname}@example.com")),
        password_hash: Some(hash),
        ..NewUser::attendee(nickname)
    };
    app.store().create_signup(&user, None).await.unwrap();
}

async fn verified_only_then_mailed(db: TempDb) {
    let (app, mailbox) = mailing_app(db).await;
    let [one, two] = two_events(&app).await;
    let c = client();
    // An account whose address is not confirmed (one made before the site sent mail, say):
    // it works, and asks for its link from /me.
    unconfirmed_account(&app, "sakura", "sakura-pass-1").await;
    let login = [("login", "sakura"), ("password", "sakura-pass-1")];
    assert_eq!(post(&app, &c, "/api/auth/login", &login).await.0, 200);
    assert_eq!(post(&app, &c, "/api/me/email/verify", &[]).await, (200, serde_json::json!({ "status": "sent" })));
    let sent = mails(&mailbox, 1).await;
    let token = token_after(&sent[0], "/verify-email?token=");
    let p = profile(&app, &c).await;
    assert_eq!((p["email_verified"].as_bool(), p["mail_enabled"].as_bool()), (Some(false), Some(true)), "{p}");

    // Unverified: the confirmation is in the inbox, but nothing is mailed.
    assert_eq!(post(&app, &c, "/api/registrations/register", &[("event_id", &one.to_string())]).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    assert_eq!(mailbox.lock().unwrap().data.len(), 1, "only the verification mail");
    let queued: i64 = app.store().mail_queue_counts().await.unwrap().iter().map(|(_, n)| n).sum();
    assert_eq!(queued, 0);

    // Opening the page changes nothing; its button does, once.
    let page = c.get(app.url(&format!("/verify-email?token={token}"))).send().await.unwrap();
    assert_eq!(page.status(), 200);
    assert_eq!(profile(&app, &c).await["email_verified"], false, "GET never changes state");
    let answer = post(&app, &client(), "/api/auth/verify-email", &[("token", &token)]).await;
    assert_eq!(answer, (200, serde_json::json!({ "status": "verified" })));
    let (status, body) = post(&app, &client(), "/api/auth/verify-email", &[("token", &token)]).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("invalid_token")), "{body}");
    assert_eq!(profile(&app, &c).await["email_verified"], true);

    // Verified: the next confirmation is mailed; asking again says it is done.
    assert_eq!(post(&app, &c, "/api/registrations/register", &[("event_id", &two.to_string())]).await.0, 200);
    mails(&mailbox, 2).await;
    let rcpt = mailbox.lock().unwrap().rcpt.clone();
    assert!(rcpt[1].contains("sakura@example.com"), "{rcpt:?}");
    assert_eq!(post(&app, &c, "/api/me/email/verify", &[]).await, (200, serde_json::json!({ "status": "verified" })));
}

#[tokio::test]
async fn messages_are_mailed_only_to_verified_addresses() {
    verified_only_then_mailed(TempDb::new()).await;
}

#[tokio::test]
async fn messages_are_mailed_only_to_verified_addresses_on_postgres() {
    verified_only_then_mailed(TempDb::postgres().await).await;
}

#[tokio::test]
async fn a_new_link_replaces_the_old_and_without_smtp_there_is_nothing_to_verify() {
    let (app, mailbox) = mailing_app(TempDb::new()).await;
    let c = client();
    unconfirmed_account(&app, "kaede", "kaede-pass-1").await;
    assert_eq!(post(&app, &c, "/api/auth/login", &[("login", "kaede"), ("password", "kaede-pass-1")]).await.0, 200);
    assert_eq!(post(&app, &c, "/api/me/email/verify", &[]).await, (200, serde_json::json!({ "status": "sent" })));
    let first = token_after(&mails(&mailbox, 1).await[0], "/verify-email?token=");
    assert_eq!(post(&app, &c, "/api/me/email/verify", &[]).await, (200, serde_json::json!({ "status": "sent" })));
    let second = token_after(&mails(&mailbox, 2).await[1], "/verify-email?token=");
    assert_ne!(first, second);
    assert_eq!(post(&app, &client(), "/api/auth/verify-email", &[("token", &first)]).await.0, 422, "replaced");
    assert_eq!(post(&app, &client(), "/api/auth/verify-email", &[("token", &second)]).await.0, 200);
    assert_eq!(post(&app, &client(), "/api/me/email/verify", &[]).await.0, 401, "signed in only");

    // No SMTP: no link is made, and asking for one is a clear 400.
    let db = TempDb::new();
    let quiet = spawn_with(Config::for_tests(db.url()), db).await;
    let c = client();
    let form = [("nickname", "momiji"), ("email", "momiji@example.com"), ("password", "momiji-pass-1")];
    assert_eq!(post(&quiet, &c, "/api/auth/signup", &form).await.0, 200);
    assert_eq!(profile(&quiet, &c).await["mail_enabled"], false);
    assert_eq!(post(&quiet, &c, "/api/me/email/verify", &[]).await.0, 400);
}

/// #14: with SMTP on, sign-up says the same for a new address and for one that has an
/// account; the new one finishes from its link (which signs it in), the owner of the taken
/// one is told by mail, and nothing else changes.
async fn sign_up_tells_nobody_whether_an_address_has_an_account(db: TempDb) {
    let (app, mailbox) = mailing_app(db).await;
    let fresh = client();
    let new = [("nickname", "tsubaki"), ("email", "tsubaki@example.com"), ("password", "tsubaki-pass-1")];
    let answer_new = post(&app, &fresh, "/api/auth/signup", &new).await;
    assert_eq!(answer_new, (200, serde_json::json!({ "status": "check_email" })));
    let me = |c: reqwest::Client| {
        let req = c.get(app.url("/api/auth/me")).header("accept", "application/json");
        async move { serde_json::from_str::<Value>(&req.send().await.unwrap().text().await.unwrap()).unwrap() }
    };
    assert_eq!(me(fresh.clone()).await, Value::Null, "not signed in until the link is opened");
    let token = token_after(&mails(&mailbox, 1).await[0], "/verify-email?token=");

    // The same address again, under another nickname: the same answer, and a note to the owner.
    let prober = client();
    let taken = [("nickname", "prober"), ("email", "Tsubaki@Example.com"), ("password", "prober-pass-1")];
    let answer_taken = post(&app, &prober, "/api/auth/signup", &taken).await;
    assert_eq!(answer_taken, answer_new, "nothing tells the two apart");
    assert_eq!(me(prober.clone()).await, Value::Null);
    let sent = mails(&mailbox, 2).await;
    let note = unquote(&sent[1]);
    assert!(note.contains("@tsubaki") && note.contains("/password-reset"), "{note}");
    assert!(mailbox.lock().unwrap().rcpt[1].contains("tsubaki@example.com"));
    assert_eq!(app.store().user_id_by_nickname("prober").await.unwrap(), None, "no second account");
    // A taken nickname is public anyway (profile pages): it may be said.
    let (status, body) = post(
        &app,
        &client(),
        "/api/auth/signup",
        &[("nickname", "tsubaki"), ("email", "x@example.com"), ("password", "x-pass-12345")],
    )
    .await;
    assert_eq!((status, body["message"].as_str()), (409, Some("account_exists")), "{body}");

    // Until its link is opened the new account cannot sign in, with the same answer as a wrong
    // password: whoever signed up with someone else's free address gets nothing.
    let login = [("login", "tsubaki"), ("password", "tsubaki-pass-1")];
    let early = post(&app, &client(), "/api/auth/login", &login).await;
    let wrong = post(&app, &client(), "/api/auth/login", &[("login", "tsubaki"), ("password", "nope-nope-1")]).await;
    assert_eq!((early.0, &early.1), (422, &wrong.1), "{early:?}");
    // The link finishes the sign-up; it signs nobody in by itself.
    let opener = client();
    assert_eq!(post(&app, &opener, "/api/auth/verify-email", &[("token", &token)]).await.0, 200);
    assert_eq!(me(opener.clone()).await, Value::Null);
    assert_eq!(post(&app, &opener, "/api/auth/login", &login).await.0, 200);
    assert_eq!(me(opener.clone()).await["nickname"], "tsubaki");
    assert_eq!(profile(&app, &opener).await["email_verified"], true);
}

#[tokio::test]
async fn sign_up_tells_nobody_whether_an_address_has_an_account_on_sqlite() {
    sign_up_tells_nobody_whether_an_address_has_an_account(TempDb::new()).await;
}

#[tokio::test]
async fn sign_up_tells_nobody_whether_an_address_has_an_account_on_postgres() {
    sign_up_tells_nobody_whether_an_address_has_an_account(TempDb::postgres().await).await;
}

/// Changing the address (#17 item 2): the password is asked; with SMTP the new address is
/// unconfirmed until its link is opened, the previous one is told, and a taken address gets
/// the same answer (its owner is told instead); without SMTP a taken one is a field error.
async fn changing_the_address_reverifies_it(db: TempDb) {
    let (app, mailbox) = mailing_app(db).await;
    crate::helpers::users_with_password(&app, &["ume", "kiku"], "ume-kiku-pass").await;
    let c = crate::helpers::signed_in(&app, "ume", "ume-kiku-pass").await;
    let change =
        |email: &str, password: &str| [("email", email.to_string()), ("current_password", password.to_string())];
    let send = |form: [(&'static str, String); 2]| {
        let req = c.post(app.url("/api/me/email")).header("accept", "application/json").form(&form);
        async move {
            let res = req.send().await.unwrap();
            (res.status().as_u16(), serde_json::from_str::<Value>(&res.text().await.unwrap()).unwrap())
        }
    };
    let (status, body) = send(change("ume2@example.com", "wrong")).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("current_password")), "{body}");
    let (status, body) = send(change("not an address", "ume-kiku-pass")).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("email")), "{body}");
    assert_eq!(
        send(change("UME@example.com", "ume-kiku-pass")).await,
        (200, serde_json::json!({ "status": "unchanged" }))
    );
    assert_eq!(profile(&app, &c).await["email_verified"], true, "operator-loaded accounts start confirmed");

    // A taken address: the same answer as a free one; its owner hears of it; nothing changes.
    let taken = send(change("kiku@example.com", "ume-kiku-pass")).await;
    assert_eq!(taken, (200, serde_json::json!({ "status": "check_email" })));
    mails(&mailbox, 1).await;
    assert!(mailbox.lock().unwrap().rcpt[0].contains("kiku@example.com"));
    assert_eq!(profile(&app, &c).await["email"], "ume@example.com");

    // A free one: kept aside with a link to it; the account's address stays until it is opened.
    assert_eq!(send(change("ume2@example.com", "ume-kiku-pass")).await, taken, "nothing tells the two apart");
    assert_eq!(profile(&app, &c).await["email"], "ume@example.com", "the same as after the taken one");
    let sent = mails(&mailbox, 2).await;
    assert!(mailbox.lock().unwrap().rcpt[1].contains("ume2@example.com"));
    let token = token_after(&sent[1], "/verify-email?token=");
    assert_eq!(post(&app, &client(), "/api/auth/verify-email", &[("token", &token)]).await.0, 200);
    let p = profile(&app, &c).await;
    assert_eq!((p["email"].as_str(), p["email_verified"].as_bool()), (Some("ume2@example.com"), Some(true)), "{p}");
    // The previous address is told, with the way back.
    let sent = mails(&mailbox, 3).await;
    assert!(mailbox.lock().unwrap().rcpt[2].contains("ume@example.com"));
    assert!(unquote(&sent[2]).contains("/password-reset"), "{}", unquote(&sent[2]));
}

#[tokio::test]
async fn changing_the_address_reverifies_it_on_sqlite() {
    changing_the_address_reverifies_it(TempDb::new()).await;
}

#[tokio::test]
async fn changing_the_address_reverifies_it_on_postgres() {
    changing_the_address_reverifies_it(TempDb::postgres().await).await;
}

#[tokio::test]
async fn without_smtp_a_taken_address_is_a_field_error_and_a_free_one_is_changed() {
    let db = TempDb::new();
    let app = spawn_with(Config::for_tests(db.url()), db).await;
    crate::helpers::users_with_password(&app, &["nara", "kobe"], "nara-kobe-pass").await;
    let c = crate::helpers::signed_in(&app, "nara", "nara-kobe-pass").await;
    let form = |email: &str| [("email", email.to_string()), ("current_password", "nara-kobe-pass".to_string())];
    let res = c
        .post(app.url("/api/me/email"))
        .header("accept", "application/json")
        .form(&form("kobe@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 422);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["message"][0]["code"], "email_taken");
    let res = c
        .post(app.url("/api/me/email"))
        .header("accept", "application/json")
        .form(&form("nara2@example.com"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.json::<Value>().await.unwrap(), serde_json::json!({ "status": "changed" }));
    assert_eq!(profile(&app, &c).await["email"], "nara2@example.com");
}
