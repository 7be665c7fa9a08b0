//! E-mail delivery of messages over SMTP (lettre), when `TSUDOI_SMTP_URL` is set: a
//! background worker sends what is due, retrying with growing pauses, and records each
//! recipient's state (pending, sent, failed) for organizers to see.

use chrono::Duration;
use lettre::message::{Mailbox, header::ContentType};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::server::state::AppState;
use crate::server::store::MailJob;

/// Attempts before a delivery is marked failed.
pub const MAX_ATTEMPTS: i64 = 5;

/// Pause before the next attempt after `attempts` failures: 1 min, 5 min, 30 min, 2 h.
pub fn backoff(attempts: i64) -> Duration {
    match attempts {
        0 | 1 => Duration::minutes(1),
        2 => Duration::minutes(5),
        3 => Duration::minutes(30),
        _ => Duration::hours(2),
    }
}

/// Builds the transport from the configured URL (`smtp://host:port`, `smtps://user:pass@host`
/// or `smtp://…?tls=required`).
pub fn transport(url: &str) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url).map(|b| b.build()).map_err(|e| e.to_string())
}

/// A plain-text mail from `from` to the address `to`.
fn plain_mail(
    from: &Mailbox,
    to: &str,
    subject: &str,
    body: impl lettre::message::IntoBody,
) -> Result<Message, String> {
    let to: Mailbox = to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    Message::builder()
        .from(from.clone())
        .to(to)
        .subject(subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

async fn send_one(transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Mailbox, job: &MailJob) -> Result<(), String> {
    let email = plain_mail(from, &job.to, &job.subject, body_for(job))?;
    transport.send(email).await.map(|_| ()).map_err(|e| e.to_string())
}

/// The mail's text: the message, plus the venue of the recipient's frame when it has its own
/// (hybrid events), plus the event's time in the recipient's own zone when they chose one on
/// /me and it reads differently from the event's.
pub fn body_for(job: &MailJob) -> String {
    let mut body = job.body.clone();
    if let Some(venue) = job.frame_venue.as_ref().filter(|v| !v.is_inherited()) {
        body.push_str(&format!("\n\nあなたの参加枠の会場 / your frame's venue: {}", venue_text(venue)));
    }
    if let Some(line) = own_zone_line(job) {
        body.push_str(&format!("\n\n{line}"));
    }
    body
}

/// A frame's own venue in a mail: how to take part, then its place.
fn venue_text(v: &crate::events::model::FrameVenue) -> String {
    use crate::events::model::VenueKind;
    let kind = v.kind.map(|k| match k {
        VenueKind::Online => "オンライン / online",
        VenueKind::Offline => "現地 / in person",
        VenueKind::Hybrid => "現地またはオンライン / in person or online",
    });
    let place = crate::events::model::place_line(&v.place, &v.address);
    kind.into_iter().chain((!place.is_empty()).then_some(place.as_str())).collect::<Vec<_>>().join(" — ")
}

/// The event's time in the recipient's own zone, when it reads differently.
fn own_zone_line(job: &MailJob) -> Option<String> {
    use crate::time::{Lang, ZonedSpan};
    use chrono::TimeZone;
    let (Some(zone), Some((starts, ends, event_zone))) = (&job.time_zone, &job.event) else {
        return None;
    };
    let starts = chrono::Utc.timestamp_opt(*starts, 0).single()?;
    let ends = chrono::Utc.timestamp_opt(*ends, 0).single()?;
    let theirs = ZonedSpan::resolve(starts, ends, zone);
    let events = ZonedSpan::resolve(starts, ends, event_zone);
    let (here, there) = (theirs.label(Lang::Ja), events.label(Lang::Ja));
    if zone == event_zone || here == there {
        return None;
    }
    Some(format!("あなたの時間帯 / your time zone ({zone}): {here} {}", theirs.zone_abbr))
}

/// Sends one mail now, outside the message queue: for account mails whose link must not be
/// stored in clear (a password reset), sent once and not retried.
pub async fn send_now(state: &AppState, to: &str, subject: &str, body: &str) -> Result<(), String> {
    let url = state.config.smtp_url.as_deref().ok_or("no SMTP configured")?;
    let from: Mailbox = state.config.mail_from.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    // Quoted-printable: the link stays readable in the raw mail (base64 would hide it).
    let body = lettre::message::Body::new_with_encoding(
        body.to_string(),
        lettre::message::header::ContentTransferEncoding::QuotedPrintable,
    )
    .map_err(|_| "the mail body cannot be encoded".to_string())?;
    let email = plain_mail(&from, to, subject, body)?;
    transport(url)?.send(email).await.map(|_| ()).map_err(|e| e.to_string())
}

/// Sends every e-mail due now; returns how many were attempted.
pub async fn deliver_due(state: &AppState) -> usize {
    let Some(url) = state.config.smtp_url.as_deref() else { return 0 };
    let transport = match transport(url) {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "TSUDOI_SMTP_URL is not usable");
            return 0;
        }
    };
    let from: Mailbox = match state.config.mail_from.parse() {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "TSUDOI_MAIL_FROM is not an address");
            return 0;
        }
    };
    let jobs = match state.store.claim_deliveries(crate::time::now(), Duration::minutes(5), 50).await {
        Ok(jobs) => jobs,
        Err(e) => {
            tracing::warn!(error = %e, "claiming e-mails failed");
            return 0;
        }
    };
    let n = jobs.len();
    for job in jobs {
        let outcome = send_one(&transport, &from, &job).await;
        let attempts = job.attempts + 1;
        let retry_at = (attempts < MAX_ATTEMPTS).then(|| crate::time::now() + backoff(attempts));
        if let Err(e) = &outcome {
            tracing::warn!(message_id = job.message_id, user_id = job.user_id, attempts, error = %e, "e-mail not delivered");
        }
        if let Err(e) = state.store.record_delivery(job.message_id, job.user_id, &outcome, retry_at).await {
            tracing::error!(error = %e, "recording an e-mail delivery failed");
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(time_zone: Option<&str>) -> MailJob {
        // 2025-04-21 02:00–03:00 JST (the seed seminar).
        let starts = chrono::DateTime::parse_from_rfc3339("2025-04-20T17:00:00Z").unwrap().timestamp();
        MailJob {
            message_id: 1,
            user_id: 1,
            to: "a@example.com".into(),
            subject: "s".into(),
            body: "本文".into(),
            attempts: 0,
            time_zone: time_zone.map(str::to_string),
            event: Some((starts, starts + 3600, "Asia/Tokyo".into())),
            frame_venue: None,
        }
    }

    #[test]
    fn a_mail_names_the_venue_of_the_recipient_s_frame_when_it_has_its_own() {
        use crate::events::model::{FrameVenue, VenueKind};
        let online = FrameVenue { kind: Some(VenueKind::Online), ..FrameVenue::default() };
        let body = body_for(&MailJob { frame_venue: Some(online), ..job(None) });
        assert_eq!(body, "本文\n\nあなたの参加枠の会場 / your frame's venue: オンライン / online");
        let room =
            FrameVenue { kind: Some(VenueKind::Offline), place: "Room A".into(), address: "大阪市北区".into() };
        let body = body_for(&MailJob { frame_venue: Some(room), ..job(Some("Europe/Berlin")) });
        assert!(body.contains("venue: 現地 / in person — Room A, 大阪市北区\n\nあなたの時間帯"), "{body}");
        assert_eq!(body_for(&MailJob { frame_venue: Some(FrameVenue::default()), ..job(None) }), "本文", "inherited");
    }

    #[test]
    fn a_mail_adds_the_event_time_in_the_recipient_s_own_zone_only_when_it_differs() {
        let body = body_for(&job(Some("Europe/Berlin")));
        assert!(body.starts_with("本文\n\n"), "{body}");
        assert!(body.contains("(Europe/Berlin): 2025/04/20(日) 19:00〜20:00 CEST"), "{body}");
        assert_eq!(body_for(&job(Some("Asia/Tokyo"))), "本文");
        assert_eq!(body_for(&job(Some("Asia/Seoul"))), "本文", "the same clock, nothing to add");
        assert_eq!(body_for(&job(None)), "本文", "no zone chosen");
        assert_eq!(body_for(&MailJob { event: None, ..job(Some("Europe/Berlin")) }), "本文", "no event");
    }

    #[test]
    fn pauses_grow() {
        assert!(backoff(1) < backoff(2) && backoff(2) < backoff(3) && backoff(3) < backoff(4));
    }
}
