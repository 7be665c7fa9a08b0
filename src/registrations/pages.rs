//! The registration panel of an event page, `/me`'s registrations and the receipt page.

use chrono::{DateTime, Utc};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::api::{
    Cancel, Reconfirm, Register, SetAnonymous, get_participants, get_receipt, get_registration_panel, my_registrations,
};
use super::model::{FrameWindow, MyRegistration, ParticipantGroup, QuestionKind, RegStatus, frame_window};
use crate::accounts::pages::LoginRequired;
use crate::error::AppError;
use crate::events::model::{EventDetail, EventStatus, FrameSummary};
use crate::i18n::*;
use crate::ui::{ErrorView, FieldMessage, Loading, action_error, event_resource, invite_param, lang_of};

/// The registration box's actions and data, created by the event page beside its event
/// resource (a resource created inside the `Suspend` that renders the event may fail to
/// hydrate).
#[derive(Clone, Copy)]
pub struct RegistrationState {
    register: ServerAction<Register>,
    cancel: ServerAction<Cancel>,
    anonymous: ServerAction<SetAnonymous>,
    reconfirm: ServerAction<Reconfirm>,
    panel: Resource<Result<super::model::RegistrationPanel, crate::error::AppError>>,
}

impl RegistrationState {
    /// For the event `event_id()` names (`None`: no event).
    pub fn new(event_id: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        let register = ServerAction::<Register>::new();
        let cancel = ServerAction::<Cancel>::new();
        let anonymous = ServerAction::<SetAnonymous>::new();
        let reconfirm = ServerAction::<Reconfirm>::new();
        // Refetch after any action completes.
        let panel = event_resource(
            event_id,
            move || {
                (register.version().get(), cancel.version().get(), anonymous.version().get(), reconfirm.version().get())
            },
            get_registration_panel,
        );
        RegistrationState { register, cancel, anonymous, reconfirm, panel }
    }
}

/// Registration state and actions for one event.
#[component]
pub fn RegistrationBox(detail: EventDetail, state: RegistrationState) -> impl IntoView {
    let i18n = use_i18n();
    let RegistrationState { register, cancel, anonymous, reconfirm, panel } = state;
    let event_id = detail.card.id;
    let detail = StoredValue::new(detail);
    view! {
        <section class="register" aria-labelledby="register-h">
            <h2 id="register-h" class="label">{t!(i18n, registration)}</h2>
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    let panel = match panel.await {
                        Ok(p) => p,
                        Err(err) => return view! { <ErrorView err /> }.into_any(),
                    };
                    let d = detail.get_value();
                    if d.card.status == EventStatus::Cancelled {
                        return view! { <p class="notice notice--cancelled">{t!(i18n, cancelled_event)}</p> }.into_any();
                    }
                    match (panel.signed_in, panel.registration.filter(|r| r.status != RegStatus::Cancelled)) {
                        (true, Some(reg)) => view! {
                            <MyStatus reg=reg.clone() />
                            {panel.reconfirm.clone().map(|r| view! { <ReconfirmBox r event_id action=reconfirm /> })}
                            {panel.online_url.map(|u| view! {
                                <p class="online-url">{t!(i18n, online_url)} ": "
                                    <a href=u.as_str().to_string() rel="noopener noreferrer" target="_blank">{u.as_str().to_string()}</a>
                                </p>
                            })}
                            <p class="register__links">
                                <A href=format!("/events/{event_id}/receipt")>{t!(i18n, receipt)}</A>
                            </p>
                            <ActionForm action=anonymous attr:class="inline-form register__privacy">
                                <input type="hidden" name="event_id" value=event_id />
                                <input type="hidden" name="anonymous" value=(!panel.anonymous).to_string() />
                                <span class="hint">{if panel.anonymous {
                                    view! { {t!(i18n, participant_hidden_state)} }.into_any()
                                } else {
                                    view! { {t!(i18n, participant_shown_state)} }.into_any()
                                }}</span>
                                " "
                                <button type="submit" class="button button--ghost button--small">{if panel.anonymous {
                                    view! { {t!(i18n, participant_show)} }.into_any()
                                } else {
                                    view! { {t!(i18n, participant_hide)} }.into_any()
                                }}</button>
                            </ActionForm>
                            {(!d.ended).then(|| view! {
                                <ActionForm action=cancel attr:class="inline-form">
                                    <input type="hidden" name="event_id" value=event_id />
                                    <button type="submit" class="button button--danger">{t!(i18n, cancel_registration)}</button>
                                </ActionForm>
                            })}
                            <ActionError action_error=action_error(cancel) />
                        }.into_any(),
                        (signed_in, _) => {
                            if d.ended {
                                return view! { <p class="muted">{t!(i18n, registration_closed)}</p> }.into_any();
                            }
                            if !signed_in {
                                let href = format!("/login?next=/events/{event_id}");
                                return view! {
                                    <p><A href=href attr:class="button button--primary">{t!(i18n, login_to_register)}</A></p>
                                }.into_any();
                            }
                            view! { <RegisterForm detail=d action=register server_now=panel.server_now /> }.into_any()
                        }
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn MyStatus(reg: MyRegistration) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="my-status" data-status=reg.status.as_str()>
            {match (reg.status, reg.lottery_pending) {
                (RegStatus::Confirmed, _) => view! { <span class="badge badge--ok">{t!(i18n, status_confirmed)}</span> }.into_any(),
                (RegStatus::Waitlisted, true) => view! { <span class="badge badge--wait">{t!(i18n, status_lottery_pending)}</span> }.into_any(),
                (RegStatus::Waitlisted, false) => view! {
                    <span class="badge badge--wait">{t!(i18n, status_waitlisted)}</span>
                    " "
                    <span class="waitlist-position">{t!(i18n, waitlist_position, position = reg.waitlist_position.unwrap_or(0))}</span>
                }.into_any(),
                (RegStatus::Cancelled, _) => view! { <span class="badge">{t!(i18n, status_cancelled)}</span> }.into_any(),
            }}
            " "
            <span class="my-status__frame">{reg.frame_name}</span>
            {(!reg.ranked.is_empty()).then(|| view! {
                <p class="my-status__ranked">{t!(i18n, my_ranked)} ": " {reg.ranked.join(" → ")}</p>
            })}
        </div>
    }
}

/// The reconfirmation an organizer asks of confirmed attendees: "I'm coming" until the
/// deadline (releasing the seat is the cancel button below), or that it is done.
#[component]
fn ReconfirmBox(r: super::reconfirm::Reconfirmation, event_id: i64, action: ServerAction<Reconfirm>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="reconfirm" class:reconfirm--done=r.reconfirmed>
            <p class="reconfirm__title">{t!(i18n, reconfirm_title)}</p>
            {if r.reconfirmed {
                view! { <p><span class="badge badge--ok">{t!(i18n, reconfirm_done)}</span></p> }.into_any()
            } else {
                view! {
                    <p>{t!(i18n, reconfirm_ask)} " " <time datetime=r.deadline.to_rfc3339()>{r.deadline_label.clone()}</time></p>
                    <ActionForm action attr:class="inline-form">
                        <input type="hidden" name="event_id" value=event_id />
                        <button type="submit" class="button button--primary">{t!(i18n, reconfirm_yes)}</button>
                    </ActionForm>
                    <p class="hint">{t!(i18n, reconfirm_hint)}</p>
                    <ActionError action_error=action_error(action) />
                }.into_any()
            }}
        </div>
    }
}

#[component]
fn ActionError(action_error: Signal<Option<AppError>>) -> impl IntoView {
    view! { <FieldMessage error=action_error field="" /> }
}

/// Frames, questions and the submit button; a countdown while registration is not open.
#[component]
fn RegisterForm(detail: EventDetail, action: ServerAction<Register>, server_now: DateTime<Utc>) -> impl IntoView {
    let i18n = use_i18n();
    let event_id = detail.card.id;
    let starts_at = detail.card.span.starts_at;
    let now = use_server_clock(server_now);
    let frames = detail.frames.clone();
    let several = frames.len() > 1;
    let error = action_error(action);
    // The earliest opening among frames not yet open, for the countdown.
    let frames_for_window = frames.clone();
    let window = Memo::new(move |_| {
        let now = now.get();
        let windows: Vec<FrameWindow> = frames_for_window.iter().map(|f| frame_window(f, starts_at, now)).collect();
        if windows.contains(&FrameWindow::Open) {
            FrameWindow::Open
        } else if let Some(o) = windows
            .iter()
            .filter_map(|w| match w {
                FrameWindow::NotYetOpen(o) => Some(*o),
                _ => None,
            })
            .min()
        {
            FrameWindow::NotYetOpen(o)
        } else {
            FrameWindow::Closed
        }
    });
    view! {
        <ActionForm action attr:class="form register__form">
            <input type="hidden" name="event_id" value=event_id />
            {untrack(invite_param()).map(|s| view! {
                <input type="hidden" name="invite" value=s />
            })}
            {several.then(|| view! {
                <fieldset class="frame-choice">
                    <legend>{t!(i18n, choose_frame)}</legend>
                    {frames.iter().cloned().enumerate().map(|(i, f)| view! { <FrameOption frame=f checked=i == 0 /> }).collect_view()}
                </fieldset>
                <FieldMessage error field="frame_id" />
            })}
            {ranked_frames(&frames).map(|group| view! { <RankedChoices group error /> })}
            {detail.questions.into_iter().map(|q| {
                let field = format!("answers[{}]", q.id);
                let name = format!("answers[{}][]", q.id);
                let input_id = format!("q{}", q.id);
                view! {
                    <div class="question">
                        {match q.kind {
                            QuestionKind::Text => view! {
                                <label for=input_id.clone()>{q.label.clone()} {q.required.then(|| view! { <span class="required">" *"</span> })}</label>
                                <textarea id=input_id name=name rows="2" maxlength="2000"></textarea>
                            }.into_any(),
                            QuestionKind::Single | QuestionKind::Multiple => {
                                let kind = if q.kind == QuestionKind::Single { "radio" } else { "checkbox" };
                                view! {
                                    <fieldset>
                                        <legend>{q.label.clone()} {q.required.then(|| view! { <span class="required">" *"</span> })}</legend>
                                        {q.options.iter().map(|o| view! {
                                            <label class="choice"><input type=kind name=name.clone() value=o.clone() /> " " {o.clone()}</label>
                                        }).collect_view()}
                                    </fieldset>
                                }.into_any()
                            }
                        }}
                        <FieldMessage error field=field />
                    </div>
                }
            }).collect_view()}
            <label class="choice register__anonymous">
                <input type="checkbox" name="anonymous" value="true" />
                " " {t!(i18n, register_anonymously)}
            </label>
            {move || match window.get() {
                FrameWindow::Open => view! {
                    <button type="submit" class="button button--primary" disabled=move || action.pending().get()>
                        {t!(i18n, register)}
                    </button>
                }.into_any(),
                FrameWindow::NotYetOpen(opens) => view! {
                    <button type="button" class="button" disabled=true>{t!(i18n, register)}</button>
                    <p class="countdown" role="timer">
                        {t!(i18n, opens_in)} " " <strong>{move || countdown(opens, now.get())}</strong>
                    </p>
                }.into_any(),
                FrameWindow::Closed => view! { <p class="muted">{t!(i18n, registration_closed)}</p> }.into_any(),
            }}
            <FieldMessage error field="" />
        </ActionForm>
        {move || action.value().get().and_then(|r| r.ok()).map(|reg| view! { <MyStatus reg /> })}
    }
}

/// The lottery frames an applicant may rank (not drawn yet, drawn at the same time), when
/// there are at least two: the largest such set.
fn ranked_frames(frames: &[FrameSummary]) -> Option<Vec<FrameSummary>> {
    let pending: Vec<&FrameSummary> = frames.iter().filter(|f| super::model::is_lottery_pending(f)).collect();
    let mut best: Vec<FrameSummary> = Vec::new();
    for f in &pending {
        let group: Vec<FrameSummary> =
            pending.iter().filter(|g| g.draw_at == f.draw_at).map(|g| (*g).clone()).collect();
        if group.len() > best.len() {
            best = group;
        }
    }
    (best.len() > 1).then_some(best)
}

/// Choices 2, 3… of a ranked lottery application: a select per further choice.
#[component]
fn RankedChoices(group: Vec<FrameSummary>, error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let choices = 2..=group.len();
    view! {
        <fieldset class="ranked-choice">
            <legend>{t!(i18n, ranked_legend)}</legend>
            <p class="muted ranked-choice__hint">{t!(i18n, ranked_hint)}</p>
            {choices.map(|n| {
                let id = format!("also-{n}");
                view! {
                    <div class="ranked-choice__row">
                        <label for=id.clone()>{t!(i18n, ranked_choice, n = n)}</label>
                        <select id=id name="also[]">
                            <option value="">{t!(i18n, ranked_none)}</option>
                            {group.iter().map(|f| view! { <option value=f.id>{f.name.clone()}</option> }).collect_view()}
                        </select>
                    </div>
                }
            }).collect_view()}
            <FieldMessage error field="also" />
        </fieldset>
    }
}

#[component]
fn FrameOption(frame: FrameSummary, checked: bool) -> impl IntoView {
    let i18n = use_i18n();
    let id = format!("frame-{}", frame.id);
    let lottery = frame.method == crate::events::model::FrameMethod::Lottery;
    view! {
        <label class="choice" for=id.clone()>
            <input type="radio" id=id.clone() name="frame_id" value=frame.id checked=checked />
            " " {frame.name}
            " (" {move || if lottery { t_string!(i18n, method_lottery).to_string() } else { t_string!(i18n, method_first_come).to_string() }}
            " · " {format!("{}/{}", frame.seats.accepted, frame.seats.limit)} ")"
            {(!frame.venue.is_inherited()).then(|| view! { " " <crate::events::pages::FrameVenueLine venue=frame.venue.clone() /> })}
        </label>
    }
}

/// "2d 03:04:05" until `target` ("03:04:05" within a day; never negative).
fn countdown(target: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (target - now).num_seconds().max(0);
    let (d, h, m, s) = (secs / 86_400, secs % 86_400 / 3600, secs % 3600 / 60, secs % 60);
    if d > 0 { format!("{d}d {h:02}:{m:02}:{s:02}") } else { format!("{h:02}:{m:02}:{s:02}") }
}

/// A clock that starts at the server's time (so SSR and hydration agree) and, in the
/// browser, ticks every second, corrected by the offset between server and browser clocks.
fn use_server_clock(server_now: DateTime<Utc>) -> ReadSignal<DateTime<Utc>> {
    let (now, set_now) = signal(server_now);
    #[cfg(feature = "hydrate")]
    {
        let offset = server_now - crate::time::now();
        let handle = gloo_timers::callback::Interval::new(1_000, move || set_now.set(crate::time::now() + offset));
        let handle = send_wrapper::SendWrapper::new(handle);
        on_cleanup(move || drop(handle));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = set_now;
    now
}

/// `/me`'s registrations: upcoming (soonest first), then past.
#[component]
pub fn MyRegistrations() -> impl IntoView {
    let i18n = use_i18n();
    let regs = Resource::new(|| (), |_| my_registrations());
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match regs.await {
                    Ok(lists) => view! {
                        <section aria-labelledby="my-upcoming-h">
                            <h2 id="my-upcoming-h">{t!(i18n, my_upcoming)}</h2>
                            <RegistrationList list=lists.upcoming />
                        </section>
                        <section aria-labelledby="my-past-h">
                            <h2 id="my-past-h">{t!(i18n, my_past)}</h2>
                            <RegistrationList list=lists.past />
                        </section>
                    }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn RegistrationList(list: Vec<super::model::MyEventRegistration>) -> impl IntoView {
    let i18n = use_i18n();
    if list.is_empty() {
        return view! { <p class="empty">{t!(i18n, none_yet)}</p> }.into_any();
    }
    view! {
        <ul class="my-regs">
            {list.into_iter().map(|r| {
                let span = r.card.span.clone();
                let iso = span.start_iso();
                let id = r.card.id;
                let active = r.registration.status != RegStatus::Cancelled;
                view! {
                    <li class="my-regs__item">
                        <time datetime=iso>{move || span.label(lang_of(i18n.get_locale()))}</time>
                        <A href=format!("/events/{id}")>{r.card.title}</A>
                        <MyStatus reg=r.registration />
                        {active.then(|| view! { <A href=format!("/events/{id}/receipt")>{t!(i18n, receipt)}</A> })}
                    </li>
                }
            }).collect_view()}
        </ul>
    }
    .into_any()
}

/// `/events/{id}/receipt`: 受付票 with the receipt code and its QR code (registrant only).
#[component]
pub fn ReceiptPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).filter(|id| *id > 0);
    let data = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_receipt(id).await,
            None => Err(AppError::NotFound),
        }
    });
    view! {
        <Title text=untrack(|| t_string!(i18n, receipt).to_string()) />
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(r) => {
                        let span = r.card.span.clone();
                        let iso = span.start_iso();
                        view! {
                            <article class="receipt">
                                <h1>{t!(i18n, receipt)}</h1>
                                <h2><A href=format!("/events/{}", r.card.id)>{r.card.title.clone()}</A></h2>
                                <p><time datetime=iso>{move || span.label(lang_of(i18n.get_locale()))}</time> " " {r.card.span.zone_abbr.clone()}</p>
                                <p class="receipt__venue">
                                    {t!(i18n, venue)} ": "
                                    {
                                        let (kind, place) = r.venue.clone();
                                        let how = move || crate::events::pages::venue_kind_label(i18n, kind);
                                        view! { {how} {(!place.is_empty()).then(|| format!(" — {place}"))} }
                                    }
                                </p>
                                <p>{r.display_name.clone()}</p>
                                <MyStatus reg=r.registration.clone() />
                                <div class="receipt__qr" inner_html=r.qr_svg.clone()></div>
                                <p class="receipt__code">{t!(i18n, receipt_code)} ": " <code>{r.registration.receipt_code.clone()}</code></p>
                            </article>
                        }.into_any()
                    }
                    Err(AppError::Unauthorized) => {
                        let next = format!("/events/{}/receipt", id().unwrap_or_default());
                        view! { <LoginRequired next /> }.into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::countdown;

    #[test]
    fn countdown_shows_days_then_clock_and_stops_at_zero() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap();
        assert_eq!(countdown(now + Duration::seconds(2 * 86_400 + 3 * 3600 + 4 * 60 + 5), now), "2d 03:04:05");
        assert_eq!(countdown(now + Duration::seconds(59), now), "00:00:59");
        assert_eq!(countdown(now - Duration::seconds(5), now), "00:00:00");
    }
}

/// `/events/{id}/participants` (参加者一覧): who is coming, by frame — confirmed, waitlisted
/// (補欠) and lottery applicants, with profile links; anonymous registrations as "N others".
#[component]
pub fn ParticipantsPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let id = move || params.read().get("id").and_then(|s| s.parse::<i64>().ok()).filter(|id| *id > 0);
    let invite = invite_param();
    let data = Resource::new(
        move || (id(), invite()),
        |(id, invite)| async move {
            match id {
                Some(id) => get_participants(id, invite).await,
                None => Err(AppError::NotFound),
            }
        },
    );
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(list) => {
                        let title = format!("{} – {}", t_string!(i18n, participants_title), list.title);
                        view! {
                            <Title text=title />
                            <p><A href=format!("/events/{}", list.event_id)>{list.title.clone()}</A></p>
                            <h1>{t!(i18n, participants_title)}</h1>
                            {list.hidden.then(|| view! { <p class="notice">{t!(i18n, participants_hidden_notice)}</p> })}
                            {list.frames.into_iter().map(|f| view! {
                                <section class="panel participants" aria-label=f.name.clone()>
                                    <h2>{f.name.clone()}</h2>
                                    <ParticipantSection label=move || t_string!(i18n, status_confirmed).to_string() group=f.confirmed />
                                    <ParticipantSection label=move || t_string!(i18n, participants_applicants).to_string() group=f.applicants />
                                    <ParticipantSection label=move || t_string!(i18n, status_waitlisted).to_string() group=f.waitlisted />
                                </section>
                            }).collect_view()}
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// One status of a frame's list: its count, the people named and "N others". Nothing when
/// nobody has this status.
#[component]
fn ParticipantSection(label: impl Fn() -> String + Send + Sync + 'static, group: ParticipantGroup) -> impl IntoView {
    let i18n = use_i18n();
    let total = group.total();
    (total > 0).then(|| {
        let others = group.others;
        view! {
            <h3>{label} " " <span class="count">{total}</span></h3>
            <ul class="participants__list">
                {group.people.into_iter().map(|p| view! {
                    <li><A href=format!("/users/{}", p.nickname)>{p.display_name}</A></li>
                }).collect_view()}
                {(others > 0).then(|| view! { <li class="muted">{t!(i18n, participants_others, count = others)}</li> })}
            </ul>
        }
    })
}
