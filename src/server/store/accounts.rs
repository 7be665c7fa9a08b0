//! Accounts and sessions on either backend.

use super::db::{Db, Sql};
use super::{NewUser, SessionRow, StoreResult};
use crate::accounts::model::{CurrentUser, MyProfile};
use crate::error::{AppError, Conflict};

/// True when `s` cannot be looked up on this backend: PostgreSQL refuses NUL characters in
/// TEXT (see `events::storable`), and nothing stored holds one, so the lookup finds nothing.
fn unmatchable(db: &Db, s: &str) -> bool {
    db.is_pg() && !super::events::storable(s)
}

/// The insert of one account, `RETURNING id` (sign-up and the bulk loaders share it).
pub(super) fn insert_user(u: &NewUser, now: i64) -> Sql {
    Sql::new(
        "INSERT INTO users (nickname, display_name, email, password_hash, bio, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&u.nickname)
    .bind(&u.display_name)
    .bind(u.email.as_ref())
    .bind(u.password_hash.as_ref())
    .bind(&u.bio)
    .bind(now)
}

pub(super) async fn create_user(db: &Db, u: &NewUser) -> StoreResult<CurrentUser> {
    let inserted = db
        .write_optional::<(i64,)>(insert_user(u, crate::time::now().timestamp()))
        .await
        .and_then(|row| row.ok_or(sqlx::Error::RowNotFound));
    match inserted {
        Ok((id,)) => Ok(CurrentUser { id, nickname: u.nickname.clone(), display_name: u.display_name.clone() }),
        // Deliberately one code for nickname and email: the answer must not tell whether
        // an email address has an account.
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => Err(AppError::Conflict(Conflict::AccountExists)),
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn find_login(db: &Db, login: &str) -> StoreResult<Option<(i64, String)>> {
    if unmatchable(db, login) {
        return Ok(None);
    }
    let row: Option<(i64, Option<String>)> = db
        .optional(
            Sql::new(
                "SELECT id, password_hash FROM users WHERE nickname = $1 OR lower(email) = $1 \
                 ORDER BY (nickname = $1) DESC LIMIT 1",
            )
            .bind(login),
        )
        .await?;
    Ok(row.and_then(|(id, hash)| hash.map(|h| (id, h))))
}

pub(super) async fn fetch_user(db: &Db, id: i64) -> StoreResult<Option<CurrentUser>> {
    let row: Option<(i64, String, String)> =
        db.optional(Sql::new("SELECT id, nickname, display_name FROM users WHERE id = $1").bind(id)).await?;
    Ok(row.map(|(id, nickname, display_name)| CurrentUser { id, nickname, display_name }))
}

pub(super) async fn fetch_my_profile(db: &Db, id: i64) -> StoreResult<Option<MyProfile>> {
    let row: Option<(String, String, Option<String>, String)> =
        db.optional(Sql::new("SELECT nickname, display_name, email, bio FROM users WHERE id = $1").bind(id)).await?;
    Ok(row.map(|(nickname, display_name, email, bio)| MyProfile {
        nickname,
        display_name,
        email: email.unwrap_or_default(),
        bio,
    }))
}

pub(super) async fn update_profile(db: &Db, id: i64, display_name: &str, bio: &str) -> StoreResult<()> {
    db.execute(
        Sql::new("UPDATE users SET display_name = $1, bio = $2 WHERE id = $3").bind(display_name).bind(bio).bind(id),
    )
    .await?;
    Ok(())
}

pub(super) async fn fetch_password_hash(db: &Db, id: i64) -> StoreResult<Option<String>> {
    let row: Option<(Option<String>,)> =
        db.optional(Sql::new("SELECT password_hash FROM users WHERE id = $1").bind(id)).await?;
    Ok(row.and_then(|(h,)| h))
}

pub(super) async fn update_password_hash(db: &Db, id: i64, hash: &str) -> StoreResult<()> {
    db.execute(Sql::new("UPDATE users SET password_hash = $1 WHERE id = $2").bind(hash).bind(id)).await?;
    Ok(())
}

pub(super) async fn session_create(db: &Db, id: &str, row: &SessionRow) -> StoreResult<bool> {
    let q = Sql::new("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(&row.data)
        .bind(row.expires_at);
    Ok(db.execute(q).await? == 1)
}

pub(super) async fn session_save(db: &Db, id: &str, row: &SessionRow) -> StoreResult<()> {
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

/// `sessions LEFT JOIN users`: the session, and the account it signs in (all NULL when none).
#[derive(sqlx::FromRow)]
struct SessionUserRow {
    data: String,
    expires_at: i64,
    id: Option<i64>,
    nickname: Option<String>,
    display_name: Option<String>,
}

pub(super) async fn session_load(
    db: &Db,
    id: &str,
    now: i64,
) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
    if unmatchable(db, id) {
        return Ok(None);
    }
    // The account's id from the session's JSON, only when it is an integer (so no stored
    // data can make the query fail).
    let uid = if db.is_pg() {
        "CASE WHEN jsonb_typeof(s.data::jsonb -> 'uid') = 'number' THEN (s.data::jsonb ->> 'uid')::numeric::bigint END"
    } else {
        "CASE WHEN json_type(s.data, '$.uid') = 'integer' THEN json_extract(s.data, '$.uid') END"
    };
    let row: Option<SessionUserRow> = db
        .optional(
            Sql::new(format!(
                "SELECT s.data, s.expires_at, u.id, u.nickname, u.display_name FROM sessions s \
                 LEFT JOIN users u ON u.id = {uid} WHERE s.id = $1 AND s.expires_at > $2"
            ))
            .bind(id)
            .bind(now),
        )
        .await?;
    Ok(row.map(|r| {
        let user = match (r.id, r.nickname, r.display_name) {
            (Some(id), Some(nickname), Some(display_name)) => Some(CurrentUser { id, nickname, display_name }),
            _ => None,
        };
        (SessionRow { data: r.data, expires_at: r.expires_at }, user)
    }))
}

pub(super) async fn session_delete(db: &Db, id: &str) -> StoreResult<()> {
    db.execute(Sql::new("DELETE FROM sessions WHERE id = $1").bind(id)).await?;
    Ok(())
}

pub(super) async fn sessions_purge(db: &Db, now: i64) -> StoreResult<u64> {
    Ok(db.execute(Sql::new("DELETE FROM sessions WHERE expires_at <= $1").bind(now)).await?)
}
