//! Group invitations: an organizer invites an account by nickname; it becomes a member
//! only when that person accepts on /me. One open invitation per person and group.

use chrono::{DateTime, Utc};

use super::Store;
use super::db::Sql;
use crate::admin::model::{AdminGroup, Member, Role};
use crate::error::{AppError, Conflict};

type Result<T> = std::result::Result<T, AppError>;

impl Store {
    /// Invites `user_id` into the group with `role` (inviting again replaces the role);
    /// `Conflict::AlreadyMember` when they are a member already.
    pub async fn invite_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: Role,
        invited_by: i64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let member: Option<(i64,)> = tx
            .optional(
                Sql::new("SELECT user_id FROM group_members WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id),
            )
            .await?;
        if member.is_some() {
            return Err(AppError::Conflict(Conflict::AlreadyMember));
        }
        tx.execute(
            Sql::new(
                "INSERT INTO group_invitations (group_id, user_id, role, invited_by, created_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (group_id, user_id) DO UPDATE SET role = excluded.role, \
                 invited_by = excluded.invited_by, created_at = excluded.created_at",
            )
            .bind(group_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(invited_by)
            .bind(now.timestamp()),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The group's open invitations, oldest first.
    pub async fn group_invitations(&self, group_id: i64) -> Result<Vec<Member>> {
        let rows: Vec<(i64, String, String, String)> = self
            .db
            .all(
                Sql::new(
                    "SELECT u.id, u.nickname, u.display_name, i.role FROM group_invitations i \
                     JOIN users u ON u.id = i.user_id WHERE i.group_id = $1 ORDER BY i.created_at, u.id",
                )
                .bind(group_id),
            )
            .await?;
        rows.into_iter()
            .map(|(user_id, nickname, display_name, role)| {
                Ok(Member { user_id, nickname, display_name, role: super::decode(&role, Role::parse, "member role")? })
            })
            .collect()
    }

    /// The groups inviting me, with the role offered, newest first.
    pub async fn my_invitations(&self, user_id: i64) -> Result<Vec<AdminGroup>> {
        let rows: Vec<(i64, String, String, String)> = self
            .db
            .all(
                Sql::new(
                    "SELECT g.id, g.slug, g.title, i.role FROM group_invitations i \
                     JOIN groups g ON g.id = i.group_id WHERE i.user_id = $1 ORDER BY i.created_at DESC, g.id",
                )
                .bind(user_id),
            )
            .await?;
        rows.into_iter()
            .map(|(id, slug, title, role)| {
                Ok(AdminGroup { id, slug, title, role: super::decode(&role, Role::parse, "member role")? })
            })
            .collect()
    }

    /// Accepts (the person becomes a member with the offered role) or declines the
    /// invitation; either way it is gone. `NotFound` when there is none; the role offered.
    pub async fn answer_invitation(
        &self,
        group_id: i64,
        user_id: i64,
        accept: bool,
        now: DateTime<Utc>,
    ) -> Result<Role> {
        let mut tx = self.db.begin().await?;
        let row: Option<(String,)> = tx
            .optional(
                Sql::new("DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2 RETURNING role")
                    .bind(group_id)
                    .bind(user_id),
            )
            .await?;
        let role = super::decode(&row.ok_or(AppError::NotFound)?.0, Role::parse, "member role")?;
        if accept {
            tx.execute(super::admin_edit::insert_member(group_id, user_id, role, now)).await?;
        }
        tx.commit().await?;
        Ok(role)
    }

    /// The role an open invitation offers, if there is one.
    pub async fn invitation_role(&self, group_id: i64, user_id: i64) -> Result<Option<Role>> {
        let row: Option<(String,)> = self
            .db
            .optional(
                Sql::new("SELECT role FROM group_invitations WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id),
            )
            .await?;
        row.map(|(r,)| super::decode(&r, Role::parse, "member role")).transpose()
    }

    /// Withdraws an open invitation (`NotFound` when there is none).
    pub async fn revoke_invitation(&self, group_id: i64, user_id: i64) -> Result<()> {
        let done = self
            .db
            .execute(
                Sql::new("DELETE FROM group_invitations WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(user_id),
            )
            .await?;
        if done == 0 { Err(AppError::NotFound) } else { Ok(()) }
    }
}
