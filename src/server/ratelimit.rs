//! Rate limits for login and sign-up (governor's GCRA), per client (an IPv4 address or an
//! IPv6 /64, see `client_ip`) and per account.

use std::net::IpAddr;
use std::num::NonZeroU32;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::error::AppError;
use crate::server::client_ip::limit_key;

/// Attempts allowed per minute.
#[derive(Debug, Clone, Copy)]
pub struct RateLimitConfig {
    pub login_per_ip: u32,
    pub login_per_account: u32,
    pub signup_per_ip: u32,
    /// Requests to the public read API (`/api/v2/`) per client IP.
    pub api_per_ip: u32,
    /// Messages one organizer may send per hour (counted in the database, so across
    /// instances and restarts; see `Store::messages_sent_since`).
    pub messages_per_hour: u32,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            login_per_ip: 30,
            login_per_account: 10,
            signup_per_ip: 10,
            api_per_ip: 120,
            messages_per_hour: 20,
        }
    }
}

pub struct RateLimits {
    login_ip: DefaultKeyedRateLimiter<IpAddr>,
    login_account: DefaultKeyedRateLimiter<String>,
    signup_ip: DefaultKeyedRateLimiter<IpAddr>,
    api_ip: DefaultKeyedRateLimiter<IpAddr>,
    /// Password reset requests per address: a few an hour, so nobody can flood a mailbox.
    reset_address: DefaultKeyedRateLimiter<String>,
}

/// Password reset mails one address may be sent per hour.
pub const RESETS_PER_ADDRESS_PER_HOUR: u32 = 5;

fn per_minute(n: u32) -> Quota {
    Quota::per_minute(NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN))
}

fn check<K: std::hash::Hash + Eq + Clone>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), AppError> {
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(DefaultClock::default().now());
        AppError::RateLimited(wait.as_secs().max(1))
    })
}

impl RateLimits {
    pub fn new(cfg: RateLimitConfig) -> Self {
        RateLimits {
            login_ip: RateLimiter::keyed(per_minute(cfg.login_per_ip)),
            login_account: RateLimiter::keyed(per_minute(cfg.login_per_account)),
            signup_ip: RateLimiter::keyed(per_minute(cfg.signup_per_ip)),
            api_ip: RateLimiter::keyed(per_minute(cfg.api_per_ip)),
            reset_address: RateLimiter::keyed(Quota::per_hour(
                NonZeroU32::new(RESETS_PER_ADDRESS_PER_HOUR).unwrap_or(NonZeroU32::MIN),
            )),
        }
    }

    /// One login attempt from `ip` for `login` (the account name as typed, lower-cased).
    pub fn login(&self, ip: IpAddr, login: &str) -> Result<(), AppError> {
        check(&self.login_ip, &limit_key(ip))?;
        check(&self.login_account, &login.to_string())
    }

    /// One sign-up attempt from `ip`.
    pub fn signup(&self, ip: IpAddr) -> Result<(), AppError> {
        check(&self.signup_ip, &limit_key(ip))
    }

    /// One password reset request from `ip` (counted with sign-ups) for `email`.
    pub fn password_reset(&self, ip: IpAddr, email: &str) -> Result<(), AppError> {
        check(&self.signup_ip, &limit_key(ip))?;
        check(&self.reset_address, &email.to_string())
    }

    /// One request to the public read API from `ip`.
    pub fn api(&self, ip: IpAddr) -> Result<(), AppError> {
        check(&self.api_ip, &limit_key(ip))
    }

    /// Drops idle keys (called periodically).
    pub fn retain_recent(&self) {
        self.login_ip.retain_recent();
        self.login_account.retain_recent();
        self.signup_ip.retain_recent();
        self.api_ip.retain_recent();
        self.reset_address.retain_recent();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_eleventh_login_for_one_account_within_a_minute_is_refused() {
        let limits = RateLimits::new(RateLimitConfig {
            login_per_ip: 100,
            login_per_account: 10,
            signup_per_ip: 1,
            api_per_ip: 1,
            messages_per_hour: 1,
        });
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        for _ in 0..10 {
            limits.login(ip, "taro").unwrap();
        }
        assert!(matches!(limits.login(ip, "taro"), Err(AppError::RateLimited(s)) if s >= 1));
        assert!(limits.login(ip, "hanako").is_ok(), "other accounts are not affected");
    }

    #[test]
    fn signups_are_limited_per_ip() {
        let limits = RateLimits::new(RateLimitConfig {
            login_per_ip: 1,
            login_per_account: 1,
            signup_per_ip: 1,
            api_per_ip: 1,
            messages_per_hour: 1,
        });
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "10.0.0.2".parse().unwrap();
        limits.signup(a).unwrap();
        assert!(limits.signup(a).is_err());
        assert!(limits.signup(b).is_ok());
    }
}
