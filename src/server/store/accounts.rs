//! Accounts and sessions on either backend.

use super::Store;
use super::db::{Db, Sql};
use super::{NewUser, SessionRow, StoreResult};
use crate::accounts::model::{CurrentUser, MyProfile};
use crate::error::{AppError, Conflict};

/// True when `s` cannot be looked up on this backend: PostgreSQL refuses NUL characters in
/// TEXT (see `events::storable`), and nothing stored holds one, so the lookup finds nothing.
fn unmatchable(db: &Db, s: &str) -> bool {
    db.is_pg() && !super::events::storable(s)
}

/// The insert of one account, `RETURNING id` (sign-up and the bulk loaders share it). An
/// address is `verified` from the start for accounts an operator loads (demo data, imports);
/// a sign-up's is not until its owner opens the mailed link.
/// A sign-up's account is under the new-account limits until `limited_until`.
pub(super) fn insert_user(u: &NewUser, now: i64, verified: bool, limited_until: Option<i64>) -> Sql {
    Sql::new(
        "INSERT INTO users (nickname, display_name, email, password_hash, bio, created_at, email_verified_at, \
         limited_until) VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $6 END, $8) RETURNING id",
    )
    .bind(&u.nickname)
    .bind(&u.display_name)
    .bind(u.email.as_ref())
    .bind(u.password_hash.as_ref())
    .bind(&u.bio)
    .bind(now)
    .bind(verified)
    .bind(limited_until)
}

impl Store {
    /// Creates one account; `Conflict("account_exists")` when the nickname or email is taken.
    pub async fn create_user(&self, u: &NewUser) -> StoreResult<CurrentUser> {
        self.create_signup(u, None).await
    }

    /// Creates an account that signed up: like [`Store::create_user`], with the new-account
    /// limits until `limited_until` (unix seconds; see `accounts::limits`).
    pub async fn create_signup(&self, u: &NewUser, limited_until: Option<i64>) -> StoreResult<CurrentUser> {
        self.create_account(u, limited_until, false).await
    }

    /// Creates an account that signs in only once the link mailed to its address is opened
    /// (sign-up with SMTP on: see `accounts::api::signup`).
    pub async fn create_pending_signup(&self, u: &NewUser, limited_until: Option<i64>) -> StoreResult<CurrentUser> {
        self.create_account(u, limited_until, true).await
    }

    async fn create_account(&self, u: &NewUser, limited_until: Option<i64>, pending: bool) -> StoreResult<CurrentUser> {
        let db = &self.db;
        let mut insert = insert_user(u, crate::time::now().timestamp(), false, limited_until);
        if pending {
            let text = insert.text().replace(
                "limited_until) VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $6 END, $8)",
                "limited_until, signup_pending) VALUES ($1, $2, $3, $4, $5, $6, CASE WHEN $7 THEN $6 END, $8, $9)",
            );
            insert = insert.with_text(text).bind(true);
        }
        let inserted = db.write_optional::<(i64,)>(insert).await.and_then(|row| row.ok_or(sqlx::Error::RowNotFound));
        match inserted {
            Ok((id,)) => Ok(CurrentUser {
                id,
                nickname: u.nickname.clone(),
                display_name: u.display_name.clone(),
                time_zone: None,
            }),
            // Deliberately one code for nickname and email: the answer must not tell whether
            // an email address has an account.
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AppError::Conflict(Conflict::AccountExists))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// For the new-account limits: when `user_id` is limited at `now`, counts what it created
    /// of `what` in the last 24 hours and, if `allows(limited_until, made, oldest)` agrees,
    /// records one more; all under a lock on the account (its row on PostgreSQL, the one
    /// writer on SQLite), so parallel requests are counted one after another.
    pub async fn reserve_creation(
        &self,
        user_id: i64,
        what: crate::accounts::limits::Creation,
        now: i64,
        allows: impl Fn(Option<i64>, i64, Option<i64>) -> Result<(), AppError>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let lock = if tx.is_pg() { " FOR UPDATE" } else { "" };
        let q = Sql::new(format!("SELECT limited_until FROM users WHERE id = $1{lock}")).bind(user_id);
        let Some((Some(until),)) = tx.optional::<(Option<i64>,)>(q).await? else { return Ok(()) };
        if until <= now {
            return Ok(());
        }
        let q = Sql::new(
            "SELECT COUNT(*), MIN(created_at) FROM creation_quota WHERE user_id = $1 AND kind = $2 AND created_at > $3",
        );
        let (made, oldest): (i64, Option<i64>) = tx.one(q.bind(user_id).bind(what.as_str()).bind(now - 86_400)).await?;
        allows(Some(until), made, oldest)?;
        let q = Sql::new("INSERT INTO creation_quota (user_id, kind, created_at) VALUES ($1, $2, $3)");
        tx.execute(q.bind(user_id).bind(what.as_str()).bind(now)).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps `email` aside as the account's next address until the link mailed to it is
    /// opened (SMTP on). Whether another account has it, for the caller to mail its owner
    /// instead; the pending address is kept either way, so nothing the account sees differs.
    pub async fn set_pending_email(&self, user_id: i64, email: &str) -> StoreResult<bool> {
        let db = &self.db;
        db.execute(Sql::new("UPDATE users SET pending_email = $1 WHERE id = $2").bind(email).bind(user_id)).await?;
        let taken: Option<(i64,)> = db
            .optional(Sql::new("SELECT id FROM users WHERE email = $1 AND id <> $2").bind(email).bind(user_id))
            .await?;
        Ok(taken.is_some())
    }

    /// Gives the account a new address (normalised) at once, unconfirmed (sites without
    /// SMTP); returns the previous one. `Conflict(AccountExists)` when another account has it.
    pub async fn change_email(&self, user_id: i64, email: &str) -> StoreResult<Option<String>> {
        let db = &self.db;
        let old: Option<(Option<String>,)> =
            db.optional(Sql::new("SELECT email FROM users WHERE id = $1").bind(user_id)).await?;
        let Some((old,)) = old else { return Err(AppError::NotFound) };
        let q =
            Sql::new("UPDATE users SET email = $1, email_verified_at = NULL WHERE id = $2").bind(email).bind(user_id);
        match db.execute(q).await {
            Ok(_) => Ok(old),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(AppError::Conflict(Conflict::AccountExists))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Id and password hash of the account whose nickname or email is `login` (lower-cased).
    pub async fn find_login(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        let db = &self.db;
        if unmatchable(db, login) {
            return Ok(None);
        }
        let row: Option<(i64, Option<String>)> = db
            .optional(
                Sql::new(
                    "SELECT id, password_hash FROM users WHERE (nickname = $1 OR lower(email) = $1) \
                     AND suspended_at IS NULL AND NOT signup_pending ORDER BY (nickname = $1) DESC LIMIT 1",
                )
                .bind(login),
            )
            .await?;
        Ok(row.and_then(|(id, hash)| hash.map(|h| (id, h))))
    }

    /// The id of the account with this nickname (lower-cased): how organizers name people,
    /// never by e-mail, so that nobody learns who has an account from an address.
    pub async fn user_id_by_nickname(&self, nickname: &str) -> StoreResult<Option<i64>> {
        let db = &self.db;
        if unmatchable(db, nickname) {
            return Ok(None);
        }
        let row: Option<(i64,)> =
            db.optional(Sql::new("SELECT id FROM users WHERE nickname = $1").bind(nickname)).await?;
        Ok(row.map(|(id,)| id))
    }

    /// The account with this id.
    pub async fn fetch_user(&self, id: i64) -> StoreResult<Option<CurrentUser>> {
        let db = &self.db;
        let row: Option<(i64, String, String, Option<String>)> = db
            .optional(
                Sql::new(
                    "SELECT id, nickname, display_name, time_zone FROM users WHERE id = $1 AND suspended_at IS NULL",
                )
                .bind(id),
            )
            .await?;
        Ok(row.map(|(id, nickname, display_name, time_zone)| CurrentUser { id, nickname, display_name, time_zone }))
    }

    /// My profile (with email), for `/me`.
    pub async fn fetch_my_profile(&self, id: i64) -> StoreResult<Option<MyProfile>> {
        let db = &self.db;
        let row: Option<ProfileRow> = db
            .optional(
                Sql::new(
                    "SELECT nickname, display_name, email, bio, hide_attended, time_zone, \
                       email_verified_at IS NOT NULL AS email_verified FROM users WHERE id = $1",
                )
                .bind(id),
            )
            .await?;
        Ok(row.map(|r| MyProfile {
            nickname: r.nickname,
            display_name: r.display_name,
            email: r.email.unwrap_or_default(),
            bio: r.bio,
            hide_attended: r.hide_attended,
            time_zone: r.time_zone.unwrap_or_default(),
            email_verified: r.email_verified,
            mail_enabled: false,
        }))
    }

    /// Sets my time zone (`None`: follow the browser).
    pub async fn set_time_zone(&self, id: i64, zone: Option<&str>) -> StoreResult<()> {
        self.db.execute(Sql::new("UPDATE users SET time_zone = $1 WHERE id = $2").bind(zone).bind(id)).await?;
        Ok(())
    }

    pub async fn update_profile(&self, id: i64, display_name: &str, bio: &str) -> StoreResult<()> {
        let db = &self.db;
        db.execute(
            Sql::new("UPDATE users SET display_name = $1, bio = $2 WHERE id = $3")
                .bind(display_name)
                .bind(bio)
                .bind(id),
        )
        .await?;
        Ok(())
    }

    /// The stored password hash of an account.
    pub async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>> {
        let db = &self.db;
        let row: Option<(Option<String>,)> =
            db.optional(Sql::new("SELECT password_hash FROM users WHERE id = $1").bind(id)).await?;
        Ok(row.and_then(|(h,)| h))
    }

    pub async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        let db = &self.db;
        db.execute(Sql::new("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id)).await?;
        Ok(())
    }

    /// Inserts a new session; `false` when the id already exists.
    pub async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool> {
        let db = &self.db;
        let q = Sql::new("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
            .bind(id)
            .bind(&row.data)
            .bind(row.expires_at);
        Ok(db.execute(q).await? == 1)
    }

    pub async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()> {
        let db = &self.db;
        db.execute(
            Sql::new(
                "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
            )
            .bind(id)
            .bind(&row.data)
            .bind(row.expires_at),
        )
        .await?;
        Ok(())
    }

    /// A session that has not expired at `now` (unix seconds), with the user its data
    /// signs in (`"uid"`) when that account exists: one query, so that a request's
    /// authentication costs one database round trip.
    pub async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
        let db = &self.db;
        if unmatchable(db, id) {
            return Ok(None);
        }
        let uid = session_uid(db);
        let row: Option<SessionUserRow> = db
            .optional(
                Sql::new(format!(
                    "SELECT s.data, s.expires_at, u.id, u.nickname, u.display_name, u.time_zone FROM sessions s \
                     LEFT JOIN users u ON u.id = {uid} AND u.suspended_at IS NULL WHERE s.id = $1 AND s.expires_at > $2"
                ))
                .bind(id)
                .bind(now),
            )
            .await?;
        Ok(row.map(|r| {
            let user = match (r.id, r.nickname, r.display_name) {
                (Some(id), Some(nickname), Some(display_name)) => {
                    Some(CurrentUser { id, nickname, display_name, time_zone: r.time_zone })
                }
                _ => None,
            };
            (SessionRow { data: r.data, expires_at: r.expires_at }, user)
        }))
    }

    pub async fn session_delete(&self, id: &str) -> StoreResult<()> {
        let db = &self.db;
        db.execute(Sql::new("DELETE FROM sessions WHERE id = $1").bind(id)).await?;
        Ok(())
    }

    /// Ends every session signed in as `user_id` except `keep` (a password change keeps the
    /// current one; "log out everywhere" keeps none). A scan of the sessions: rare, and the
    /// table holds one row per live session.
    pub async fn sessions_end_for_user(&self, user_id: i64, keep: Option<&str>) -> StoreResult<u64> {
        let db = &self.db;
        Ok(db.execute(end_sessions(db, user_id, keep)).await?)
    }

    /// The account a password reset for `email` (normalised) goes to: (id, nickname).
    pub async fn reset_recipient(&self, email: &str) -> StoreResult<Option<(i64, String)>> {
        let q = Sql::new("SELECT id, nickname FROM users WHERE email = $1").bind(email);
        Ok(self.db.optional(q).await?)
    }

    /// The account of a nickname, for the operator's `tsudoi user reset-password NICK`.
    pub async fn reset_recipient_by_nickname(&self, nickname: &str) -> StoreResult<Option<(i64, String)>> {
        let q = Sql::new("SELECT id, nickname FROM users WHERE nickname = $1").bind(nickname.trim().to_lowercase());
        Ok(self.db.optional(q).await?)
    }

    /// Stores a password reset token (its hash) for `user_id`, valid until `expires_at`;
    /// the user's earlier unused tokens stop working.
    pub async fn create_password_reset(
        &self,
        user_id: i64,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        let q = Sql::new("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL");
        tx.execute(q.bind(now.timestamp()).bind(user_id)).await?;
        let q = Sql::new(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        );
        tx.execute(q.bind(token_hash).bind(user_id).bind(now.timestamp()).bind(expires_at.timestamp())).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Uses a reset token: in one transaction the token is spent (only if unused and not
    /// expired), the password replaced and every session of the account ended. The account's
    /// id, or `None` for a token that is unknown, used or expired.
    pub async fn use_password_reset(
        &self,
        token_hash: &str,
        password_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<i64>> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let q = Sql::new(
            "UPDATE password_resets SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id",
        );
        let Some((user_id,)) = tx.optional::<(i64,)>(q.bind(now.timestamp()).bind(token_hash)).await? else {
            return Ok(None);
        };
        // The link reached the account's address: that proves it, and finishes a pending sign-up.
        let q = Sql::new(
            "UPDATE users SET password_hash = $1, signup_pending = $3, \
             email_verified_at = COALESCE(email_verified_at, $4) WHERE id = $2",
        );
        tx.execute(q.bind(password_hash).bind(user_id).bind(false).bind(now.timestamp())).await?;
        tx.execute(end_sessions(db, user_id, None)).await?;
        let q = Sql::new("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL");
        tx.execute(q.bind(now.timestamp()).bind(user_id)).await?;
        tx.commit().await?;
        Ok(Some(user_id))
    }

    /// Stores a verification link (its hash) for the account's current address, valid until
    /// `expires_at`; earlier unused links of the account stop working. `None` when the account
    /// has no address or it is already verified; else the address to mail.
    pub async fn create_email_verification(
        &self,
        user_id: i64,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<String>> {
        let mut tx = self.db.begin().await?;
        // A pending new address first; else the current one while it is unconfirmed.
        let q = Sql::new(
            "SELECT COALESCE(pending_email, CASE WHEN email_verified_at IS NULL THEN email END) FROM users WHERE id = $1",
        );
        let Some((Some(email),)) = tx.optional::<(Option<String>,)>(q.bind(user_id)).await? else { return Ok(None) };
        let q = Sql::new("UPDATE email_verifications SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL");
        tx.execute(q.bind(now.timestamp()).bind(user_id)).await?;
        let q = Sql::new(
            "INSERT INTO email_verifications (token_hash, user_id, email, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        );
        tx.execute(q.bind(token_hash).bind(user_id).bind(&email).bind(now.timestamp()).bind(expires_at.timestamp()))
            .await?;
        tx.commit().await?;
        Ok(Some(email))
    }

    /// Uses a verification link: the account's address is verified if it is still the one
    /// the link was sent to (and a pending sign-up may sign in from now on); a link for the
    /// pending new address makes it the account's, verified. The account's id and, after a
    /// change, the previous address; `None` for a link that is unknown, used, expired, for an
    /// earlier address, or for one another account took meanwhile.
    pub async fn use_email_verification(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> StoreResult<Option<(i64, Option<String>)>> {
        let mut tx = self.db.begin().await?;
        let q = Sql::new(
            "UPDATE email_verifications SET used_at = $1 WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 \
             RETURNING user_id, email",
        );
        let Some((user_id, email)) = tx.optional::<(i64, String)>(q.bind(now.timestamp()).bind(token_hash)).await?
        else {
            return Ok(None);
        };
        let pending: Option<(Option<String>, Option<String>)> =
            tx.optional(Sql::new("SELECT email, pending_email FROM users WHERE id = $1").bind(user_id)).await?;
        let Some((current, pending)) = pending else { return Ok(None) };
        if pending.as_deref() == Some(email.as_str()) && current.as_deref() != Some(email.as_str()) {
            let q = Sql::new(
                "UPDATE users SET email = pending_email, pending_email = NULL, email_verified_at = $1 \
                 WHERE id = $2 AND pending_email = $3",
            );
            return match tx.execute(q.bind(now.timestamp()).bind(user_id).bind(&email)).await {
                Ok(1) => {
                    tx.commit().await?;
                    Ok(Some((user_id, current)))
                }
                Ok(_) => Ok(None),
                // Another account has the address now: the link cannot give it to this one.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Ok(None),
                Err(e) => Err(e.into()),
            };
        }
        let q = Sql::new(
            "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1), signup_pending = $4 \
             WHERE id = $2 AND email = $3",
        );
        let verified = tx.execute(q.bind(now.timestamp()).bind(user_id).bind(&email).bind(false)).await? == 1;
        tx.commit().await?;
        Ok(verified.then_some((user_id, None)))
    }

    /// Removes expired sessions, returning how many.
    pub async fn sessions_purge(&self, now: i64) -> StoreResult<u64> {
        let db = &self.db;
        Ok(db.execute(Sql::new("DELETE FROM sessions WHERE expires_at <= $1").bind(now)).await?)
    }
}

/// The account id in a session's JSON (`s.data`, or `data` unqualified), only when it is an
/// integer, so no stored data can make a query fail.
/// The delete of every session signed in as `user_id`, except `keep`.
pub(super) fn end_sessions(db: &Db, user_id: i64, keep: Option<&str>) -> Sql {
    let mut q = Sql::new(format!("DELETE FROM sessions WHERE {} = ", session_uid(db)));
    q.push_bind(user_id);
    if let Some(keep) = keep {
        q.push(" AND id <> ").push_bind(keep);
    }
    q
}

fn session_uid(db: &Db) -> &'static str {
    if db.is_pg() {
        "CASE WHEN jsonb_typeof(data::jsonb -> 'uid') = 'number' THEN (data::jsonb ->> 'uid')::numeric::bigint END"
    } else {
        "CASE WHEN json_type(data, '$.uid') = 'integer' THEN json_extract(data, '$.uid') END"
    }
}

/// My profile's row.
#[derive(sqlx::FromRow)]
struct ProfileRow {
    nickname: String,
    display_name: String,
    email: Option<String>,
    bio: String,
    hide_attended: bool,
    time_zone: Option<String>,
    email_verified: bool,
}

/// `sessions LEFT JOIN users`: the session, and the account it signs in (all NULL when none).
#[derive(sqlx::FromRow)]
struct SessionUserRow {
    data: String,
    expires_at: i64,
    id: Option<i64>,
    nickname: Option<String>,
    display_name: Option<String>,
    time_zone: Option<String>,
}
