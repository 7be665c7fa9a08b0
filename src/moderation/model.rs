//! Moderation wire types and rules: what can be reported, what a site administrator may do
//! to it, and a report's reason. Pure, shared by the forms and the server.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;

/// What a report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetKind {
    Event,
    Group,
    User,
}

impl TargetKind {
    pub const ALL: [TargetKind; 3] = [TargetKind::Event, TargetKind::Group, TargetKind::User];

    pub fn as_str(self) -> &'static str {
        match self {
            TargetKind::Event => "event",
            TargetKind::Group => "group",
            TargetKind::User => "user",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        TargetKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What a site administrator does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ModAction {
    /// An event or group leaves every public path.
    Hide,
    /// A hidden event or group comes back.
    Restore,
    /// An account can no longer sign in; its sessions end, its profile and the groups only it
    /// owns are hidden.
    Suspend,
    /// A suspended account works again, and what its suspension hid comes back.
    Unsuspend,
    /// The reports are closed without action.
    Dismiss,
}

impl ModAction {
    pub const ALL: [ModAction; 5] =
        [ModAction::Hide, ModAction::Restore, ModAction::Suspend, ModAction::Unsuspend, ModAction::Dismiss];

    pub fn as_str(self) -> &'static str {
        match self {
            ModAction::Hide => "hide",
            ModAction::Restore => "restore",
            ModAction::Suspend => "suspend",
            ModAction::Unsuspend => "unsuspend",
            ModAction::Dismiss => "dismiss",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        ModAction::ALL.into_iter().find(|a| a.as_str() == s)
    }

    /// Whether this action applies to `kind`: events and groups are hidden and restored,
    /// accounts suspended and unsuspended; reports about anything can be dismissed.
    pub fn applies_to(self, kind: TargetKind) -> bool {
        match self {
            ModAction::Hide | ModAction::Restore => matches!(kind, TargetKind::Event | TargetKind::Group),
            ModAction::Suspend | ModAction::Unsuspend => kind == TargetKind::User,
            ModAction::Dismiss => true,
        }
    }

    /// The audit log's code, e.g. `event.hide`.
    pub fn log_code(self, kind: TargetKind) -> String {
        match self {
            ModAction::Dismiss => format!("report.dismiss.{}", kind.as_str()),
            other => format!("{}.{}", kind.as_str(), other.as_str()),
        }
    }
}

/// Longest reason a report may give.
pub const MAX_REASON: usize = 2000;

/// A report's reason, trimmed: at least a few characters, at most [`MAX_REASON`].
pub fn validate_reason(reason: &str) -> Result<String, FieldError> {
    let reason = reason.trim();
    let chars = reason.chars().count();
    if chars < 3 {
        Err(FieldError::new("reason", "too_short", "Say in a few words what is wrong."))
    } else if chars > MAX_REASON {
        Err(FieldError::new("reason", "too_long", "The reason is too long (at most 2000 characters)."))
    } else {
        Ok(reason.to_string())
    }
}

/// One reason somebody gave.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportReason {
    pub reporter: String,
    pub reason: String,
    /// Unix seconds.
    pub at: i64,
    /// `at` in the viewer's zone (filled by the server function).
    pub at_label: String,
}

/// Everything open about one event, group or account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportedItem {
    pub kind: TargetKind,
    pub id: i64,
    /// The event's or group's title, the account's nickname.
    pub title: String,
    /// Its public page.
    pub url: String,
    /// Already hidden or suspended.
    pub hidden: bool,
    pub reasons: Vec<ReportReason>,
}

/// Something hidden or suspended now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HiddenItem {
    pub kind: TargetKind,
    pub id: i64,
    pub title: String,
    pub url: String,
    /// Unix seconds.
    pub since: i64,
    /// `since` in the viewer's zone.
    pub since_label: String,
}

/// One line of the site's audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationLogLine {
    /// Unix seconds.
    pub at: i64,
    /// `at` in the viewer's zone.
    pub at_label: String,
    pub actor: String,
    pub action: String,
    pub kind: TargetKind,
    pub target_id: i64,
    pub detail: String,
}

/// The site administrators' page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModerationQueue {
    pub open: Vec<ReportedItem>,
    pub hidden: Vec<HiddenItem>,
    pub log: Vec<ModerationLogLine>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_groups_are_hidden_and_accounts_suspended() {
        use ModAction::*;
        use TargetKind::*;
        for kind in [Event, Group] {
            assert!(Hide.applies_to(kind) && Restore.applies_to(kind));
            assert!(!Suspend.applies_to(kind) && !Unsuspend.applies_to(kind));
        }
        assert!(Suspend.applies_to(User) && Unsuspend.applies_to(User));
        assert!(!Hide.applies_to(User) && !Restore.applies_to(User));
        assert!(TargetKind::ALL.into_iter().all(|k| Dismiss.applies_to(k)));
        assert_eq!(Hide.log_code(Event), "event.hide");
        assert_eq!(Dismiss.log_code(User), "report.dismiss.user");
    }

    #[test]
    fn a_reason_is_a_few_words_at_least_and_not_a_book() {
        assert_eq!(validate_reason("  spam  ").unwrap(), "spam");
        assert_eq!(validate_reason(" x ").unwrap_err().code, "too_short");
        assert_eq!(validate_reason(&"あ".repeat(MAX_REASON)).unwrap().chars().count(), MAX_REASON);
        assert_eq!(validate_reason(&"あ".repeat(MAX_REASON + 1)).unwrap_err().code, "too_long");
    }

    #[test]
    fn kinds_and_actions_round_trip_and_unknown_ones_are_none() {
        assert!(TargetKind::ALL.into_iter().all(|k| TargetKind::parse(k.as_str()) == Some(k)));
        assert!(ModAction::ALL.into_iter().all(|a| ModAction::parse(a.as_str()) == Some(a)));
        assert_eq!(TargetKind::parse("comment"), None);
        assert_eq!(ModAction::parse("delete"), None);
    }
}
