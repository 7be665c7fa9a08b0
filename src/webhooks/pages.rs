//! The webhooks section of a group's admin page: add one (URL and event types), its secret
//! shown once, send a test, rotate the secret, delete; the latest deliveries with their state.

use leptos::prelude::*;

use super::api::{CreateWebhook, DeleteWebhook, RotateWebhook, TestWebhook, list_webhooks};
use super::model::{TYPES, WebhookPanel, WebhookSecret};
use crate::error::AppError;
use crate::i18n::*;
use crate::ui::{FieldMessage, action_error};

#[component]
pub fn WebhooksSection(group_id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateWebhook>::new();
    let rotate = ServerAction::<RotateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let test = ServerAction::<TestWebhook>::new();
    let panel = Resource::new(
        move || (create.version().get(), rotate.version().get(), delete.version().get(), test.version().get()),
        move |_| list_webhooks(group_id),
    );
    let create_error = action_error(create);
    // The event types ticked in the form, sent as one comma-separated field.
    let picked = RwSignal::new(TYPES.to_vec());
    let shown_secret = move || -> Option<WebhookSecret> {
        match (create.value().get(), rotate.value().get()) {
            (_, Some(Ok(s))) if rotate.version().get() >= create.version().get() => Some(s),
            (Some(Ok(s)), _) => Some(s),
            _ => None,
        }
    };
    view! {
        <section class="panel" aria-labelledby="hooks-h">
            <h2 id="hooks-h">{t!(i18n, webhooks)}</h2>
            <p class="hint">{t!(i18n, webhooks_hint)}</p>
            {move || shown_secret().map(|s| view! {
                <div class="notice notice--ok" role="status">
                    <p>{t!(i18n, webhooks_secret_once)}</p>
                    <p><code class="secret">{s.secret}</code></p>
                </div>
            })}
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match panel.await {
                        Ok(p) => view! { <HookList p rotate delete test /> }.into_any(),
                        Err(AppError::Forbidden) => ().into_any(),
                        Err(err) => view! { <crate::ui::ErrorView err /> }.into_any(),
                    }
                })}
            </Transition>
            <ActionForm action=create attr:class="form" attr:novalidate=true>
                <input type="hidden" name="group_id" value=group_id />
                <label for="hook-url">{t!(i18n, webhooks_url)}</label>
                <input id="hook-url" name="url" type="url" placeholder="https://example.com/tsudoi-webhook" required />
                <FieldMessage error=create_error field="url" />
                <fieldset class="checks">
                    <legend>{t!(i18n, webhooks_events)}</legend>
                    {TYPES.into_iter().map(|t| {
                        let id = format!("hook-type-{}", t.replace('.', "-"));
                        let for_id = id.clone();
                        view! {
                            <label class="check" for=for_id>
                                <input
                                    id=id
                                    type="checkbox"
                                    checked=true
                                    prop:checked=move || picked.read().contains(&t)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        picked.update(|p| {
                                            p.retain(|x| *x != t);
                                            if on {
                                                p.push(t);
                                            }
                                        });
                                    }
                                />
                                <code>{t}</code>
                            </label>
                        }
                    }).collect_view()}
                </fieldset>
                <input type="hidden" name="events" prop:value=move || picked.get().join(",") value=TYPES.join(",") />
                <FieldMessage error=create_error field="events" />
                <FieldMessage error=create_error field="" />
                <button type="submit" class="button button--small" disabled=move || create.pending().get()>
                    {t!(i18n, webhooks_add)}
                </button>
            </ActionForm>
        </section>
    }
}

#[component]
fn HookList(
    p: WebhookPanel,
    rotate: ServerAction<RotateWebhook>,
    delete: ServerAction<DeleteWebhook>,
    test: ServerAction<TestWebhook>,
) -> impl IntoView {
    let i18n = use_i18n();
    let WebhookPanel { hooks, deliveries } = p;
    let urls: Vec<(i64, String)> = hooks.iter().map(|h| (h.id, h.url.clone())).collect();
    view! {
        {if hooks.is_empty() {
            view! { <p class="muted">{t!(i18n, webhooks_none)}</p> }.into_any()
        } else {
            view! {
                <ul class="hooks">
                    {hooks.into_iter().map(|h| view! {
                        <li class="hook">
                            <p class="hook__url"><code>{h.url}</code></p>
                            <p class="hint">{h.events.join(", ")}</p>
                            <div class="mod-actions">
                                <ActionForm action=test attr:class="inline-form">
                                    <input type="hidden" name="id" value=h.id />
                                    <button type="submit" class="button button--small">{t!(i18n, webhooks_test)}</button>
                                </ActionForm>
                                <ActionForm action=rotate attr:class="inline-form">
                                    <input type="hidden" name="id" value=h.id />
                                    <button type="submit" class="button button--small">{t!(i18n, webhooks_rotate)}</button>
                                </ActionForm>
                                <ActionForm action=delete attr:class="inline-form">
                                    <input type="hidden" name="id" value=h.id />
                                    <button type="submit" class="button button--small button--danger">{t!(i18n, webhooks_delete)}</button>
                                </ActionForm>
                            </div>
                        </li>
                    }).collect_view()}
                </ul>
            }.into_any()
        }}
        {(!deliveries.is_empty()).then(|| view! {
            <h3>{t!(i18n, webhooks_log)}</h3>
            <div class="table-wrap">
                <table class="table">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, webhooks_log_type)}</th>
                            <th scope="col">{t!(i18n, webhooks_log_to)}</th>
                            <th scope="col">{t!(i18n, webhooks_log_state)}</th>
                            <th scope="col">{t!(i18n, webhooks_log_attempts)}</th>
                            <th scope="col">{t!(i18n, webhooks_log_answer)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {deliveries.into_iter().map(|d| {
                            let to = urls.iter().find(|(id, _)| *id == d.webhook_id).map(|(_, u)| u.clone()).unwrap_or_default();
                            let chip = match d.state.as_str() {
                                "sent" => "chip chip--ok",
                                "failed" => "chip chip--cancelled",
                                _ => "chip chip--wait",
                            };
                            let answer = match (d.last_status, d.last_error) {
                                (_, Some(e)) => e,
                                (Some(s), None) => s.to_string(),
                                (None, None) => String::new(),
                            };
                            view! {
                                <tr>
                                    <td><code>{d.r#type}</code></td>
                                    <td class="hook__to">{to}</td>
                                    <td><span class=chip>{d.state}</span></td>
                                    <td>{d.attempts}</td>
                                    <td>{answer}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        })}
    }
}
