//! `/tags`: the tag list (タグ一覧).

use leptos::prelude::*;
use leptos_meta::Title;

use super::api::list_tags;
use super::model::{TagCount, TagKind};
use crate::i18n::*;
use crate::ui::{ErrorView, Loading};

#[component]
pub fn TagsPage() -> impl IntoView {
    let i18n = use_i18n();
    let tags = Resource::new(|| (), |_| list_tags());
    view! {
        <Title text=move || t_string!(i18n, tags_heading).to_string() />
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
