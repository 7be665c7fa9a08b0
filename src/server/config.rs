//! Runtime configuration from the environment and the command line.

/// How this process was asked to run.
#[derive(Debug, Clone)]
pub struct Config {
    /// `DATABASE_URL`, default `sqlite://tsudoi.db` (the file is created); `postgres://…` for
    /// PostgreSQL (the database must exist).
    pub database_url: String,
    /// Load demo data into an empty database (`--demo` or `TSUDOI_DEMO=1`).
    pub demo: bool,
    /// `TSUDOI_PUBLIC_URL`: the origin users reach this instance at, for absolute links
    /// (calendar entries, feeds). Default `http://127.0.0.1:3000`.
    pub public_url: String,
    /// Login and sign-up attempts per minute.
    pub rate_limits: super::ratelimit::RateLimitConfig,
    /// How seats are taken; only tests ever choose the canary (see `SeatGuard`).
    pub seat_guard: super::store::SeatGuard,
    /// How often due lottery draws are looked for.
    pub draw_interval: std::time::Duration,
    /// `TSUDOI_SMTP_URL` (e.g. `smtps://user:pass@mail.example:465`): messages are also
    /// e-mailed when set.
    pub smtp_url: Option<String>,
    /// `TSUDOI_MAIL_FROM`: the sender address of e-mails.
    pub mail_from: String,
    /// `TSUDOI_TRUSTED_PROXIES`: proxies whose `X-Forwarded-For`/`Forwarded` names the client
    /// (see `client_ip`); none by default.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `TSUDOI_LIVE_STREAMS_PER_CLIENT`, `TSUDOI_LIVE_STREAMS_TOTAL`: open seat streams.
    pub stream_limits: crate::live::hub::StreamLimits,
    /// `TSUDOI_SHUTDOWN_TIMEOUT` (seconds, default 20): how long a stopping instance waits
    /// for in-flight requests and its workers (see `server::shutdown`).
    pub shutdown_timeout: std::time::Duration,
    /// A sign-up form sent back sooner than this many seconds after it was handed out is
    /// refused (`TSUDOI_FORM_MIN_SECONDS`, default 3; see `server::formguard`).
    pub form_min_fill_secs: u32,
    /// What accounts may create in their first days (see `accounts::limits`).
    pub new_accounts: crate::accounts::limits::NewAccountLimits,
    /// How often the webhook worker looks for work.
    pub webhook_interval: std::time::Duration,
    /// The unit of the webhooks' retry schedule (a second; shorter in tests).
    pub webhook_retry_unit: std::time::Duration,
    /// Webhooks may reach private and loopback addresses (`TSUDOI_WEBHOOK_ALLOW_PRIVATE=1`).
    pub webhook_allow_private: bool,
}

impl Config {
    /// True when users reach this instance over TLS (cookies get `Secure`).
    pub fn behind_tls(&self) -> bool {
        self.public_url.starts_with("https://")
    }

    /// How writes compose the automatic messages they store (see `Outbox`).
    pub fn outbox(&self) -> crate::messages::records::Outbox {
        crate::messages::records::Outbox { public_url: self.public_url.clone(), email: self.mail_enabled() }
    }

    /// True when messages are also sent by e-mail.
    pub fn mail_enabled(&self) -> bool {
        self.smtp_url.is_some()
    }

    /// A configuration for tests: the given database, no demo data.
    pub fn for_tests(database_url: String) -> Self {
        Config {
            database_url,
            demo: false,
            public_url: "http://tsudoi.test".into(),
            // Contract tests call the API hundreds of times from one address; the API
            // limit itself is tested with its own configuration.
            rate_limits: super::ratelimit::RateLimitConfig { api_per_ip: 100_000, ..Default::default() },
            seat_guard: Default::default(),
            draw_interval: std::time::Duration::from_millis(200),
            smtp_url: None,
            mail_from: "tsudoi@tsudoi.test".into(),
            trusted_proxies: Vec::new(),
            stream_limits: Default::default(),
            shutdown_timeout: super::shutdown::DEFAULT_TIMEOUT,
            // Tests send forms at once; the anti-spam test sets its own minimum.
            form_min_fill_secs: 0,
            new_accounts: Default::default(),
            webhook_interval: std::time::Duration::from_millis(100),
            webhook_retry_unit: std::time::Duration::from_millis(20),
            // The tests' receivers listen on 127.0.0.1.
            webhook_allow_private: true,
        }
    }

    /// Reads `DATABASE_URL`, `TSUDOI_DEMO` and the other settings of the README; `demo_flag`
    /// is the `--demo` argument. A setting that cannot be right (a trusted proxy that is not
    /// an address) is an error rather than a silent default.
    pub fn from_env(demo_flag: bool) -> anyhow::Result<Self> {
        let database_url = std::env::var("DATABASE_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| "sqlite://tsudoi.db".to_string());
        let demo_env = std::env::var("TSUDOI_DEMO").map(|v| v == "1" || v.eq_ignore_ascii_case("true"));
        let public_url = std::env::var("TSUDOI_PUBLIC_URL")
            .ok()
            .filter(|s| !s.trim().is_empty())
            .unwrap_or_else(|| {
                format!("http://{}", std::env::var("LEPTOS_SITE_ADDR").unwrap_or_else(|_| "127.0.0.1:3000".into()))
            })
            .trim_end_matches('/')
            .to_string();
        let trusted_proxies =
            super::client_ip::parse_trusted(&std::env::var("TSUDOI_TRUSTED_PROXIES").unwrap_or_default())
                .map_err(anyhow::Error::msg)?;
        let count = |name: &str, default: usize| {
            std::env::var(name).ok().and_then(|v| v.parse::<usize>().ok()).filter(|v| *v > 0).unwrap_or(default)
        };
        let d = crate::live::hub::StreamLimits::default();
        let stream_limits = crate::live::hub::StreamLimits {
            per_client: count("TSUDOI_LIVE_STREAMS_PER_CLIENT", d.per_client),
            total: count("TSUDOI_LIVE_STREAMS_TOTAL", d.total),
        };
        Ok(Config {
            database_url,
            demo: demo_flag || demo_env.unwrap_or(false),
            public_url,
            rate_limits: rate_limits_from_env(),
            seat_guard: Default::default(),
            draw_interval: std::time::Duration::from_secs(5),
            smtp_url: std::env::var("TSUDOI_SMTP_URL").ok().filter(|s| !s.trim().is_empty()),
            mail_from: std::env::var("TSUDOI_MAIL_FROM")
                .ok()
                .filter(|s| !s.trim().is_empty())
                .unwrap_or_else(|| "tsudoi@localhost".into()),
            trusted_proxies,
            stream_limits,
            shutdown_timeout: super::shutdown::timeout_from(std::env::var("TSUDOI_SHUTDOWN_TIMEOUT").ok().as_deref())?,
            form_min_fill_secs: std::env::var("TSUDOI_FORM_MIN_SECONDS")
                .ok()
                .and_then(|v| v.trim().parse::<u32>().ok())
                .unwrap_or(DEFAULT_FORM_MIN_SECONDS),
            new_accounts: new_account_limits_from_env(),
            webhook_interval: std::time::Duration::from_secs(1),
            webhook_retry_unit: std::time::Duration::from_secs(1),
            webhook_allow_private: std::env::var("TSUDOI_WEBHOOK_ALLOW_PRIVATE")
                .is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
        })
    }
}

/// `TSUDOI_RATE_LOGIN_PER_IP`, `TSUDOI_RATE_LOGIN_PER_ACCOUNT`, `TSUDOI_RATE_SIGNUP_PER_IP`,
/// `TSUDOI_RATE_API_PER_IP` (attempts per minute) and `TSUDOI_MESSAGES_PER_HOUR` (messages
/// an organizer may send per hour); unset or invalid values keep the defaults.
fn rate_limits_from_env() -> super::ratelimit::RateLimitConfig {
    let d = super::ratelimit::RateLimitConfig::default();
    let var = |name: &str, default: u32| {
        std::env::var(name).ok().and_then(|v| v.parse::<u32>().ok()).filter(|v| *v > 0).unwrap_or(default)
    };
    super::ratelimit::RateLimitConfig {
        login_per_ip: var("TSUDOI_RATE_LOGIN_PER_IP", d.login_per_ip),
        login_per_account: var("TSUDOI_RATE_LOGIN_PER_ACCOUNT", d.login_per_account),
        signup_per_ip: var("TSUDOI_RATE_SIGNUP_PER_IP", d.signup_per_ip),
        api_per_ip: var("TSUDOI_RATE_API_PER_IP", d.api_per_ip),
        messages_per_hour: var("TSUDOI_MESSAGES_PER_HOUR", d.messages_per_hour),
    }
}

/// Seconds a person needs at least to fill in the sign-up form.
pub const DEFAULT_FORM_MIN_SECONDS: u32 = 3;

/// `TSUDOI_NEW_ACCOUNT_DAYS` and the daily limits of new accounts; unset or invalid values
/// keep the defaults (0 days turns the limits off).
fn new_account_limits_from_env() -> crate::accounts::limits::NewAccountLimits {
    let d = crate::accounts::limits::NewAccountLimits::default();
    let var = |name: &str, default: u32| {
        std::env::var(name).ok().and_then(|v| v.trim().parse::<u32>().ok()).unwrap_or(default)
    };
    crate::accounts::limits::NewAccountLimits {
        days: var("TSUDOI_NEW_ACCOUNT_DAYS", d.days),
        groups_per_day: var("TSUDOI_NEW_ACCOUNT_GROUPS_PER_DAY", d.groups_per_day),
        events_per_day: var("TSUDOI_NEW_ACCOUNT_EVENTS_PER_DAY", d.events_per_day),
        messages_per_day: var("TSUDOI_NEW_ACCOUNT_MESSAGES_PER_DAY", d.messages_per_day),
    }
}

/// How log lines are written (`TSUDOI_LOG_FORMAT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines (the default).
    Text,
    /// One JSON object per line.
    Json,
}

/// `TSUDOI_LOG_FORMAT`: `text` (the default) or `json`.
pub fn log_format_from(value: Option<&str>) -> anyhow::Result<LogFormat> {
    match value.map(str::trim) {
        None | Some("") => Ok(LogFormat::Text),
        Some(v) if v.eq_ignore_ascii_case("text") => Ok(LogFormat::Text),
        Some(v) if v.eq_ignore_ascii_case("json") => Ok(LogFormat::Json),
        Some(other) => anyhow::bail!("TSUDOI_LOG_FORMAT={other:?}: expected text or json"),
    }
}

#[cfg(test)]
mod log_format_tests {
    use super::{LogFormat, log_format_from};

    #[test]
    fn the_log_format_is_text_or_json() {
        assert_eq!(log_format_from(None).unwrap(), LogFormat::Text);
        assert_eq!(log_format_from(Some("JSON")).unwrap(), LogFormat::Json);
        assert_eq!(log_format_from(Some(" text ")).unwrap(), LogFormat::Text);
        assert!(log_format_from(Some("yaml")).is_err());
    }
}
