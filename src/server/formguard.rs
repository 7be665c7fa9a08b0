//! Anti-spam on the sign-up form, without a third-party CAPTCHA: a honeypot field that people
//! never see (bots fill every field) and a signed ticket that says when the form was handed
//! out, so a form sent back faster than a person can fill it in is refused. The ticket is
//! `"{issued unix seconds}.{HMAC-SHA256 in hex}"`, signed with the site's `forms` key (kept in
//! the database, so every instance of a site accepts every other's tickets).

use std::net::IpAddr;

use hmac::{KeyInit, Mac};

use crate::error::{AppError, FieldError};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// How long a ticket stays good: a form left open for a day is reloaded.
pub const TICKET_LIFETIME_SECS: i64 = 24 * 3600;

/// The name of the honeypot field: hidden from people (and from assistive technology),
/// tempting for bots that fill in every URL-looking field.
pub const HONEYPOT_FIELD: &str = "homepage";

#[derive(Clone)]
pub struct FormGuard {
    key: Vec<u8>,
    /// A form sent back sooner than this after it was handed out is refused.
    min_fill_secs: i64,
}

impl std::fmt::Debug for FormGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FormGuard").field("min_fill_secs", &self.min_fill_secs).finish_non_exhaustive()
    }
}

impl FormGuard {
    pub fn new(key: &str, min_fill_secs: u32) -> Self {
        FormGuard { key: key.as_bytes().to_vec(), min_fill_secs: i64::from(min_fill_secs) }
    }

    fn mac(&self, issued: i64, client: IpAddr) -> HmacSha256 {
        // HMAC takes keys of any length; `new_from_slice` cannot fail for it.
        let mut mac = HmacSha256::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("HMAC accepts any key"));
        mac.update(b"signup:");
        mac.update(issued.to_string().as_bytes());
        mac.update(b":");
        mac.update(crate::server::client_ip::limit_key(client).to_string().as_bytes());
        mac
    }

    /// A ticket for a form handed out at `now` (unix seconds) to `client` (its address, or an
    /// IPv6 client's /64): a ticket is good only from where it was fetched.
    pub fn ticket(&self, now: i64, client: IpAddr) -> String {
        let tag = self.mac(now, client).finalize().into_bytes();
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        format!("{now}.{hex}")
    }

    /// Checks a sent form: the honeypot must be empty and the ticket ours, neither too fresh
    /// nor too old. Each refusal is a form-wide 422 that tells a person what to do; the fields
    /// they typed stay in the form.
    pub fn check(
        &self,
        ticket: Option<&str>,
        honeypot: Option<&str>,
        now: i64,
        client: IpAddr,
    ) -> Result<(), AppError> {
        let refuse = |code: &str, message: &str| AppError::Invalid(vec![FieldError::new("", code, message)]);
        if honeypot.is_some_and(|h| !h.trim().is_empty()) {
            return Err(refuse("form_rejected", "This form could not be accepted. Leave the hidden field empty."));
        }
        let expired = || refuse("form_expired", "This form has expired. Reload the page and send it again.");
        let ticket = ticket.map(str::trim).filter(|t| !t.is_empty() && t.len() <= 100).ok_or_else(expired)?;
        let (issued, tag) = ticket.split_once('.').ok_or_else(expired)?;
        let issued: i64 = issued.parse().map_err(|_| expired())?;
        let tag = decode_hex(tag).ok_or_else(expired)?;
        self.mac(issued, client).verify_slice(&tag).map_err(|_| expired())?;
        let age = now.saturating_sub(issued);
        // A little slack for clocks of several instances that disagree.
        if !(-60..=TICKET_LIFETIME_SECS).contains(&age) {
            return Err(expired());
        }
        if age < self.min_fill_secs {
            return Err(refuse(
                "too_fast",
                "That was quicker than a person fills in this form. Wait a few seconds and send it again.",
            ));
        }
        Ok(())
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || !s.is_ascii() {
        return None;
    }
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip() -> IpAddr {
        "203.0.113.7".parse().unwrap()
    }

    fn code(r: Result<(), AppError>) -> String {
        match r {
            Ok(()) => "ok".into(),
            Err(AppError::Invalid(e)) => e[0].code.clone(),
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn a_ticket_is_good_after_the_minimum_fill_time_and_for_a_day() {
        let g = FormGuard::new("k", 3);
        let t = g.ticket(1_000, ip());
        assert_eq!(code(g.check(Some(&t), None, 1_001, ip())), "too_fast");
        assert_eq!(code(g.check(Some(&t), Some(""), 1_003, ip())), "ok");
        assert_eq!(code(g.check(Some(&t), None, 1_000 + TICKET_LIFETIME_SECS, ip())), "ok");
        assert_eq!(code(g.check(Some(&t), None, 1_001 + TICKET_LIFETIME_SECS, ip())), "form_expired");
    }

    #[test]
    fn a_filled_honeypot_is_refused_whatever_the_ticket() {
        let g = FormGuard::new("k", 0);
        let t = g.ticket(1_000, ip());
        assert_eq!(code(g.check(Some(&t), Some("http://spam.example"), 2_000, ip())), "form_rejected");
    }

    #[test]
    fn forged_missing_or_foreign_tickets_are_refused() {
        let g = FormGuard::new("k", 0);
        let other = FormGuard::new("another site", 0);
        let t = g.ticket(1_000, ip());
        let forged = format!("900.{}", t.split_once('.').unwrap().1);
        for bad in
            [None, Some(""), Some("garbage"), Some("1.zz"), Some(forged.as_str()), Some(&other.ticket(1_000, ip()))]
        {
            assert_eq!(code(g.check(bad, None, 2_000, ip())), "form_expired", "{bad:?}");
        }
        assert_eq!(code(g.check(Some(&t), None, 2_000, ip())), "ok");
        let elsewhere: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(
            code(g.check(Some(&t), None, 2_000, elsewhere)),
            "form_expired",
            "a ticket stays where it was fetched"
        );
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let t6 = g.ticket(1_000, v6("2001:db8:1:2::10"));
        assert_eq!(code(g.check(Some(&t6), None, 2_000, v6("2001:db8:1:2::99"))), "ok", "the same /64");
    }
}
