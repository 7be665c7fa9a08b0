//! Materials (資料) attached to events: slides, videos and blog posts, added by the event's
//! organizers or its linked speakers.

use super::Store;
use super::db::Sql;
use super::events::instant;
use super::public::{MaterialRow, NewMaterial, PublicUserRef};
use crate::error::AppError;

type Result<T> = std::result::Result<T, AppError>;

impl Store {
    /// Materials of these events, oldest first.
    pub async fn materials(&self, event_ids: &[i64]) -> Result<Vec<MaterialRow>> {
        let db = &self.db;
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(MATERIAL_SELECT);
        q.push(" WHERE m.event_id IN ").push_list(event_ids.iter().copied()).push(" ORDER BY m.event_id, m.id");
        let rows: Vec<MaterialSqlRow> = db.all(q).await?;
        Ok(rows.into_iter().map(material).collect())
    }

    pub async fn material(&self, id: i64) -> Result<Option<MaterialRow>> {
        let db = &self.db;
        let mut q = Sql::new(MATERIAL_SELECT);
        q.push(" WHERE m.id = ").push_bind(id);
        Ok(db.optional::<MaterialSqlRow>(q).await?.map(material))
    }

    pub async fn add_material(&self, m: &NewMaterial) -> Result<MaterialRow> {
        let db = &self.db;
        let (id,): (i64,) = db
            .write_optional(
                Sql::new(
                    "INSERT INTO materials (event_id, user_id, url, title, kind, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(m.event_id)
                .bind(m.user_id)
                .bind(&m.url)
                .bind(&m.title)
                .bind(&m.kind)
                .bind(m.created_at.timestamp()),
            )
            .await?
            .ok_or(sqlx::Error::RowNotFound)?;
        self.material(id).await?.ok_or(AppError::NotFound)
    }

    /// `false` when there was no such material.
    pub async fn delete_material(&self, id: i64) -> Result<bool> {
        let db = &self.db;
        Ok(db.execute(Sql::new("DELETE FROM materials WHERE id = $1").bind(id)).await? > 0)
    }

    /// True when the user organises the event's group (owner or admin) or is a linked speaker.
    pub async fn may_attach_material(&self, event_id: i64, user_id: i64) -> Result<bool> {
        let db = &self.db;
        let (n,): (i64,) = db
            .one(
                Sql::new(
                    "SELECT (SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
                         WHERE e.id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin')) \
                      + (SELECT COUNT(*) FROM speakers s WHERE s.event_id = $1 AND s.user_id = $2)",
                )
                .bind(event_id)
                .bind(user_id),
            )
            .await?;
        Ok(n > 0)
    }
}

/// A material with its author, as [`MATERIAL_SELECT`] reads it.
#[derive(sqlx::FromRow)]
struct MaterialSqlRow {
    id: i64,
    event_id: i64,
    user_id: i64,
    nickname: String,
    display_name: String,
    url: String,
    title: String,
    kind: String,
    created_at: i64,
}

const MATERIAL_SELECT: &str = "SELECT m.id, m.event_id, u.id AS user_id, u.nickname, u.display_name, m.url, \
     m.title, m.kind, m.created_at FROM materials m JOIN users u ON u.id = m.user_id";

fn material(r: MaterialSqlRow) -> MaterialRow {
    MaterialRow {
        id: r.id,
        event_id: r.event_id,
        user: PublicUserRef { id: r.user_id, nickname: r.nickname, display_name: r.display_name },
        url: r.url,
        title: r.title,
        kind: r.kind,
        created_at: instant(r.created_at),
    }
}
