//! JSON shapes of the API: connpass's field names and types first (`lat`/`lon` as decimal
//! strings, `limit` an integer or null, strings never null), then Tsudoi's extra fields.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::events::model::{EventStatus, FrameMethod};
use crate::server::markdown;
use crate::server::store::public::{MaterialRow, PublicEvent, PublicGroup, PublicUser};
use crate::tags::model::TagKind;

/// ISO 8601 with the offset of `zone` at that instant: `2026-04-15T19:00:00+09:00`.
pub fn iso_in(t: DateTime<Utc>, zone: &str) -> String {
    let tz: chrono_tz::Tz = zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    t.with_timezone(&tz).format("%Y-%m-%dT%H:%M:%S%:z").to_string()
}

fn iso_opt(t: Option<DateTime<Utc>>, zone: &str) -> Value {
    t.map_or(Value::Null, |t| Value::String(iso_in(t, zone)))
}

/// connpass's open_status: `preopen` before any frame opens, `open` while one takes
/// registrations, `close` afterwards (or when the event has no frames), `cancelled`.
pub fn open_status(e: &PublicEvent, now: DateTime<Utc>) -> &'static str {
    if e.status == EventStatus::Cancelled {
        return "cancelled";
    }
    if e.frames.is_empty() || e.ends_at <= now || e.starts_at <= now {
        return "close";
    }
    let open_now =
        e.frames.iter().any(|f| f.opens_at.is_none_or(|o| o <= now) && f.closes_at.unwrap_or(e.starts_at) > now);
    if open_now {
        return "open";
    }
    if e.frames.iter().any(|f| f.opens_at.is_some_and(|o| o > now)) { "preopen" } else { "close" }
}

pub fn event(e: &PublicEvent, origin: &str, now: DateTime<Utc>) -> Value {
    let zone = e.time_zone.as_str();
    let (accepted, limit, waiting) = e.seat_totals();
    let coord = |v: Option<f64>| v.map_or(Value::Null, |x| Value::String(format!("{x:.12}")));
    let tag_list = |kind: TagKind| -> Vec<Value> {
        e.tags
            .iter()
            .filter(|t| t.kind == kind)
            .map(|t| json!({ "slug": t.slug, "name": t.name, "url": format!("{origin}/tags/{}", t.slug) }))
            .collect()
    };
    let opens = e.frames.iter().map(|f| f.opens_at).collect::<Option<Vec<_>>>().and_then(|v| v.into_iter().min());
    let closes = e.frames.iter().map(|f| f.closes_at.unwrap_or(e.starts_at)).max();
    let ((title_ja, catch_ja, description_ja), (title_en, catch_en, description_en)) = e.texts();
    let html = |md: &str| if md.is_empty() { String::new() } else { markdown::to_safe_html(md) };
    json!({
        "id": e.id,
        "title": e.title,
        "catch": e.catch,
        "description": markdown::to_safe_html(&e.description),
        "title_ja": title_ja,
        "title_en": title_en,
        "catch_ja": catch_ja,
        "catch_en": catch_en,
        "description_ja": html(&description_ja),
        "description_en": html(&description_en),
        "url": format!("{origin}/events/{}", e.id),
        "image_url": e.image_url.clone().unwrap_or_default(),
        "hash_tag": e.hashtag,
        "started_at": iso_in(e.starts_at, zone),
        "ended_at": iso_in(e.ends_at, zone),
        "limit": if e.frames.is_empty() { Value::Null } else { json!(limit) },
        "event_type": e.event_type,
        "open_status": open_status(e, now),
        "group": {
            "id": e.group.id,
            "subdomain": e.group.slug,
            "title": e.group.title,
            "url": format!("{origin}/groups/{}", e.group.slug),
        },
        "address": e.address,
        "place": e.place,
        "lat": coord(e.lat),
        "lon": coord(e.lon),
        "owner_id": e.owner.as_ref().map_or(0, |o| o.id),
        "owner_nickname": e.owner.as_ref().map_or("", |o| o.nickname.as_str()),
        "owner_display_name": e.owner.as_ref().map_or("", |o| o.display_name.as_str()),
        "accepted": accepted,
        "waiting": waiting,
        "updated_at": iso_in(e.updated_at.max(e.created_at), zone),
        // --- Tsudoi's additions ---
        "created_at": iso_in(e.created_at, zone),
        "status": e.status.as_str(),
        "time_zone": e.time_zone,
        "language": e.language.as_str(),
        "venue_kind": e.venue_kind.as_str(),
        "prefecture": e.prefecture,
        "tags": tag_list(TagKind::Topic),
        "tools": tag_list(TagKind::Tool),
        "registration": { "opens_at": iso_opt(opens, zone), "closes_at": iso_opt(closes, zone) },
        "frames": e.frames.iter().map(|f| json!({
            "id": f.id,
            "name": f.name,
            "method": match f.method { FrameMethod::FirstCome => "first_come", FrameMethod::Lottery => "lottery" },
            "fee": f.fee,
            "limit": f.seats.limit,
            "accepted": f.seats.accepted,
            "waiting": f.seats.waiting,
            "opens_at": iso_opt(f.opens_at, zone),
            "closes_at": iso_opt(Some(f.closes_at.unwrap_or(e.starts_at)), zone),
            "lottery_draw_at": iso_opt(f.draw_at, zone),
            "lottery_drawn": f.drawn,
            "promotion_frozen": f.promotion_frozen,
        })).collect::<Vec<_>>(),
        "speakers": e.speakers.iter().map(|s| json!({
            "name": s.name, "affiliation": s.affiliation, "title": s.talk_title,
        })).collect::<Vec<_>>(),
        "ics_url": format!("{origin}/events/{}.ics", e.id),
    })
}

pub fn group(g: &PublicGroup, origin: &str) -> Value {
    json!({
        "id": g.id,
        "subdomain": g.slug,
        "title": g.title,
        "sub_title": "",
        "url": format!("{origin}/groups/{}", g.slug),
        "description": markdown::to_safe_html(&g.description),
        "owner_text": g.owner.as_ref().map_or("", |o| o.display_name.as_str()),
        "image_url": g.image_url.clone().unwrap_or_default(),
        "website_url": g.website.clone().unwrap_or_default(),
        "website_name": "",
        "twitter_username": "",
        "facebook_url": "",
        "member_users_count": g.member_count,
        // --- Tsudoi's additions ---
        "updated_at": iso_in(g.updated_at, "Asia/Tokyo"),
        "ics_url": format!("{origin}/groups/{}/events.ics", g.slug),
        "atom_url": format!("{origin}/groups/{}/feed.atom", g.slug),
    })
}

pub fn user(u: &PublicUser, origin: &str) -> Value {
    json!({
        "id": u.id,
        "nickname": u.nickname,
        "display_name": u.display_name,
        "description": u.bio,
        "url": format!("{origin}/users/{}", urlencoding::encode(&u.nickname)),
        "image_url": "",
        "created_at": iso_in(u.created_at, "Asia/Tokyo"),
        "attended_event_count": u.attended_event_count,
        "organize_event_count": u.organize_event_count,
        "presenter_event_count": u.presenter_event_count,
        "bookmark_event_count": 0,
    })
}

pub fn presentation(m: &MaterialRow, _origin: &str) -> Value {
    json!({
        "user": { "id": m.user.id, "nickname": m.user.nickname },
        "url": m.url,
        "name": m.title,
        "presenter": { "id": m.user.id, "nickname": m.user.nickname },
        "presentation_type": m.kind,
        "created_at": iso_in(m.created_at, "Asia/Tokyo"),
        // --- Tsudoi's additions ---
        "id": m.id,
        "event_id": m.event_id,
    })
}
