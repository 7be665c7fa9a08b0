//! Account wire types and the validation both the form and the server run.

use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::events::model::EventCard;

/// The answer to a password reset request or confirmation: `sent` (the same whether or not
/// the address has an account) or `reset`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasswordResetAnswer {
    pub status: String,
}

/// What sign-up answers. `signed_in`, with the user's fields beside it, on a site that sends
/// no e-mail (the account is made and signed in at once); `check_email` on a site that does:
/// the same answer whether or not the address already has an account, so that nobody learns
/// it from sign-up. A new account is then finished by the link mailed to it (which signs it
/// in); an address that already had one is mailed a note instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignupAnswer {
    pub status: String,
    #[serde(flatten, default, skip_serializing_if = "Option::is_none")]
    pub user: Option<CurrentUser>,
}

/// The signed-in user, as pages see them. No email, no hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: i64,
    pub nickname: String,
    pub display_name: String,
    /// The zone they chose on /me (IANA name); `None`: the browser's.
    pub time_zone: Option<String>,
}

/// My own profile (only ever sent to its owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MyProfile {
    pub nickname: String,
    pub display_name: String,
    pub email: String,
    pub bio: String,
    /// The events I attend are kept off my profile and the API.
    pub hide_attended: bool,
    /// My time zone (IANA name); empty: the browser's.
    pub time_zone: String,
    /// I opened the link mailed to my address (only then does Tsudoi mail me messages).
    pub email_verified: bool,
    /// This site sends e-mail (SMTP configured): whether verifying matters.
    pub mail_enabled: bool,
}

/// A public profile: `/users/{nickname}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct UserProfile {
    pub id: i64,
    pub nickname: String,
    pub display_name: String,
    pub bio: String,
    /// They keep the events they attend private (`attended` is then empty).
    pub attended_hidden: bool,
    pub attended: Vec<EventCard>,
    pub organised: Vec<EventCard>,
}

pub const NICKNAME_MIN: usize = 3;
pub const NICKNAME_MAX: usize = 30;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 256;
pub const DISPLAY_NAME_MAX: usize = 50;
pub const BIO_MAX: usize = 1000;

/// Nicknames are URL segments: 3–30 of `a-z 0-9 _ -`, stored lower-case.
pub fn normalize_nickname(raw: &str) -> Result<String, FieldError> {
    let n = raw.trim().to_lowercase();
    if n.chars().count() < NICKNAME_MIN || n.chars().count() > NICKNAME_MAX {
        return Err(FieldError::new("nickname", "length", "Nickname must be 3–30 characters."));
    }
    if !n.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-') {
        return Err(FieldError::new("nickname", "charset", "Use only letters, digits, _ and -."));
    }
    Ok(n)
}

/// A plausible address: one `@`, something before it, a dot in the domain, no spaces.
pub fn normalize_email(raw: &str) -> Result<String, FieldError> {
    let e = raw.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        });
    if valid { Ok(e) } else { Err(FieldError::new("email", "format", "Enter a valid email address.")) }
}

/// 8–256 characters; anything else is the user's business.
pub fn validate_password(field: &str, pw: &str) -> Result<(), FieldError> {
    let n = pw.chars().count();
    if n < PASSWORD_MIN {
        return Err(FieldError::new(field, "too_short", "Password must be at least 8 characters."));
    }
    if n > PASSWORD_MAX {
        return Err(FieldError::new(field, "too_long", "Password must be at most 256 characters."));
    }
    Ok(())
}

/// Display name: trimmed, at most 50 characters; empty falls back to the nickname.
pub fn normalize_display_name(raw: &str, nickname: &str) -> Result<String, FieldError> {
    let d = raw.trim();
    if d.chars().count() > DISPLAY_NAME_MAX {
        return Err(FieldError::new("display_name", "too_long", "Display name must be at most 50 characters."));
    }
    Ok(if d.is_empty() { nickname.to_string() } else { d.to_string() })
}

/// Bio: at most 1000 characters.
pub fn validate_bio(bio: &str) -> Result<(), FieldError> {
    if bio.chars().count() > BIO_MAX {
        return Err(FieldError::new("bio", "too_long", "Bio must be at most 1000 characters."));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nickname_is_lower_cased_and_trimmed() {
        assert_eq!(normalize_nickname("  Taro_99 ").unwrap(), "taro_99");
    }

    #[test]
    fn nickname_with_spaces_or_kana_is_rejected() {
        assert_eq!(normalize_nickname("ta ro").unwrap_err().code, "charset");
        assert_eq!(normalize_nickname("たろう").unwrap_err().code, "charset");
        assert_eq!(normalize_nickname("ab").unwrap_err().code, "length");
    }

    #[test]
    fn email_needs_an_at_and_a_dotted_domain() {
        assert_eq!(normalize_email(" Taro@Example.COM ").unwrap(), "taro@example.com");
        for bad in ["taro", "taro@", "@example.com", "taro@example", "ta ro@example.com", "a@b@c.com", "a@.com"] {
            assert!(normalize_email(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn password_of_seven_characters_is_too_short() {
        assert_eq!(validate_password("password", "1234567").unwrap_err().code, "too_short");
        assert!(validate_password("password", "12345678").is_ok());
    }

    #[test]
    fn empty_display_name_falls_back_to_nickname() {
        assert_eq!(normalize_display_name("  ", "taro").unwrap(), "taro");
        assert!(normalize_display_name(&"x".repeat(51), "taro").is_err());
    }
}
