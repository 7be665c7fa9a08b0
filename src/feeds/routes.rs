//! Routes of the calendars and feeds.
//!
//! | path | what |
//! |---|---|
//! | `/events/{id}.ics` | one event |
//! | `/events.ics?…` | any search (the search page's parameters) |
//! | `/groups/{slug}/events.ics`, `/tags/{slug}/events.ics` | a group's / a tag's events |
//! | `/calendar/{secret}/registrations.ics` | my registrations (private, regenerable) |
//! | `/feed.atom`, `/groups/{slug}/feed.atom`, `/tags/{slug}/feed.atom` | new events |
//! | `/sitemap.xml`, `/robots.txt` | for search engines |

use axum::Router;
use axum::extract::{FromRequestParts, Path, RawQuery, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::Duration;

use super::atom::AtomFeed;
use super::ics::{Attendance, Calendar, CalendarEntry};
use crate::error::AppError;
use crate::registrations::model::RegStatus;
use crate::search::model::SearchQuery;
use crate::server::http::{conditional, error_response};
use crate::server::state::AppState;
use crate::server::store::public::{
    EventFilter, EventOrder, GroupFilter, PublicEvent, PublicGroup, Reach, SitemapEntry,
};

/// `?hl=ja|en` on a calendar or feed: bilingual events in that language (absent: as stored,
/// the Japanese text first; an event without a text in that language keeps its own).
pub struct Hl(pub Option<crate::time::Lang>);

impl<S: Send + Sync> FromRequestParts<S> for Hl {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let lang =
            url_pairs(parts.uri.query().unwrap_or("")).into_iter().rev().find(|(k, _)| k == "hl").and_then(|(_, v)| {
                match v.as_str() {
                    "en" => Some(crate::time::Lang::En),
                    "ja" => Some(crate::time::Lang::Ja),
                    _ => None,
                }
            });
        Ok(Hl(lang))
    }
}

impl Hl {
    /// The events in the requested language.
    fn apply(&self, events: Vec<PublicEvent>) -> Vec<PublicEvent> {
        match self.0 {
            Some(lang) => events.into_iter().map(|e| e.in_language(lang)).collect(),
            None => events,
        }
    }
}

/// Most events in one calendar feed.
pub const FEED_EVENTS: u32 = 500;
/// Feeds keep events that ended up to this many days ago.
pub const FEED_PAST_DAYS: i64 = 90;
/// Entries of an Atom feed.
pub const ATOM_ENTRIES: u32 = 50;

const ICS: &str = "text/calendar; charset=utf-8";
const ATOM: &str = "application/atom+xml; charset=utf-8";
const PUBLIC_CACHE: &str = "public, max-age=300";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/events.ics", get(search_feed))
        .route("/events/{id}/event.ics", get(one_event))
        .route("/groups/{slug}/events.ics", get(group_feed))
        .route("/tags/{slug}/events.ics", get(tag_feed))
        .route("/calendar/{secret}/registrations.ics", get(private_feed))
        .route("/feed.atom", get(site_atom))
        .route("/groups/{slug}/feed.atom", get(group_atom))
        .route("/tags/{slug}/feed.atom", get(tag_atom))
        .route("/sitemap.xml", get(sitemap))
        .route("/robots.txt", get(robots))
}

/// `/events/{id}.ics` cannot be a route (a parameter with a suffix); it is rewritten to
/// `/events/{id}/event.ics` before routing.
pub async fn rewrite_event_ics(mut req: Request, next: Next) -> Response {
    if let Some(id) = req.uri().path().strip_prefix("/events/").and_then(|p| p.strip_suffix(".ics"))
        && !id.is_empty()
        && id.bytes().all(|b| b.is_ascii_digit())
    {
        let path = format!("/events/{id}/event.ics");
        let pq = match req.uri().query() {
            Some(q) => format!("{path}?{q}"),
            None => path,
        };
        if let Ok(uri) = pq.parse::<Uri>() {
            *req.uri_mut() = uri;
        }
    }
    next.run(req).await
}

fn host_of(public_url: &str) -> String {
    public_url.split("://").nth(1).unwrap_or(public_url).split('/').next().unwrap_or("tsudoi").to_string()
}

fn calendar_response(headers: &HeaderMap, cal: &Calendar<'_>, filename: &str, cache: &'static str) -> Response {
    let mut resp = conditional(headers, cal.render().into_bytes(), ICS, cache);
    if let Ok(v) = HeaderValue::from_str(&format!("inline; filename=\"{filename}\"")) {
        resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    resp
}

fn entries<'a>(state: &AppState, events: &'a [PublicEvent]) -> Vec<CalendarEntry<'a>> {
    events
        .iter()
        .map(|e| CalendarEntry {
            event: e,
            url: format!("{}/events/{}", state.config.public_url, e.id),
            attendance: None,
            frame_id: None,
        })
        .collect()
}

fn calendar<'a>(state: &AppState, name: String, entries: Vec<CalendarEntry<'a>>) -> Calendar<'a> {
    Calendar { name, uid_host: host_of(&state.config.public_url), entries }
}

/// Events of a feed: from `FEED_PAST_DAYS` ago on, soonest first.
fn feed_filter() -> EventFilter {
    EventFilter {
        ends_after: Some(crate::time::now() - Duration::days(FEED_PAST_DAYS)),
        order: EventOrder::Start,
        limit: FEED_EVENTS,
        ..Default::default()
    }
}

/// One event's `.ics`: public and unlisted events by their link; invitation-only ones with
/// the invitation's `?invite=` secret (the event page adds it), else 404.
async fn one_event(
    State(state): State<AppState>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    hl: Hl,
    headers: HeaderMap,
) -> Response {
    let Ok(id) = id.parse::<i64>() else {
        return error_response(&AppError::NotFound);
    };
    let pairs = url_pairs(&query.unwrap_or_default());
    let invite = pairs.iter().find(|(k, _)| k == "invite").map(|(_, v)| v.as_str());
    match state.store.event_gate(id).await {
        Ok(Some(gate)) if gate.admits(invite) => {}
        Ok(_) => return error_response(&AppError::NotFound),
        Err(e) => return error_response(&e),
    }
    let filter = EventFilter { ids: vec![id], reach: Reach::Admitted, limit: 1, ..Default::default() };
    match state.store.public_events(&filter).await.map(|(events, _)| hl.apply(events)) {
        Ok(events) if !events.is_empty() => {
            let cal = calendar(&state, events[0].title.clone(), entries(&state, &events));
            let mut resp = calendar_response(&headers, &cal, &format!("tsudoi-event-{id}.ics"), PUBLIC_CACHE);
            // A single event downloads (the "add to calendar" button); feeds open inline.
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"tsudoi-event-{id}.ics\"")) {
                resp.headers_mut().insert(header::CONTENT_DISPOSITION, v);
            }
            resp
        }
        Ok(_) => error_response(&AppError::NotFound),
        Err(e) => error_response(&e),
    }
}

async fn search_feed(State(state): State<AppState>, RawQuery(query): RawQuery, hl: Hl, headers: HeaderMap) -> Response {
    let raw = query.unwrap_or_default();
    let pairs: Vec<(String, String)> = url_pairs(&raw);
    let (q, _warnings) = SearchQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let ids = match state.store.search_ids(&q, crate::time::now(), FEED_EVENTS).await {
        Ok(ids) => ids,
        Err(e) => return error_response(&e),
    };
    let events = match state.store.public_events_by_ids(&ids).await {
        Ok(ev) => hl.apply(ev),
        Err(e) => return error_response(&e),
    };
    let name = search_feed_name(&q);
    let cal = calendar(&state, name, entries(&state, &events));
    calendar_response(&headers, &cal, "tsudoi-search.ics", PUBLIC_CACHE)
}

/// `Tsudoi: Rust 東京` from the query's keyword, tags, tools and area.
fn search_feed_name(q: &SearchQuery) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !q.q.trim().is_empty() {
        parts.push(q.q.trim().to_string());
    }
    parts.extend(q.tags.iter().chain(&q.tools).cloned());
    if let Some(area) = &q.area {
        parts.push(crate::geo::prefecture_name(area, crate::time::Lang::Ja).unwrap_or(area).to_string());
    }
    if parts.is_empty() { "Tsudoi: イベント / Events".into() } else { format!("Tsudoi: {}", parts.join(" ")) }
}

/// Decoded `key=value` pairs of a query string (`+` is a space).
pub fn url_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            let dec = |s: &str| urlencoding::decode(&s.replace('+', " ")).map(|c| c.into_owned()).unwrap_or_default();
            (dec(k), dec(v))
        })
        .collect()
}

/// The public group with this slug, or `NotFound`.
async fn group_by_slug(state: &AppState, slug: &str) -> Result<PublicGroup, AppError> {
    let filter = GroupFilter { slugs: vec![slug.to_string()], include_unlisted: true, limit: 1, ..Default::default() };
    let (mut found, _) = state.store.public_groups(&filter).await?;
    found.pop().ok_or(AppError::NotFound)
}

async fn group_feed(State(state): State<AppState>, Path(slug): Path<String>, hl: Hl, headers: HeaderMap) -> Response {
    let group = match group_by_slug(&state, &slug).await {
        Ok(g) => g,
        Err(e) => return error_response(&e),
    };
    let filter = EventFilter { group_ids: vec![group.id], reach: Reach::GroupPage, ..feed_filter() };
    match state.store.public_events(&filter).await {
        Ok((events, _)) => {
            let events = hl.apply(events);
            let cal = calendar(&state, format!("Tsudoi: {}", group.title), entries(&state, &events));
            calendar_response(&headers, &cal, &format!("{slug}.ics"), PUBLIC_CACHE)
        }
        Err(e) => error_response(&e),
    }
}

async fn tag_feed(State(state): State<AppState>, Path(slug): Path<String>, hl: Hl, headers: HeaderMap) -> Response {
    let tag = match state.store.fetch_tag(&slug).await.and_then(|t| t.ok_or(AppError::NotFound)) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let filter = EventFilter { tag_slugs: vec![tag.tag.slug.clone()], ..feed_filter() };
    match state.store.public_events(&filter).await {
        Ok((events, _)) => {
            let events = hl.apply(events);
            let cal = calendar(&state, format!("Tsudoi: {}", tag.tag.name), entries(&state, &events));
            calendar_response(&headers, &cal, &format!("{slug}.ics"), PUBLIC_CACHE)
        }
        Err(e) => error_response(&e),
    }
}

async fn private_feed(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    hl: Hl,
    headers: HeaderMap,
) -> Response {
    if secret.len() < 20 {
        return error_response(&AppError::NotFound);
    }
    let (user_id, nickname) = match state.store.user_by_calendar_token(&secret).await {
        Ok(Some(u)) => u,
        Ok(None) => return error_response(&AppError::NotFound),
        Err(e) => return error_response(&e),
    };
    // Every event I am registered for, whatever others see of it: also those I attend
    // anonymously or keep off my profile, and unlisted or invitation-only ones.
    let mine = match state.store.my_registrations(user_id).await {
        Ok(mine) => mine,
        Err(e) => return error_response(&e),
    };
    // Event → my frame there, for each registration not cancelled.
    let frames: std::collections::HashMap<i64, i64> = mine
        .iter()
        .filter(|m| m.registration.status != RegStatus::Cancelled)
        .map(|m| (m.card.id, m.registration.frame_id))
        .collect();
    let filter = EventFilter { ids: frames.keys().copied().collect(), reach: Reach::Admitted, ..feed_filter() };
    let events = match state.store.public_events(&filter).await {
        Ok((events, _)) => hl.apply(events),
        Err(e) => return error_response(&e),
    };
    let waitlisted: std::collections::HashSet<i64> =
        mine.iter().filter(|m| m.registration.status == RegStatus::Waitlisted).map(|m| m.card.id).collect();
    let entries = entries(&state, &events)
        .into_iter()
        .map(|entry| CalendarEntry {
            attendance: Some(if waitlisted.contains(&entry.event.id) {
                Attendance::Waitlisted
            } else {
                Attendance::Confirmed
            }),
            // Each attendee's own venue: a hybrid event's in-person and online frames differ.
            frame_id: frames.get(&entry.event.id).copied(),
            ..entry
        })
        .collect();
    let cal = calendar(&state, format!("Tsudoi: {nickname} の参加イベント"), entries);
    let mut resp = calendar_response(&headers, &cal, "tsudoi-registrations.ics", "private, max-age=300");
    // The URL is a secret: keep it out of referrers and search engines.
    resp.headers_mut().insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    resp.headers_mut().insert("x-robots-tag", HeaderValue::from_static("noindex"));
    resp
}

async fn atom_response(
    state: &AppState,
    headers: &HeaderMap,
    hl: &Hl,
    filter: EventFilter,
    title: String,
    self_path: &str,
    page_path: &str,
) -> Response {
    let filter = EventFilter { order: EventOrder::Created, limit: ATOM_ENTRIES, ..filter };
    match state.store.public_events(&filter).await {
        Ok((events, _)) => {
            let events = hl.apply(events);
            let origin = &state.config.public_url;
            let feed = AtomFeed {
                title,
                self_url: format!("{origin}{self_path}"),
                page_url: format!("{origin}{page_path}"),
                origin: origin.clone(),
                events: &events,
                now: crate::time::now(),
            };
            conditional(headers, feed.render().into_bytes(), ATOM, PUBLIC_CACHE)
        }
        Err(e) => error_response(&e),
    }
}

async fn site_atom(State(state): State<AppState>, hl: Hl, headers: HeaderMap) -> Response {
    atom_response(
        &state,
        &headers,
        &hl,
        EventFilter::default(),
        "Tsudoi: 新着イベント".into(),
        "/feed.atom",
        "/events?sort=new",
    )
    .await
}

async fn group_atom(State(state): State<AppState>, Path(slug): Path<String>, hl: Hl, headers: HeaderMap) -> Response {
    let group = match group_by_slug(&state, &slug).await {
        Ok(g) => g,
        Err(e) => return error_response(&e),
    };
    let filter = EventFilter { group_ids: vec![group.id], reach: Reach::GroupPage, ..Default::default() };
    atom_response(
        &state,
        &headers,
        &hl,
        filter,
        format!("Tsudoi: {} の新着イベント", group.title),
        &format!("/groups/{slug}/feed.atom"),
        &format!("/groups/{slug}"),
    )
    .await
}

async fn tag_atom(State(state): State<AppState>, Path(slug): Path<String>, hl: Hl, headers: HeaderMap) -> Response {
    let tag = match state.store.fetch_tag(&slug).await.and_then(|t| t.ok_or(AppError::NotFound)) {
        Ok(t) => t,
        Err(e) => return error_response(&e),
    };
    let filter = EventFilter { tag_slugs: vec![tag.tag.slug.clone()], ..Default::default() };
    atom_response(
        &state,
        &headers,
        &hl,
        filter,
        format!("Tsudoi: {} の新着イベント", tag.tag.name),
        &format!("/tags/{slug}/feed.atom"),
        &format!("/tags/{slug}"),
    )
    .await
}

/// The sitemap protocol allows 50,000 URLs per file.
const SITEMAP_URLS: u32 = 50_000;

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&apos;")
}

async fn sitemap(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let entries = match state.store.sitemap(SITEMAP_URLS - 2).await {
        Ok(e) => e,
        Err(e) => return error_response(&e),
    };
    let origin = &state.config.public_url;
    let mut xml = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n",
    );
    for path in ["/", "/tags"] {
        xml.push_str(&format!("<url><loc>{}</loc></url>\n", xml_escape(&format!("{origin}{path}"))));
    }
    for e in entries {
        let (loc, updated) = match e {
            SitemapEntry::Event { id, updated_at } => (format!("{origin}/events/{id}"), updated_at),
            SitemapEntry::Group { slug, updated_at } => (format!("{origin}/groups/{slug}"), updated_at),
        };
        xml.push_str(&format!(
            "<url><loc>{}</loc><lastmod>{}</lastmod></url>\n",
            xml_escape(&loc),
            updated.format("%Y-%m-%dT%H:%M:%SZ")
        ));
    }
    xml.push_str("</urlset>\n");
    conditional(&headers, xml.into_bytes(), "application/xml; charset=utf-8", "public, max-age=3600")
}

async fn robots(State(state): State<AppState>) -> impl IntoResponse {
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /api/\nDisallow: /live/\nDisallow: /calendar/\nDisallow: /me\n\
         Disallow: /login\nDisallow: /signup\nDisallow: /events/*/receipt\nAllow: /api/v2/\n\n\
         Sitemap: {}/sitemap.xml\n",
        state.config.public_url
    );
    (StatusCode::OK, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], body)
}
