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

async fn send_one(transport: &AsyncSmtpTransport<Tokio1Executor>, from: &Mailbox, job: &MailJob) -> Result<(), String> {
    let to: Mailbox = job.to.parse().map_err(|e: lettre::address::AddressError| e.to_string())?;
    let email = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(job.subject.clone())
        .header(ContentType::TEXT_PLAIN)
        .body(job.body.clone())
        .map_err(|e| e.to_string())?;
    transport.send(email).await.map(|_| ()).map_err(|e| e.to_string())
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

    #[test]
    fn pauses_grow() {
        assert!(backoff(1) < backoff(2) && backoff(2) < backoff(3) && backoff(3) < backoff(4));
    }
}
