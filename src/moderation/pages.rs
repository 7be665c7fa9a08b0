//! The "report" form on event, group and user pages, and `/admin/moderation`, the site
//! administrators' queue.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use super::api::{Moderate, Report, get_moderation_queue};
use super::model::{HiddenItem, ModAction, ModerationQueue, ReportedItem, TargetKind};
use crate::accounts::pages::LoginRequired;
use crate::error::AppError;
use crate::i18n::*;
use crate::ui::{ErrorView, FieldMessage, Loading, action_error};

/// "Report this…": a reason for the site's administrators. Folded away until opened; a
/// signed-out visitor is sent to log in first.
#[component]
pub fn ReportForm(kind: TargetKind, id: i64) -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<Report>::new();
    let error = action_error(action);
    let location = leptos_router::hooks::use_location();
    let login_href = move || format!("/login?next={}", urlencoding::encode(&location.pathname.get()));
    view! {
        <details class="report">
            <summary>{t!(i18n, report_open)}</summary>
            <Show
                when=move || !matches!(action.value().get(), Some(Ok(())))
                fallback=move || view! { <p class="notice notice--ok" role="status">{t!(i18n, report_thanks)}</p> }
            >
                <ActionForm action attr:class="form report__form" attr:novalidate=true>
                    <input type="hidden" name="kind" value=kind.as_str() />
                    <input type="hidden" name="id" value=id.to_string() />
                    <label for=format!("report-reason-{}-{id}", kind.as_str())>{t!(i18n, report_reason)}</label>
                    <textarea
                        id=format!("report-reason-{}-{id}", kind.as_str())
                        name="reason"
                        rows="3"
                        maxlength="2000"
                        required
                    ></textarea>
                    <FieldMessage error field="reason" />
                    <FieldMessage error field="" />
                    {move || matches!(error.get(), Some(AppError::Unauthorized)).then(|| view! {
                        <p class="field-error" role="alert">
                            <a href=login_href()>{t!(i18n, report_login)}</a>
                        </p>
                    })}
                    <button type="submit" class="button button--small" disabled=move || action.pending().get()>
                        {t!(i18n, report_send)}
                    </button>
                </ActionForm>
            </Show>
        </details>
    }
}

/// `/admin/moderation`: open reports, what is hidden, the site's audit log.
#[component]
pub fn ModerationPage() -> impl IntoView {
    let i18n = use_i18n();
    let act = ServerAction::<Moderate>::new();
    let queue = Resource::new(move || act.version().get(), |_| get_moderation_queue());
    let act_error = action_error(act);
    view! {
        <Title text=untrack(|| t_string!(i18n, moderation).to_string()) />
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match queue.await {
                    Ok(q) => view! { <Queue q act act_error /> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <LoginRequired next="/admin/moderation".to_string() /> }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn Queue(q: ModerationQueue, act: ServerAction<Moderate>, act_error: Signal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let ModerationQueue { open, hidden, log } = q;
    let no_log = log.is_empty();
    view! {
        <h1>{t!(i18n, moderation)}</h1>
        <FieldMessage error=act_error field="" />
        <FieldMessage error=act_error field="action" />
        <section aria-labelledby="mod-open-h">
            <h2 id="mod-open-h">{t!(i18n, moderation_open)} " (" {open.len()} ")"</h2>
            {if open.is_empty() {
                view! { <p class="muted">{t!(i18n, moderation_open_none)}</p> }.into_any()
            } else {
                view! {
                    <ul class="mod-list">
                        {open.into_iter().map(|item| view! { <OpenReport item act /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="mod-hidden-h">
            <h2 id="mod-hidden-h">{t!(i18n, moderation_hidden)}</h2>
            {if hidden.is_empty() {
                view! { <p class="muted">{t!(i18n, moderation_hidden_none)}</p> }.into_any()
            } else {
                view! {
                    <ul class="mod-list">
                        {hidden.into_iter().map(|h| view! { <HiddenRow h act /> }).collect_view()}
                    </ul>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="mod-log-h">
            <h2 id="mod-log-h">{t!(i18n, moderation_log)}</h2>
            {no_log.then(|| view! { <p class="muted">{t!(i18n, moderation_log_none)}</p> })}
            <div class="table-wrap" hidden=no_log>
                <table class="table mod-log">
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, moderation_when)}</th>
                            <th scope="col">{t!(i18n, moderation_who)}</th>
                            <th scope="col">{t!(i18n, moderation_what)}</th>
                            <th scope="col">{t!(i18n, moderation_detail)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {log.into_iter().map(|l| view! {
                            <tr>
                                <td>{l.at_label}</td>
                                <td>"@" {l.actor}</td>
                                <td><code>{l.action}</code> " #" {l.target_id}</td>
                                <td>{l.detail}</td>
                            </tr>
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </section>
    }
}

/// A button that posts one moderation action.
#[component]
fn ActButton(
    act: ServerAction<Moderate>,
    kind: TargetKind,
    id: i64,
    action: ModAction,
    primary: bool,
) -> impl IntoView {
    let i18n = use_i18n();
    let label = move || match action {
        ModAction::Hide => t_string!(i18n, moderation_hide),
        ModAction::Restore => t_string!(i18n, moderation_restore),
        ModAction::Suspend => t_string!(i18n, moderation_suspend),
        ModAction::Unsuspend => t_string!(i18n, moderation_unsuspend),
        ModAction::Dismiss => t_string!(i18n, moderation_dismiss),
    };
    view! {
        <ActionForm action=act attr:class="inline-form">
            <input type="hidden" name="kind" value=kind.as_str() />
            <input type="hidden" name="id" value=id.to_string() />
            <input type="hidden" name="action" value=action.as_str() />
            <button
                type="submit"
                class=if primary { "button button--small button--danger" } else { "button button--small" }
                disabled=move || act.pending().get()
            >
                {label}
            </button>
        </ActionForm>
    }
}

fn kind_label(i18n: leptos_i18n::I18nContext<Locale>, kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Event => t_string!(i18n, moderation_kind_event),
        TargetKind::Group => t_string!(i18n, moderation_kind_group),
        TargetKind::User => t_string!(i18n, moderation_kind_user),
    }
}

#[component]
fn OpenReport(item: ReportedItem, act: ServerAction<Moderate>) -> impl IntoView {
    let i18n = use_i18n();
    let (kind, id) = (item.kind, item.id);
    let strong = if kind == TargetKind::User { ModAction::Suspend } else { ModAction::Hide };
    view! {
        <li class="mod-item">
            <p class="mod-item__head">
                <span class="chip">{move || kind_label(i18n, kind)}</span>
                " "
                <A href=item.url.clone()>{item.title.clone()}</A>
                {item.hidden.then(|| view! { " " <span class="chip chip--muted">{t!(i18n, moderation_already_hidden)}</span> })}
            </p>
            <ul class="mod-reasons">
                {item.reasons.into_iter().map(|r| view! {
                    <li><span class="muted">"@" {r.reporter} " · " {r.at_label}</span><p class="mod-reason">{r.reason}</p></li>
                }).collect_view()}
            </ul>
            <div class="mod-actions">
                {(!item.hidden).then(|| view! { <ActButton act kind id action=strong primary=true /> })}
                <ActButton act kind id action=ModAction::Dismiss primary=false />
            </div>
        </li>
    }
}

#[component]
fn HiddenRow(h: HiddenItem, act: ServerAction<Moderate>) -> impl IntoView {
    let i18n = use_i18n();
    let undo = if h.kind == TargetKind::User { ModAction::Unsuspend } else { ModAction::Restore };
    let hk = h.kind;
    view! {
        <li class="mod-item">
            <p class="mod-item__head">
                <span class="chip">{move || kind_label(i18n, hk)}</span>
                " "
                {h.title}
                " "
                <span class="muted">{h.url} " · " {h.since_label}</span>
            </p>
            <div class="mod-actions">
                <ActButton act kind=h.kind id=h.id action=undo primary=false />
            </div>
        </li>
    }
}
