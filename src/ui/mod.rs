//! Shared widgets: event cards, seat counters, pagination, error and 404 views.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::error::AppError;
use crate::events::model::{EventCard, EventStatus, Seats, VenueKind};
use crate::geo::prefecture_name;
use crate::i18n::*;
use crate::live::client::live_event_seats;
use crate::tags::model::{TagKind, TagRef};
use crate::time::Lang;

/// The error of `action`'s last submission, if it failed: forms show it beside their fields.
pub fn action_error<S>(action: ServerAction<S>) -> Signal<Option<AppError>>
where
    S: leptos::server_fn::ServerFn<Error = AppError> + Clone + Send + Sync + 'static,
    S::Output: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The data of the event `event_id()` names, fetched again when `version()` changes (after
/// the page's actions complete); `NotFound` when no event is named.
pub fn event_resource<T, V, Fut>(
    event_id: impl Fn() -> Option<i64> + Send + Sync + 'static,
    version: impl Fn() -> V + Send + Sync + 'static,
    fetch: impl Fn(i64) -> Fut + Copy + Send + Sync + 'static,
) -> Resource<Result<T, AppError>>
where
    T: serde::Serialize + serde::de::DeserializeOwned + Send + Sync + 'static,
    V: PartialEq + Clone + Send + Sync + 'static,
    Fut: Future<Output = Result<T, AppError>> + Send + 'static,
{
    Resource::new(
        move || (event_id(), version()),
        move |(id, _)| async move {
            match id {
                Some(id) => fetch(id).await,
                None => Err(AppError::NotFound),
            }
        },
    )
}

/// The secret of an invitation link (`?invite=`) on this page, if any: an invitation-only
/// event's page passes it to every request about the event.
pub fn invite_param() -> impl Fn() -> Option<String> + Copy + Send + Sync + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || query.read().get("invite").filter(|s| !s.is_empty())
}

/// The route's `:id` as a number; 0 when it is not one, which the server answers with 404.
pub fn id_param() -> impl Fn() -> i64 + Copy + Send + Sync + 'static {
    let params = leptos_router::hooks::use_params_map();
    move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).unwrap_or(0)
}

/// The formatting language of the current UI locale.
pub fn lang_of(locale: Locale) -> Lang {
    match locale {
        Locale::ja => Lang::Ja,
        Locale::en => Lang::En,
    }
}

/// Sets the HTTP status of the page being rendered on the server (no-op in the browser).
pub fn set_page_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let Some(opts) = use_context::<leptos_axum::ResponseOptions>() {
        opts.set_status(
            axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// Venue summary for cards: online / prefecture / both.
#[component]
pub fn VenueBadge(kind: VenueKind, prefecture: Option<String>) -> impl IntoView {
    let i18n = use_i18n();
    let pref = move || {
        prefecture
            .as_deref()
            .and_then(|p| prefecture_name(p, lang_of(i18n.get_locale())))
            .unwrap_or_default()
            .to_string()
    };
    view! {
        <span class=format!("venue venue--{}", kind.as_str())>
            {move || match kind {
                VenueKind::Online => t_string!(i18n, online).to_string(),
                VenueKind::Offline => {
                    let p = pref();
                    if p.is_empty() { t_string!(i18n, offline).to_string() } else { p }
                }
                VenueKind::Hybrid => {
                    let p = pref();
                    let online = t_string!(i18n, online).to_string();
                    if p.is_empty() { online } else { format!("{p} + {online}") }
                }
            }}
        </span>
    }
}

/// `accepted/limit` with a small bar; "満席" and the waitlist when full. Follows the live
/// stream when one is provided above (see `crate::live::client`).
#[component]
pub fn SeatMeter(seats: Signal<Seats>, #[prop(optional)] large: bool) -> impl IntoView {
    let i18n = use_i18n();
    let full = move || seats.get().is_full();
    view! {
        <div
            class="seats"
            class:seats--large=large
            class:seats--full=full
            data-accepted=move || seats.get().accepted
            data-limit=move || seats.get().limit
        >
            <span class="seats__numbers" aria-live="polite">
                {if large {
                    view! {
                        {t!(
                            i18n, seats_people, accepted = move || seats.get().accepted, limit = move || seats.get().limit
                        )}
                    }
                        .into_any()
                } else {
                    (move || {
                        let s = seats.get();
                        format!("{}/{}", s.accepted, s.limit)
                    })
                        .into_any()
                }}
            </span>
            <span
                class="seats__bar"
                role="meter"
                aria-valuemin="0"
                aria-valuemax=move || seats.get().limit
                aria-valuenow=move || seats.get().accepted
                aria-label=move || t_string!(i18n, seats_label).to_string()
            >
                <span class="seats__fill" style=move || format!("width: {}%", seats.get().percent())></span>
            </span>
            <Show when=full>
                <span class="badge badge--full">{t!(i18n, full)}</span>
            </Show>
            <Show when=move || { seats.get().waiting > 0 }>
                <span class="seats__waiting">{t!(i18n, waitlist_count, count = move || seats.get().waiting)}</span>
            </Show>
        </div>
    }
}

/// The translated message for a failed form: the error of `field` (when `field` is empty:
/// an error that belongs to no field). Rendered beside the field, announced to screen readers.
#[component]
pub fn FieldMessage(error: Signal<Option<AppError>>, #[prop(into)] field: String) -> impl IntoView {
    let i18n = use_i18n();
    let field = StoredValue::new(field);
    let text = move || {
        let err = error.get()?;
        let field = field.get_value();
        let code = match (&err, field.is_empty()) {
            (AppError::Invalid(errors), false) => errors.iter().find(|e| e.field == field)?.code.clone(),
            (AppError::Invalid(errors), true) => {
                // Errors of fields the form does not show (e.g. the login's generic one).
                errors.iter().find(|e| e.field == "login")?;
                return None;
            }
            (_, false) => return None,
            (AppError::Conflict(c), true) => return Some(conflict_text(i18n, *c)),
            (AppError::RateLimited(secs), true) => {
                let secs = *secs;
                return Some(view! { {t!(i18n, err_rate_limited, secs = secs)} }.into_any());
            }
            (AppError::Unauthorized, true) => "unauthorized".into(),
            (_, true) => "generic".into(),
        };
        Some(error_text(i18n, &code).into_any())
    };
    view! {
        {move || text().map(|t| view! { <p class="field-error" role="alert">{t}</p> })}
    }
}

/// The message of every conflict, in the UI's language: one exhaustive match, so a new
/// conflict cannot reach a user without a text.
pub fn conflict_text(i18n: leptos_i18n::I18nContext<Locale>, conflict: crate::error::Conflict) -> AnyView {
    use crate::error::Conflict;
    let text = match conflict {
        Conflict::AccountExists => t_string!(i18n, err_account_exists).to_string(),
        Conflict::AlreadyMember => t_string!(i18n, err_already_member).to_string(),
        Conflict::AlreadyRegistered => t_string!(i18n, err_already_registered).to_string(),
        Conflict::CancellationClosed => t_string!(i18n, err_cancellation_closed).to_string(),
        Conflict::CapacityBelowConfirmed { confirmed } => {
            return view! { {t!(i18n, admin_capacity_below, n = confirmed)} }.into_any();
        }
        Conflict::EventCancelled => t_string!(i18n, cancelled_event).to_string(),
        Conflict::FrameFull => t_string!(i18n, admin_frame_full).to_string(),
        Conflict::FrameHasRegistrations => t_string!(i18n, admin_frame_has_registrations).to_string(),
        Conflict::LastFrame => t_string!(i18n, admin_last_frame).to_string(),
        Conflict::LastOwner => t_string!(i18n, admin_last_owner).to_string(),
        Conflict::NotInvitationOnly => t_string!(i18n, err_not_invitation_only).to_string(),
        Conflict::LotteryAlreadyDrawn => t_string!(i18n, admin_lottery_drawn).to_string(),
        Conflict::NotMovable => t_string!(i18n, err_not_movable).to_string(),
        Conflict::NotRegistered => t_string!(i18n, err_not_registered).to_string(),
        Conflict::ReconfirmationClosed => t_string!(i18n, err_reconfirmation_closed).to_string(),
        Conflict::RegistrationClosed => t_string!(i18n, registration_closed).to_string(),
        Conflict::RegistrationNotOpen => t_string!(i18n, err_not_open).to_string(),
        Conflict::SlugTaken => t_string!(i18n, err_slug_taken).to_string(),
    };
    text.into_any()
}

fn error_text(i18n: leptos_i18n::I18nContext<Locale>, code: &str) -> String {
    match code {
        "required" => t_string!(i18n, err_required).to_string(),
        "length" => t_string!(i18n, err_nickname_length).to_string(),
        "charset" => t_string!(i18n, err_nickname_charset).to_string(),
        "format" => t_string!(i18n, err_email_format).to_string(),
        "too_short" => t_string!(i18n, err_password_short).to_string(),
        "too_long" => t_string!(i18n, err_too_long).to_string(),
        "one_choice" | "unknown_choice" => t_string!(i18n, err_choice).to_string(),
        "invalid_url" => t_string!(i18n, err_invalid_url).to_string(),
        "unknown_code" => t_string!(i18n, err_unknown_code).to_string(),
        "slug_format" => t_string!(i18n, err_slug_format).to_string(),
        "slug_taken" => t_string!(i18n, err_slug_taken).to_string(),
        "end_before_start" => t_string!(i18n, err_end_before_start).to_string(),
        "year_out_of_range" => t_string!(i18n, err_year_out_of_range).to_string(),
        "span_too_long" => t_string!(i18n, err_span_too_long).to_string(),
        "too_many" => t_string!(i18n, err_too_many).to_string(),
        "datetime" => t_string!(i18n, err_datetime).to_string(),
        "nonexistent_time" => t_string!(i18n, err_nonexistent_time).to_string(),
        "too_small" => t_string!(i18n, admin_capacity_invalid).to_string(),
        "invalid_number" => t_string!(i18n, err_invalid_number).to_string(),
        "unknown_user" => t_string!(i18n, err_unknown_user).to_string(),
        "unknown_tag" => t_string!(i18n, err_unknown_tag).to_string(),
        "invalid_position" => t_string!(i18n, err_invalid_position).to_string(),
        "already_member" => t_string!(i18n, err_already_member).to_string(),
        "close_before_open" => t_string!(i18n, err_close_before_open).to_string(),
        "close_after_end" => t_string!(i18n, err_close_after_end).to_string(),
        "draw_after_start" => t_string!(i18n, err_draw_after_start).to_string(),
        "draw_before_close" => t_string!(i18n, err_draw_before_close).to_string(),
        "too_few_choices" => t_string!(i18n, err_too_few_choices).to_string(),
        "invalid_choice" => t_string!(i18n, err_invalid_choice).to_string(),
        "duplicate" => t_string!(i18n, err_ranked_duplicate).to_string(),
        "not_drawn_together" => t_string!(i18n, err_not_drawn_together).to_string(),
        "not_a_lottery" => t_string!(i18n, err_not_a_lottery).to_string(),
        "too_late" => t_string!(i18n, err_too_late).to_string(),
        "wrong_credentials" => t_string!(i18n, err_wrong_credentials).to_string(),
        "invalid_token" => t_string!(i18n, err_invalid_token).to_string(),
        "wrong_password" => t_string!(i18n, err_wrong_password).to_string(),
        "account_exists" => t_string!(i18n, err_account_exists).to_string(),
        "already_registered" => t_string!(i18n, err_already_registered).to_string(),
        "registration_closed" | "cancellation_closed" => t_string!(i18n, registration_closed).to_string(),
        "registration_not_open" => t_string!(i18n, err_not_open).to_string(),
        "event_cancelled" => t_string!(i18n, cancelled_event).to_string(),
        "unknown_frame" => t_string!(i18n, choose_frame).to_string(),
        "unauthorized" => t_string!(i18n, login_required).to_string(),
        _ => t_string!(i18n, error_body).to_string(),
    }
}

/// Tag and tool chips linking to the filtered list.
#[component]
pub fn TagChips(tags: Vec<TagRef>) -> impl IntoView {
    view! {
        <ul class="chips">
            {tags
                .into_iter()
                .map(|t| {
                    let class = match t.kind {
                        TagKind::Topic => "chip",
                        TagKind::Tool => "chip chip--tool",
                    };
                    let href = t.search_href();
                    view! {
                        <li>
                            <a class=class href=href>
                                {t.name}
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// An event as a card in a list.
#[component]
pub fn EventCardView(card: EventCard) -> impl IntoView {
    let i18n = use_i18n();
    let span = card.span.clone();
    let iso = span.start_iso();
    let cancelled = card.status == EventStatus::Cancelled;
    view! {
        <article class="card" class:card--cancelled=cancelled>
            <div class="card__when">
                <time datetime=iso>{move || span.label(lang_of(i18n.get_locale()))}</time>
                {cancelled.then(|| view! { <span class="badge badge--cancelled">{t!(i18n, cancelled)}</span> })}
            </div>
            <h3 class="card__title">
                <A href=format!("/events/{}", card.id)>{
                    let (title, title_en) = (card.title, card.title_en);
                    move || {
                        let english = lang_of(i18n.get_locale()) == crate::time::Lang::En && !title_en.is_empty();
                        if english { title_en.clone() } else { title.clone() }
                    }
                }</A>
            </h3>
            <p class="card__group">
                <A href=format!("/groups/{}", card.group_slug)>{card.group_title}</A>
            </p>
            <TagChips tags=card.tags />
            <div class="card__footer">
                <VenueBadge kind=card.venue_kind prefecture=card.prefecture />
                <SeatMeter seats=live_event_seats(card.id, card.seats) />
            </div>
        </article>
    }
}

/// A list of cards, whose seat numbers follow one live stream for the whole list.
#[component]
pub fn EventCardList(cards: Vec<EventCard>) -> impl IntoView {
    crate::live::client::provide_live_seats(cards.iter().map(|c| c.id).collect());
    view! {
        <div class="card-list">
            {cards.into_iter().map(|card| view! { <EventCardView card /> }).collect_view()}
        </div>
    }
}

/// Previous / next links keeping the path; `page` is 1-based.
#[component]
pub fn Pagination(page: u32, pages: u32, base: String) -> impl IntoView {
    let i18n = use_i18n();
    let sep = if base.contains('?') { '&' } else { '?' };
    let href = move |p: u32| if p <= 1 { base.clone() } else { format!("{base}{sep}page={p}") };
    let prev = (page > 1).then(|| href(page - 1));
    let next = (page < pages).then(|| href(page + 1));
    view! {
        <nav class="pagination" aria-label=move || t_string!(i18n, pagination).to_string()>
            {prev.map(|h| view! { <A href=h attr:rel="prev">{t!(i18n, prev_page)}</A> })}
            <span class="pagination__where">{t!(i18n, page_of, page = page, pages = pages)}</span>
            {next.map(|h| view! { <A href=h attr:rel="next">{t!(i18n, next_page)}</A> })}
        </nav>
    }
}

/// The 404 page (and a real 404 status when rendered on the server).
#[component]
pub fn NotFound() -> impl IntoView {
    set_page_status(404);
    let i18n = use_i18n();
    view! {
        <Title text=untrack(|| t_string!(i18n, not_found_title).to_string()) />
        <section class="message-page">
            <h1>{t!(i18n, not_found_title)}</h1>
            <p>{t!(i18n, not_found_body)}</p>
            <p>
                <A href="/">{t!(i18n, back_home)}</A>
            </p>
        </section>
    }
}

/// An error from a server function, as a page section with the matching status.
#[component]
pub fn ErrorView(err: AppError) -> impl IntoView {
    if err == AppError::NotFound {
        return view! { <NotFound /> }.into_any();
    }
    set_page_status(err.status_code());
    let i18n = use_i18n();
    view! {
        <section class="message-page" role="alert">
            <h1>{t!(i18n, error_title)}</h1>
            <p>{t!(i18n, error_body)}</p>
        </section>
    }
    .into_any()
}

/// Shown while a page's data loads in the browser.
#[component]
pub fn Loading() -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="loading" aria-busy="true">{t!(i18n, loading)}</p> }
}

/// Calendar subscription (webcal), `.ics` download and Atom links of a list; also announces
/// the Atom feed to feed readers with `<link rel="alternate">`.
#[component]
pub fn FeedLinks(
    /// Path of the calendar feed, e.g. `/groups/rust/events.ics` (may carry a query).
    #[prop(into)]
    ics_path: String,
    /// Path of the Atom feed, when the list has one.
    #[prop(optional, into)]
    atom_path: Option<String>,
    #[prop(into)] title: String,
) -> impl IntoView {
    let i18n = use_i18n();
    let origin = crate::app::use_site_origin();
    let webcal = origin.webcal(&ics_path);
    view! {
        {atom_path.clone().map(|p| view! {
            <leptos_meta::Link rel="alternate" type_="application/atom+xml" title=title.clone() href=p />
        })}
        <p class="feed-links">
            <a class="feed-links__webcal" href=webcal title=move || t_string!(i18n, subscribe_hint).to_string()>
                {t!(i18n, subscribe_calendar)}
            </a>
            <a class="feed-links__ics" href=ics_path.clone() rel="nofollow">".ics"</a>
            {atom_path.map(|p| view! { <a class="feed-links__atom" href=p>{t!(i18n, atom_feed)}</a> })}
        </p>
    }
}
