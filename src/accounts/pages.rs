//! `/login`, `/signup`, `/me`, `/users/{nickname}` and the session context.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{
    ChangeEmail, ChangePassword, ConfirmPasswordReset, Login, Logout, LogoutEverywhere, RegenerateCalendarUrl,
    RequestPasswordReset, ResendVerification, SetPrivacy, SetTimeZone, Signup, UpdateProfile, VerifyEmail, form_ticket,
    get_my_profile, get_user, me, my_calendar_exists,
};
use super::model::CurrentUser;
use crate::error::AppError;
use crate::i18n::*;
use crate::registrations::pages::MyRegistrations;
use crate::ui::{ErrorView, EventCardList, FieldMessage, Loading, action_error};

/// The signed-in user for the whole app; `refresh()` after login or logout.
#[derive(Clone, Copy)]
pub struct SessionCtx {
    pub user: Resource<Result<Option<CurrentUser>, AppError>>,
    version: RwSignal<u32>,
}

impl SessionCtx {
    pub fn refresh(&self) {
        self.version.update(|v| *v += 1);
    }
}

/// Provides [`SessionCtx`] (call once, at the top).
pub fn provide_session() -> SessionCtx {
    let version = RwSignal::new(0u32);
    let user = Resource::new(move || version.get(), |_| me());
    let ctx = SessionCtx { user, version };
    provide_context(ctx);
    ctx
}

pub fn use_session() -> SessionCtx {
    expect_context::<SessionCtx>()
}

/// A local path to return to after login (never another site).
pub fn safe_next(raw: Option<String>) -> String {
    raw.filter(|n| is_same_site_path(n)).unwrap_or_else(|| "/me".into())
}

/// A path on this site: one leading `/` (not `//` or `/\`, which browsers read as another
/// host), no backslash, no control character (browsers drop tab, CR and LF from URLs, so
/// `/\t/evil.example` becomes `//evil.example`; a newline cannot be a `Location` header),
/// at most 2,000 characters.
pub fn is_same_site_path(n: &str) -> bool {
    n.starts_with('/') && !n.starts_with("//") && n.len() <= 2_000 && !n.chars().any(|c| c == '\\' || c.is_control())
}

#[cfg(test)]
mod next_tests {
    use super::{is_same_site_path, safe_next};

    #[test]
    fn local_paths_are_kept() {
        for ok in ["/", "/me", "/events/12?tab=a#x", "/tags/c%2B%2B", "/検索"] {
            assert!(is_same_site_path(ok), "{ok}");
        }
        assert_eq!(safe_next(Some("/events/3".into())), "/events/3");
    }

    #[test]
    fn other_sites_and_control_characters_fall_back_to_me() {
        for bad in [
            "//evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "evil.example",
            "/\t/evil.example",
            "/\n/evil.example",
            "/ok\r\nSet-Cookie: x=1",
            "/\u{0}",
            "/\u{7f}",
            "",
        ] {
            assert!(!is_same_site_path(bad), "{bad:?}");
            assert_eq!(safe_next(Some(bad.into())), "/me");
        }
        assert!(!is_same_site_path(&format!("/{}", "a".repeat(2_000))));
        assert_eq!(safe_next(None), "/me");
    }
}

/// Header part: login/sign-up links, or my name, `/me` and logout.
#[component]
pub fn AccountNav() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = logout.value().get() {
            session.refresh();
        }
    });
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match session.user.await {
                    Ok(Some(user)) => view! {
                        <A href="/admin">{t!(i18n, nav_admin)}</A>
                        <A href="/me" attr:class="account-link">{user.display_name}</A>
                        <ActionForm action=logout attr:class="inline-form">
                            <button type="submit" class="link-button">{t!(i18n, logout)}</button>
                        </ActionForm>
                    }.into_any(),
                    _ => view! {
                        <A href="/login">{t!(i18n, login)}</A>
                        <A href="/signup" attr:class="button button--small">{t!(i18n, signup)}</A>
                    }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/login`
#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Login>::new();
    let error = action_error(action);
    view! {
        <AuthForm
            action
            error
            label=|i18n| t_string!(i18n, login).to_string()
            other=view! { {t!(i18n, no_account)} " " <A href="/signup">{t!(i18n, signup)}</A> }.into_any()
        >
            <label for="login">{t!(i18n, login_name)}</label>
            <input id="login" name="login" type="text" autocomplete="username" required />
            <label for="password">{t!(i18n, password)}</label>
            <input id="password" name="password" type="password" autocomplete="current-password" required />
            <FieldMessage error field="login" />
            <p class="hint"><A href="/password-reset">{t!(i18n, forgot_password)}</A></p>
        </AuthForm>
    }
}

/// `/password-reset`: asks for a link by e-mail; with `?token=` (the mailed link), sets a
/// new password.
#[component]
pub fn PasswordResetPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").filter(|t| !t.is_empty());
    view! {
        <Title text=untrack(|| t_string!(i18n, password_reset).to_string()) />
        <section class="form-page">
            <h1>{t!(i18n, password_reset)}</h1>
            {move || match token() {
                None => view! { <ResetRequestForm /> }.into_any(),
                Some(token) => view! { <ResetConfirmForm token /> }.into_any(),
            }}
            <p><A href="/login">{t!(i18n, login)}</A></p>
        </section>
    }
}

/// `/verify-email?token=…` (the link mailed at sign-up): a button confirms the address;
/// opening the page changes nothing.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    let action = ServerAction::<VerifyEmail>::new();
    let error = action_error(action);
    let done = move || matches!(action.value().get(), Some(Ok(_)));
    // The link signs the account in: the header learns who we are.
    let session = use_session();
    Effect::new(move |_| {
        if done() {
            session.refresh();
        }
    });
    view! {
        <Title text=untrack(|| t_string!(i18n, verify_email).to_string()) />
        <section class="form-page">
            <h1>{t!(i18n, verify_email)}</h1>
            <Show
                when=done
                fallback=move || view! {
                    <ActionForm action attr:class="form" attr:novalidate=true>
                        <p class="hint">{t!(i18n, verify_email_intro)}</p>
                        <input type="hidden" name="token" value=token />
                        <FieldMessage error field="token" />
                        <FieldMessage error field="" />
                        <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                            {t!(i18n, verify_email_button)}
                        </button>
                    </ActionForm>
                }
            >
                <p class="notice notice--ok" role="status">{t!(i18n, verify_email_done)}</p>
            </Show>
            <p><A href="/me">{t!(i18n, my_page)}</A></p>
        </section>
    }
}

/// On /me while my address is not confirmed (and this site mails): why it matters, and a
/// button for a new link.
#[component]
fn UnverifiedEmail() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ResendVerification>::new();
    let error = action_error(action);
    let sent = move || matches!(action.value().get(), Some(Ok(_)));
    view! {
        <div class="notice notice--warn" role="status">
            <p>{t!(i18n, email_unverified)}</p>
            <Show
                when=sent
                fallback=move || view! {
                    <ActionForm action>
                        <button type="submit" class="button" disabled=move || action.pending().get()>
                            {t!(i18n, email_verify_resend)}
                        </button>
                        <FieldMessage error field="" />
                    </ActionForm>
                }
            >
                <p>{t!(i18n, email_verify_sent)}</p>
            </Show>
        </div>
    }
}

/// The e-mail address to send a link to; the same answer whether or not it has an account.
#[component]
fn ResetRequestForm() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(action);
    let sent = move || matches!(action.value().get(), Some(Ok(_)));
    view! {
        <Show
            when=sent
            fallback=move || view! {
                <ActionForm action attr:class="form" attr:novalidate=true>
                    <p class="hint">{t!(i18n, password_reset_hint)}</p>
                    <label for="email">{t!(i18n, email)}</label>
                    <input id="email" name="email" type="email" autocomplete="email" required />
                    <FieldMessage error field="email" />
                    <FieldMessage error field="" />
                    <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                        {t!(i18n, password_reset_send)}
                    </button>
                </ActionForm>
            }
        >
            <p class="notice notice--ok" role="status">{t!(i18n, password_reset_sent)}</p>
        </Show>
    }
}

/// The new password, for the token of the link.
#[component]
fn ResetConfirmForm(token: String) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ConfirmPasswordReset>::new();
    let error = action_error(action);
    let done = move || matches!(action.value().get(), Some(Ok(_)));
    let token = StoredValue::new(token);
    view! {
        <Show
            when=done
            fallback=move || view! {
                <ActionForm action attr:class="form" attr:novalidate=true>
                    <input type="hidden" name="token" value=token.get_value() />
                    <label for="password">{t!(i18n, new_password)}</label>
                    <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" />
                    <p class="hint">{t!(i18n, password_hint)}</p>
                    <FieldMessage error field="password" />
                    <FieldMessage error field="token" />
                    <FieldMessage error field="" />
                    <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                        {t!(i18n, password_reset_save)}
                    </button>
                </ActionForm>
            }
        >
            <p class="notice notice--ok" role="status">{t!(i18n, password_reset_done)}</p>
        </Show>
    }
}

/// `/signup`
#[component]
pub fn SignupPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Signup>::new();
    let error = action_error(action);
    // When the form was handed out, signed by the server (see `server::formguard`): a new
    // one after each attempt, so that a refused form can be sent again.
    let ticket = Resource::new(move || action.version().get(), |_| form_ticket());
    let check_email = move || matches!(action.value().get(), Some(Ok(a)) if a.status == "check_email");
    view! {
        <Show when=check_email>
            <p class="notice notice--ok" role="status">{t!(i18n, signup_check_email)}</p>
        </Show>
        <AuthForm
            action
            error
            label=|i18n| t_string!(i18n, signup).to_string()
            other=view! { {t!(i18n, have_account)} " " <A href="/login">{t!(i18n, login)}</A> }.into_any()
        >
            <label for="nickname">{t!(i18n, nickname)}</label>
            <input id="nickname" name="nickname" type="text" autocomplete="username" required minlength="3" maxlength="30" />
            <p class="hint">{t!(i18n, nickname_hint)}</p>
            <FieldMessage error field="nickname" />
            <label for="display_name">{t!(i18n, display_name)}</label>
            <input id="display_name" name="display_name" type="text" autocomplete="name" maxlength="50" />
            <FieldMessage error field="display_name" />
            <label for="email">{t!(i18n, email)}</label>
            <input id="email" name="email" type="email" autocomplete="email" required />
            <FieldMessage error field="email" />
            <label for="password">{t!(i18n, password)}</label>
            <input id="password" name="password" type="password" autocomplete="new-password" required minlength="8" />
            <p class="hint">{t!(i18n, password_hint)}</p>
            <FieldMessage error field="password" />
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let value = ticket.await.unwrap_or_default();
                    view! { <input type="hidden" name="form_ticket" value=value /> }
                })}
            </Transition>
            // The honeypot: off-screen and out of the tab order; people never fill it in.
            <div class="hp" aria-hidden="true">
                <label for="homepage">{t!(i18n, form_honeypot)}</label>
                <input id="homepage" name="homepage" type="text" tabindex="-1" autocomplete="off" />
            </div>
        </AuthForm>
    }
}

/// The frame of `/login` and `/signup`: title and heading (`label`), a form posting to
/// `action` with the `next` path, the page's fields (children), the form-wide error, the
/// submit button, and the link to the other page (`other`). The server function redirects
/// to `next`; on success the header only needs to learn who we are.
#[component]
fn AuthForm<S>(
    action: ServerAction<S>,
    /// The action's error, also shown beside the page's fields.
    error: Signal<Option<AppError>>,
    label: fn(leptos_i18n::I18nContext<Locale>) -> String,
    other: AnyView,
    children: Children,
) -> impl IntoView
where
    S: serde::de::DeserializeOwned
        + leptos::server_fn::ServerFn<
            Protocol = leptos::server_fn::Http<leptos::server_fn::codec::PostUrl, leptos::server_fn::codec::Json>,
            Error = AppError,
        > + Clone
        + Send
        + Sync
        + 'static,
    <<S::Client as leptos::server_fn::client::Client<AppError>>::Request as leptos::server_fn::request::ClientReq<
        AppError,
    >>::FormData: From<leptos::web_sys::FormData>,
    S::Client: leptos::server_fn::client::Client<AppError>,
    S::Output: Clone + Send + Sync + 'static,
{
    let i18n = use_i18n();
    let session = use_session();
    let query = use_query_map();
    let next = move || safe_next(query.read().get("next"));
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            session.refresh();
        }
    });
    view! {
        <Title text=untrack(|| label(i18n)) />
        <section class="form-page">
            <h1>{move || label(i18n)}</h1>
            <ActionForm action attr:class="form" attr:novalidate=true>
                <input type="hidden" name="next" value=next />
                {children()}
                <FieldMessage error field="" />
                <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                    {move || label(i18n)}
                </button>
            </ActionForm>
            <p>{other}</p>
        </section>
    }
}

/// `/me`: my registrations, my profile, my password.
#[component]
pub fn MePage() -> impl IntoView {
    let i18n = use_i18n();
    let profile = Resource::new(|| (), |_| get_my_profile());
    view! {
        <Title text=untrack(|| t_string!(i18n, my_page).to_string()) />
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => view! {
                        <h1>{t!(i18n, my_page)}</h1>
                        <p class="lead">{p.display_name.clone()} " (@" {p.nickname.clone()} ") · " {p.email.clone()}</p>
                        {(p.mail_enabled && !p.email_verified).then(|| view! { <UnverifiedEmail /> })}
                        <crate::admin::pages::MyInvitations />
                        <crate::messages::pages::MyMessages />
                        <MyFeed />
                        <MyRegistrations />
                        <MyCalendar />
                        <ProfileForms display_name=p.display_name bio=p.bio hide_attended=p.hide_attended time_zone=p.time_zone email=p.email.clone() />
                    }.into_any(),
                    Err(AppError::Unauthorized) => view! { <LoginRequired next="/me".to_string() /> }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Upcoming events of the groups I follow.
#[component]
fn MyFeed() -> impl IntoView {
    let i18n = use_i18n();
    let feed = Resource::new(|| (), |_| crate::groups::api::my_feed());
    view! {
        <section aria-labelledby="feed-h">
            <h2 id="feed-h">{t!(i18n, my_feed)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let cards = feed.await.unwrap_or_default();
                    if cards.is_empty() {
                        view! { <p class="muted">{t!(i18n, my_feed_empty)}</p> }.into_any()
                    } else {
                        view! { <crate::ui::EventCardList cards /> }.into_any()
                    }
                })}
            </Transition>
        </section>
    }
}

/// The private calendar feed of my registrations: create, show, regenerate.
#[component]
fn MyCalendar() -> impl IntoView {
    let i18n = use_i18n();
    let regenerate = ServerAction::<RegenerateCalendarUrl>::new();
    let exists = Resource::new(move || regenerate.version().get(), |_| my_calendar_exists());
    view! {
        <section class="panel" aria-labelledby="calendar-h">
            <h2 id="calendar-h">{t!(i18n, my_calendar)}</h2>
            <p class="hint">{t!(i18n, my_calendar_hint)}</p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let has = exists.await.unwrap_or(false);
                    // The secret is stored hashed: its URL exists only in the answer that made it.
                    let fresh = regenerate.value().get().and_then(Result::ok);
                    view! {
                        {(has && fresh.is_none()).then(|| view! { <p class="hint">{t!(i18n, my_calendar_exists)}</p> })}
                        {fresh.map(|u| {
                            let webcal = u.replacen("https://", "webcal://", 1).replacen("http://", "webcal://", 1);
                            view! {
                                <p class="ok" role="status">{t!(i18n, my_calendar_shown_once)}</p>
                                <label for="my-calendar-url">{t!(i18n, my_calendar_copy_hint)}</label>
                                <input id="my-calendar-url" class="calendar-url" type="text" readonly value=u.clone() />
                                <p class="feed-links">
                                    <a href=webcal>{t!(i18n, subscribe_calendar)}</a>
                                    <a href=u rel="nofollow noreferrer">".ics"</a>
                                </p>
                            }
                        })}
                        <ActionForm action=regenerate attr:class="inline-form">
                            <button type="submit" class="button button--ghost" disabled=move || regenerate.pending().get()>
                                {if has {
                                    view! { {t!(i18n, my_calendar_regenerate)} }.into_any()
                                } else {
                                    view! { {t!(i18n, my_calendar_create)} }.into_any()
                                }}
                            </button>
                        </ActionForm>
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn ProfileForms(
    display_name: String,
    bio: String,
    hide_attended: bool,
    time_zone: String,
    email: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let zone = ServerAction::<SetTimeZone>::new();
    let zone_error = action_error(zone);
    let session = use_session();
    Effect::new(move |_| {
        if let Some(Ok(_)) = zone.value().get() {
            session.refresh();
        }
    });
    let update = ServerAction::<UpdateProfile>::new();
    let privacy = ServerAction::<SetPrivacy>::new();
    // What the page shows follows the last answer (the profile resource is not refetched).
    let hidden = move || privacy.value().get().and_then(Result::ok).map(|p| p.hide_attended).unwrap_or(hide_attended);
    let password = ServerAction::<ChangePassword>::new();
    let change_email = ServerAction::<ChangeEmail>::new();
    let email_error = action_error(change_email);
    let email_status = move || change_email.value().get().and_then(Result::ok).map(|a| a.status);
    let update_error = action_error(update);
    let password_error = action_error(password);
    view! {
        <section class="panel" aria-labelledby="profile-h">
            <h2 id="profile-h">{t!(i18n, edit_profile)}</h2>
            <ActionForm action=update attr:class="form">
                <label for="display_name">{t!(i18n, display_name)}</label>
                <input id="display_name" name="display_name" type="text" maxlength="50" value=display_name />
                <FieldMessage error=update_error field="display_name" />
                <label for="bio">{t!(i18n, bio)}</label>
                <textarea id="bio" name="bio" rows="4" maxlength="1000">{bio}</textarea>
                <FieldMessage error=update_error field="bio" />
                <button type="submit" class="button">{t!(i18n, save)}</button>
                {move || matches!(update.value().get(), Some(Ok(_))).then(|| view! { <p class="ok" role="status">{t!(i18n, saved)}</p> })}
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="privacy-h">
            <h2 id="privacy-h">{t!(i18n, privacy_heading)}</h2>
            <p class="hint">{move || if hidden() {
                t_string!(i18n, attended_hidden_state).to_string()
            } else {
                t_string!(i18n, attended_shown_state).to_string()
            }}</p>
            <ActionForm action=privacy attr:class="inline-form">
                <input type="hidden" name="hide_attended" value=move || (!hidden()).to_string() />
                <button type="submit" class="button button--ghost">{move || if hidden() {
                    t_string!(i18n, attended_show).to_string()
                } else {
                    t_string!(i18n, attended_hide).to_string()
                }}</button>
            </ActionForm>
            <p class="hint">{t!(i18n, anonymous_hint)}</p>
        </section>
        <section class="panel" aria-labelledby="zone-h">
            <h2 id="zone-h">{t!(i18n, time_zone_heading)}</h2>
            <ActionForm action=zone attr:class="form">
                <label for="time_zone">{t!(i18n, time_zone_label)}</label>
                <select id="time_zone" name="time_zone">
                    <option value="" selected=time_zone.is_empty()>{t!(i18n, time_zone_browser)}</option>
                    {TIME_ZONES.iter().map(|z| view! { <option value=*z selected=time_zone == *z>{*z}</option> }).collect_view()}
                    {(!time_zone.is_empty() && !TIME_ZONES.contains(&time_zone.as_str())).then(|| view! {
                        <option value=time_zone.clone() selected=true>{time_zone.clone()}</option>
                    })}
                </select>
                <p class="hint">{t!(i18n, time_zone_hint)}</p>
                <FieldMessage error=zone_error field="time_zone" />
                <button type="submit" class="button">{t!(i18n, save)}</button>
                {move || matches!(zone.value().get(), Some(Ok(_))).then(|| view! { <p class="ok" role="status">{t!(i18n, saved)}</p> })}
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="password-h">
            <h2 id="password-h">{t!(i18n, change_password)}</h2>
            <ActionForm action=password attr:class="form">
                <label for="current_password">{t!(i18n, current_password)}</label>
                <input id="current_password" name="current_password" type="password" autocomplete="current-password" />
                <FieldMessage error=password_error field="current_password" />
                <label for="new_password">{t!(i18n, new_password)}</label>
                <input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" />
                <FieldMessage error=password_error field="new_password" />
                <button type="submit" class="button">{t!(i18n, change_password)}</button>
                {move || matches!(password.value().get(), Some(Ok(_))).then(|| view! { <p class="ok" role="status">{t!(i18n, password_changed)}</p> })}
            </ActionForm>
        </section>
        <section class="panel" aria-labelledby="email-h">
            <h2 id="email-h">{t!(i18n, change_email)}</h2>
            <ActionForm action=change_email attr:class="form">
                <label for="new_email">{t!(i18n, email)}</label>
                <input id="new_email" name="email" type="email" autocomplete="email" value=email />
                <FieldMessage error=email_error field="email" />
                <label for="email_password">{t!(i18n, current_password)}</label>
                <input id="email_password" name="current_password" type="password" autocomplete="current-password" />
                <FieldMessage error=email_error field="current_password" />
                <button type="submit" class="button">{t!(i18n, change_email)}</button>
                {move || email_status().map(|s| view! {
                    <p class="ok" role="status">{match s.as_str() {
                        "check_email" => t_string!(i18n, email_change_check),
                        "unchanged" => t_string!(i18n, email_change_same),
                        _ => t_string!(i18n, saved),
                    }}</p>
                })}
            </ActionForm>
        </section>
        <LogoutEverywhere />
    }
}

/// Zones offered on /me (the API takes any IANA name).
const TIME_ZONES: &[&str] = &[
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Helsinki",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "Pacific/Honolulu",
    "UTC",
];

/// Ends every session of mine, on every device (a lost phone, a shared computer).
#[component]
fn LogoutEverywhere() -> impl IntoView {
    let i18n = use_i18n();
    let session = use_session();
    let everywhere = ServerAction::<LogoutEverywhere>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = everywhere.value().get() {
            session.refresh();
        }
    });
    view! {
        <section class="panel" aria-labelledby="sessions-h">
            <h2 id="sessions-h">{t!(i18n, sessions_heading)}</h2>
            <p class="hint">{t!(i18n, sessions_hint)}</p>
            <ActionForm action=everywhere attr:class="inline-form">
                <button type="submit" class="button button--ghost" disabled=move || everywhere.pending().get()>
                    {t!(i18n, logout_everywhere)}
                </button>
            </ActionForm>
        </section>
    }
}

/// Shown instead of a page that needs a signed-in user (with a 401 status on the server).
#[component]
pub fn LoginRequired(next: String) -> impl IntoView {
    crate::ui::set_page_status(401);
    let i18n = use_i18n();
    let href = format!("/login?next={}", urlencoding::encode(&next));
    view! {
        <section class="message-page">
            <h1>{t!(i18n, login_required)}</h1>
            <p><A href=href>{t!(i18n, login)}</A></p>
        </section>
    }
}

/// `/users/{nickname}`: a public profile.
#[component]
pub fn UserPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let nickname = move || params.read().get("nickname").unwrap_or_default();
    let profile = Resource::new(nickname, get_user);
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match profile.await {
                    Ok(p) => {
                        let no_attended = p.attended.is_empty();
                        let no_organised = p.organised.is_empty();
                        view! {
                            <Title text=p.display_name.clone() />
                            <h1>{p.display_name.clone()} <span class="muted">" @" {p.nickname.clone()}</span></h1>
                            {(!p.bio.is_empty()).then(|| view! { <p class="bio">{p.bio.clone()}</p> })}
                            <h2>{t!(i18n, events_attended)}</h2>
                            {if p.attended_hidden {
                                view! { <p class="empty">{t!(i18n, attended_private)}</p> }.into_any()
                            } else if no_attended { view! { <p class="empty">{t!(i18n, none_yet)}</p> }.into_any() } else { view! { <EventCardList cards=p.attended /> }.into_any() }}
                            <h2>{t!(i18n, events_organised)}</h2>
                            {if no_organised { view! { <p class="empty">{t!(i18n, none_yet)}</p> }.into_any() } else { view! { <EventCardList cards=p.organised /> }.into_any() }}
                            <crate::moderation::pages::ReportForm kind=crate::moderation::model::TargetKind::User id=p.id />
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
