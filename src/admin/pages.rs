//! The organizer's pages: `/admin`, `/admin/events/new`, `/admin/events/{id}` and
//! `/admin/events/{id}/attendees`. Forms are ordinary POST forms (ActionForm), so they also
//! work without JavaScript; with it, field errors appear beside the fields and nothing
//! typed is lost.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::{
    AddFrame, AddQuestion, AddSpeaker, AnswerInvitation, CheckIn, CreateEvent, CreateGroup, DeleteFrame,
    DeleteQuestion, DeleteSpeaker, DuplicateEvent, InviteMember, LeaveGroup, MoveRegistration, RegenerateInvite,
    RevokeInvitation, SetEmbedOrigins, SetEventStatus, SetFrameCapacity, SetGroupUnlisted, SetMemberRole,
    SetParticipantsHidden, TransferOwnership, UpdateEvent, UpdateFrame, admin_dashboard, get_admin_event,
    get_attendees, get_audit_log, get_group_admin, my_invitations, preview_markdown,
};
use super::model::{AdminEvent, AdminEventRow, AttendeeList, AuditEntry, EventForm, Role};
use super::reconfirm_api::{RestoreRegistration, SetReconfirmation};
use super::reconfirm_view::{AttendeeReconfirm, ReconfirmEditor, ReconfirmSummary};
use crate::accounts::pages::LoginRequired;
use crate::error::AppError;
use crate::events::model::EventStatus;
use crate::i18n::*;
use crate::live::client::{live_event_seats, provide_live_seats};
use crate::registrations::model::RegStatus;
use crate::ui::{ErrorView, FieldMessage, Loading, SeatMeter, action_error, id_param, lang_of};

/// Zones offered by the picker (any IANA name is accepted).
const ZONES: [&str; 14] = [
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Singapore",
    "Asia/Kolkata",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "UTC",
];

fn unauthorized_or(err: AppError, next: String) -> AnyView {
    match err {
        AppError::Unauthorized => view! { <LoginRequired next /> }.into_any(),
        err => view! { <ErrorView err /> }.into_any(),
    }
}

/// `/admin`: my groups and their events, and a form to start a group.
#[component]
pub fn AdminPage() -> impl IntoView {
    let i18n = use_i18n();
    let create_group = ServerAction::<CreateGroup>::new();
    let dash = Resource::new(move || create_group.version().get(), |_| admin_dashboard());
    let group_error = action_error(create_group);
    view! {
        <Title text=untrack(|| t_string!(i18n, admin_title).to_string()) />
        <h1>{t!(i18n, admin_title)}</h1>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let d = match dash.await {
                    Ok(d) => d,
                    Err(err) => return unauthorized_or(err, "/admin".into()),
                };
                let ids: Vec<i64> = d.drafts.iter().chain(&d.upcoming).chain(&d.past).map(|e| e.id).collect();
                provide_live_seats(ids);
                let editable: Vec<_> = d.groups.iter().filter(|g| g.role.edits_events()).cloned().collect();
                view! {
                    {d.site_admin.then(|| view! {
                        <p><a class="button button--small" href="/admin/moderation">{t!(i18n, moderation_link)}</a></p>
                    })}
                    <section class="panel" aria-labelledby="my-groups-h">
                        <h2 id="my-groups-h">{t!(i18n, admin_my_groups)}</h2>
                        {if d.groups.is_empty() {
                            view! { <p class="muted">{t!(i18n, admin_no_groups)}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="admin-groups">
                                    {d.groups.iter().map(|g| {
                                        let role = g.role;
                                        view! {
                                            <li>
                                                <a href=format!("/groups/{}", g.slug)>{g.title.clone()}</a>
                                                " " <span class="chip">{move || role_label(i18n, role)}</span>
                                                {role.edits_events().then(|| view! {
                                                    " " <a class="button button--small" href=format!("/admin/events/new?group={}", g.id)>{t!(i18n, admin_new_event)}</a>
                                                    " " <a href=format!("/admin/groups/{}", g.id)>{t!(i18n, admin_members)}</a>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        <details class="admin-new-group">
                            <summary>{t!(i18n, admin_new_group)}</summary>
                            <ActionForm action=create_group attr:class="form" attr:novalidate=true>
                                <label for="group-title">{t!(i18n, admin_group_title)}</label>
                                <input id="group-title" name="title" type="text" required maxlength="100" />
                                <FieldMessage error=group_error field="title" />
                                <label for="group-slug">{t!(i18n, admin_group_slug)}</label>
                                <input id="group-slug" name="slug" type="text" required pattern="[a-z0-9-]{3,40}" placeholder="rust-tokyo" />
                                <p class="hint">{t!(i18n, admin_group_slug_hint)}</p>
                                <FieldMessage error=group_error field="slug" />
                                <label for="group-website">{t!(i18n, website)}</label>
                                <input id="group-website" name="website" type="url" placeholder="https://" />
                                <FieldMessage error=group_error field="website" />
                                <label for="group-description">{t!(i18n, admin_description)}</label>
                                <textarea id="group-description" name="description" rows="4"></textarea>
                                <button type="submit" class="button button--primary">{t!(i18n, admin_new_group)}</button>
                            </ActionForm>
                        </details>
                    </section>
                    {(!editable.is_empty() && d.drafts.is_empty() && d.upcoming.is_empty() && d.past.is_empty()).then(|| view! {
                        <p class="muted">{t!(i18n, admin_no_events)}</p>
                    })}
                    <AdminEventList heading=AdminHeading::Drafts events=d.drafts />
                    <AdminEventList heading=AdminHeading::Upcoming events=d.upcoming />
                    <AdminEventList heading=AdminHeading::Past events=d.past />
                }.into_any()
            })}
        </Suspense>
    }
}

#[derive(Clone, Copy)]
enum AdminHeading {
    Drafts,
    Upcoming,
    Past,
}

#[component]
fn AdminEventList(heading: AdminHeading, events: Vec<AdminEventRow>) -> impl IntoView {
    let i18n = use_i18n();
    (!events.is_empty()).then(|| {
        view! {
            <section class="admin-events">
                <h2>{move || match heading {
                    AdminHeading::Drafts => t_string!(i18n, admin_drafts),
                    AdminHeading::Upcoming => t_string!(i18n, admin_upcoming),
                    AdminHeading::Past => t_string!(i18n, admin_past),
                }.to_string()}</h2>
                <ul class="admin-events__list">
                    {events.into_iter().map(|e| {
                        let span = e.span.clone();
                        let seats = live_event_seats(e.id, e.seats);
                        let cancelled = e.status == EventStatus::Cancelled;
                        view! {
                            <li class="admin-event">
                                <div class="admin-event__main">
                                    <span class="admin-event__date">{move || span.label(lang_of(i18n.get_locale()))}</span>
                                    {if e.role.edits_events() {
                                        view! { <a class="admin-event__title" href=format!("/admin/events/{}", e.id)>{e.title.clone()}</a> }.into_any()
                                    } else {
                                        view! { <span class="admin-event__title">{e.title.clone()}</span> }.into_any()
                                    }}
                                    {cancelled.then(|| view! { <span class="chip chip--cancelled">{t!(i18n, cancelled)}</span> })}
                                    <span class="muted">{e.group_title.clone()}</span>
                                </div>
                                <SeatMeter seats />
                                <a href=format!("/admin/events/{}/attendees", e.id)>{t!(i18n, admin_attendees)}</a>
                            </li>
                        }
                    }).collect_view()}
                </ul>
            </section>
        }
    })
}

fn role_label(i18n: leptos_i18n::I18nContext<Locale>, role: Role) -> String {
    match role {
        Role::Owner => t_string!(i18n, role_owner),
        Role::Admin => t_string!(i18n, role_admin),
        Role::Staff => t_string!(i18n, role_staff),
    }
    .to_string()
}

/// The editor's fields with a live, sanitised preview of the description; warns before
/// leaving with unsaved changes.
#[component]
fn EventFields(form: EventForm, error: Signal<Option<AppError>>, dirty: RwSignal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    let description = RwSignal::new(form.description.clone());
    let description_en = RwSignal::new(form.description_en.clone().unwrap_or_default());
    let tag_list = Resource::new(|| (), |_| crate::tags::api::list_tags());
    let preview = Resource::new(
        move || description.get(),
        |md| async move { if md.trim().is_empty() { Ok(String::new()) } else { preview_markdown(md).await } },
    );
    let preview_en = Resource::new(
        move || description_en.get(),
        |md| async move { if md.trim().is_empty() { Ok(String::new()) } else { preview_markdown(md).await } },
    );
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::beforeunload, move |ev| {
            if dirty.get_untracked() {
                ev.prevent_default();
                ev.set_return_value("");
            }
        });
        on_cleanup(move || handle.remove());
    }
    let field = move |id: &'static str| view! { <FieldMessage error field=id /> };
    let venue = form.venue_kind.clone();
    let lang = form.language.clone();
    let pref = form.prefecture.clone();
    view! {
        <div class="editor" on:input=move |_| dirty.set(true)>
            <div class="editor__bilingual">
                <fieldset>
                    <legend>{t!(i18n, admin_text_ja)}</legend>
                    <label for="f-title">{t!(i18n, admin_event_title)}</label>
                    <input id="f-title" name="title" type="text" required maxlength="200" value=form.title.clone() />
                    {field("title")}
                    <label for="f-catch">{t!(i18n, admin_catch)}</label>
                    <input id="f-catch" name="catch" type="text" maxlength="300" value=form.catch.clone() />
                    {field("catch")}
                </fieldset>
                <fieldset>
                    <legend>{t!(i18n, admin_text_en)}</legend>
                    <label for="f-title-en">{t!(i18n, admin_event_title)}</label>
                    <input id="f-title-en" name="title_en" type="text" maxlength="200" lang="en" value=form.title_en.clone().unwrap_or_default() />
                    {field("title_en")}
                    <label for="f-catch-en">{t!(i18n, admin_catch)}</label>
                    <input id="f-catch-en" name="catch_en" type="text" maxlength="300" lang="en" value=form.catch_en.clone().unwrap_or_default() />
                    {field("catch_en")}
                    <p class="hint">{t!(i18n, admin_text_en_hint)}</p>
                </fieldset>
            </div>
            <div class="editor__row">
                <div>
                    <label for="f-start">{t!(i18n, admin_starts)}</label>
                    <input id="f-start" name="starts_local" type="datetime-local" required value=form.starts_local.clone() />
                    {field("starts_local")}
                </div>
                <div>
                    <label for="f-end">{t!(i18n, admin_ends)}</label>
                    <input id="f-end" name="ends_local" type="datetime-local" required value=form.ends_local.clone() />
                    {field("ends_local")}
                </div>
                <div>
                    <label for="f-tz">{t!(i18n, admin_time_zone)}</label>
                    <input id="f-tz" name="time_zone" type="text" list="tz-list" required value=form.time_zone.clone() />
                    <datalist id="tz-list">
                        {ZONES.into_iter().map(|z| view! { <option value=z></option> }).collect_view()}
                    </datalist>
                    {field("time_zone")}
                </div>
            </div>
            <div class="editor__row">
                <div>
                    <label for="f-venue">{t!(i18n, admin_venue_kind)}</label>
                    <select id="f-venue" name="venue_kind">
                        <option value="offline" selected=venue == "offline">{t!(i18n, offline)}</option>
                        <option value="online" selected=venue == "online">{t!(i18n, online)}</option>
                        <option value="hybrid" selected=venue == "hybrid">{t!(i18n, hybrid)}</option>
                    </select>
                    {field("venue_kind")}
                </div>
                <div>
                    <label for="f-pref">{t!(i18n, admin_prefecture)}</label>
                    <select id="f-pref" name="prefecture">
                        <option value="" selected=pref.is_empty()>"—"</option>
                        {crate::geo::PREFECTURES.into_iter().map(|(code, ja, _)| {
                            view! { <option value=code selected=pref == code>{ja}</option> }
                        }).collect_view()}
                    </select>
                    {field("prefecture")}
                </div>
                <div>
                    <label for="f-lang">{t!(i18n, language)}</label>
                    <select id="f-lang" name="language">
                        <option value="ja" selected=lang == "ja">{t!(i18n, lang_ja)}</option>
                        <option value="en" selected=lang == "en">{t!(i18n, lang_en)}</option>
                        <option value="multi" selected=lang == "multi">{t!(i18n, lang_multi)}</option>
                    </select>
                    {field("language")}
                </div>
            </div>
            <label for="f-place">{t!(i18n, venue)}</label>
            <input id="f-place" name="place" type="text" value=form.place.clone() />
            <label for="f-address">{t!(i18n, address)}</label>
            <input id="f-address" name="address" type="text" value=form.address.clone() />
            <label for="f-online">{t!(i18n, admin_online_url)}</label>
            <input id="f-online" name="online_url" type="url" placeholder="https://" value=form.online_url.clone() />
            <p class="hint">{t!(i18n, admin_online_url_hint)}</p>
            {field("online_url")}
            <label for="f-hashtag">{t!(i18n, hashtag)}</label>
            <input id="f-hashtag" name="hashtag" type="text" value=form.hashtag.clone() />
            {field("hashtag")}
            <label for="f-tags">{t!(i18n, admin_tags)}</label>
            <input id="f-tags" name="tags" type="text" list="tag-list" value=form.tags.clone() placeholder="Rust, Docker" />
            <p class="hint">{t!(i18n, admin_tags_hint)}</p>
            <datalist id="tag-list">
                <Transition fallback=|| ()>
                    {move || Suspend::new(async move {
                        tag_list.await.unwrap_or_default().into_iter().map(|t| view! { <option value=t.tag.name.clone()></option> }).collect_view()
                    })}
                </Transition>
            </datalist>
            {field("tags")}
            <div class="editor__row">
                <div>
                    <label for="f-lat">{t!(i18n, admin_lat)}</label>
                    <input id="f-lat" name="lat" type="text" inputmode="decimal" value=form.lat.clone() placeholder="35.6812" />
                    {field("lat")}
                </div>
                <div>
                    <label for="f-lon">{t!(i18n, admin_lon)}</label>
                    <input id="f-lon" name="lon" type="text" inputmode="decimal" value=form.lon.clone() placeholder="139.7671" />
                </div>
            </div>
            <label for="f-visibility">{t!(i18n, admin_visibility)}</label>
            <select id="f-visibility" name="visibility">
                {[("public", 0), ("unlisted", 1), ("invitation", 2)].into_iter().map(|(v, i)| {
                    let selected = form.visibility == v || (form.visibility.is_empty() && v == "public");
                    view! {
                        <option value=v selected=selected>{move || match i {
                            0 => t_string!(i18n, visibility_public),
                            1 => t_string!(i18n, visibility_unlisted),
                            _ => t_string!(i18n, visibility_invitation),
                        }.to_string()}</option>
                    }
                }).collect_view()}
            </select>
            {field("visibility")}
            <label class="checkbox"><input type="checkbox" name="beginner_ok" value="on" checked=form.beginner_ok.is_some() /> " " {t!(i18n, pref_beginner)}</label>
            <label class="checkbox"><input type="checkbox" name="hands_on" value="on" checked=form.hands_on.is_some() /> " " {t!(i18n, pref_hands_on)}</label>
            <div class="editor__markdown">
                <div>
                    <label for="f-description">{t!(i18n, admin_description)}</label>
                    <textarea id="f-description" name="description" rows="16"
                        on:input=move |ev| description.set(event_target_value(&ev))
                        prop:value=move || description.get()>{form.description.clone()}</textarea>
                    {field("description")}
                </div>
                <div>
                    <p class="label">{t!(i18n, admin_preview)}</p>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let html = preview.await.unwrap_or_default();
                            view! { <div class="prose editor__preview" inner_html=html></div> }
                        })}
                    </Transition>
                </div>
            </div>
            <div class="editor__markdown">
                <div>
                    <label for="f-description-en">{t!(i18n, admin_description_en)}</label>
                    <textarea id="f-description-en" name="description_en" rows="12" lang="en"
                        on:input=move |ev| description_en.set(event_target_value(&ev))
                        prop:value=move || description_en.get()>{form.description_en.clone().unwrap_or_default()}</textarea>
                    {field("description_en")}
                </div>
                <div>
                    <p class="label">{t!(i18n, admin_preview)}</p>
                    <Transition fallback=|| ()>
                        {move || Suspend::new(async move {
                            let html = preview_en.await.unwrap_or_default();
                            view! { <div class="prose editor__preview" lang="en" inner_html=html></div> }
                        })}
                    </Transition>
                </div>
            </div>
        </div>
    }
}

/// `/admin/events/new?group=ID`: a draft in one of my groups.
#[component]
pub fn AdminNewEventPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let group_id = move || query.read().get("group").and_then(|g| g.parse::<i64>().ok()).unwrap_or(0);
    let create = ServerAction::<CreateEvent>::new();
    let error = action_error(create);
    let dirty = RwSignal::new(false);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            dirty.set(false);
            navigate(&format!("/admin/events/{id}"), Default::default());
        }
    });
    let tomorrow = (crate::time::now() + chrono::Duration::days(14)).format("%Y-%m-%d").to_string();
    let form = EventForm {
        starts_local: format!("{tomorrow}T19:00"),
        ends_local: format!("{tomorrow}T21:00"),
        time_zone: "Asia/Tokyo".into(),
        venue_kind: "offline".into(),
        language: "ja".into(),
        ..Default::default()
    };
    view! {
        <Title text=untrack(|| t_string!(i18n, admin_new_event).to_string()) />
        <p><A href="/admin">{t!(i18n, admin_title)}</A></p>
        <h1>{t!(i18n, admin_new_event)}</h1>
        <ActionForm action=create attr:class="form form--wide" attr:novalidate=true>
            <input type="hidden" name="group_id" value=group_id />
            <EventFields form=form error dirty />
            <label for="f-capacity">{t!(i18n, admin_capacity)}</label>
            <input id="f-capacity" name="capacity" type="number" min="1" required value="50" />
            <FieldMessage error field="capacity" />
            <FieldMessage error field="" />
            <button type="submit" class="button button--primary" disabled=move || create.pending().get()>
                {t!(i18n, admin_save_draft)}
            </button>
        </ActionForm>
    }
}

/// `/admin/events/{id}`: edit, publish or cancel, capacities, audit log.
#[component]
pub fn AdminEventPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let update = ServerAction::<UpdateEvent>::new();
    let status = ServerAction::<SetEventStatus>::new();
    let capacity = ServerAction::<SetFrameCapacity>::new();
    let participants = ServerAction::<SetParticipantsHidden>::new();
    let regenerate_invite = ServerAction::<RegenerateInvite>::new();
    let reconfirm = ServerAction::<SetReconfirmation>::new();
    // A replaced link reloads the event; the last save's answer would show the old one.
    Effect::new(move |_| {
        if regenerate_invite.version().get() > 0 {
            update.value().set(None);
        }
    });
    let actions = EditorActions {
        add_frame: ServerAction::new(),
        update_frame: ServerAction::new(),
        delete_frame: ServerAction::new(),
        add_question: ServerAction::new(),
        delete_question: ServerAction::new(),
        add_speaker: ServerAction::new(),
        delete_speaker: ServerAction::new(),
    };
    // Everything that changes the event refetches it and its log; a refused form changes
    // nothing, and refetching would rebuild the editor, putting its choices (selects) back
    // to the saved values under the person correcting the form.
    let succeeded = (
        successes(status),
        successes(capacity),
        successes(participants),
        successes(regenerate_invite),
        successes(actions.add_frame),
        successes(actions.update_frame),
        successes(actions.delete_frame),
        successes(actions.add_question),
        successes(actions.delete_question),
        successes(actions.add_speaker),
        successes(actions.delete_speaker),
        successes(reconfirm),
    );
    let changes = move || {
        (
            succeeded.0.get(),
            succeeded.1.get(),
            succeeded.2.get(),
            succeeded.3.get(),
            succeeded.4.get(),
            succeeded.5.get(),
            succeeded.6.get(),
            succeeded.7.get(),
            succeeded.8.get(),
            succeeded.9.get(),
            succeeded.10.get(),
            succeeded.11.get(),
        )
    };
    let event = Resource::new(move || (id(), changes()), |(id, _)| get_admin_event(id));
    let log = Resource::new(move || (id(), update.version().get(), changes()), |(id, ..)| get_audit_log(id));
    let error = action_error(update);
    let capacity_error = action_error(capacity);
    let dirty = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(_)) = update.value().get() {
            dirty.set(false);
        }
    });
    let duplicate = ServerAction::<DuplicateEvent>::new();
    let duplicate_error = action_error(duplicate);
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(new_id)) = duplicate.value().get() {
            navigate(&format!("/admin/events/{new_id}"), Default::default());
        }
    });
    view! {
        <p><A href="/admin">{t!(i18n, admin_title)}</A></p>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let e = match event.await {
                    Ok(e) => e,
                    Err(err) => return unauthorized_or(err, format!("/admin/events/{}", id())),
                };
                let event_id = e.id;
                let dup_start = e.form.starts_local.clone();
                provide_live_seats(vec![event_id]);
                let st = e.status;
                // Saving the fields (which may make the event invitation-only) answers with the
                // event but does not reload the page: the link follows the latest answer.
                let initial_link = e.invite_url.clone();
                let invite_link = move || {
                    update.value().get().and_then(Result::ok).map(|saved| saved.invite_url).unwrap_or_else(|| initial_link.clone())
                };
                view! {
                    <Title text=e.form.title.clone() />
                    <h1>{e.form.title.clone()}</h1>
                    <p class="admin-status">
                        <span class="chip">{move || match st {
                            EventStatus::Draft => t_string!(i18n, admin_status_draft),
                            EventStatus::Published => t_string!(i18n, admin_status_published),
                            EventStatus::Cancelled => t_string!(i18n, cancelled),
                        }.to_string()}</span>
                        " " {e.group_title.clone()} " · "
                        {(st != EventStatus::Draft).then(|| view! { <a href=format!("/events/{event_id}")>{t!(i18n, admin_public_page)}</a> " · " })}
                        <a href=format!("/admin/events/{event_id}/attendees")>{t!(i18n, admin_attendees)}</a>
                    </p>
                    <div class="admin-actions">
                        {[("publish", st != EventStatus::Published), ("unpublish", st == EventStatus::Published), ("cancel", st != EventStatus::Cancelled)]
                            .into_iter()
                            .filter(|(_, show)| *show)
                            .map(|(action, _)| view! {
                                <ActionForm action=status attr:class="inline-form">
                                    <input type="hidden" name="id" value=event_id />
                                    <input type="hidden" name="action" value=action />
                                    <button type="submit" class=if action == "cancel" { "button button--danger" } else { "button" }>
                                        {move || match action {
                                            "publish" => t_string!(i18n, admin_publish),
                                            "unpublish" => t_string!(i18n, admin_unpublish),
                                            _ => t_string!(i18n, admin_cancel_event),
                                        }.to_string()}
                                    </button>
                                </ActionForm>
                            })
                            .collect_view()}
                        <ActionForm action=participants attr:class="inline-form">
                            <input type="hidden" name="id" value=event_id />
                            <input type="hidden" name="hidden" value=(!e.participants_hidden).to_string() />
                            <button type="submit" class="button">{if e.participants_hidden {
                                view! { {t!(i18n, admin_participants_show)} }.into_any()
                            } else {
                                view! { {t!(i18n, admin_participants_hide)} }.into_any()
                            }}</button>
                        </ActionForm>
                    </div>
                    {move || invite_link().map(|url| view! {
                        <section class="panel" aria-labelledby="invite-h">
                            <h2 id="invite-h">{t!(i18n, admin_invite_link)}</h2>
                            <input class="calendar-url" type="text" readonly value=url aria-labelledby="invite-h" />
                            <p class="hint">{t!(i18n, admin_invite_link_hint)}</p>
                            <ActionForm action=regenerate_invite attr:class="inline-form">
                                <input type="hidden" name="id" value=event_id />
                                <button type="submit" class="button button--ghost">{t!(i18n, admin_invite_regenerate)}</button>
                            </ActionForm>
                        </section>
                    })}
                    <section class="panel" aria-labelledby="frames-h">
                        <h2 id="frames-h">{t!(i18n, admin_frames)}</h2>
                        <SeatMeter seats=live_event_seats(event_id, crate::events::model::Seats {
                            accepted: e.frames.iter().map(|f| f.seats.accepted).sum(),
                            limit: e.frames.iter().map(|f| f.seats.limit).sum(),
                            waiting: e.frames.iter().map(|f| f.seats.waiting).sum(),
                        }) />
                        {e.frames.iter().cloned().map(|f| view! {
                            <ActionForm action=capacity attr:class="inline-form frame-capacity">
                                <input type="hidden" name="event_id" value=event_id />
                                <input type="hidden" name="frame_id" value=f.id />
                                <label for=format!("cap-{}", f.id)>{format!("{} ({}/{}, {})", f.name, f.seats.accepted, f.seats.limit, f.seats.waiting)}</label>
                                <input id=format!("cap-{}", f.id) name="capacity" type="number" min="1" value=f.seats.limit />
                                <button type="submit" class="button">{t!(i18n, admin_set_capacity)}</button>
                            </ActionForm>
                        }).collect_view()}
                        {move || capacity_error.get().map(|err| {
                            let msg = match &err {
                                AppError::Conflict(c @ crate::error::Conflict::CapacityBelowConfirmed { .. }) => {
                                    crate::ui::conflict_text(i18n, *c)
                                }
                                _ => view! { {t!(i18n, admin_capacity_invalid)} }.into_any(),
                            };
                            view! { <p class="field-error" role="alert">{msg}</p> }
                        })}
                        <FramesEditor event=e.clone() actions />
                    </section>
                    <QuestionsEditor event=e.clone() actions />
                    <ReconfirmEditor event=e.clone() action=reconfirm />
                    <SpeakersEditor event=e.clone() actions />
                    <crate::messages::pages::EventMessages event_id frames=e.frames.clone() />
                    <details class="panel">
                        <summary>{t!(i18n, admin_duplicate)}</summary>
                        <ActionForm action=duplicate attr:class="inline-form" attr:novalidate=true>
                            <input type="hidden" name="id" value=event_id />
                            <label for="dup-start">{t!(i18n, admin_starts)}</label>
                            <input id="dup-start" name="starts_local" type="datetime-local" required value=dup_start />
                            <button type="submit" class="button">{t!(i18n, admin_duplicate)}</button>
                        </ActionForm>
                        <FieldMessage error=duplicate_error field="starts_local" />
                    </details>
                    <ActionForm action=update attr:class="form form--wide" attr:novalidate=true>
                        <input type="hidden" name="id" value=event_id />
                        <EventFields form=e.form.clone() error dirty />
                        <FieldMessage error field="" />
                        {move || matches!(update.value().get(), Some(Ok(_))).then(|| view! { <p class="ok" role="status">{t!(i18n, saved)}</p> })}
                        <button type="submit" class="button button--primary" disabled=move || update.pending().get()>{t!(i18n, admin_save)}</button>
                    </ActionForm>
                }.into_any()
            })}
        </Suspense>
        <section class="panel" aria-labelledby="audit-h">
            <h2 id="audit-h">{t!(i18n, admin_audit)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let entries = log.await.unwrap_or_default();
                    view! { <AuditList entries /> }
                })}
            </Transition>
        </section>
    }
}

/// `/admin/events/{id}/attendees`: the list, check-in by receipt code or by row, CSV.
#[component]
pub fn AdminAttendeesPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let check_in = ServerAction::<CheckIn>::new();
    let mover = ServerAction::<MoveRegistration>::new();
    let restorer = ServerAction::<RestoreRegistration>::new();
    let list = Resource::new(
        move || (id(), check_in.version().get(), mover.version().get(), restorer.version().get()),
        |(id, ..)| get_attendees(id),
    );
    let move_error = action_error(mover);
    let restore_error = action_error(restorer);
    let check_error = action_error(check_in);
    let filter = RwSignal::new(String::new());
    // Check-ins made at other desks appear within seconds: the list refreshes itself (the
    // forms stay outside the refreshed part, so nothing being typed is lost).
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(move || list.refetch(), std::time::Duration::from_secs(5)) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <p><A href="/admin">{t!(i18n, admin_title)}</A></p>
        <ActionForm action=check_in attr:class="inline-form checkin">
            <input type="hidden" name="event_id" value=id />
            <label for="checkin-code">{t!(i18n, admin_receipt_code)}</label>
            <input id="checkin-code" name="code" type="text" autocomplete="off" autofocus required />
            <button type="submit" class="button button--primary">{t!(i18n, admin_check_in)}</button>
        </ActionForm>
        <FieldMessage error=check_error field="code" />
        {move || check_in.value().get().and_then(|r| r.ok()).map(|a| view! {
            <p class="ok" role="status">{t!(i18n, admin_checked_in_ok, name = a.display_name.clone())}</p>
        })}
        {move || move_error.get().map(|e| view! { <p class="field-error" role="alert">{conflict_text(i18n, &e)}</p> })}
        {move || restore_error.get().map(|e| view! { <p class="field-error" role="alert">{conflict_text(i18n, &e)}</p> })}
        <label for="attendee-filter">{t!(i18n, admin_filter)}</label>
        <input id="attendee-filter" type="search" on:input=move |ev| filter.set(event_target_value(&ev)) />
        <Transition fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let l: AttendeeList = match list.await {
                    Ok(l) => l,
                    Err(err) => return unauthorized_or(err, format!("/admin/events/{}/attendees", id())),
                };
                let event_id = l.event_id;
                let (confirmed, checked, no_shows, ended) = (l.confirmed(), l.checked_in(), l.no_shows(), l.ended);
                let items = StoredValue::new(l.items);
                let editor = l.role.edits_events();
                let undo = editor && l.reconfirm.as_ref().is_some_and(|s| s.undo_open);
                let reconfirm_summary = l.reconfirm.clone();
                view! {
                    <Title text=l.title.clone() />
                    <h1>{l.title.clone()}</h1>
                    <p class="admin-counts" role="status">
                        {t!(i18n, admin_checked_in_count, checked = checked, confirmed = confirmed)}
                        {ended.then(|| view! { " · " {t!(i18n, admin_no_shows, count = no_shows)} })}
                    </p>
                    {reconfirm_summary.map(|setting| view! { <ReconfirmSummary setting /> })}
                    <p class="feed-links">
                        <a href=format!("/admin/events/{event_id}/attendees.csv") download>{t!(i18n, admin_csv_excel)}</a>
                        <a href=format!("/admin/events/{event_id}/attendees.csv?bom=0") download>{t!(i18n, admin_csv_plain)}</a>
                    </p>
                    <div class="table-wrap">
                        <table class="attendees">
                            <thead><tr>
                                <th>{t!(i18n, nickname)}</th><th>{t!(i18n, admin_frame)}</th><th>{t!(i18n, admin_status)}</th>
                                <th>{t!(i18n, admin_registered_at)}</th><th>{t!(i18n, admin_check_in)}</th><th>{t!(i18n, admin_answers)}</th><th></th>
                            </tr></thead>
                            <tbody>
                                {move || {
                                    let f = filter.get().to_lowercase();
                                    items.get_value().into_iter().filter(|a| {
                                        f.is_empty() || a.nickname.to_lowercase().contains(&f) || a.display_name.to_lowercase().contains(&f)
                                            || a.receipt_code.to_lowercase().contains(&f)
                                    }).map(|a| {
                                        let status = a.status;
                                        view! {
                                            <tr class:attendee--cancelled=status == RegStatus::Cancelled>
                                                <td>{a.display_name.clone()} <br /><span class="muted">{format!("@{}", a.nickname)}</span></td>
                                                <td>{a.frame_name.clone()}</td>
                                                <td>{move || match status {
                                                    RegStatus::Confirmed => t_string!(i18n, status_confirmed).to_string(),
                                                    RegStatus::Waitlisted => t_string!(i18n, status_waitlisted).to_string(),
                                                    RegStatus::Cancelled => t_string!(i18n, status_cancelled).to_string(),
                                                }}
                                                <AttendeeReconfirm a=a.clone() event_id undo action=restorer /></td>
                                                <td>{a.registered_at.format("%Y-%m-%d %H:%M UTC").to_string()}</td>
                                                <td>{match (a.checked_in_at, status) {
                                                    (Some(t), _) => view! { <span class="ok">{format!("✓ {}", t.format("%H:%M UTC"))}</span> }.into_any(),
                                                    (None, RegStatus::Confirmed) => view! {
                                                        <ActionForm action=check_in attr:class="inline-form">
                                                            <input type="hidden" name="event_id" value=event_id />
                                                            <input type="hidden" name="code" value=a.receipt_code.clone() />
                                                            <button type="submit" class="button button--small">{t!(i18n, admin_check_in)}</button>
                                                        </ActionForm>
                                                    }.into_any(),
                                                    _ => ().into_any(),
                                                }}</td>
                                                <td>{a.answers.iter().map(|(q, v)| format!("{q}: {v}")).collect::<Vec<_>>().join(" / ")}</td>
                                                <td>{(editor && status != RegStatus::Cancelled).then(|| {
                                                    let to = if status == RegStatus::Confirmed { "waitlisted" } else { "confirmed" };
                                                    view! {
                                                        <ActionForm action=mover attr:class="inline-form">
                                                            <input type="hidden" name="event_id" value=event_id />
                                                            <input type="hidden" name="registration_id" value=a.registration_id />
                                                            <input type="hidden" name="to" value=to />
                                                            <button type="submit" class="button button--ghost button--small">{move || if to == "waitlisted" {
                                                                t_string!(i18n, admin_move_to_waitlist).to_string()
                                                            } else {
                                                                t_string!(i18n, admin_move_to_confirmed).to_string()
                                                            }}</button>
                                                        </ActionForm>
                                                    }
                                                })}</td>
                                            </tr>
                                        }
                                    }).collect_view()
                                }}
                            </tbody>
                        </table>
                    </div>
                }.into_any()
            })}
        </Transition>
    }
}

/// The editor's frame and question actions (the page refetches after any of them).
#[derive(Clone, Copy)]
struct EditorActions {
    add_frame: ServerAction<AddFrame>,
    update_frame: ServerAction<UpdateFrame>,
    delete_frame: ServerAction<DeleteFrame>,
    add_question: ServerAction<AddQuestion>,
    delete_question: ServerAction<DeleteQuestion>,
    add_speaker: ServerAction<AddSpeaker>,
    delete_speaker: ServerAction<DeleteSpeaker>,
}

/// The fields of a frame's rules, shared by the add and update forms.
#[component]
fn FrameRuleFields(
    prefix: String,
    name: String,
    method: crate::events::model::FrameMethod,
    fee: i64,
    opens: String,
    closes: String,
    draw: String,
    frozen: bool,
    venue: crate::events::model::FrameVenue,
    online_url: String,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    use crate::events::model::{FrameMethod, VenueKind};
    let i18n = use_i18n();
    let id = move |f: &str| format!("{prefix}-{f}");
    view! {
        <div class="editor__row">
            <div>
                <label for=id("name")>{t!(i18n, admin_frame_name)}</label>
                <input id=id("name") name="name" type="text" required maxlength="100" value=name />
                <FieldMessage error field="name" />
            </div>
            <div>
                <label for=id("method")>{t!(i18n, admin_frame_method)}</label>
                <select id=id("method") name="method">
                    <option value="first_come" selected=method == FrameMethod::FirstCome>{t!(i18n, method_first_come)}</option>
                    <option value="lottery" selected=method == FrameMethod::Lottery>{t!(i18n, method_lottery)}</option>
                </select>
            </div>
            <div>
                <label for=id("fee")>{t!(i18n, admin_frame_fee)}</label>
                <input id=id("fee") name="fee" type="number" min="0" value=fee />
                <FieldMessage error field="fee" />
            </div>
        </div>
        <div class="editor__row">
            <div>
                <label for=id("opens")>{t!(i18n, admin_frame_opens)}</label>
                <input id=id("opens") name="opens_local" type="datetime-local" value=opens />
                <FieldMessage error field="opens_local" />
            </div>
            <div>
                <label for=id("closes")>{t!(i18n, admin_frame_closes)}</label>
                <input id=id("closes") name="closes_local" type="datetime-local" value=closes />
                <FieldMessage error field="closes_local" />
            </div>
            <div>
                <label for=id("draw")>{t!(i18n, admin_frame_draw)}</label>
                <input id=id("draw") name="draw_local" type="datetime-local" value=draw />
                <FieldMessage error field="draw_local" />
            </div>
        </div>
        <label class="checkbox">
            <input type="checkbox" name="frozen" value="on" checked=frozen />
            " " {t!(i18n, admin_frame_frozen)}
        </label>
        <fieldset class="frame-venue">
            <legend>{t!(i18n, admin_frame_venue)}</legend>
            <p class="hint">{t!(i18n, admin_frame_venue_hint)}</p>
            <div class="editor__row">
                <div>
                    <label for=id("venue")>{t!(i18n, admin_frame_venue_kind)}</label>
                    <select id=id("venue") name="venue_kind">
                        <option value="" selected=venue.kind.is_none()>{t!(i18n, admin_frame_venue_same)}</option>
                        <option value="offline" selected=venue.kind == Some(VenueKind::Offline)>{t!(i18n, offline)}</option>
                        <option value="online" selected=venue.kind == Some(VenueKind::Online)>{t!(i18n, online)}</option>
                        <option value="hybrid" selected=venue.kind == Some(VenueKind::Hybrid)>{t!(i18n, hybrid)}</option>
                    </select>
                    <FieldMessage error field="venue_kind" />
                </div>
                <div>
                    <label for=id("place")>{t!(i18n, venue)}</label>
                    <input id=id("place") name="place" type="text" maxlength="200" value=venue.place />
                    <FieldMessage error field="place" />
                </div>
                <div>
                    <label for=id("address")>{t!(i18n, address)}</label>
                    <input id=id("address") name="address" type="text" maxlength="300" value=venue.address />
                    <FieldMessage error field="address" />
                </div>
            </div>
            <label for=id("online")>{t!(i18n, admin_online_url)}</label>
            <input id=id("online") name="online_url" type="url" placeholder="https://" value=online_url />
            <FieldMessage error field="online_url" />
        </fieldset>
    }
}

/// Each frame's rules (update, delete) and a form to add one.
#[component]
fn FramesEditor(event: AdminEvent, actions: EditorActions) -> impl IntoView {
    let i18n = use_i18n();
    let event_id = event.id;
    let update_error = action_error(actions.update_frame);
    let add_error = action_error(actions.add_frame);
    let delete_error = action_error(actions.delete_frame);
    let times = event.frame_times;
    let draws = event.draws;
    let frame_names: Vec<(i64, String)> = event.frames.iter().map(|f| (f.id, f.name.clone())).collect();
    view! {
        {draws.into_iter().map(|d| {
            let name = frame_names.iter().find(|(id, _)| *id == d.frame_id).map(|(_, n)| n.clone()).unwrap_or_default();
            view! {
                <details class="draw-log">
                    <summary>{name} " — " {t!(i18n, admin_draw_log)}</summary>
                    <p class="muted">{format!("{} · seed {} · {}", d.drawn_at.format("%Y-%m-%d %H:%M UTC"), d.seed, d.winners)} " " {t!(i18n, admin_draw_winners)}</p>
                    <ol class="draw-log__entries">
                        {d.entries.into_iter().map(|(rank, nick, won, frame, choice)| {
                            // A ranked applicant who won another frame: which choice, and where.
                            let elsewhere = (choice.unwrap_or(1) > 1).then(|| {
                                let frame = frame_names.iter().find(|(id, _)| Some(*id) == frame).map(|(_, n)| n.clone()).unwrap_or_default();
                                view! { " " <span class="draw-log__choice">{t!(i18n, admin_draw_choice, choice = choice.unwrap_or(1))} " → " {frame}</span> }
                            });
                            view! {
                                <li value=rank class:draw-log__won=won>{format!("@{nick}")} " " {if won { "✓" } else { "" }} {elsewhere}</li>
                            }
                        }).collect_view()}
                    </ol>
                </details>
            }
        }).collect_view()}
        {event.frames.into_iter().map(|f| {
            let t = times.iter().find(|t| t.id == f.id).cloned().unwrap_or(super::model::FrameTimes {
                id: f.id,
                opens_local: String::new(),
                closes_local: String::new(),
                draw_local: String::new(),
                online_url: String::new(),
            });
            view! {
                <details class="frame-rules">
                    <summary>{f.name.clone()} " — " {t!(i18n, admin_frame_rules)}</summary>
                    <ActionForm action=actions.update_frame attr:class="form form--wide" attr:novalidate=true>
                        <input type="hidden" name="event_id" value=event_id />
                        <input type="hidden" name="frame_id" value=f.id />
                        <FrameRuleFields prefix=format!("fr{}", f.id) name=f.name.clone() method=f.method fee=f.fee
                            opens=t.opens_local closes=t.closes_local draw=t.draw_local frozen=f.promotion_frozen
                            venue=f.venue.clone() online_url=t.online_url error=update_error />
                        <button type="submit" class="button">{t!(i18n, admin_save)}</button>
                    </ActionForm>
                    <ActionForm action=actions.delete_frame attr:class="inline-form">
                        <input type="hidden" name="event_id" value=event_id />
                        <input type="hidden" name="frame_id" value=f.id />
                        <button type="submit" class="button button--danger button--small">{t!(i18n, admin_frame_delete)}</button>
                    </ActionForm>
                </details>
            }
        }).collect_view()}
        {move || delete_error.get().map(|e| view! { <p class="field-error" role="alert">{conflict_text(i18n, &e)}</p> })}
        <details class="frame-add">
            <summary>{t!(i18n, admin_frame_add)}</summary>
            <ActionForm action=actions.add_frame attr:class="form form--wide" attr:novalidate=true>
                <input type="hidden" name="event_id" value=event_id />
                <FrameRuleFields prefix="new-frame".to_string() name=String::new()
                    method=crate::events::model::FrameMethod::FirstCome fee=0 opens=String::new()
                    closes=String::new() draw=String::new() frozen=false
                    venue=Default::default() online_url=String::new() error=add_error />
                <label for="new-frame-capacity">{t!(i18n, admin_capacity)}</label>
                <input id="new-frame-capacity" name="capacity" type="number" min="1" required value="30" />
                <FieldMessage error=add_error field="capacity" />
                <button type="submit" class="button button--primary">{t!(i18n, admin_frame_add)}</button>
            </ActionForm>
        </details>
    }
}

fn conflict_text(i18n: leptos_i18n::I18nContext<Locale>, e: &AppError) -> AnyView {
    match e {
        AppError::Conflict(c) => crate::ui::conflict_text(i18n, *c),
        _ => t_string!(i18n, error_body).to_string().into_any(),
    }
}

/// Registration questions: list, delete, add.
#[component]
fn QuestionsEditor(event: AdminEvent, actions: EditorActions) -> impl IntoView {
    use crate::registrations::model::QuestionKind;
    let i18n = use_i18n();
    let event_id = event.id;
    let add_error = action_error(actions.add_question);
    let items = event.questions.into_iter().map(|q| view! {
        <strong>{q.label.clone()}</strong>
        {q.required.then(|| view! { " " <span class="chip">{t!(i18n, admin_required)}</span> })}
        {(!q.options.is_empty()).then(|| view! { <span class="muted">{format!(" ({})", q.options.join(" / "))}</span> })}
        <ActionForm action=actions.delete_question attr:class="inline-form">
            <RemoveFields event_id id_name="question_id" id=q.id />
        </ActionForm>
    }.into_any()).collect();
    view! {
        <ItemsPanel heading_id="questions-h" heading=t!(i18n, admin_questions).into_any() items
            add=t!(i18n, admin_question_add).into_any()>
            <ActionForm action=actions.add_question attr:class="form" attr:novalidate=true>
                <input type="hidden" name="event_id" value=event_id />
                <label for="q-label">{t!(i18n, admin_question_label)}</label>
                <input id="q-label" name="label" type="text" required maxlength="300" />
                <FieldMessage error=add_error field="label" />
                <label for="q-kind">{t!(i18n, admin_question_kind)}</label>
                <select id="q-kind" name="kind">
                    <option value=QuestionKind::Text.as_str()>{t!(i18n, admin_question_text)}</option>
                    <option value=QuestionKind::Single.as_str()>{t!(i18n, admin_question_single)}</option>
                    <option value=QuestionKind::Multiple.as_str()>{t!(i18n, admin_question_multiple)}</option>
                </select>
                <label for="q-options">{t!(i18n, admin_question_options)}</label>
                <textarea id="q-options" name="options" rows="4"></textarea>
                <FieldMessage error=add_error field="options" />
                <label class="checkbox"><input type="checkbox" name="required" value="on" /> " " {t!(i18n, admin_required)}</label>
                <button type="submit" class="button button--primary">{t!(i18n, admin_question_add)}</button>
            </ActionForm>
        </ItemsPanel>
    }
}

/// An editor panel of the event's items (questions, speakers): the list, each item with
/// its own remove form, and the add form (children) folded under `<details>`.
#[component]
fn ItemsPanel(
    heading_id: &'static str,
    heading: AnyView,
    items: Vec<AnyView>,
    /// The label that unfolds the add form.
    add: AnyView,
    children: Children,
) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby=heading_id>
            <h2 id=heading_id>{heading}</h2>
            <ul class="questions-list">
                {items.into_iter().map(|item| view! { <li>{item}</li> }).collect_view()}
            </ul>
            <details>
                <summary>{add}</summary>
                {children()}
            </details>
        </section>
    }
}

/// The inside of a form that removes one item of the event (`id_name` = `id`).
#[component]
fn RemoveFields(event_id: i64, id_name: &'static str, id: i64) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <input type="hidden" name="event_id" value=event_id />
        <input type="hidden" name=id_name value=id />
        <button type="submit" class="button button--ghost button--small">{t!(i18n, material_remove)}</button>
    }
}

/// `/admin/groups/{id}`: members and roles, invitations, ownership, leaving, change log.
#[component]
pub fn AdminGroupPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let add = ServerAction::<InviteMember>::new();
    let revoke = ServerAction::<RevokeInvitation>::new();
    let set_role = ServerAction::<SetMemberRole>::new();
    let transfer = ServerAction::<TransferOwnership>::new();
    let leave = ServerAction::<LeaveGroup>::new();
    let unlist = ServerAction::<SetGroupUnlisted>::new();
    let embed = ServerAction::<SetEmbedOrigins>::new();
    let embed_error = action_error(embed);
    let data = Resource::new(
        move || {
            (
                id(),
                (add.version().get(), revoke.version().get(), set_role.version().get()),
                (transfer.version().get(), unlist.version().get(), embed.version().get()),
            )
        },
        |(id, ..)| get_group_admin(id),
    );
    let add_error = action_error(add);
    let (set_role_error, leave_error) = (action_error(set_role), action_error(leave));
    let revoke_error = action_error(revoke);
    let role_error =
        Signal::derive(move || set_role_error.get().or_else(|| leave_error.get()).or_else(|| revoke_error.get()));
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(())) = leave.value().get() {
            navigate("/admin", Default::default());
        }
    });
    view! {
        <p><A href="/admin">{t!(i18n, admin_title)}</A></p>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                let g = match data.await {
                    Ok(g) => g,
                    Err(err) => return unauthorized_or(err, format!("/admin/groups/{}", id())),
                };
                let group_id = g.group.id;
                let my_role = g.group.role;
                let me = g.me;
                view! {
                    <Title text=g.group.title.clone() />
                    <h1>{g.group.title.clone()}</h1>
                    <p><a href=format!("/groups/{}", g.group.slug)>{t!(i18n, admin_public_page)}</a></p>
                    {my_role.edits_events().then(|| {
                        let unlisted = g.unlisted;
                        view! {
                            <ActionForm action=unlist attr:class="inline-form">
                                <input type="hidden" name="group_id" value=group_id />
                                <input type="hidden" name="unlisted" value=(!unlisted).to_string() />
                                <span class="hint">{if unlisted {
                                    view! { {t!(i18n, admin_group_unlisted)} }.into_any()
                                } else {
                                    view! { {t!(i18n, admin_group_listed)} }.into_any()
                                }}</span>
                                " "
                                <button type="submit" class="button button--ghost button--small">{if unlisted {
                                    view! { {t!(i18n, admin_group_list)} }.into_any()
                                } else {
                                    view! { {t!(i18n, admin_group_unlist)} }.into_any()
                                }}</button>
                            </ActionForm>
                        }
                    })}
                    {my_role.edits_events().then(|| view! {
                        <section class="panel" aria-labelledby="embed-h">
                            <h2 id="embed-h">{t!(i18n, admin_embed)}</h2>
                            <p class="hint">{t!(i18n, admin_embed_hint)}</p>
                            <label for="embed-snippet">{t!(i18n, admin_embed_snippet)}</label>
                            <textarea id="embed-snippet" class="code" readonly rows="3">{g.embed_snippet.clone()}</textarea>
                            <ActionForm action=embed attr:class="form">
                                <input type="hidden" name="group_id" value=group_id />
                                <label for="embed-origins">{t!(i18n, admin_embed_origins)}</label>
                                <input id="embed-origins" name="embed_origins" type="text" value=g.embed_origins.clone() placeholder="https://example.com" />
                                <p class="hint">{t!(i18n, admin_embed_origins_hint)}</p>
                                <FieldMessage error=embed_error field="embed_origins" />
                                <button type="submit" class="button button--small">{t!(i18n, admin_embed_save)}</button>
                            </ActionForm>
                        </section>
                        <crate::webhooks::pages::WebhooksSection group_id />
                    })}
                    <section class="panel" aria-labelledby="members-h">
                        <h2 id="members-h">{t!(i18n, admin_members)}</h2>
                        <ul class="members">
                            {g.members.into_iter().map(|m| {
                                let role = m.role;
                                let manageable = m.user_id != me && my_role.manages(role);
                                view! {
                                    <li class="member">
                                        <span>{m.display_name.clone()} " " <span class="muted">{format!("@{}", m.nickname)}</span></span>
                                        <span class="chip">{move || role_label(i18n, role)}</span>
                                        {manageable.then(|| view! {
                                            <ActionForm action=set_role attr:class="inline-form">
                                                <input type="hidden" name="group_id" value=group_id />
                                                <input type="hidden" name="user_id" value=m.user_id />
                                                <select name="role" aria-label=move || t_string!(i18n, admin_role).to_string()>
                                                    {[Role::Owner, Role::Admin, Role::Staff].into_iter().filter(|r| my_role.manages(*r)).map(|r| view! {
                                                        <option value=r.as_str() selected=r == role>{move || role_label(i18n, r)}</option>
                                                    }).collect_view()}
                                                    <option value="remove">{t!(i18n, admin_member_remove)}</option>
                                                </select>
                                                <button type="submit" class="button button--small">{t!(i18n, admin_save)}</button>
                                            </ActionForm>
                                        })}
                                        {(my_role == Role::Owner && m.user_id != me).then(|| view! {
                                            <ActionForm action=transfer attr:class="inline-form">
                                                <input type="hidden" name="group_id" value=group_id />
                                                <input type="hidden" name="user_id" value=m.user_id />
                                                <button type="submit" class="button button--ghost button--small">{t!(i18n, admin_transfer)}</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {move || role_error.get().map(|e| view! { <p class="field-error" role="alert">{member_error_text(i18n, &e)}</p> })}
                        {(!g.invitations.is_empty()).then(|| view! {
                            <h3 id="invitations-h">{t!(i18n, admin_invitations)}</h3>
                            <ul class="members" aria-labelledby="invitations-h">
                                {g.invitations.into_iter().map(|m| {
                                    let role = m.role;
                                    view! {
                                        <li class="member">
                                            <span>{m.display_name.clone()} " " <span class="muted">{format!("@{}", m.nickname)}</span></span>
                                            <span class="chip">{move || role_label(i18n, role)}</span>
                                            <span class="muted">{t!(i18n, admin_invitation_pending)}</span>
                                            {my_role.manages(role).then(|| view! {
                                                <ActionForm action=revoke attr:class="inline-form">
                                                    <input type="hidden" name="group_id" value=group_id />
                                                    <input type="hidden" name="user_id" value=m.user_id />
                                                    <button type="submit" class="button button--ghost button--small">{t!(i18n, admin_invitation_revoke)}</button>
                                                </ActionForm>
                                            })}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        })}
                        <ActionForm action=add attr:class="form" attr:novalidate=true>
                            <input type="hidden" name="group_id" value=group_id />
                            <label for="member-nickname">{t!(i18n, admin_invite)}</label>
                            <input id="member-nickname" name="nickname" type="text" required autocomplete="off" placeholder="nickname" />
                            <p class="hint">{t!(i18n, admin_invite_hint)}</p>
                            <FieldMessage error=add_error field="nickname" />
                            <label for="member-role">{t!(i18n, admin_role)}</label>
                            <select id="member-role" name="role">
                                {[Role::Staff, Role::Admin, Role::Owner].into_iter().filter(|r| my_role.manages(*r)).map(|r| view! {
                                    <option value=r.as_str()>{move || role_label(i18n, r)}</option>
                                }).collect_view()}
                            </select>
                            <button type="submit" class="button button--primary">{t!(i18n, admin_invite_button)}</button>
                            {move || matches!(add.value().get(), Some(Ok(_))).then(|| view! { <p class="ok" role="status">{t!(i18n, admin_invited)}</p> })}
                        </ActionForm>
                        <ActionForm action=leave attr:class="inline-form">
                            <input type="hidden" name="group_id" value=group_id />
                            <button type="submit" class="button button--danger button--small">{t!(i18n, admin_leave)}</button>
                        </ActionForm>
                    </section>
                    <section class="panel" aria-labelledby="group-audit-h">
                        <h2 id="group-audit-h">{t!(i18n, admin_audit)}</h2>
                        <AuditList entries=g.log />
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// On /me: the groups inviting me to join, each with accept and decline. Shows nothing
/// when there are none.
#[component]
pub fn MyInvitations() -> impl IntoView {
    let i18n = use_i18n();
    let answer = ServerAction::<AnswerInvitation>::new();
    let invitations = Resource::new(move || answer.version().get(), |_| my_invitations());
    let answer_error = action_error(answer);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let list = invitations.await.unwrap_or_default();
                (!list.is_empty()).then(|| view! {
                    <section class="panel" aria-labelledby="invitations-h">
                        <h2 id="invitations-h">{t!(i18n, my_invitations)}</h2>
                        <ul class="members">
                            {list.into_iter().map(|g| {
                                let role = g.role;
                                view! {
                                    <li class="member">
                                        <a href=format!("/groups/{}", g.slug)>{g.title.clone()}</a>
                                        <span class="chip">{move || role_label(i18n, role)}</span>
                                        <ActionForm action=answer attr:class="inline-form">
                                            <input type="hidden" name="group_id" value=g.id />
                                            <input type="hidden" name="accept" value="true" />
                                            <button type="submit" class="button button--primary button--small">{t!(i18n, invitation_accept)}</button>
                                        </ActionForm>
                                        <ActionForm action=answer attr:class="inline-form">
                                            <input type="hidden" name="group_id" value=g.id />
                                            <input type="hidden" name="accept" value="false" />
                                            <button type="submit" class="button button--ghost button--small">{t!(i18n, invitation_decline)}</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {move || answer_error.get().map(|e| view! { <p class="field-error" role="alert">{member_error_text(i18n, &e)}</p> })}
                    </section>
                })
            })}
        </Transition>
    }
}

/// A change log, newest first: when (UTC), who, the action and its detail.
#[component]
fn AuditList(entries: Vec<AuditEntry>) -> impl IntoView {
    view! {
        <ul class="audit">
            {entries.into_iter().map(|a| view! {
                <li><time datetime=a.at.to_rfc3339()>{a.at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                    " @" {a.nickname} " " <code>{a.action}</code> " " {a.detail}</li>
            }).collect_view()}
        </ul>
    }
}

fn member_error_text(i18n: leptos_i18n::I18nContext<Locale>, e: &AppError) -> AnyView {
    match e {
        AppError::Forbidden => t_string!(i18n, admin_not_allowed).to_string().into_any(),
        other => conflict_text(i18n, other),
    }
}

/// Speakers: list (with linked accounts), delete, add.
#[component]
fn SpeakersEditor(event: AdminEvent, actions: EditorActions) -> impl IntoView {
    let i18n = use_i18n();
    let event_id = event.id;
    let add_error = action_error(actions.add_speaker);
    let items = event
        .speakers
        .into_iter()
        .map(|s| {
            view! {
                <strong>{s.name.clone()}</strong>
                {(!s.affiliation.is_empty()).then(|| format!(" ({})", s.affiliation))}
                {s.nickname.clone().map(|n| view! { " " <span class="chip">{format!("@{n}")}</span> })}
                {(!s.talk_title.is_empty()).then(|| view! { <br /><span class="muted">{s.talk_title.clone()}</span> })}
                <ActionForm action=actions.delete_speaker attr:class="inline-form">
                    <RemoveFields event_id id_name="speaker_id" id=s.id />
                </ActionForm>
            }
            .into_any()
        })
        .collect();
    view! {
        <ItemsPanel heading_id="speakers-h" heading=t!(i18n, speaker_bio).into_any() items
            add=t!(i18n, admin_speaker_add).into_any()>
            <ActionForm action=actions.add_speaker attr:class="form" attr:novalidate=true>
                <input type="hidden" name="event_id" value=event_id />
                <label for="sp-name">{t!(i18n, admin_speaker_name)}</label>
                <input id="sp-name" name="name" type="text" required maxlength="100" />
                <FieldMessage error=add_error field="speaker_name" />
                <label for="sp-aff">{t!(i18n, admin_speaker_affiliation)}</label>
                <input id="sp-aff" name="affiliation" type="text" maxlength="200" />
                <label for="sp-talk">{t!(i18n, talk_title)}</label>
                <input id="sp-talk" name="talk_title" type="text" maxlength="300" />
                <label for="sp-bio">{t!(i18n, admin_speaker_bio)}</label>
                <textarea id="sp-bio" name="bio" rows="3"></textarea>
                <label for="sp-nick">{t!(i18n, admin_speaker_account)}</label>
                <input id="sp-nick" name="nickname" type="text" placeholder="nickname" />
                <FieldMessage error=add_error field="speaker_nickname" />
                <button type="submit" class="button button--primary">{t!(i18n, admin_speaker_add)}</button>
            </ActionForm>
        </ItemsPanel>
    }
}

/// How many times `action` has succeeded (its version, counted only when the answer is `Ok`).
fn successes<S>(action: ServerAction<S>) -> Memo<usize>
where
    S: leptos::server_fn::ServerFn + Send + Sync + Clone + 'static,
    S::Output: Send + Sync + 'static,
    S::Error: Send + Sync + 'static,
{
    Memo::new(move |before: Option<&usize>| {
        let version = action.version().get();
        if action.value().with(|v| matches!(v, Some(Ok(_)))) { version } else { before.copied().unwrap_or(0) }
    })
}
