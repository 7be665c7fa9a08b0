//! Accounts and sessions on SQLite.

use sqlx::SqlitePool;

use super::{NewUser, SessionRow};
use crate::accounts::model::{CurrentUser, MyProfile};
use crate::error::AppError;

pub(super) async fn create_user(pool: &SqlitePool, u: &NewUser) -> Result<CurrentUser, AppError> {
    let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
        "INSERT INTO users (nickname, display_name, email, password_hash, bio, created_at) \
         VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
    )
    .bind(&u.nickname)
    .bind(&u.display_name)
    .bind(&u.email)
    .bind(&u.password_hash)
    .bind(&u.bio)
    .bind(crate::time::now().timestamp())
    .fetch_one(pool)
    .await;
    match inserted {
        Ok((id,)) => Ok(CurrentUser { id, nickname: u.nickname.clone(), display_name: u.display_name.clone() }),
        // Deliberately one code for nickname and email: the answer must not tell whether
        // an email address has an account.
        Err(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            Err(AppError::Conflict(crate::error::Conflict::AccountExists))
        }
        Err(e) => Err(e.into()),
    }
}

pub(super) async fn find_login(pool: &SqlitePool, login: &str) -> Result<Option<(i64, String)>, AppError> {
    let row: Option<(i64, Option<String>)> = sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE nickname = ?1 OR lower(email) = ?1 ORDER BY nickname = ?1 DESC LIMIT 1",
    )
    .bind(login)
    .fetch_optional(pool)
    .await?;
    Ok(row.and_then(|(id, hash)| hash.map(|h| (id, h))))
}

pub(super) async fn fetch_user(pool: &SqlitePool, id: i64) -> Result<Option<CurrentUser>, AppError> {
    let row: Option<(i64, String, String)> =
        sqlx::query_as("SELECT id, nickname, display_name FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(id, nickname, display_name)| CurrentUser { id, nickname, display_name }))
}

pub(super) async fn fetch_my_profile(pool: &SqlitePool, id: i64) -> Result<Option<MyProfile>, AppError> {
    let row: Option<(String, String, Option<String>, String)> =
        sqlx::query_as("SELECT nickname, display_name, email, bio FROM users WHERE id = ?")
            .bind(id)
            .fetch_optional(pool)
            .await?;
    Ok(row.map(|(nickname, display_name, email, bio)| MyProfile {
        nickname,
        display_name,
        email: email.unwrap_or_default(),
        bio,
    }))
}

pub(super) async fn update_profile(pool: &SqlitePool, id: i64, display_name: &str, bio: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET display_name = ?, bio = ? WHERE id = ?")
        .bind(display_name)
        .bind(bio)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

pub(super) async fn fetch_password_hash(pool: &SqlitePool, id: i64) -> Result<Option<String>, AppError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT password_hash FROM users WHERE id = ?").bind(id).fetch_optional(pool).await?;
    Ok(row.and_then(|(h,)| h))
}

pub(super) async fn update_password_hash(pool: &SqlitePool, id: i64, hash: &str) -> Result<(), AppError> {
    sqlx::query("UPDATE users SET password_hash = ? WHERE id = ?").bind(hash).bind(id).execute(pool).await?;
    Ok(())
}

pub(super) async fn session_create(pool: &SqlitePool, id: &str, row: &SessionRow) -> Result<bool, AppError> {
    let done = sqlx::query("INSERT OR IGNORE INTO sessions (id, data, expires_at) VALUES (?, ?, ?)")
        .bind(id)
        .bind(&row.data)
        .bind(row.expires_at)
        .execute(pool)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn session_save(pool: &SqlitePool, id: &str, row: &SessionRow) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES (?, ?, ?) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id)
    .bind(&row.data)
    .bind(row.expires_at)
    .execute(pool)
    .await?;
    Ok(())
}

pub(super) async fn session_load(
    pool: &SqlitePool,
    id: &str,
    now: i64,
) -> Result<Option<(SessionRow, Option<CurrentUser>)>, AppError> {
    let row: Option<super::SessionUserRow> = sqlx::query_as(
        "SELECT s.data, s.expires_at, u.id, u.nickname, u.display_name FROM sessions s \
         LEFT JOIN users u ON u.id = CASE WHEN json_type(s.data, '$.uid') = 'integer' \
                                          THEN json_extract(s.data, '$.uid') END \
         WHERE s.id = ? AND s.expires_at > ?",
    )
    .bind(id)
    .bind(now)
    .fetch_optional(pool)
    .await?;
    Ok(row.map(super::session_with_user))
}

pub(super) async fn session_delete(pool: &SqlitePool, id: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sessions WHERE id = ?").bind(id).execute(pool).await?;
    Ok(())
}

pub(super) async fn sessions_purge(pool: &SqlitePool, now: i64) -> Result<u64, AppError> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= ?").bind(now).execute(pool).await?.rows_affected())
}
