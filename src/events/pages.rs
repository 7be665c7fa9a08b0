//! `/` and `/events` (upcoming events, paged) and `/events/{id}` (the event page).

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::{Link, Meta, Title};
use leptos_router::components::A;
use leptos_router::hooks::{use_params_map, use_query_map};

use super::api::{get_event, list_upcoming_events};
use super::model::{EventDetail, EventStatus, FrameMethod, SpokenLanguage, VenueKind};
use crate::i18n::*;
use crate::live::client::{live_event_seats, live_frame_seats, provide_live_seats};
use crate::materials::pages::{MaterialsSection, MaterialsState};
use crate::registrations::pages::{RegistrationBox, RegistrationState};
use crate::time::google_calendar_url;
use crate::ui::{ErrorView, EventCardList, Loading, Pagination, SeatMeter, TagChips, invite_param, lang_of};

/// `/`: upcoming events as cards.
#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text="" />
        <section class="hero">
            <h1 class="hero__title">{t!(i18n, site_tagline)}</h1>
        </section>
        <h2>{t!(i18n, upcoming_heading)}</h2>
        <UpcomingList base="/" />
    }
}

#[component]
fn UpcomingList(base: &'static str) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let page = move || query.read().get("page").and_then(|p| p.parse::<u32>().ok()).filter(|p| *p >= 1).unwrap_or(1);
    let events = Resource::new(page, list_upcoming_events);
    view! {
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(p) if p.items.is_empty() && p.page == 1 => {
                        view! { <p class="empty">{t!(i18n, no_upcoming)}</p> }.into_any()
                    }
                    Ok(p) => {
                        let pages = p.pages();
                        view! {
                            <p class="result-count">{t!(i18n, events_total, count = p.total)}</p>
                            <EventCardList cards=p.items />
                            <Pagination page=p.page pages base=base.to_string() />
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// `/events/{id}`: everything about one event, in the seed page's order.
#[component]
pub fn EventPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).filter(|id| *id > 0);
    let invite = invite_param();
    let event = Resource::new(
        move || (id(), invite()),
        |(id, invite)| async move {
            match id {
                Some(id) => get_event(id, invite).await,
                None => Err(crate::error::AppError::NotFound),
            }
        },
    );
    let registration = RegistrationState::new(id);
    let materials = MaterialsState::new(id);
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match event.await {
                    Ok(detail) => view! { <EventView detail registration materials /> }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn EventView(detail: EventDetail, registration: RegistrationState, materials: MaterialsState) -> impl IntoView {
    let i18n = use_i18n();
    provide_live_seats(vec![detail.card.id]);
    let card = detail.card.clone();
    let span = card.span.clone();
    let past = detail.ended;
    let cancelled = card.status == EventStatus::Cancelled;
    let location = match (card.venue_kind, detail.place.is_empty()) {
        (VenueKind::Online, _) | (_, true) => "Online".to_string(),
        _ => format!("{} {}", detail.place, detail.address).trim().to_string(),
    };
    let gcal = google_calendar_url(
        &card.title,
        &span,
        &format!("{}\n\n{}", detail.description_text.chars().take(1500).collect::<String>(), detail.url),
        &location,
    );
    let meta_description: String = detail.description_text.chars().take(160).collect();
    let (date_span, time_span) = (span.clone(), span.clone());
    let zone = span.zone_abbr.clone();
    let zone_name = span.time_zone.clone();
    let talk_titles: Vec<String> =
        detail.speakers.iter().map(|s| s.talk_title.clone()).filter(|t| !t.is_empty()).collect();
    let language = detail.language;
    let show_frames = detail.frames.len() > 1 || detail.frames.iter().any(|f| f.fee > 0);
    let origin = crate::app::use_site_origin();
    let og_image = detail.image_url.clone().unwrap_or_else(|| origin.absolute("/favicon.svg"));
    let twitter_card = if detail.image_url.is_some() { "summary_large_image" } else { "summary" };
    let invite = untrack(invite_param());
    let invite_suffix = invite.as_deref().map(|s| format!("?invite={}", urlencoding::encode(s))).unwrap_or_default();
    let ics_href = format!("/events/{}.ics{invite_suffix}", card.id);
    let unlisted = detail.visibility != crate::events::model::Visibility::Public;
    // A bilingual event shows the reader's language, `?hl=ja|en` choosing otherwise.
    let query = use_query_map();
    let english = detail.english.clone();
    let has_english = english.is_some();
    let show_english = move || {
        has_english
            && match query.read().get("hl").as_deref() {
                Some("en") => true,
                Some("ja") => false,
                _ => lang_of(i18n.get_locale()) == crate::time::Lang::En,
            }
    };
    let (en_title, en_catch, en_html) =
        english.as_ref().map(|e| (e.title.clone(), e.catch.clone(), e.description_html.clone())).unwrap_or_default();
    let (ja_title, ja_catch, ja_html) = (card.title.clone(), detail.catch.clone(), detail.description_html.clone());
    let title_now = {
        let (en, ja) = (en_title.clone(), ja_title.clone());
        move || if show_english() { en.clone() } else { ja.clone() }
    };
    let catch_now = move || if show_english() { en_catch.clone() } else { ja_catch.clone() };
    let description_now = move || if show_english() { en_html.clone() } else { ja_html.clone() };
    let page_title = untrack(title_now.clone());
    let switch_href = {
        let base = format!("/events/{}", card.id);
        let invite = invite.clone();
        move || {
            let other = if show_english() { "ja" } else { "en" };
            let invite = invite.as_deref().map(|s| format!("&invite={}", urlencoding::encode(s))).unwrap_or_default();
            format!("{base}?hl={other}{invite}")
        }
    };
    view! {
        <Title text=page_title />
        {unlisted.then(|| view! { <Meta name="robots" content="noindex, nofollow" /> })}
        <Meta name="description" content=meta_description.clone() />
        <Link rel="canonical" href=detail.url.clone() />
        <Meta property="og:type" content="website" />
        <Meta property="og:site_name" content="Tsudoi" />
        <Meta property="og:title" content=card.title.clone() />
        <Meta property="og:description" content=meta_description.clone() />
        <Meta property="og:url" content=detail.url.clone() />
        <Meta property="og:image" content=og_image />
        <Meta name="twitter:card" content=twitter_card />
        <Meta name="twitter:title" content=card.title.clone() />
        <Meta name="twitter:description" content=meta_description />
        <script type="application/ld+json" inner_html=detail.json_ld.clone()></script>
        <article class="event" class:event--past=past class:event--cancelled=cancelled>
            {cancelled.then(|| view! { <p class="notice notice--cancelled" role="status">{t!(i18n, cancelled_event)}</p> })}
            {(past && !cancelled).then(|| view! { <p class="notice notice--past" role="status">{t!(i18n, past_event)}</p> })}
            <h1 class="event__title" lang=move || if show_english() { "en" } else { "ja" }>{title_now}</h1>
            {move || {
                let catch = catch_now();
                (!catch.is_empty()).then(|| view! { <p class="event__catch">{catch}</p> })
            }}
            {has_english.then(|| view! {
                <p class="event__lang-switch">
                    <a href=switch_href rel="alternate">{move || if show_english() {
                        t_string!(i18n, show_in_japanese).to_string()
                    } else {
                        t_string!(i18n, show_in_english).to_string()
                    }}</a>
                </p>
            })}

            <section class="event__when" aria-label="Date">
                <time datetime=span.start_iso()>
                    <span class="event__date">{move || date_span.date_label(lang_of(i18n.get_locale()))}</span>
                    <span class="event__time">
                        {move || time_span.time_label(lang_of(i18n.get_locale()))}
                        " "
                        <abbr class="event__zone" title=zone_name.clone()>{zone.clone()}</abbr>
                    </span>
                </time>
                <ViewerTime starts_at=span.starts_at ends_at=span.ends_at event_zone=span.time_zone.clone() />
                <div class="event__calendar">
                    {(!cancelled).then(|| view! {
                        <a class="button button--ghost gcal" href=gcal target="_blank" rel="noopener noreferrer">
                            {t!(i18n, add_to_google)}
                        </a>
                    })}
                    <a class="button button--ghost ics" href=ics_href rel="nofollow" download>
                        {t!(i18n, download_ics)}
                    </a>
                </div>
            </section>

            <section class="event__seats">
                <h2 class="label">{t!(i18n, participants)}</h2>
                <SeatMeter seats=live_event_seats(card.id, card.seats) large=true />
                <p class="event__participants">
                    <A href=format!("/events/{}/participants{invite_suffix}", card.id)>{t!(i18n, participants_link)}</A>
                </p>
                {show_frames.then(|| view! {
                    <ul class="frames">
                        {detail.frames.iter().cloned().map(|f| {
                            let method = f.method;
                            let frame_seats = live_frame_seats(card.id, f.id, f.seats);
                            view! {
                                <li class="frame">
                                    <span class="frame__name">{f.name}</span>
                                    <span class="frame__method">{move || match method {
                                        FrameMethod::FirstCome => t_string!(i18n, method_first_come).to_string(),
                                        FrameMethod::Lottery => t_string!(i18n, method_lottery).to_string(),
                                    }}</span>
                                    <span class="frame__fee">{
                                        if f.fee == 0 {
                                            view! { {t!(i18n, fee_free)} }.into_any()
                                        } else {
                                            view! { {t!(i18n, fee_yen, fee = f.fee)} }.into_any()
                                        }
                                    }</span>
                                    <span class="frame__seats">{move || {
                                        let s = frame_seats.get();
                                        format!("{}/{}", s.accepted, s.limit)
                                    }}</span>
                                    {(!f.venue.is_inherited()).then(|| view! { <FrameVenueLine venue=f.venue.clone() /> })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                })}
            </section>

            <RegistrationBox detail=detail.clone() state=registration />

            <dl class="event__facts">
                <div>
                    <dt>{t!(i18n, organizer)}</dt>
                    <dd><A href=format!("/groups/{}", card.group_slug)>{card.group_title.clone()}</A></dd>
                </div>
                <div>
                    <dt>{t!(i18n, venue)}</dt>
                    <dd>
                        {if detail.place.is_empty() {
                            view! { {t!(i18n, online)} }.into_any()
                        } else {
                            detail.place.clone().into_any()
                        }}
                        {(!detail.address.is_empty()).then(|| view! { <br /><span class="event__address">{detail.address.clone()}</span> })}
                    </dd>
                </div>
                <div>
                    <dt>{t!(i18n, language)}</dt>
                    <dd>{move || match language {
                        SpokenLanguage::Ja => t_string!(i18n, lang_ja).to_string(),
                        SpokenLanguage::En => t_string!(i18n, lang_en).to_string(),
                        SpokenLanguage::Multi => t_string!(i18n, lang_multi).to_string(),
                    }}</dd>
                </div>
                {(!detail.hashtag.is_empty()).then(|| view! {
                    <div>
                        <dt>{t!(i18n, hashtag)}</dt>
                        <dd>{detail.hashtag.clone()}</dd>
                    </div>
                })}
            </dl>

            {(!card.tags.is_empty()).then(|| view! { <TagChips tags=card.tags.clone() /> })}

            {(!talk_titles.is_empty()).then(|| view! {
                <section class="event__section">
                    <h2>{t!(i18n, talk_title)}</h2>
                    {talk_titles.into_iter().map(|t| view! { <p class="event__talk">{t}</p> }).collect_view()}
                </section>
            })}

            <section class="event__section">
                <h2>{t!(i18n, abstract_label)}</h2>
                <div class="prose" inner_html=description_now></div>
            </section>

            <MaterialsSection event_id=card.id state=materials />

            {(!detail.speakers.is_empty()).then(|| view! {
                <section class="event__section">
                    <h2>{t!(i18n, speaker_bio)}</h2>
                    {detail.speakers.iter().cloned().map(|s| view! {
                        <div class="speaker">
                            <p class="speaker__name">
                                <strong>{s.name}</strong>
                                {(!s.affiliation.is_empty()).then(|| view! { <span class="speaker__affiliation">{format!(" ({})", s.affiliation)}</span> })}
                            </p>
                            {(!s.bio.is_empty()).then(|| view! { <p class="speaker__bio">{s.bio}</p> })}
                        </div>
                    }).collect_view()}
                </section>
            })}
            <crate::moderation::pages::ReportForm kind=crate::moderation::model::TargetKind::Event id=card.id />
        </article>
    }
}

/// The event's time in the viewer's own zone, as a second line, when it differs from the
/// event's (e.g. `あなたの時間帯: 4月20日(日) 19:00 – 20:00 CEST` for a Tokyo event seen from
/// Berlin). The zone is the browser's, known only after hydration: the server renders nothing
/// here and the browser adds the line, so server HTML and hydration always agree.
///
/// A signed-in person who chose a zone on /me sees that zone instead of the browser's.
#[component]
fn ViewerTime(starts_at: DateTime<Utc>, ends_at: DateTime<Utc>, event_zone: String) -> impl IntoView {
    let session = crate::accounts::pages::use_session();
    view! {
        <Transition fallback=|| ()>
            {move || {
                let event_zone = event_zone.clone();
                Suspend::new(async move {
                    let chosen = session.user.await.ok().flatten().and_then(|u| u.time_zone);
                    view! { <ViewerTimeLine starts_at ends_at event_zone chosen /> }
                })
            }}
        </Transition>
    }
}

#[component]
fn ViewerTimeLine(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    event_zone: String,
    chosen: Option<String>,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        let lang = lang_of(i18n.get_locale());
        #[cfg(feature = "hydrate")]
        label.set(viewer_zone_label(starts_at, ends_at, &event_zone, lang, chosen.as_deref()));
        #[cfg(not(feature = "hydrate"))]
        let _ = (starts_at, ends_at, &event_zone, lang, &chosen);
    });
    move || {
        label.get().map(|l| {
            view! { <p class="event__viewer-time"><span class="label-inline">{t!(i18n, your_time_zone)}</span> " " {l}</p> }
        })
    }
}

/// `start – end zone` in the viewer's zone (`chosen`, else the browser's) and language, or
/// `None` when the clock reads the same there as in the event's zone.
#[cfg(feature = "hydrate")]
fn viewer_zone_label(
    starts_at: DateTime<Utc>,
    ends_at: DateTime<Utc>,
    event_zone: &str,
    lang: crate::time::Lang,
    chosen: Option<&str>,
) -> Option<String> {
    use js_sys::{Array, Date, Function, Intl::DateTimeFormat, Object, Reflect};
    use wasm_bindgen::{JsCast, JsValue};
    let locale = JsValue::from_str(match lang {
        crate::time::Lang::Ja => "ja-JP",
        crate::time::Lang::En => "en-US",
    });
    // Built through `Reflect::construct`, which reports a zone the browser does not know
    // as an error (the plain constructor binding would panic the app).
    let intl = Reflect::get(&js_sys::global(), &"Intl".into()).ok()?;
    let constructor: Function = Reflect::get(&intl, &"DateTimeFormat".into()).ok()?.dyn_into().ok()?;
    let browser_zone = match chosen {
        Some(zone) => zone.to_string(),
        None => {
            Reflect::get(&DateTimeFormat::new(&Array::new(), &Object::new()).resolved_options(), &"timeZone".into())
                .ok()?
                .as_string()?
        }
    };
    let format = |zone: &str, parts: &[(&str, &str)], at: DateTime<Utc>| -> Option<String> {
        let options = Object::new();
        Reflect::set(&options, &"timeZone".into(), &zone.into()).ok()?;
        for (k, v) in parts {
            Reflect::set(&options, &(*k).into(), &(*v).into()).ok()?;
        }
        let date = Date::new(&JsValue::from_f64(at.timestamp_millis() as f64));
        let formatter = Reflect::construct(&constructor, &Array::of2(&locale, &options)).ok()?;
        let format: Function = Reflect::get(&formatter, &"format".into()).ok()?.dyn_into().ok()?;
        format.call1(&formatter, &date).ok()?.as_string()
    };
    let day =
        [("month", "short"), ("day", "numeric"), ("weekday", "short"), ("hour", "2-digit"), ("minute", "2-digit")];
    let start_here = format(&browser_zone, &day, starts_at)?;
    if browser_zone == event_zone || format(event_zone, &day, starts_at)? == start_here {
        return None;
    }
    let end_here =
        format(&browser_zone, &[("hour", "2-digit"), ("minute", "2-digit"), ("timeZoneName", "short")], ends_at)?;
    Some(format!("{start_here} – {end_here}"))
}

/// A frame's own venue on the event page and in the frame choice: how its attendees take
/// part and, when it has one, its own place (`現地参加 — Osaka room, 大阪市…`).
#[component]
pub fn FrameVenueLine(venue: crate::events::model::FrameVenue) -> impl IntoView {
    let i18n = use_i18n();
    let kind = venue.kind;
    let place = crate::events::model::place_line(&venue.place, &venue.address);
    view! {
        <span class="frame__venue">
            {move || kind.map(|k| venue_kind_label(i18n, k))}
            {(!place.is_empty()).then(|| format!(" — {place}"))}
        </span>
    }
}

/// How an attendee takes part, as a frame's venue and the receipt say it (現地参加…).
pub fn venue_kind_label(i18n: leptos_i18n::I18nContext<Locale>, kind: VenueKind) -> String {
    match kind {
        VenueKind::Online => t_string!(i18n, frame_venue_online).to_string(),
        VenueKind::Offline => t_string!(i18n, frame_venue_offline).to_string(),
        VenueKind::Hybrid => t_string!(i18n, frame_venue_hybrid).to_string(),
    }
}
