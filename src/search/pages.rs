//! `/events`: the search page. The panel is a plain GET form (works without JavaScript);
//! hydrated, it updates the URL as the user types (debounced, history replaced) or toggles
//! (history pushed), and the results follow the URL.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::api::search_events;
#[cfg(feature = "hydrate")]
use super::model::SearchQuery;
use super::model::{DatePreset, FacetCount, Pref, SearchParams, SearchResults, Sort};
use crate::geo::PREFECTURES;
use crate::i18n::*;
use crate::tags::model::TagRef;
use crate::ui::{ErrorView, EventCardList, FeedLinks, Loading, Pagination, lang_of};

const DEBOUNCE_MS: u32 = 150;

/// `/events`
#[component]
pub fn SearchPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    // The raw URL parameters are the resource's source: Back/Forward and shared links
    // produce the same results as typing.
    let params = Memo::new(move |_| {
        let map = query.read();
        SearchParams::from_lookup(|k| map.get_all(k).map(|v| v.join(",")).filter(|v| !v.is_empty()))
    });
    let results = Resource::new(move || params.get(), search_events);
    let keyword = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    view! {
        <Title text=untrack(|| t_string!(i18n, events_heading).to_string()) />
        <h1>{t!(i18n, events_heading)}</h1>
        <div class="search">
            <Transition fallback=|| view! { <Loading /> }>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(r) => view! { <SearchView r keyword /> }.into_any(),
                        Err(err) => view! { <ErrorView err /> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn SearchView(r: SearchResults, keyword: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    let q = r.query.clone();
    let mut base = q.clone();
    base.page = 1;
    let pages = r.results.pages();
    let total = r.results.total;
    let empty = r.results.items.is_empty();
    let warnings = r.warnings.clone();
    let feed_path = match base.to_query_string() {
        qs if qs.is_empty() => "/events.ics".to_string(),
        qs => format!("/events.ics?{qs}"),
    };
    let selected: Vec<TagRef> =
        r.facets.tags.iter().chain(&r.facets.tools).filter(|f| f.selected).map(|f| f.value.clone()).collect();
    view! {
        <SearchPanel r=r.clone() keyword />
        <section class="search__results" aria-live="polite" aria-busy="false">
            {(!selected.is_empty()).then(|| view! {
                <p class="search__about">
                    {t!(i18n, tag_pages)} " "
                    {selected.into_iter().map(|t| {
                        let href = t.page_href();
                        view! { <a class="chip" href=href>{t.name}</a> " " }
                    }).collect_view()}
                </p>
            })}
            {(!warnings.is_empty()).then(|| view! {
                <p class="notice notice--warn" role="status">
                    {t!(i18n, search_ignored)} " "
                    {warnings.iter().map(|w| format!("{}={}", w.param, w.value)).collect::<Vec<_>>().join(", ")}
                </p>
            })}
            <div class="search__summary">
                <p class="result-count">{t!(i18n, events_total, count = total)}</p>
                <FeedLinks ics_path=feed_path title="Tsudoi" />
            </div>
            {if empty {
                view! {
                    <div class="empty">
                        <p>{t!(i18n, search_empty)}</p>
                        <p><a href="/events">{t!(i18n, search_clear)}</a></p>
                    </div>
                }.into_any()
            } else {
                view! {
                    <EventCardList cards=r.results.items />
                    <Pagination page=q.page pages base=base.href() />
                }.into_any()
            }}
        </section>
    }
}

/// Collects the form into a canonical search URL.
#[cfg(feature = "hydrate")]
fn form_href(form: &web_sys::HtmlFormElement) -> Option<String> {
    use wasm_bindgen::JsCast;
    let data = web_sys::FormData::new_with_form(form).ok()?;
    let mut pairs: Vec<(String, String)> = Vec::new();
    let entries = js_sys::try_iter(&data).ok()??;
    for entry in entries.flatten() {
        let arr: js_sys::Array = entry.dyn_into().ok()?;
        let (k, v) = (arr.get(0).as_string()?, arr.get(1).as_string().unwrap_or_default());
        pairs.push((k, v));
    }
    let (query, _) = SearchQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    Some(query.href())
}

#[component]
fn SearchPanel(r: SearchResults, keyword: Memo<String>) -> impl IntoView {
    let i18n = use_i18n();
    let q = r.query.clone();
    let form_ref = NodeRef::<leptos::html::Form>::new();
    let input_ref = NodeRef::<leptos::html::Input>::new();

    // Navigate to the form's search: `replace` while typing, push otherwise.
    let go = move |replace: bool| {
        #[cfg(feature = "hydrate")]
        if let Some(form) = form_ref.get_untracked()
            && let Some(href) = form_href(&form)
        {
            let navigate = leptos_router::hooks::use_navigate();
            navigate(&href, leptos_router::NavigateOptions { replace, scroll: false, ..Default::default() });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = replace;
    };
    // Debounce: each keystroke replaces (and so cancels) the pending timer. Browser only:
    // a local value created during SSR would be dropped on another thread.
    #[cfg(feature = "hydrate")]
    let on_input = {
        let pending = StoredValue::new_local(None::<gloo_timers::callback::Timeout>);
        move |_: leptos::ev::Event| {
            pending.update_value(|p| {
                *p = Some(gloo_timers::callback::Timeout::new(DEBOUNCE_MS, move || go(true)));
            });
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let on_input = move |_: leptos::ev::Event| {
        let _ = DEBOUNCE_MS;
    };
    let on_change = move |ev: leptos::ev::Event| {
        // Typing in the keyword box is handled by on:input (debounced).
        if event_target_is_keyword(&ev) {
            return;
        }
        go(false);
    };
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        go(false);
    };
    // `/` focuses the keyword box (unless typing somewhere already).
    #[cfg(feature = "hydrate")]
    {
        let handle = window_event_listener(leptos::ev::keydown, move |ev| {
            use wasm_bindgen::JsCast;
            let typing = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .is_some_and(|el| matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"));
            if ev.key() == "/"
                && !typing
                && let Some(input) = input_ref.get_untracked()
            {
                ev.prevent_default();
                let _ = input.focus();
            }
        });
        on_cleanup(move || handle.remove());
    }
    let lang = move || lang_of(i18n.get_locale());
    let facets = r.facets.clone();
    view! {
        <form
            class="search__panel"
            method="get"
            action="/events"
            role="search"
            node_ref=form_ref
            on:change=on_change
            on:submit=on_submit
        >
            <div class="search__keyword">
                <label for="q">{t!(i18n, search_keyword)}</label>
                <input
                    id="q"
                    name="q"
                    type="search"
                    node_ref=input_ref
                    value=keyword.get_untracked()
                    placeholder=move || t_string!(i18n, search_placeholder).to_string()
                    autocomplete="off"
                    aria-keyshortcuts="/"
                    on:input=on_input
                />
                <button type="submit" class="button button--primary">{t!(i18n, search_submit)}</button>
            </div>
            <TagFacet legend=view! { {t!(i18n, tags)} " " <span class="hint">{t!(i18n, search_and)}</span> }.into_any() name="tags" facets=facets.tags.clone() />
            <TagFacet legend=view! { {t!(i18n, tools)} }.into_any() name="tools" facets=facets.tools.clone() />
            <fieldset class="facet">
                <legend>{t!(i18n, search_date)}</legend>
                <div class="facet__options">
                    {facets.dates.into_iter().map(|d| {
                        let id = format!("date-{}", d.value);
                        let preset = DatePreset::parse(&d.value).unwrap_or(DatePreset::Upcoming);
                        view! {
                            <label class="facet__option" for=id.clone()>
                                <input type="radio" id=id.clone() name="date" value=d.value.clone() checked=d.selected />
                                <span>{move || date_label(i18n, preset)}</span>
                                <span class="facet__count">{d.count}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
                <div class="facet__range">
                    <label for="from">{t!(i18n, search_from)}</label>
                    <input id="from" name="from" type="date" value=q.from.map(|d| d.to_string()).unwrap_or_default() />
                    <label for="to">{t!(i18n, search_to)}</label>
                    <input id="to" name="to" type="date" value=q.to.map(|d| d.to_string()).unwrap_or_default() />
                </div>
            </fieldset>
            <fieldset class="facet">
                <legend>{t!(i18n, search_prefs)}</legend>
                <div class="facet__options">
                    {facets.prefs.into_iter().map(|p| {
                        let id = format!("pref-{}", p.value);
                        let pref = Pref::parse(&p.value).unwrap_or(Pref::Free);
                        view! {
                            <label class="facet__option" for=id.clone()>
                                <input type="checkbox" id=id.clone() name="pref" value=p.value.clone() checked=p.selected />
                                <span>{move || pref_label(i18n, pref)}</span>
                                <span class="facet__count">{p.count}</span>
                            </label>
                        }
                    }).collect_view()}
                </div>
            </fieldset>
            <div class="search__selects">
                <label for="area">{t!(i18n, search_area)}</label>
                <select id="area" name="area">
                    <option value="" selected=q.area.is_none()>{t!(i18n, search_any)}</option>
                    <option value="online" selected=q.area.as_deref() == Some("online")>{t!(i18n, online)}</option>
                    {PREFECTURES.iter().map(|(code, _, _)| {
                        let code = *code;
                        view! {
                            <option value=code selected=q.area.as_deref() == Some(code)>
                                {move || crate::geo::prefecture_name(code, lang()).unwrap_or(code).to_string()}
                            </option>
                        }
                    }).collect_view()}
                </select>
                <label for="lang-filter">{t!(i18n, language)}</label>
                <select id="lang-filter" name="lang">
                    <option value="" selected=q.lang.is_none()>{t!(i18n, search_any)}</option>
                    <option value="ja" selected=q.lang.as_deref() == Some("ja")>{t!(i18n, lang_ja)}</option>
                    <option value="en" selected=q.lang.as_deref() == Some("en")>{t!(i18n, lang_en)}</option>
                </select>
                <label for="sort">{t!(i18n, search_sort)}</label>
                <select id="sort" name="sort">
                    {Sort::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str() selected=q.sort == s>{move || sort_label(i18n, s)}</option>
                    }).collect_view()}
                </select>
            </div>
        </form>
    }
}

#[component]
fn TagFacet(legend: AnyView, name: &'static str, facets: Vec<FacetCount<TagRef>>) -> impl IntoView {
    view! {
        <fieldset class="facet">
            <legend>{legend}</legend>
            <div class="facet__options facet__options--chips">
                {facets.into_iter().map(|f| {
                    let id = format!("{name}-{}", f.value.slug);
                    view! {
                        <label class="facet__chip" class:facet__chip--on=f.selected for=id.clone()>
                            <input type="checkbox" id=id.clone() name=name value=f.value.name.clone() checked=f.selected />
                            <span>{f.value.name}</span>
                            <span class="facet__count">{f.count}</span>
                        </label>
                    }
                }).collect_view()}
            </div>
        </fieldset>
    }
}

fn event_target_is_keyword(ev: &leptos::ev::Event) -> bool {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| el.id() == "q")
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        false
    }
}

fn date_label(i18n: leptos_i18n::I18nContext<Locale>, p: DatePreset) -> String {
    match p {
        DatePreset::Today => t_string!(i18n, date_today),
        DatePreset::Tomorrow => t_string!(i18n, date_tomorrow),
        DatePreset::ThisWeek => t_string!(i18n, date_this_week),
        DatePreset::ThisWeekend => t_string!(i18n, date_this_weekend),
        DatePreset::NextWeek => t_string!(i18n, date_next_week),
        DatePreset::ThisMonth => t_string!(i18n, date_this_month),
        DatePreset::NextMonth => t_string!(i18n, date_next_month),
        DatePreset::Upcoming => t_string!(i18n, date_upcoming),
        DatePreset::Past => t_string!(i18n, date_past),
        DatePreset::All => t_string!(i18n, date_all),
    }
    .to_string()
}

fn pref_label(i18n: leptos_i18n::I18nContext<Locale>, p: Pref) -> String {
    match p {
        Pref::Free => t_string!(i18n, pref_free),
        Pref::Online => t_string!(i18n, pref_online),
        Pref::Offline => t_string!(i18n, pref_offline),
        Pref::Available => t_string!(i18n, pref_available),
        Pref::WaitlistOk => t_string!(i18n, pref_waitlist_ok),
        Pref::English => t_string!(i18n, pref_english),
        Pref::Beginner => t_string!(i18n, pref_beginner),
        Pref::Weekend => t_string!(i18n, pref_weekend),
        Pref::Evening => t_string!(i18n, pref_evening),
        Pref::HandsOn => t_string!(i18n, pref_hands_on),
    }
    .to_string()
}

fn sort_label(i18n: leptos_i18n::I18nContext<Locale>, s: Sort) -> String {
    match s {
        Sort::Date => t_string!(i18n, sort_date),
        Sort::New => t_string!(i18n, sort_new),
        Sort::Popular => t_string!(i18n, sort_popular),
        Sort::Seats => t_string!(i18n, sort_seats),
    }
    .to_string()
}
