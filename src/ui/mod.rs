//! Shared widgets: event cards, seat counters, pagination, error and 404 views.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::error::AppError;
use crate::events::model::{EventCard, EventStatus, Seats, VenueKind};
use crate::geo::prefecture_name;
use crate::i18n::*;
use crate::tags::model::{TagKind, TagRef};
use crate::time::Lang;

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

/// `accepted/limit` with a small bar; "満席" and the waitlist when full.
#[component]
pub fn SeatMeter(seats: Seats, #[prop(optional)] large: bool) -> impl IntoView {
    let i18n = use_i18n();
    let full = seats.is_full();
    let class = match (large, full) {
        (true, true) => "seats seats--large seats--full",
        (true, false) => "seats seats--large",
        (false, true) => "seats seats--full",
        (false, false) => "seats",
    };
    view! {
        <div class=class data-accepted=seats.accepted data-limit=seats.limit>
            <span class="seats__numbers">
                {if large {
                    view! {
                        {t!(i18n, seats_people, accepted = seats.accepted, limit = seats.limit)}
                    }
                        .into_any()
                } else {
                    format!("{}/{}", seats.accepted, seats.limit).into_any()
                }}
            </span>
            <span
                class="seats__bar"
                role="meter"
                aria-valuemin="0"
                aria-valuemax=seats.limit
                aria-valuenow=seats.accepted
                aria-label=move || t_string!(i18n, seats_label).to_string()
            >
                <span class="seats__fill" style=format!("width: {}%", seats.percent())></span>
            </span>
            {full
                .then(|| {
                    view! {
                        <span class="badge badge--full">{t!(i18n, full)}</span>
                        {(seats.waiting > 0)
                            .then(|| {
                                view! {
                                    <span class="seats__waiting">
                                        {t!(i18n, waitlist_count, count = seats.waiting)}
                                    </span>
                                }
                            })}
                    }
                })}
        </div>
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
                <A href=format!("/events/{}", card.id)>{card.title}</A>
            </h3>
            <p class="card__group">
                <A href=format!("/groups/{}", card.group_slug)>{card.group_title}</A>
            </p>
            <TagChips tags=card.tags />
            <div class="card__footer">
                <VenueBadge kind=card.venue_kind prefecture=card.prefecture />
                <SeatMeter seats=card.seats />
            </div>
        </article>
    }
}

/// A list of cards.
#[component]
pub fn EventCardList(cards: Vec<EventCard>) -> impl IntoView {
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
    let href = move |p: u32| if p <= 1 { base.clone() } else { format!("{base}?page={p}") };
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
        <Title text=move || t_string!(i18n, not_found_title).to_string() />
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
