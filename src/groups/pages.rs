//! `/groups/{slug}`: a group with its description, links, upcoming and past events.

use leptos::prelude::*;
use leptos_meta::{Meta, Title};
use leptos_router::hooks::use_params_map;

use super::api::{FollowGroup, follow_state, get_group};
use super::model::GroupDetail;
use crate::i18n::*;
use crate::ui::{ErrorView, EventCardList, FeedLinks, Loading};

type FollowResource = Resource<Result<super::model::Following, crate::error::AppError>>;

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let slug = move || params.read().get("slug").unwrap_or_default();
    let group = Resource::new(slug, get_group);
    // Created here, beside the group's resource, not inside the `Suspend` that renders the
    // group: a resource created while a suspended view renders is not reliably matched by
    // the hydrating browser (a hydration error on some loads).
    let follow = ServerAction::<FollowGroup>::new();
    let state = Resource::new(move || (slug(), follow.version().get()), |(slug, _)| follow_state(slug));
    view! {
        <Suspense fallback=|| view! { <Loading /> }>
            {move || Suspend::new(async move {
                match group.await {
                    Ok(group) => view! { <GroupView group follow state /> }.into_any(),
                    Err(err) => view! { <ErrorView err /> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupView(group: GroupDetail, follow: ServerAction<FollowGroup>, state: FollowResource) -> impl IntoView {
    let i18n = use_i18n();
    let members = group.member_count;
    let no_upcoming = group.upcoming.is_empty();
    let no_past = group.past.is_empty();
    view! {
        <Title text=group.title.clone() />
        {group.unlisted.then(|| view! { <Meta name="robots" content="noindex, nofollow" /> })}
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
                <FollowButton slug=group.slug.clone() follow state />
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
            <crate::moderation::pages::ReportForm kind=crate::moderation::model::TargetKind::Group id=group.id />
        </article>
    }
}

/// フォローする / フォロー中, with the follower count; signed-out visitors get a login link.
#[component]
fn FollowButton(slug: String, follow: ServerAction<FollowGroup>, state: FollowResource) -> impl IntoView {
    let i18n = use_i18n();
    let slug = StoredValue::new(slug);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(s) = state.await else { return ().into_any() };
                let slug = slug.get_value();
                if !s.signed_in {
                    let href = format!("/login?next={}", urlencoding::encode(&format!("/groups/{slug}")));
                    return view! {
                        <p class="follow"><a class="button button--small" href=href>{t!(i18n, follow)}</a>
                            " " <span class="muted">{t!(i18n, followers, count = s.followers)}</span></p>
                    }.into_any();
                }
                view! {
                    <ActionForm action=follow attr:class="inline-form follow">
                        <input type="hidden" name="slug" value=slug />
                        <input type="hidden" name="follow" value=if s.following { "false" } else { "true" } />
                        <button type="submit" class=if s.following { "button button--small" } else { "button button--primary button--small" }>
                            {if s.following { view! { {t!(i18n, following)} }.into_any() } else { view! { {t!(i18n, follow)} }.into_any() }}
                        </button>
                        " " <span class="muted">{t!(i18n, followers, count = s.followers)}</span>
                    </ActionForm>
                }.into_any()
            })}
        </Transition>
    }
}
