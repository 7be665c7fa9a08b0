//! What the store takes and gives for accounts (server only).

/// A user to create. `password_hash` is an argon2 PHC string, or `None` for accounts that
/// cannot sign in (generated demo attendees).
#[derive(Debug, Clone)]
pub struct NewUser {
    pub nickname: String,
    pub display_name: String,
    pub email: Option<String>,
    pub password_hash: Option<String>,
    pub bio: String,
}

impl NewUser {
    /// An account without a password (cannot sign in): fixtures and generated attendees.
    pub fn attendee(nickname: &str) -> Self {
        NewUser {
            nickname: nickname.into(),
            display_name: nickname.into(),
            email: None,
            password_hash: None,
            bio: String::new(),
        }
    }
}

/// A stored session record (tower-sessions' data as JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRow {
    pub data: String,
    pub expires_at: i64,
}
