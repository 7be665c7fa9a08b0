//! What search engines and link previews read: schema.org `Event` JSON-LD.

use serde_json::{Value, json};

use super::model::{EventDetail, EventStatus, SpokenLanguage, VenueKind};

/// JSON-LD for the event page, safe to place inside `<script type="application/ld+json">`
/// (`<`, `>` and `&` are escaped, so no text can close the element).
pub fn json_ld(d: &EventDetail, origin: &str) -> String {
    let card = &d.card;
    let status = match card.status {
        EventStatus::Cancelled => "https://schema.org/EventCancelled",
        _ => "https://schema.org/EventScheduled",
    };
    let mode = match card.venue_kind {
        VenueKind::Online => "https://schema.org/OnlineEventAttendanceMode",
        VenueKind::Offline => "https://schema.org/OfflineEventAttendanceMode",
        VenueKind::Hybrid => "https://schema.org/MixedEventAttendanceMode",
    };
    let mut locations = Vec::new();
    if card.venue_kind != VenueKind::Online {
        let mut place = json!({
            "@type": "Place",
            "name": if d.place.is_empty() { d.address.clone() } else { d.place.clone() },
            "address": {
                "@type": "PostalAddress",
                "streetAddress": d.address,
                "addressCountry": "JP",
            },
        });
        if let Some(pref) =
            card.prefecture.as_deref().and_then(|c| crate::geo::prefecture_name(c, crate::time::Lang::Ja))
        {
            place["address"]["addressRegion"] = json!(pref);
        }
        if let (Some(lat), Some(lon)) = (d.lat, d.lon) {
            place["geo"] = json!({ "@type": "GeoCoordinates", "latitude": lat, "longitude": lon });
        }
        locations.push(place);
    }
    if card.venue_kind != VenueKind::Offline {
        // The meeting URL itself is for confirmed registrants only; the page stands in.
        locations.push(json!({ "@type": "VirtualLocation", "url": d.url }));
    }
    let offers: Vec<Value> = d
        .frames
        .iter()
        .map(|f| {
            let availability = if f.seats.is_full() {
                "https://schema.org/SoldOut"
            } else if f.seats.limit - f.seats.accepted <= (f.seats.limit / 10).max(1) {
                "https://schema.org/LimitedAvailability"
            } else {
                "https://schema.org/InStock"
            };
            let mut offer = json!({
                "@type": "Offer",
                "name": f.name,
                "price": f.fee,
                "priceCurrency": "JPY",
                "availability": availability,
                "url": d.url,
            });
            if let Some(o) = f.opens_at {
                offer["validFrom"] = json!(o.to_rfc3339());
            }
            offer
        })
        .collect();
    let language: Value = match d.language {
        SpokenLanguage::Ja => json!("ja"),
        SpokenLanguage::En => json!("en"),
        SpokenLanguage::Multi => json!(["ja", "en"]),
    };
    let description: String = d.description_text.chars().take(500).collect();
    let mut v = json!({
        "@context": "https://schema.org",
        "@type": "Event",
        "name": card.title,
        "description": if description.trim().is_empty() { d.catch.clone() } else { description },
        "url": d.url,
        "startDate": card.span.start_iso(),
        "endDate": card.span.end_iso(),
        "eventStatus": status,
        "eventAttendanceMode": mode,
        "location": locations,
        "organizer": {
            "@type": "Organization",
            "name": card.group_title,
            "url": format!("{origin}/groups/{}", card.group_slug),
        },
        "performer": d.speakers.iter().map(|s| {
            let mut p = json!({ "@type": "Person", "name": s.name });
            if !s.affiliation.is_empty() {
                p["affiliation"] = json!({ "@type": "Organization", "name": s.affiliation });
            }
            p
        }).collect::<Vec<_>>(),
        "offers": offers,
        "inLanguage": language,
        "keywords": card.tags.iter().map(|t| t.name.clone()).collect::<Vec<_>>().join(","),
    });
    if let Some(img) = &d.image_url {
        v["image"] = json!([img]);
    }
    if card.seats.limit > 0 {
        v["maximumAttendeeCapacity"] = json!(card.seats.limit);
        v["remainingAttendeeCapacity"] = json!((card.seats.limit - card.seats.accepted).max(0));
    }
    v.to_string().replace('<', "\\u003c").replace('>', "\\u003e").replace('&', "\\u0026")
}
