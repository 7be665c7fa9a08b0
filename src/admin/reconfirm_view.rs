//! Reconfirmation (参加の再確認) in the organizer's pages: the editor's section that requires
//! it, the attendee page's summary, and each attendee's state with the undo of a release.

use leptos::prelude::*;

use super::model::{AdminEvent, Attendee};
use super::reconfirm_api::{RestoreRegistration, SetReconfirmation};
use crate::i18n::*;
use crate::registrations::model::RegStatus;
use crate::registrations::reconfirm::{HOURS, ReconfirmSetting};
use crate::ui::{FieldMessage, action_error};

/// The editor's section: the deadline (or none), its state once asked and released.
#[component]
pub fn ReconfirmEditor(event: AdminEvent, action: ServerAction<SetReconfirmation>) -> impl IntoView {
    let i18n = use_i18n();
    let error = action_error(action);
    let current = event.reconfirm.as_ref().map(|s| s.hours);
    let released = event.reconfirm.as_ref().is_some_and(|s| s.released_at.is_some());
    view! {
        <section class="panel" aria-labelledby="reconfirm-h">
            <h2 id="reconfirm-h">{t!(i18n, admin_reconfirm)}</h2>
            <p class="hint">{t!(i18n, admin_reconfirm_hint)}</p>
            {event.reconfirm.clone().map(|s| view! { <ReconfirmSummary setting=s /> })}
            {(!released).then(|| view! {
                <ActionForm action attr:class="inline-form reconfirm-form">
                    <input type="hidden" name="event_id" value=event.id />
                    <label for="reconfirm-hours">{t!(i18n, admin_reconfirm_deadline)}</label>
                    <select id="reconfirm-hours" name="hours">
                        <option value="" selected=current.is_none()>{t!(i18n, admin_reconfirm_off)}</option>
                        {HOURS.into_iter().map(|h| view! {
                            <option value=h.to_string() selected=current == Some(h)>{t!(i18n, admin_reconfirm_hours, hours = h)}</option>
                        }).collect_view()}
                    </select>
                    <button type="submit" class="button">{t!(i18n, admin_reconfirm_save)}</button>
                </ActionForm>
                <FieldMessage error field="hours" />
                <FieldMessage error field="" />
            })}
        </section>
    }
}

/// One line: the deadline, whether the request went out, when seats were released and until
/// when that can be undone.
#[component]
pub fn ReconfirmSummary(setting: ReconfirmSetting) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="reconfirm-summary" role="status">
            {t!(i18n, admin_reconfirm_deadline)} ": " <strong>{setting.deadline_label.clone()}</strong>
            {setting.requested_at.map(|_| view! { " · " {t!(i18n, admin_reconfirm_requested)} " ✓" })}
            {setting.released_at.map(|_| view! { " · " {t!(i18n, admin_reconfirm_released)} " ✓" })}
            {setting.undo_until_label.clone().filter(|_| setting.undo_open).map(|u| view! {
                " · " {t!(i18n, admin_reconfirm_undo_until)} ": " {u}
            })}
        </p>
    }
}

/// An attendee's reconfirmation state (a chip), and for a released seat within the undo
/// period, the undo button (owners and admins).
#[component]
pub fn AttendeeReconfirm(
    a: Attendee,
    event_id: i64,
    undo: bool,
    action: ServerAction<RestoreRegistration>,
) -> impl IntoView {
    let i18n = use_i18n();
    let chip = match (a.status, a.released_at, a.reconfirmed_at, a.reconfirm_asked) {
        (RegStatus::Cancelled, Some(_), ..) => Some(("chip chip--released", t_string!(i18n, att_released).to_string())),
        (RegStatus::Confirmed, _, Some(_), _) => Some(("chip chip--ok", t_string!(i18n, att_reconfirmed).to_string())),
        (RegStatus::Confirmed, _, None, true) => {
            Some(("chip chip--wait", t_string!(i18n, att_unconfirmed).to_string()))
        }
        _ => None,
    };
    let restorable = undo && a.status == RegStatus::Cancelled && a.released_at.is_some();
    view! {
        {chip.map(|(class, text)| view! { <br /><span class=class>{text}</span> })}
        {restorable.then(|| view! {
            <ActionForm action attr:class="inline-form">
                <input type="hidden" name="event_id" value=event_id />
                <input type="hidden" name="registration_id" value=a.registration_id />
                <button type="submit" class="button button--ghost button--small">{t!(i18n, att_restore)}</button>
            </ActionForm>
        })}
    }
}
