//! Password reset: the same answer whether or not an address has an account, a mailed
//! single-use link that expires, every session ended, rate limits, and the operator's
//! `tsudoi user reset-password NICK`.

use std::time::Duration;

use serde_json::Value;
use tsudoi::server::config::Config;

use crate::helpers::{TempDb, TestApp, spawn_with};
use crate::mail::fake_smtp;

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().cookie_store(true).redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

pub async fn post(app: &TestApp, c: &reqwest::Client, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let form = crate::helpers::as_sent(app, c, path, form).await;
    let res = c.post(app.url(path)).header("accept", "application/json").form(&form).send().await.unwrap();
    let status = res.status().as_u16();
    let body = res.text().await.unwrap();
    (status, serde_json::from_str(&body).unwrap_or(Value::String(body)))
}

async fn me(app: &TestApp, c: &reqwest::Client) -> Value {
    let res = c.get(app.url("/api/auth/me")).header("accept", "application/json").send().await.unwrap();
    serde_json::from_str(&res.text().await.unwrap()).unwrap()
}

/// Quoted-printable (RFC 2045) as the fake server stored it (lines joined with `\n`).
pub fn unquote(data: &str) -> String {
    let joined = data.replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && i + 2 < bytes.len()
            && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn token_in(mail: &str) -> String {
    let text = unquote(mail);
    let start = text.find("/password-reset?token=").unwrap_or_else(|| panic!("a link: {text}")) + 22;
    text[start..start + 64].to_string()
}

pub async fn mailing_app(db: TempDb) -> (TestApp, std::sync::Arc<std::sync::Mutex<crate::mail::Mailbox>>) {
    let (port, mailbox) = fake_smtp(false).await;
    let mut config = Config::for_tests(db.url());
    config.smtp_url = Some(format!("smtp://127.0.0.1:{port}"));
    config.mail_from = "Tsudoi <noreply@tsudoi.test>".into();
    (spawn_with(config, db).await, mailbox)
}

pub async fn mails(mailbox: &std::sync::Arc<std::sync::Mutex<crate::mail::Mailbox>>, n: usize) -> Vec<String> {
    for _ in 0..100 {
        if mailbox.lock().unwrap().data.len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let m = mailbox.lock().unwrap();
    assert_eq!(m.data.len(), n, "mails: {:?}", m.rcpt);
    m.data.clone()
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_ends_every_session() {
    mailed_link(TempDb::new()).await;
}

#[tokio::test]
async fn a_mailed_link_sets_a_new_password_once_and_ends_every_session_on_postgres() {
    mailed_link(TempDb::postgres().await).await;
}

async fn mailed_link(db: TempDb) {
    let (app, mailbox) = mailing_app(db).await;
    let (a, b) = (client(), client());
    let form = [("nickname", "hanako"), ("email", "Hanako@Example.com"), ("password", "old-password-1")];
    assert_eq!(post(&app, &a, "/api/auth/signup", &form).await.0, 200);
    let login = [("login", "hanako"), ("password", "old-password-1")];
    // With SMTP, sign-up finishes from the link it mailed; then the account signs in.
    let sent = mails(&mailbox, 1).await;
    let text = unquote(&sent[0]);
    let at = text.find("/verify-email?token=").unwrap() + "/verify-email?token=".len();
    assert_eq!(post(&app, &client(), "/api/auth/verify-email", &[("token", &text[at..at + 64])]).await.0, 200);
    assert_eq!(post(&app, &a, "/api/auth/login", &login).await.0, 200);
    assert_eq!(post(&app, &b, "/api/auth/login", &login).await.0, 200);

    // The same answer for an address with an account and one without; a bad one is a field error.
    let known = post(&app, &client(), "/api/auth/password-reset", &[("email", "hanako@example.com")]).await;
    let unknown = post(&app, &client(), "/api/auth/password-reset", &[("email", "nobody@example.com")]).await;
    assert_eq!(known, (200, serde_json::json!({ "status": "sent" })));
    assert_eq!(unknown, known, "nothing tells whether an address has an account");
    let (status, body) = post(&app, &client(), "/api/auth/password-reset", &[("email", "not an address")]).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("email")), "{body}");

    // One mail, to the account's address, with a link; none to the unknown address.
    let sent = mails(&mailbox, 2).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rcpt = mailbox.lock().unwrap().rcpt.clone();
    assert_eq!(rcpt.len(), 2, "{rcpt:?}");
    assert!(rcpt[1].contains("hanako@example.com"), "{rcpt:?}");
    let token = token_in(&sent[1]);
    assert!(unquote(&sent[1]).contains("hanako さん"), "{}", unquote(&sent[1]));

    // A weak password is refused beside its field and spends nothing; then the link works once.
    let (status, body) =
        post(&app, &client(), "/api/auth/password-reset/confirm", &[("token", &token), ("password", "short")]).await;
    assert_eq!((status, body["message"][0]["field"].as_str()), (422, Some("password")), "{body}");
    let new = [("token", token.as_str()), ("password", "new-password-2")];
    assert_eq!(
        post(&app, &client(), "/api/auth/password-reset/confirm", &new).await,
        (200, serde_json::json!({ "status": "reset" }))
    );
    let (status, body) = post(&app, &client(), "/api/auth/password-reset/confirm", &new).await;
    assert_eq!((status, body["message"][0]["code"].as_str()), (422, Some("invalid_token")), "once: {body}");

    // Every session of the account ended; the old password no longer works, the new one does.
    assert_eq!(me(&app, &a).await, Value::Null);
    assert_eq!(me(&app, &b).await, Value::Null);
    assert_eq!(post(&app, &client(), "/api/auth/login", &login).await.0, 422);
    let c = client();
    assert_eq!(post(&app, &c, "/api/auth/login", &[("login", "hanako"), ("password", "new-password-2")]).await.0, 200);
    assert_eq!(me(&app, &c).await["nickname"], "hanako");
}

#[tokio::test]
async fn links_expire_are_replaced_by_newer_ones_and_requests_are_rate_limited() {
    links_expire(TempDb::new()).await;
}

#[tokio::test]
async fn links_expire_are_replaced_by_newer_ones_and_requests_are_rate_limited_on_postgres() {
    links_expire(TempDb::postgres().await).await;
}

async fn links_expire(db: TempDb) {
    let (app, _mailbox) = mailing_app(db).await;
    let form = [("nickname", "taro"), ("email", "taro@example.com"), ("password", "old-password-1")];
    assert_eq!(post(&app, &client(), "/api/auth/signup", &form).await.0, 200);
    let store = app.store();
    let user = store.user_id_by_nickname("taro").await.unwrap().unwrap();
    let token_of = |link: String| link.rsplit_once("token=").unwrap().1.to_string();
    let confirm = |token: String| {
        let app = &app;
        async move {
            let form = [("token", token.as_str()), ("password", "new-password-2")];
            post(app, &client(), "/api/auth/password-reset/confirm", &form).await
        }
    };
    // Made two hours ago: expired after one.
    let then = tsudoi::time::now() - chrono::Duration::hours(2);
    let old = token_of(tsudoi::accounts::reset::issue(store, "http://t", user, then).await.unwrap());
    assert_eq!(confirm(old).await.1["message"][0]["code"], "invalid_token");
    // A newer link replaces the one before it.
    let first = token_of(tsudoi::accounts::reset::issue(store, "http://t", user, tsudoi::time::now()).await.unwrap());
    let second = token_of(tsudoi::accounts::reset::issue(store, "http://t", user, tsudoi::time::now()).await.unwrap());
    assert_eq!(confirm(first).await.1["message"][0]["code"], "invalid_token");
    assert_eq!(confirm("0".repeat(64)).await.1["message"][0]["code"], "invalid_token");
    assert_eq!(confirm(second).await.0, 200);

    // A few mails an hour per address, then 429 with Retry-After.
    let mut limited = None;
    for i in 0..tsudoi::server::ratelimit::RESETS_PER_ADDRESS_PER_HOUR + 1 {
        let res = client()
            .post(app.url("/api/auth/password-reset"))
            .header("accept", "application/json")
            .form(&[("email", "taro@example.com")])
            .send()
            .await
            .unwrap();
        if res.status() == 429 {
            assert!(res.headers().contains_key("retry-after"));
            limited = Some(i);
            break;
        }
        assert_eq!(res.status(), 200);
    }
    assert_eq!(limited, Some(tsudoi::server::ratelimit::RESETS_PER_ADDRESS_PER_HOUR));
}

/// Without SMTP the operator prints a link with the command line.
#[tokio::test]
async fn the_operator_prints_a_one_time_link_with_the_command_line() {
    let db = TempDb::new();
    let app = spawn_with(Config::for_tests(db.url()), db).await;
    let form = [("nickname", "jiro"), ("email", "jiro@example.com"), ("password", "old-password-1")];
    assert_eq!(post(&app, &client(), "/api/auth/signup", &form).await.0, 200);
    let run = |nick: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_tsudoi"))
            .args(["user", "reset-password", nick])
            .env("DATABASE_URL", app.state.config.database_url.clone())
            .env("TSUDOI_PUBLIC_URL", "https://tsudoi.example")
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run("JIRO");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let link = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert!(link.starts_with("https://tsudoi.example/password-reset?token="), "{link}");
    let token = link.rsplit_once("token=").unwrap().1;
    let form = [("token", token), ("password", "new-password-2")];
    assert_eq!(post(&app, &client(), "/api/auth/password-reset/confirm", &form).await.0, 200);
    let missing = run("nobody");
    assert!(!missing.status.success());
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("no account"),
        "{}",
        String::from_utf8_lossy(&missing.stderr)
    );
}
