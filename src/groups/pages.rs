//! `/groups/{slug}`: a group with its description, links, upcoming and past events.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use super::api::get_group;
use super::model::GroupDetail;
use crate::i18n::*;
use crate::ui::{ErrorView, EventCardList, FeedLinks, Loading};

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let group = Resource::new(slug, get_group);
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match group.await {
                    Ok(group) => view! { <GroupView group /> }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupView(group: GroupDetail) -> impl IntoView {
    let i18n = use_i18n();
    let members = group.member_count;
    let no_upcoming = group.upcoming.is_empty();
    let no_past = group.past.is_empty();
    view! {
        <Title text=group.title.clone() />
        <article class="group">
            <header class="group__header">
                <h1>{group.title.clone()}</h1>
                <p class="group__meta">
                    <span>{t!(i18n, members, count = members)}</span>
                    {group.website.clone().map(|w| view! {
                        " · "
                        <a href=w.clone() rel="noopener noreferrer nofollow" target="_blank">{t!(i18n, website)}</a>
                    })}
                </p>
                <FeedLinks
                    ics_path=format!("/groups/{}/events.ics", group.slug)
                    atom_path=format!("/groups/{}/feed.atom", group.slug)
                    title=group.title.clone()
                />
            </header>
            <div class="prose group__description" inner_html=group.description_html.clone()></div>
            <section aria-labelledby="upcoming-h">
                <h2 id="upcoming-h">{t!(i18n, group_upcoming)}</h2>
                {if no_upcoming {
                    view! { <p class="empty">{t!(i18n, group_no_upcoming)}</p> }.into_any()
                } else {
                    view! { <EventCardList cards=group.upcoming.clone() /> }.into_any()
                }}
            </section>
            <section aria-labelledby="past-h">
                <h2 id="past-h">{t!(i18n, group_past)}</h2>
                {if no_past {
                    view! { <p class="empty">{t!(i18n, group_no_past)}</p> }.into_any()
                } else {
                    view! { <EventCardList cards=group.past.clone() /> }.into_any()
                }}
            </section>
        </article>
    }
}
