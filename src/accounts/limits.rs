//! Limits for new accounts: in its first days an account may create only a few groups,
//! events and messages a day, so that a spammer who signs up cannot flood the site before
//! anyone reports them. Counted in the database (`creation_quota`), so the
//! limits hold across instances and restarts. The rule is pure; `check` counts and records
//! under a lock on the account (`Store::reserve_creation`).

use crate::error::AppError;

/// What a new account creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Creation {
    Group,
    /// Created or copied.
    Event,
    /// An organizer's message to attendees.
    Message,
}

/// The limits (`TSUDOI_NEW_ACCOUNT_DAYS`, `TSUDOI_NEW_ACCOUNT_GROUPS_PER_DAY`,
/// `TSUDOI_NEW_ACCOUNT_EVENTS_PER_DAY`, `TSUDOI_NEW_ACCOUNT_MESSAGES_PER_DAY`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewAccountLimits {
    /// How long an account counts as new.
    pub days: u32,
    pub groups_per_day: u32,
    pub events_per_day: u32,
    pub messages_per_day: u32,
}

impl Default for NewAccountLimits {
    fn default() -> Self {
        NewAccountLimits { days: 7, groups_per_day: 2, events_per_day: 10, messages_per_day: 10 }
    }
}

const DAY: i64 = 86_400;

impl Creation {
    /// How the quota table names it.
    pub fn as_str(self) -> &'static str {
        match self {
            Creation::Group => "group",
            Creation::Event => "event",
            Creation::Message => "message",
        }
    }
}

impl NewAccountLimits {
    fn per_day(&self, what: Creation) -> u32 {
        match what {
            Creation::Group => self.groups_per_day,
            Creation::Event => self.events_per_day,
            Creation::Message => self.messages_per_day,
        }
    }

    /// Until when an account that signs up at `now` is new (`None`: the limits are off).
    pub fn new_until(&self, now: i64) -> Option<i64> {
        (self.days > 0).then(|| now + i64::from(self.days) * DAY)
    }

    /// Whether an account that is new until `limited_until` may create one more `what` at
    /// `now`, having created `made` of them in the last 24 hours, the oldest at `oldest` (all
    /// unix seconds). Refused: 429 with the seconds until the oldest leaves the window.
    pub fn allows(
        &self,
        what: Creation,
        limited_until: Option<i64>,
        now: i64,
        made: i64,
        oldest: Option<i64>,
    ) -> Result<(), AppError> {
        let is_new = limited_until.is_some_and(|until| now < until);
        if !is_new || made < i64::from(self.per_day(what)) {
            return Ok(());
        }
        let wait = oldest.map_or(DAY, |t| t + DAY - now).clamp(1, DAY);
        Err(AppError::RateLimited(wait as u64))
    }
}

/// Refuses (429) when the signed-in `user_id` is a new account that has reached today's
/// limit for `what`; otherwise counts this one (before it is made: a creation that then
/// fails its validation still counts, like an attempt).
#[cfg(feature = "ssr")]
pub async fn check(state: &crate::server::state::AppState, user_id: i64, what: Creation) -> Result<(), AppError> {
    let now = crate::time::now().timestamp();
    let limits = state.config.new_accounts;
    state
        .store
        .reserve_creation(user_id, what, now, |until, made, oldest| limits.allows(what, until, now, made, oldest))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    #[test]
    fn a_new_account_may_create_up_to_its_daily_limit() {
        let l = NewAccountLimits::default();
        let created = l.new_until(NOW - 3600);
        assert!(l.allows(Creation::Group, created, NOW, 1, Some(NOW - 60)).is_ok());
        assert!(matches!(
            l.allows(Creation::Group, created, NOW, 2, Some(NOW - 600)),
            Err(AppError::RateLimited(s)) if s == (DAY - 600) as u64
        ));
        assert!(l.allows(Creation::Event, created, NOW, 9, None).is_ok());
        assert!(l.allows(Creation::Event, created, NOW, 10, None).is_err());
        assert!(l.allows(Creation::Message, created, NOW, 10, Some(NOW)).is_err());
    }

    #[test]
    fn an_account_older_than_the_new_period_or_loaded_by_the_operator_has_no_such_limit() {
        let l = NewAccountLimits::default();
        assert_eq!(l.new_until(NOW), Some(NOW + 7 * DAY));
        assert!(l.allows(Creation::Group, l.new_until(NOW - 7 * DAY), NOW, 50, Some(NOW - 1)).is_ok());
        assert!(l.allows(Creation::Group, l.new_until(NOW - 7 * DAY + 1), NOW, 50, Some(NOW - 1)).is_err());
        assert!(l.allows(Creation::Group, None, NOW, 50, Some(NOW - 1)).is_ok());
        assert_eq!(NewAccountLimits { days: 0, ..l }.new_until(NOW), None);
    }
}
