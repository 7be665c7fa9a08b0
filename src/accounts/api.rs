//! Account server functions. Writes are POST with form-encoded arguments; each checks
//! authentication itself.

use leptos::prelude::*;
use leptos::server_fn::codec::GetUrl;

use super::model::{CurrentUser, MyProfile, UserProfile};
use crate::error::AppError;

#[cfg(feature = "ssr")]
mod ssr {
    use std::net::{IpAddr, SocketAddr};

    use axum::extract::ConnectInfo;

    use crate::accounts::model::{CurrentUser, MyProfile};
    use crate::error::AppError;

    /// The client's IP: the TCP peer, or what a trusted proxy reports (see `client_ip`).
    pub async fn client_ip() -> Result<IpAddr, AppError> {
        let ConnectInfo(addr) = leptos_axum::extract::<ConnectInfo<SocketAddr>>().await.map_err(|e| {
            tracing::error!(error = %e, "no connect info: serve with into_make_service_with_connect_info");
            AppError::Internal
        })?;
        let headers: axum::http::HeaderMap = leptos_axum::extract().await.map_err(|e| {
            tracing::error!(error = %e, "request headers unavailable");
            AppError::Internal
        })?;
        let state = crate::server::state::app_state()?;
        Ok(crate::server::client_ip::client_ip(addr, &headers, &state.config.trusted_proxies))
    }

    /// The answer to a link (password reset, address confirmation) that is unknown, used or
    /// expired: `422 invalid_token` on `token`.
    pub fn invalid_token() -> AppError {
        AppError::Invalid(vec![crate::error::FieldError::new(
            "token",
            "invalid_token",
            "This link has expired or was already used. Ask for a new one.",
        )])
    }

    /// A link's token as sent, trimmed; one that cannot be ours (empty, too long) is
    /// [`invalid_token`] before anything is looked up.
    pub fn link_token(token: &str) -> Result<&str, AppError> {
        let token = token.trim();
        if token.is_empty() || token.len() > 128 { Err(invalid_token()) } else { Ok(token) }
    }

    /// My profile, with whether this site sends e-mail.
    pub async fn my_profile(state: &crate::server::state::AppState, user_id: i64) -> Result<MyProfile, AppError> {
        let mut profile = state.store.fetch_my_profile(user_id).await?.ok_or(AppError::Unauthorized)?;
        profile.mail_enabled = state.config.mail_enabled();
        Ok(profile)
    }

    /// Signs `user` in on this request's session (with a fresh session id) and redirects to
    /// `next` when it is a local path (else `/me`): how sign-up and login end.
    pub async fn sign_in(user: CurrentUser, next: Option<String>) -> Result<CurrentUser, AppError> {
        start_session(user.id).await?;
        leptos_axum::redirect(&crate::accounts::pages::safe_next(next));
        Ok(user)
    }

    /// Signs `user_id` in on this request's session, with a fresh session id.
    pub async fn start_session(user_id: i64) -> Result<(), AppError> {
        let session = crate::server::session::session().await?;
        session.cycle_id().await?;
        session.insert(crate::server::session::USER_ID_KEY, user_id).await?;
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        session.insert(crate::server::session::SIGNED_IN_AT_KEY, now).await?;
        session.insert(crate::server::session::SEEN_DAY_KEY, now.div_euclid(86_400)).await?;
        Ok(())
    }
}

/// `GET /api/auth/form-ticket` — a signed ticket for the sign-up form, saying when it was
/// handed out (see `server::formguard`): the form sends it back as `form_ticket`.
#[server(endpoint = "auth/form-ticket", input = GetUrl)]
pub async fn form_ticket() -> Result<String, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        Ok(state.forms.ticket(crate::time::now().timestamp(), ssr::client_ip().await?))
    })
    .await
}

/// `POST /api/auth/signup` — creates an account. Anyone may call it (rate limited per IP),
/// with a `form_ticket` from `/api/auth/form-ticket` at least a few seconds old and the
/// honeypot `homepage` empty. Without SMTP the account is signed in at once
/// (`signed_in`), and a taken nickname or email gives one answer (`account_exists`). With
/// SMTP the answer is `check_email` whether or not the address has an account: a new
/// account is finished from the link mailed to it, an existing one is mailed a note.
#[server(endpoint = "auth/signup")]
pub async fn signup(
    nickname: String,
    email: String,
    password: String,
    display_name: Option<String>,
    next: Option<String>,
    form_ticket: Option<String>,
    homepage: Option<String>,
) -> Result<super::model::SignupAnswer, AppError> {
    use super::model::{normalize_display_name, normalize_email, normalize_nickname, validate_password};
    use crate::server::state::app_state;
    use crate::server::store::NewUser;

    crate::error::respond(async {
        let state = app_state()?;
        let client = ssr::client_ip().await?;
        state.limits.signup(client)?;
        let now = crate::time::now().timestamp();
        state.forms.check(form_ticket.as_deref(), homepage.as_deref(), now, client)?;
        let mut errors = Vec::new();
        let nickname = normalize_nickname(&nickname).map_err(|e| errors.push(e)).ok();
        let email = normalize_email(&email).map_err(|e| errors.push(e)).ok();
        if let Err(e) = validate_password("password", &password) {
            errors.push(e);
        }
        let display = nickname
            .as_deref()
            .map(|n| normalize_display_name(display_name.as_deref().unwrap_or_default(), n))
            .transpose()
            .map_err(|e| errors.push(e))
            .ok()
            .flatten();
        let (Some(nickname), Some(email), Some(display_name), true) = (nickname, email, display, errors.is_empty())
        else {
            return Err(AppError::Invalid(errors));
        };
        let hash = crate::server::password::hash(password).await.map_err(|e| {
            tracing::error!(error = %e, "hashing failed");
            AppError::Internal
        })?;
        let limited_until = state.config.new_accounts.new_until(now);
        let account = NewUser {
            nickname: nickname.clone(),
            display_name,
            email: Some(email.clone()),
            password_hash: Some(hash),
            bio: String::new(),
        };
        let check_email = super::model::SignupAnswer { status: "check_email".into(), user: None };
        if !state.config.mail_enabled() {
            let user = state.store.create_signup(&account, limited_until).await?;
            let user = ssr::sign_in(user, next).await?;
            return Ok(super::model::SignupAnswer { status: "signed_in".into(), user: Some(user) });
        }
        // Nicknames are public (profile pages): a taken one may be said.
        if state.store.user_id_by_nickname(&nickname).await?.is_some() {
            return Err(AppError::Conflict(crate::error::Conflict::AccountExists));
        }
        // The account signs in only from the link mailed to it: a sign-up with someone else's
        // free address gives its maker nothing to log in to.
        match state.store.create_pending_signup(&account, limited_until).await {
            Ok(user) => super::verify::send_in_background(state.clone(), user.id),
            // The address has an account: its owner hears of the attempt; the answer is the same.
            Err(AppError::Conflict(crate::error::Conflict::AccountExists)) => {
                super::verify::send_taken_notice_in_background(state.clone(), email)
            }
            Err(other) => return Err(other),
        }
        Ok(check_email)
    })
    .await
}

/// `POST /api/auth/login` — signs in with nickname or email. Anyone may call it (rate
/// limited per IP and per account); failures never say which part was wrong.
#[server(endpoint = "auth/login")]
pub async fn login(login: String, password: String, next: Option<String>) -> Result<CurrentUser, AppError> {
    use crate::server::state::app_state;

    crate::error::respond(async {
        let state = app_state()?;
        let login = login.trim().to_lowercase();
        state.limits.login(ssr::client_ip().await?, &login)?;
        let wrong = || {
            AppError::Invalid(vec![crate::error::FieldError::new(
                "login",
                "wrong_credentials",
                "Nickname/email or password is wrong. Just signed up? Open the link mailed to you first.",
            )])
        };
        if login.is_empty() || password.is_empty() || password.len() > 1024 {
            return Err(wrong());
        }
        let Some((id, hash)) = state.store.find_login(&login).await? else {
            // Same work as a real check, so timing does not tell either.
            let _ = crate::server::password::verify(password, crate::server::password::DUMMY_HASH.to_string()).await;
            return Err(wrong());
        };
        if !crate::server::password::verify(password, hash).await {
            return Err(wrong());
        }
        let user = state.store.fetch_user(id).await?.ok_or(AppError::Internal)?;
        ssr::sign_in(user, next).await
    })
    .await
}

/// `POST /api/auth/password-reset` — `email`: mails a link to set a new password, valid for
/// an hour and once, when the address has an account. The answer is `{"status": "sent"}`
/// either way, in the same time (the work happens after answering); rate limited per
/// client and per address.
#[server(endpoint = "auth/password-reset")]
pub async fn request_password_reset(email: String) -> Result<super::model::PasswordResetAnswer, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        let email = super::model::normalize_email(&email).map_err(|e| AppError::Invalid(vec![e]))?;
        state.limits.password_reset(ssr::client_ip().await?, &email)?;
        super::reset::request_in_background(state, email);
        Ok(super::model::PasswordResetAnswer { status: "sent".into() })
    })
    .await
}

/// `POST /api/auth/password-reset/confirm` — `token` (from the link) and the new
/// `password`: sets it and ends every session of the account (sign in again). A token that
/// is unknown, used or expired is `422` on `token`.
#[server(endpoint = "auth/password-reset/confirm")]
pub async fn confirm_password_reset(
    token: String,
    password: String,
) -> Result<super::model::PasswordResetAnswer, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        super::model::validate_password("password", &password).map_err(|e| AppError::Invalid(vec![e]))?;
        let token = ssr::link_token(&token)?;
        let hash = crate::server::password::hash(password).await.map_err(|e| {
            tracing::error!(error = %e, "hashing failed");
            AppError::Internal
        })?;
        let used = state.store.use_password_reset(&super::reset::token_hash(token), &hash, crate::time::now()).await?;
        let Some(user_id) = used else { return Err(ssr::invalid_token()) };
        tracing::info!(user_id, "password reset; every session ended");
        Ok(super::model::PasswordResetAnswer { status: "reset".into() })
    })
    .await
}

/// `POST /api/auth/verify-email` — `token` (from the link mailed at sign-up or from /me):
/// confirms that the address is its owner's, so Tsudoi's messages are mailed to it too; it
/// finishes a sign-up (the account can log in from now on) or an address change. A link that
/// is unknown, used, expired or for an earlier address is `422` on `token`. It signs nobody in:
/// whoever opens a link must still know the password.
#[server(endpoint = "auth/verify-email")]
pub async fn verify_email(token: String) -> Result<super::model::PasswordResetAnswer, AppError> {
    crate::error::respond(async {
        let state = crate::server::state::app_state()?;
        let hash = super::reset::token_hash(ssr::link_token(&token)?);
        let Some((user_id, previous)) = state.store.use_email_verification(&hash, crate::time::now()).await? else {
            return Err(ssr::invalid_token());
        };
        tracing::info!(user_id, changed = previous.is_some(), "e-mail address verified");
        // After a change, the previous address is told (and how to get the account back).
        if let (Some(previous), Some(user)) = (previous, state.store.fetch_user(user_id).await?) {
            super::verify::send_changed_notice_in_background(state.clone(), previous, user.nickname);
        }
        Ok(super::model::PasswordResetAnswer { status: "verified".into() })
    })
    .await
}

/// `POST /api/me/email/verify` — mails me a new link to confirm my address (the previous
/// one stops working): `{"status": "sent"}`, or `"verified"` when it already is. `400` when
/// this site sends no e-mail; a few an hour.
#[server(endpoint = "me/email/verify")]
pub async fn resend_verification() -> Result<super::model::PasswordResetAnswer, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        if !state.config.mail_enabled() {
            return Err(AppError::BadRequest("this site sends no e-mail".into()));
        }
        state.limits.password_reset(ssr::client_ip().await?, &format!("verify:{}", user.id))?;
        let sent = super::verify::send_link(&state, user.id).await.map_err(|e| {
            tracing::error!(error = %e, user_id = user.id, "verification link not sent");
            AppError::Internal
        })?;
        Ok(super::model::PasswordResetAnswer { status: if sent { "sent" } else { "verified" }.into() })
    })
    .await
}

/// `POST /api/me/email` — changes my address (`email`, `current_password`). Without SMTP:
/// `{"status": "changed"}` (`422 email_taken` on `email` when another account has it). With
/// SMTP: `{"status": "check_email"}` whether or not the address is taken: a free one is mailed
/// a link, and becomes mine (and the previous address is told) when it is opened; the owner
/// of a taken one is mailed a note instead. `{"status": "unchanged"}` for my own.
#[server(endpoint = "me/email")]
pub async fn change_email(
    email: String,
    current_password: String,
) -> Result<super::model::PasswordResetAnswer, AppError> {
    use super::model::{PasswordResetAnswer, normalize_email};
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        // The current password is checked: as many tries as logins to this account.
        state.limits.login(ssr::client_ip().await?, &user.nickname)?;
        let email = normalize_email(&email).map_err(|e| AppError::Invalid(vec![e]))?;
        let hash = state.store.fetch_password_hash(user.id).await?.unwrap_or_default();
        if !crate::server::password::verify(current_password, hash).await {
            return Err(AppError::Invalid(vec![crate::error::FieldError::new(
                "current_password",
                "wrong_password",
                "The current password is wrong.",
            )]));
        }
        let answer = |s: &str| Ok(PasswordResetAnswer { status: s.into() });
        let current = state.store.fetch_my_profile(user.id).await?.map(|p| p.email).unwrap_or_default();
        if current.eq_ignore_ascii_case(&email) {
            return answer("unchanged");
        }
        if state.config.mail_enabled() {
            // Kept aside until its link is opened, taken or not: nothing the account sees tells.
            if state.store.set_pending_email(user.id, &email).await? {
                super::verify::send_taken_notice_in_background(state.clone(), email);
            } else {
                super::verify::send_in_background(state.clone(), user.id);
            }
            return answer("check_email");
        }
        match state.store.change_email(user.id, &email).await {
            Ok(_) => answer("changed"),
            Err(AppError::Conflict(crate::error::Conflict::AccountExists)) => {
                Err(AppError::Invalid(vec![crate::error::FieldError::new(
                    "email",
                    "email_taken",
                    "Another account uses this address.",
                )]))
            }
            Err(other) => Err(other),
        }
    })
    .await
}

/// `POST /api/auth/logout` — ends the session (a no-op when signed out).
#[server(endpoint = "auth/logout")]
pub async fn logout() -> Result<(), AppError> {
    let session = crate::server::session::session().await?;
    session.flush().await?;
    Ok(())
}

/// `POST /api/auth/logout-everywhere` — ends every session of mine, on every device,
/// this one included.
#[server(endpoint = "auth/logout-everywhere")]
pub async fn logout_everywhere() -> Result<(), AppError> {
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        crate::server::session::end_sessions_of(user.id, None).await?;
        crate::server::session::session().await?.flush().await?;
        Ok(())
    })
    .await
}

/// `GET /api/auth/me` — the signed-in user, or `null`.
#[server(endpoint = "auth/me", input = GetUrl)]
pub async fn me() -> Result<Option<CurrentUser>, AppError> {
    crate::server::session::current_user().await
}

/// `GET /api/me/profile` — my profile (signed-in users only).
#[server(endpoint = "me/profile", input = GetUrl)]
pub async fn get_my_profile() -> Result<MyProfile, AppError> {
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        ssr::my_profile(&crate::server::state::app_state()?, user.id).await
    })
    .await
}

/// `POST /api/me/profile/update` — changes my display name and bio.
#[server(endpoint = "me/profile/update")]
pub async fn update_profile(display_name: String, bio: String) -> Result<MyProfile, AppError> {
    use super::model::{normalize_display_name, validate_bio};
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        let mut errors = Vec::new();
        let display = normalize_display_name(&display_name, &user.nickname).map_err(|e| errors.push(e)).ok();
        if let Err(e) = validate_bio(&bio) {
            errors.push(e);
        }
        let Some(display) = display.filter(|_| errors.is_empty()) else { return Err(AppError::Invalid(errors)) };
        let state = crate::server::state::app_state()?;
        state.store.update_profile(user.id, &display, bio.trim()).await?;
        ssr::my_profile(&state, user.id).await
    })
    .await
}

/// `POST /api/me/privacy` — keeps the events I attend off my profile and the API
/// (`hide_attended=true`), or shows them again.
#[server(endpoint = "me/privacy")]
pub async fn set_privacy(hide_attended: bool) -> Result<MyProfile, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.set_hide_attended(user.id, hide_attended).await?;
        ssr::my_profile(&state, user.id).await
    })
    .await
}

/// `POST /api/me/time-zone` — my time zone (`time_zone`, an IANA name such as
/// `Europe/Berlin`; empty to follow the browser): event pages and e-mails about events add
/// their time in it.
#[server(endpoint = "me/time-zone")]
pub async fn set_time_zone(time_zone: String) -> Result<MyProfile, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let zone = time_zone.trim();
        if !zone.is_empty() && (zone.len() > 64 || zone.parse::<chrono_tz::Tz>().is_err()) {
            return Err(AppError::Invalid(vec![crate::error::FieldError::new(
                "time_zone",
                "invalid_zone",
                "choose a time zone such as Asia/Tokyo",
            )]));
        }
        state.store.set_time_zone(user.id, (!zone.is_empty()).then_some(zone)).await?;
        ssr::my_profile(&state, user.id).await
    })
    .await
}

/// `POST /api/me/password` — changes my password after checking the current one.
#[server(endpoint = "me/password")]
pub async fn change_password(current_password: String, new_password: String) -> Result<(), AppError> {
    use super::model::validate_password;
    crate::error::respond(async {
        let user = crate::server::session::require_user().await?;
        let state = crate::server::state::app_state()?;
        // The current password is checked: as many tries as logins to this account.
        state.limits.login(ssr::client_ip().await?, &user.nickname)?;
        validate_password("new_password", &new_password).map_err(|e| AppError::Invalid(vec![e]))?;
        let store = &state.store;
        let hash = store.fetch_password_hash(user.id).await?.unwrap_or_default();
        if !crate::server::password::verify(current_password, hash).await {
            return Err(AppError::Invalid(vec![crate::error::FieldError::new(
                "current_password",
                "wrong_password",
                "The current password is wrong.",
            )]));
        }
        let new_hash = crate::server::password::hash(new_password).await.map_err(|_| AppError::Internal)?;
        store.update_password_hash(user.id, &new_hash).await?;
        // Every other session ends (whoever knew the old password is signed out); this one
        // stays, with a fresh id.
        let session = crate::server::session::session().await?;
        crate::server::session::end_sessions_of(user.id, Some(&session)).await?;
        session.cycle_id().await?;
        Ok(())
    })
    .await
}

/// `GET /api/users/get` — a public profile.
#[server(endpoint = "users/get", input = GetUrl)]
pub async fn get_user(nickname: String) -> Result<UserProfile, AppError> {
    crate::error::respond(async {
        crate::server::state::app_state()?
            .store
            .fetch_user_profile(&nickname.to_lowercase())
            .await?
            .ok_or(AppError::NotFound)
    })
    .await
}

/// `GET /api/me/calendar` — whether I have a private calendar feed. Its secret is stored
/// hashed, so its URL is shown only once, by `regenerate`.
#[server(endpoint = "me/calendar", input = GetUrl)]
pub async fn my_calendar_exists() -> Result<bool, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        state.store.has_calendar_token(user.id).await
    })
    .await
}

/// `POST /api/me/calendar/regenerate` — creates (or replaces) the secret of my calendar
/// feed; the previous URL stops working at once.
#[server(endpoint = "me/calendar/regenerate")]
pub async fn regenerate_calendar_url() -> Result<String, AppError> {
    crate::error::respond(async {
        let (user, state) = crate::server::session::require_user_state().await?;
        let token = crate::server::secret::new_hex(24);
        state.store.set_calendar_token(user.id, &token).await?;
        Ok(calendar_feed_url(&state.config.public_url, &token))
    })
    .await
}

#[cfg(feature = "ssr")]
fn calendar_feed_url(origin: &str, token: &str) -> String {
    format!("{origin}/calendar/{token}/registrations.ics")
}
