//! Messages on `/me` (with a one-click "I can't go" on reminders), the organizer's
//! compose-and-history panel, and `/events/{id}/cant-go`.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;

use super::api::{MarkMessageRead, SendMessage, event_messages, my_messages};
use super::model::MessageKind;
use crate::events::model::FrameSummary;
use crate::i18n::*;
use crate::registrations::api::{Cancel, Reconfirm};
use crate::ui::{FieldMessage, action_error, id_param};

/// My messages, newest first; unread ones marked; reminders offer to release the seat.
#[component]
pub fn MyMessages() -> impl IntoView {
    let i18n = use_i18n();
    let read = ServerAction::<MarkMessageRead>::new();
    let cancel = ServerAction::<Cancel>::new();
    let reconfirm = ServerAction::<Reconfirm>::new();
    let messages = Resource::new(
        move || (read.version().get(), cancel.version().get(), reconfirm.version().get()),
        |_| my_messages(),
    );
    let reconfirm_error = action_error(reconfirm);
    view! {
        <section class="panel" aria-labelledby="messages-h">
            <h2 id="messages-h">{t!(i18n, messages_title)}</h2>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = messages.await.unwrap_or_default();
                    if list.is_empty() {
                        return view! { <p class="muted">{t!(i18n, messages_none)}</p> }.into_any();
                    }
                    view! {
                        <ul class="inbox">
                            {list.into_iter().map(|m| view! {
                                <li class="inbox__item" class:inbox__item--unread=!m.read>
                                    <details>
                                        <summary>
                                            <span class="inbox__subject">{m.subject.clone()}</span>
                                            " " <time class="muted" datetime=m.created_at.to_rfc3339()>{m.created_at.format("%Y-%m-%d %H:%M UTC").to_string()}</time>
                                        </summary>
                                        {m.sender.clone().map(|s| view! { <p class="muted">{format!("@{s}")}</p> })}
                                        <p class="inbox__body">{m.body.clone()}</p>
                                        {m.event_id.map(|e| view! { <p><A href=format!("/events/{e}")>{m.event_title.clone().unwrap_or_default()}</A></p> })}
                                        {m.event_id.filter(|_| m.kind == MessageKind::Reconfirm).map(|e| view! {
                                            <ActionForm action=reconfirm attr:class="inline-form">
                                                <input type="hidden" name="event_id" value=e />
                                                <button type="submit" class="button button--primary button--small">{t!(i18n, reconfirm_yes)}</button>
                                            </ActionForm>
                                            <FieldMessage error=reconfirm_error field="" />
                                        })}
                                        {m.event_id.filter(|_| matches!(m.kind, MessageKind::Reminder | MessageKind::Reconfirm)).map(|e| view! {
                                            <ActionForm action=cancel attr:class="inline-form">
                                                <input type="hidden" name="event_id" value=e />
                                                <button type="submit" class="button button--danger button--small">{t!(i18n, cant_go)}</button>
                                            </ActionForm>
                                        })}
                                        {(!m.read).then(|| view! {
                                            <ActionForm action=read attr:class="inline-form">
                                                <input type="hidden" name="id" value=m.id />
                                                <button type="submit" class="button button--ghost button--small">{t!(i18n, messages_mark_read)}</button>
                                            </ActionForm>
                                        })}
                                    </details>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any()
                })}
            </Transition>
        </section>
    }
}

/// The organizer's messages panel of an event: compose to an audience, and the history.
#[component]
pub fn EventMessages(event_id: i64, frames: Vec<FrameSummary>) -> impl IntoView {
    let i18n = use_i18n();
    let send = ServerAction::<SendMessage>::new();
    // The history is loaded in the browser after hydration: it changes underfoot (every
    // registration adds a confirmation), and server-rendering it raced hydration.
    let sent = LocalResource::new(move || {
        send.version().get();
        event_messages(event_id)
    });
    let mounted = RwSignal::new(false);
    Effect::new(move |_| mounted.set(true));
    let error = action_error(send);
    view! {
        <section class="panel" aria-labelledby="event-messages-h">
            <h2 id="event-messages-h">{t!(i18n, messages_title)}</h2>
            <ActionForm action=send attr:class="form" attr:novalidate=true>
                <input type="hidden" name="event_id" value=event_id />
                <label for="msg-audience">{t!(i18n, messages_audience)}</label>
                <select id="msg-audience" name="audience">
                    <option value="all">{t!(i18n, messages_to_all)}</option>
                    <option value="confirmed">{t!(i18n, status_confirmed)}</option>
                    <option value="waitlisted">{t!(i18n, status_waitlisted)}</option>
                    {frames.into_iter().map(|f| view! { <option value=format!("frame:{}", f.id)>{f.name}</option> }).collect_view()}
                </select>
                <label for="msg-subject">{t!(i18n, messages_subject)}</label>
                <input id="msg-subject" name="subject" type="text" required maxlength="200" />
                <FieldMessage error field="subject" />
                <label for="msg-body">{t!(i18n, messages_body)}</label>
                <textarea id="msg-body" name="body" rows="6" required></textarea>
                <FieldMessage error field="body" />
                <button type="submit" class="button button--primary" disabled=move || send.pending().get()>{t!(i18n, messages_send)}</button>
            </ActionForm>
            <Show when=move || mounted.get()>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    let list = sent.await.unwrap_or_default();
                    view! {
                        <ul class="sent">
                            {list.into_iter().map(|m| view! {
                                <li>
                                    <strong>{m.subject}</strong> " "
                                    <span class="muted">{format!("{} · {} · {}", m.kind.as_str(), m.audience, m.created_at.format("%Y-%m-%d %H:%M UTC"))}</span>
                                    <br />
                                    <span>{t!(i18n, messages_reach, recipients = m.recipients, read = m.read)}</span>
                                    {(m.delivery.pending + m.delivery.sent + m.delivery.failed > 0).then(|| view! {
                                        <span>" · " {t!(i18n, messages_delivery, sent = m.delivery.sent, pending = m.delivery.pending, retrying = m.delivery.retrying, failed = m.delivery.failed)}</span>
                                    })}
                                </li>
                            }).collect_view()}
                        </ul>
                    }
                })}
            </Transition>
            </Show>
        </section>
    }
}

/// `/events/{id}/reconfirm`: the link of the reconfirmation request. "I'm coming" or "I can't
/// go", each a button (a GET never changes anything); either returns to the event.
#[component]
pub fn ReconfirmPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let reconfirm = ServerAction::<Reconfirm>::new();
    let cancel = ServerAction::<Cancel>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        let done = matches!(reconfirm.value().get(), Some(Ok(_))) || matches!(cancel.value().get(), Some(Ok(_)));
        if done {
            navigate(&format!("/events/{}", id()), Default::default());
        }
    });
    let reconfirm_error = action_error(reconfirm);
    let cancel_error = action_error(cancel);
    view! {
        <Title text=untrack(|| t_string!(i18n, reconfirm_title).to_string()) />
        <section class="message-page">
            <h1>{t!(i18n, reconfirm_title)}</h1>
            <p>{t!(i18n, reconfirm_hint)}</p>
            <div class="message-page__actions">
                <ActionForm action=reconfirm attr:class="inline-form">
                    <input type="hidden" name="event_id" value=id />
                    <button type="submit" class="button button--primary">{t!(i18n, reconfirm_yes)}</button>
                </ActionForm>
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="event_id" value=id />
                    <button type="submit" class="button button--danger">{t!(i18n, cant_go)}</button>
                </ActionForm>
            </div>
            <FieldMessage error=reconfirm_error field="" />
            <FieldMessage error=cancel_error field="" />
            <p><A href=move || format!("/events/{}", id())>{t!(i18n, cant_go_back)}</A></p>
        </section>
    }
}

/// `/events/{id}/cant-go`: the link of the reminder; one button releases my seat (a GET
/// never changes anything).
#[component]
pub fn CantGoPage() -> impl IntoView {
    let i18n = use_i18n();
    let id = id_param();
    let cancel = ServerAction::<Cancel>::new();
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(_)) = cancel.value().get() {
            navigate(&format!("/events/{}", id()), Default::default());
        }
    });
    let error = action_error(cancel);
    view! {
        <Title text=untrack(|| t_string!(i18n, cant_go).to_string()) />
        <section class="message-page">
            <h1>{t!(i18n, cant_go)}</h1>
            <p>{t!(i18n, cant_go_hint)}</p>
            <ActionForm action=cancel attr:class="inline-form">
                <input type="hidden" name="event_id" value=id />
                <button type="submit" class="button button--danger">{t!(i18n, cant_go)}</button>
            </ActionForm>
            <FieldMessage error field="" />
            <p><A href=move || format!("/events/{}", id())>{t!(i18n, cant_go_back)}</A></p>
        </section>
    }
}
