//! E-mail verification (server only): with SMTP on, a sign-up's address is mailed a link to
//! `/verify-email?token=…` (valid a week, once, for that address); until it is opened, the
//! account works but Tsudoi's messages reach it on the site only, not by mail. Tokens are
//! stored as their BLAKE2s hash, like password resets.

use chrono::Duration;

use crate::server::state::AppState;

/// How long a verification link works.
pub fn valid_for() -> Duration {
    Duration::days(7)
}

/// The verification mail's subject and body (Japanese, then English).
pub fn mail_text(link: &str) -> (String, String) {
    let subject = "【Tsudoi】メールアドレスの確認 / Confirm your email address".to_string();
    let body = format!(
        "Tsudoi へのご登録ありがとうございます。次のリンクを開いて、メールアドレスを確認してください（7日間有効）。\n\
         確認するまで、お知らせはメールでは届きません。\n{link}\n\n心当たりがなければ、このメールは無視してください。\n\n\
         ---\n\nThank you for joining Tsudoi. Open this link to confirm your email address (it works for 7 days).\n\
         Until then, messages reach you on the site only, not by mail.\n{link}\n\n\
         If you did not sign up, ignore this mail.\n"
    );
    (subject, body)
}

/// Makes a new link for the account's current address and mails it. `false` when there is
/// nothing to verify (no address, or already verified).
pub async fn send_link(state: &AppState, user_id: i64) -> anyhow::Result<bool> {
    let token = super::reset::new_token();
    let now = crate::time::now();
    let Some(email) = state
        .store
        .create_email_verification(user_id, &super::reset::token_hash(&token), now, now + valid_for())
        .await?
    else {
        return Ok(false);
    };
    let link = format!("{}/verify-email?token={token}", state.config.public_url.trim_end_matches('/'));
    let (subject, body) = mail_text(&link);
    crate::messages::mail::send_now(state, &email, &subject, &body).await.map_err(anyhow::Error::msg)?;
    Ok(true)
}

/// [`send_link`] after answering (sign-up does not wait for the mail server).
pub fn send_in_background(state: AppState, user_id: i64) {
    tokio::spawn(async move {
        if let Err(e) = send_link(&state, user_id).await {
            tracing::warn!(error = %e, user_id, "verification mail not sent");
        }
    });
}

/// The note to an address that already has an account when someone signs up with it: so
/// that the sign-up's answer can be the same as for a new address, and the owner knows.
pub fn taken_text(public_url: &str, nickname: &str) -> (String, String) {
    let url = public_url.trim_end_matches('/');
    let subject = "【Tsudoi】このアドレスでの新規登録 / A sign-up with your address".to_string();
    let body = format!(
        "{nickname} さん\n\nこのメールアドレスで Tsudoi に新規登録しようとした方がいます。このアドレスのアカウント（@{nickname}）は\n         すでにあります。ご本人なら、ログインするか（{url}/login）、パスワードを再設定してください（{url}/password-reset）。\n         心当たりがなければ、このメールは無視してください。アカウントは何も変わっていません。\n\n---\n\n         Someone tried to sign up to Tsudoi with this address, which already has an account (@{nickname}).\n         If it was you, log in at {url}/login or set a new password at {url}/password-reset.\n         If not, ignore this mail: nothing about your account has changed.\n"
    );
    (subject, body)
}

/// The note to the previous address after a change: where mail goes now, and what to do if
/// it was not its owner.
pub fn changed_text(public_url: &str, nickname: &str) -> (String, String) {
    let url = public_url.trim_end_matches('/');
    let subject = "【Tsudoi】メールアドレスが変更されました / Your email address was changed".to_string();
    let body = format!(
        "{nickname} さん\n\nTsudoi のアカウント（@{nickname}）のメールアドレスが変更されました。今後のお知らせは新しいアドレスに届きます。\n         心当たりがなければ、パスワードを再設定してください（{url}/password-reset）。\n\n---\n\n         The email address of your Tsudoi account (@{nickname}) was changed; messages now go to the new one.\n         If this was not you, set a new password at {url}/password-reset.\n"
    );
    (subject, body)
}

/// Mails [`changed_text`] to the previous address after answering.
pub fn send_changed_notice_in_background(state: AppState, previous: String, nickname: String) {
    tokio::spawn(async move {
        let (subject, body) = changed_text(&state.config.public_url, &nickname);
        if let Err(e) = crate::messages::mail::send_now(&state, &previous, &subject, &body).await {
            tracing::warn!(error = %e, "the note to the previous address was not sent");
        }
    });
}

/// Mails [`taken_text`] to the owner of `email` after answering.
pub fn send_taken_notice_in_background(state: AppState, email: String) {
    tokio::spawn(async move {
        let owner = match state.store.reset_recipient(&email).await {
            Ok(Some((_, nickname))) => nickname,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "looking up the owner of a taken address failed");
                return;
            }
        };
        let (subject, body) = taken_text(&state.config.public_url, &owner);
        if let Err(e) = crate::messages::mail::send_now(&state, &email, &subject, &body).await {
            tracing::warn!(error = %e, "the note about a taken address was not sent");
        }
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_taken_address_note_says_where_to_log_in_and_changes_nothing() {
        let (subject, body) = super::taken_text("https://t.example/", "hanako");
        assert!(subject.contains("新規登録") && subject.contains("sign-up"));
        assert!(body.contains("@hanako") && body.contains("https://t.example/login"));
        assert!(body.contains("https://t.example/password-reset"));
    }

    #[test]
    fn the_mail_carries_the_link_in_both_languages() {
        let (subject, body) = super::mail_text("https://t.example/verify-email?token=abc");
        assert!(subject.contains("確認") && subject.contains("Confirm"));
        assert_eq!(body.matches("https://t.example/verify-email?token=abc").count(), 2);
    }
}
