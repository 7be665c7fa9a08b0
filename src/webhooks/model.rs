//! Webhook wire types and rules: the types a webhook subscribes to, its URL, and how a
//! delivery is signed (the Standard Webhooks specification: `webhook-id`,
//! `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`
//! under the key whose base64 follows `whsec_`).

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// The types a webhook can subscribe to.
pub const TYPES: [&str; 6] = [
    "event.published",
    "event.updated",
    "event.cancelled",
    "registration.created",
    "registration.cancelled",
    "registration.promoted",
];

/// The type of the "send test" delivery.
pub const TEST_TYPE: &str = "webhook.test";

/// Most webhooks per group.
pub const MAX_PER_GROUP: usize = 10;

/// Delivery attempts before a delivery is given up (the first try and its retries).
pub const MAX_ATTEMPTS: i64 = 8;

/// Seconds before retry `n` (after the `n`-th failed attempt): 10 s, 1 min, 5 min, 30 min,
/// 2 h, 6 h, 12 h — about a day in all before a delivery is given up.
pub fn backoff_secs(failed_attempts: i64) -> i64 {
    match failed_attempts {
        ..=1 => 10,
        2 => 60,
        3 => 300,
        4 => 1_800,
        5 => 7_200,
        6 => 21_600,
        _ => 43_200,
    }
}

/// The subscribed types from a comma- or space-separated list: each known, none twice, at
/// least one. Answered in the order of [`TYPES`].
pub fn parse_types(raw: &str) -> Result<Vec<&'static str>, FieldError> {
    let mut picked = [false; TYPES.len()];
    for item in raw.split(|c: char| c == ',' || c.is_whitespace()).filter(|s| !s.is_empty()) {
        match TYPES.iter().position(|t| *t == item) {
            Some(i) => picked[i] = true,
            None => {
                return Err(FieldError::new(
                    "events",
                    "unknown_type",
                    "events are event.published, event.updated, event.cancelled, registration.created, \
                     registration.cancelled or registration.promoted",
                ));
            }
        }
    }
    let types: Vec<&'static str> = TYPES.iter().zip(picked).filter(|(_, p)| *p).map(|(t, _)| *t).collect();
    if types.is_empty() {
        return Err(FieldError::new("events", "required", "choose at least one event type"));
    }
    Ok(types)
}

/// A webhook's URL: `https://…` (or `http://…`), at most 2,000 characters, no credentials.
/// Where it points is checked again when delivering (see `webhooks::worker`).
pub fn validate_url(raw: &str) -> Result<String, FieldError> {
    let url = raw.trim();
    let bad = |msg: &str| FieldError::new("url", "invalid_url", msg);
    if url.len() > 2000 {
        return Err(bad("the URL is too long"));
    }
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| bad("the URL starts with https://"))?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad("the URL needs a host (and no user name or spaces)"));
    }
    Ok(url.to_string())
}

/// `whsec_` and 24 random bytes in base64: a new signing secret.
#[cfg(feature = "ssr")]
pub fn new_secret() -> String {
    use base64::Engine;
    use rand_core::RngCore;
    let mut key = [0u8; 24];
    rand_core::OsRng.fill_bytes(&mut key);
    format!("whsec_{}", base64::engine::general_purpose::STANDARD.encode(key))
}

/// The `webhook-signature` header's value for a delivery.
#[cfg(feature = "ssr")]
pub fn sign(secret: &str, msg_id: &str, timestamp: i64, body: &str) -> Option<String> {
    use base64::Engine;
    use hmac::{KeyInit, Mac};
    let b64 = base64::engine::general_purpose::STANDARD;
    let key = b64.decode(secret.strip_prefix("whsec_").unwrap_or(secret)).ok()?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{msg_id}.{timestamp}.{body}").as_bytes());
    Some(format!("v1,{}", b64.encode(mac.finalize().into_bytes())))
}

/// A webhook in the group admin (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub events: Vec<String>,
    /// Unix seconds.
    pub created_at: i64,
}

/// A new or rotated webhook's secret, shown this once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookSecret {
    pub id: i64,
    pub secret: String,
}

/// One delivery in the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook_id: i64,
    pub msg_id: String,
    pub r#type: String,
    /// `pending`, `sent` or `failed`.
    pub state: String,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    pub next_attempt_at: i64,
}

/// A group's webhooks and their latest deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WebhookPanel {
    pub hooks: Vec<Webhook>,
    pub deliveries: Vec<Delivery>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_known_ones_in_a_fixed_order_without_repeats() {
        assert_eq!(
            parse_types("registration.created, event.published,registration.created").unwrap(),
            ["event.published", "registration.created"]
        );
        assert_eq!(parse_types("").unwrap_err().code, "required");
        assert_eq!(parse_types("event.deleted").unwrap_err().code, "unknown_type");
    }

    #[test]
    fn urls_are_http_with_a_host_and_no_credentials() {
        assert_eq!(
            validate_url(" https://hooks.example.com/tsudoi?x=1 ").unwrap(),
            "https://hooks.example.com/tsudoi?x=1"
        );
        for bad in
            ["ftp://x", "https://", "https://user:pw@host/", "https://a b", "javascript:alert(1)", "hooks.example.com"]
        {
            assert!(validate_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn backoff_grows_to_half_a_day() {
        let waits: Vec<i64> = (1..MAX_ATTEMPTS).map(backoff_secs).collect();
        assert!(waits.windows(2).all(|w| w[0] < w[1]), "{waits:?}");
        assert_eq!(*waits.last().unwrap(), 43_200);
    }

    #[cfg(feature = "ssr")]
    #[test]
    fn signatures_match_the_standard_webhooks_test_vector() {
        // The example of the Standard Webhooks specification.
        let sig = sign(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(sig.as_deref(), Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="));
        let a = new_secret();
        assert!(a.starts_with("whsec_") && a != new_secret());
        assert!(sign(&a, "msg_1", 1, "{}").is_some());
    }
}
