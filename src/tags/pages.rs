//! `/tags`: the tag list (タグ一覧).

use leptos::prelude::*;
use leptos_meta::Title;

use leptos_router::components::A;
use leptos_router::hooks::use_params_map;

use super::api::{get_tag, list_tags};
use super::model::{TagCount, TagKind};
use crate::i18n::*;
use crate::search::api::search_events;
use crate::search::model::SearchParams;
use crate::ui::{ErrorView, EventCardList, FeedLinks, Loading};

#[component]
pub fn TagsPage() -> impl IntoView {
    let i18n = use_i18n();
    let tags = Resource::new(|| (), |_| list_tags());
    view! {
        <Title text=untrack(|| t_string!(i18n, tags_heading).to_string()) />
        <h1>{t!(i18n, tags_heading)}</h1>
        <p class="lead">{t!(i18n, tags_intro)}</p>
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match tags.await {
                    Ok(all) => {
                        let (topics, tools): (Vec<TagCount>, Vec<TagCount>) = all
                            .into_iter()
                            .partition(|t| t.tag.kind == TagKind::Topic);
                        view! {
                            <section aria-labelledby="topics-h">
                                <h2 id="topics-h">{t!(i18n, tags)}</h2>
                                <TagCloud tags=topics />
                            </section>
                            <section aria-labelledby="tools-h">
                                <h2 id="tools-h">{t!(i18n, tools)}</h2>
                                <TagCloud tags=tools />
                            </section>
                        }
                            .into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn TagCloud(tags: Vec<TagCount>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="tag-list">
            {tags
                .into_iter()
                .map(|t| {
                    let count = t.upcoming;
                    let href = t.tag.search_href();
                    view! {
                        <li>
                            <a href=href class="tag-list__item" class:tag-list__item--empty=count == 0>
                                <span class="tag-list__name">{t.tag.name}</span>
                                <span class="tag-list__count">{t!(i18n, upcoming_count, count = count)}</span>
                            </a>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}

/// `/tags/{slug}`: the tag's description and its upcoming events (a preset search).
#[component]
pub fn TagPage() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let data = Resource::new(slug, |slug| async move {
        let detail = get_tag(slug).await?;
        let mut params = SearchParams::default();
        match detail.tag.kind {
            TagKind::Topic => params.tags = Some(detail.tag.name.clone()),
            TagKind::Tool => params.tools = Some(detail.tag.name.clone()),
        }
        let results = search_events(params).await?;
        Ok::<_, crate::error::AppError>((detail, results))
    });
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match data.await {
                    Ok((detail, results)) => {
                        let search_href = detail.tag.search_href();
                        let total = results.results.total;
                        let more = total > i64::from(results.results.per_page);
                        let empty = results.results.items.is_empty();
                        let kind = detail.tag.kind;
                        view! {
                            <Title text=detail.tag.name.clone() />
                            <header class="tag-page">
                                <p class="label">{move || match kind {
                                    TagKind::Topic => t_string!(i18n, tags).to_string(),
                                    TagKind::Tool => t_string!(i18n, tools).to_string(),
                                }}</p>
                                <h1>{detail.tag.name.clone()}</h1>
                                {(!detail.description.is_empty()).then(|| view! { <p class="lead">{detail.description.clone()}</p> })}
                                <p><A href=search_href.clone()>{t!(i18n, tag_search_link)}</A></p>
                                <FeedLinks
                                    ics_path=format!("/tags/{}/events.ics", detail.tag.slug)
                                    atom_path=format!("/tags/{}/feed.atom", detail.tag.slug)
                                    title=detail.tag.name.clone()
                                />
                            </header>
                            <h2>{t!(i18n, upcoming_heading)} " " <span class="muted">{t!(i18n, events_total, count = total)}</span></h2>
                            {if empty {
                                view! { <p class="empty">{t!(i18n, no_upcoming)}</p> }.into_any()
                            } else {
                                view! { <EventCardList cards=results.results.items /> }.into_any()
                            }}
                            {more.then(|| view! { <p><A href=search_href>{t!(i18n, tag_more)}</A></p> })}
                        }.into_any()
                    }
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}
