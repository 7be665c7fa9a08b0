//! The 資料 section of the event page: the list, and for organizers and speakers a form
//! to add one (an ordinary POST form, so it also works without JavaScript).

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::api::{AddMaterial, DeleteMaterial, list_materials};
use super::model::{MaterialKind, MaterialsPanel};
use crate::i18n::*;
use crate::ui::{FieldMessage, action_error, event_resource};

/// The section's actions and data, created by the page beside its event resource (a
/// resource created inside the `Suspend` that renders the event may fail to hydrate).
#[derive(Clone, Copy)]
pub struct MaterialsState {
    add: ServerAction<AddMaterial>,
    remove: ServerAction<DeleteMaterial>,
    panel: Resource<Result<MaterialsPanel, crate::error::AppError>>,
}

impl MaterialsState {
    /// For the event `event_id()` names (`None`: no event, nothing to list).
    pub fn new(event_id: impl Fn() -> Option<i64> + Send + Sync + 'static) -> Self {
        let add = ServerAction::<AddMaterial>::new();
        let remove = ServerAction::<DeleteMaterial>::new();
        // An invitation-only event's materials need the invitation's secret, as its page does.
        let invite = crate::ui::invite_param();
        let panel = event_resource(
            event_id,
            move || (add.version().get(), remove.version().get(), invite()),
            move |id| list_materials(id, untrack(invite)),
        );
        MaterialsState { add, remove, panel }
    }
}

#[component]
pub fn MaterialsSection(event_id: i64, state: MaterialsState) -> impl IntoView {
    let i18n = use_i18n();
    let MaterialsState { add, remove, panel } = state;
    let add_error = action_error(add);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(MaterialsPanel { items, can_add }) = panel.await else {
                    return ().into_any();
                };
                if items.is_empty() && !can_add {
                    return ().into_any();
                }
                view! {
                    <section class="event__section materials" aria-labelledby="materials-heading">
                        <h2 id="materials-heading">{t!(i18n, materials)}</h2>
                        {if items.is_empty() {
                            view! { <p class="muted">{t!(i18n, materials_none)}</p> }.into_any()
                        } else {
                            view! {
                                <ul class="materials__list">
                                    {items.into_iter().map(|m| {
                                        let kind = m.kind;
                                        view! {
                                            <li class="material">
                                                <span class="material__kind">{move || kind_label(i18n, kind)}</span>
                                                <a class="material__title" href=m.url.clone() target="_blank" rel="noopener noreferrer nofollow ugc">{m.title.clone()}</a>
                                                <span class="material__by">{format!("@{}", m.nickname)}</span>
                                                {m.removable.then(|| view! {
                                                    <ActionForm action=remove attr:class="inline-form">
                                                        <input type="hidden" name="id" value=m.id />
                                                        <button type="submit" class="button button--ghost button--small">{t!(i18n, material_remove)}</button>
                                                    </ActionForm>
                                                })}
                                            </li>
                                        }
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {can_add.then(|| view! {
                            <details class="materials__add">
                                <summary>{t!(i18n, material_add)}</summary>
                                <ActionForm action=add attr:class="form form--inline" attr:novalidate=true>
                                    <input type="hidden" name="event_id" value=event_id />
                                    <label for="material-title">{t!(i18n, material_title)}</label>
                                    <input id="material-title" name="title" type="text" required maxlength="200" />
                                    <FieldMessage error=add_error field="title" />
                                    <label for="material-url">"URL"</label>
                                    <input id="material-url" name="url" type="url" required placeholder="https://" />
                                    <FieldMessage error=add_error field="url" />
                                    <label for="material-kind">{t!(i18n, material_kind)}</label>
                                    <select id="material-kind" name="kind">
                                        {MaterialKind::ALL.into_iter().map(|k| view! {
                                            <option value=k.as_str()>{move || kind_label(i18n, k)}</option>
                                        }).collect_view()}
                                    </select>
                                    <FieldMessage error=add_error field="kind" />
                                    <FieldMessage error=add_error field="" />
                                    <button type="submit" class="button button--primary" disabled=move || add.pending().get()>
                                        {t!(i18n, material_add)}
                                    </button>
                                </ActionForm>
                            </details>
                        })}
                    </section>
                }.into_any()
            })}
        </Transition>
    }
}

fn kind_label(i18n: leptos_i18n::I18nContext<Locale>, kind: MaterialKind) -> String {
    match kind {
        MaterialKind::Slide => t_string!(i18n, material_slide),
        MaterialKind::Blog => t_string!(i18n, material_blog),
        MaterialKind::Movie => t_string!(i18n, material_movie),
        MaterialKind::Other => t_string!(i18n, material_other),
    }
    .to_string()
}
