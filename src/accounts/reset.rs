//! Password reset (server only): single-use tokens that expire after an hour, stored as
//! their BLAKE2s hash, mailed as a link to `/password-reset?token=…` (or printed by the
//! operator's `tsudoi user reset-password NICK` when there is no SMTP).

use chrono::{DateTime, Duration, Utc};

use crate::server::state::AppState;
use crate::server::store::DynStore;

/// How long a reset link works.
pub fn valid_for() -> Duration {
    Duration::hours(1)
}

/// How a token is stored (see `server::secret`).
pub fn token_hash(token: &str) -> String {
    crate::server::secret::hash(token)
}

/// A new token: 32 random bytes in hex.
pub(crate) fn new_token() -> String {
    crate::server::secret::new_hex(32)
}

/// Makes a reset link for `user_id` (earlier ones stop working); the link.
pub async fn issue(store: &DynStore, public_url: &str, user_id: i64, now: DateTime<Utc>) -> anyhow::Result<String> {
    let token = new_token();
    store.create_password_reset(user_id, &token_hash(&token), now, now + valid_for()).await?;
    Ok(format!("{}/password-reset?token={token}", public_url.trim_end_matches('/')))
}

/// The reset mail's subject and body (Japanese first, then English, like the other mails).
pub fn mail_text(nickname: &str, link: &str) -> (String, String) {
    let subject = "【Tsudoi】パスワードの再設定 / Reset your password".to_string();
    let body = format!(
        "{nickname} さん\n\nパスワードの再設定を受け付けました。1時間以内に次のリンクから新しいパスワードを設定してください。\n\
         {link}\n\n心当たりがなければ、このメールは無視してください。パスワードは変わりません。\n\n\
         ---\n\nHello {nickname},\n\nSomeone asked to reset the password of your Tsudoi account. Set a new one \
         within an hour at:\n{link}\n\nIf it was not you, ignore this mail: your password stays as it is.\n"
    );
    (subject, body)
}

/// Handles a reset request for `email` (already normalised) in the background, so that
/// the answer (and its timing) is the same whether or not the address has an account:
/// when it has one, a link is made and mailed.
pub fn request_in_background(state: AppState, email: String) {
    tokio::spawn(async move {
        let now = crate::time::now();
        let recipient = match state.store.reset_recipient(&email).await {
            Ok(Some(r)) => r,
            Ok(None) => return,
            Err(e) => {
                tracing::error!(error = %e, "password reset: account lookup failed");
                return;
            }
        };
        let (user_id, nickname) = recipient;
        if !state.config.mail_enabled() {
            tracing::warn!(
                user_id,
                "password reset asked, but there is no SMTP (TSUDOI_SMTP_URL): the operator can run \
                 `tsudoi user reset-password {nickname}`"
            );
            return;
        }
        let link = match issue(&state.store, &state.config.public_url, user_id, now).await {
            Ok(link) => link,
            Err(e) => {
                tracing::error!(error = %e, user_id, "password reset: token not stored");
                return;
            }
        };
        let (subject, body) = mail_text(&nickname, &link);
        if let Err(e) = crate::messages::mail::send_now(&state, &email, &subject, &body).await {
            tracing::warn!(error = %e, user_id, "password reset mail not sent");
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_stored_only_as_hashes() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
        assert_eq!(token_hash(&a), token_hash(&a));
    }

    #[test]
    fn the_mail_carries_the_link_in_both_languages() {
        let (subject, body) = mail_text("hanako", "https://t.example/password-reset?token=abc");
        assert!(subject.contains("パスワード") && subject.contains("Reset"));
        assert_eq!(body.matches("https://t.example/password-reset?token=abc").count(), 2);
    }
}
