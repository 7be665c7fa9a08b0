//! Visibility of events and groups. Every list filters on `events.listed`, which the writes
//! here keep equal to "the event is public and its group is not unlisted" (so lists need no
//! join, and the search index's change log sees the change as an update of the event).

use super::Store;
use super::db::{Sql, Tx};
use crate::error::AppError;
use crate::events::model::Visibility;

type Result<T> = std::result::Result<T, AppError>;

/// What the public paths check before showing an event that is reachable by link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventGate {
    pub group_id: i64,
    pub visibility: Visibility,
    /// The invitation secret (invitation-only events).
    pub invite_token: Option<String>,
    /// Hidden by the site's administrators (the event or its group): no public path opens it.
    pub hidden: bool,
}

impl EventGate {
    /// Whether `invite` (the secret from the link) opens this event.
    pub fn admits(&self, invite: Option<&str>) -> bool {
        if self.hidden {
            return false;
        }
        match self.visibility {
            Visibility::Public | Visibility::Unlisted => true,
            // Compared as hashes, so the comparison's time says nothing about the secret.
            Visibility::Invitation => match (invite, &self.invite_token) {
                (Some(given), Some(secret)) => !given.is_empty() && secret_hash(given) == secret_hash(secret),
                _ => false,
            },
        }
    }
}

fn secret_hash(secret: &str) -> String {
    crate::server::secret::hash(secret)
}

/// Recomputes `listed` for the events `scope` names (`e.id = $1` or `e.group_id = $1`):
/// public, of a listed group, and neither the event nor its group hidden by moderation.
pub(super) async fn refresh_listed(tx: &mut Tx, scope: &str, id: i64) -> Result<()> {
    let listed = if tx.is_pg() { "TRUE" } else { "1" };
    let unlisted = if tx.is_pg() { "FALSE" } else { "0" };
    let q = format!(
        "UPDATE events SET listed = CASE WHEN visibility = 'public' AND hidden_at IS NULL AND NOT EXISTS \
           (SELECT 1 FROM groups g WHERE g.id = events.group_id AND (g.unlisted OR g.hidden_at IS NOT NULL)) \
           THEN {listed} ELSE {unlisted} END \
         WHERE {scope} = $1"
    );
    tx.execute(Sql::new(q).bind(id)).await?;
    Ok(())
}

impl Store {
    /// Sets who can find the event; `invite` replaces the invitation secret when given.
    pub async fn set_event_visibility(&self, event_id: i64, v: Visibility, invite: Option<&str>) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let mut q = Sql::new("UPDATE events SET visibility = ");
        q.push_bind(v.as_str());
        if let Some(secret) = invite {
            q.push(", invite_token = ").push_bind(secret.to_string());
        }
        q.push(" WHERE id = ").push_bind(event_id);
        if tx.execute(q).await? == 0 {
            return Err(AppError::NotFound);
        }
        refresh_listed(&mut tx, "id", event_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Keeps `listed` true to the event's visibility and group (after creating or copying it).
    pub async fn refresh_event_listed(&self, event_id: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        refresh_listed(&mut tx, "id", event_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Makes a group unlisted (its page reachable by link; it and its events leave every
    /// list) or listed again.
    pub async fn set_group_unlisted(&self, group_id: i64, unlisted: bool) -> Result<()> {
        let mut tx = self.db.begin().await?;
        let q = Sql::new("UPDATE groups SET unlisted = $1 WHERE id = $2").bind(unlisted).bind(group_id);
        if tx.execute(q).await? == 0 {
            return Err(AppError::NotFound);
        }
        refresh_listed(&mut tx, "group_id", group_id).await?;
        tx.commit().await?;
        Ok(())
    }

    /// The origins allowed to frame the group's widget (`None`: any site), by slug; the outer
    /// `None` when there is no such group (or it is hidden by moderation).
    pub async fn embed_origins(&self, slug: &str) -> Result<Option<Option<String>>> {
        if !super::events::storable(slug) {
            return Ok(None);
        }
        let row: Option<(Option<String>,)> = self
            .db
            .optional(Sql::new("SELECT embed_origins FROM groups WHERE slug = $1 AND hidden_at IS NULL").bind(slug))
            .await?;
        Ok(row.map(|(o,)| o))
    }

    /// Sets the origins allowed to frame the group's widget (`None`: any site).
    pub async fn set_embed_origins(&self, group_id: i64, origins: Option<&str>) -> Result<()> {
        let q = Sql::new("UPDATE groups SET embed_origins = $1 WHERE id = $2").bind(origins).bind(group_id);
        if self.db.execute(q).await? == 0 {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// The group's embed origins by id (`None`: any site).
    pub async fn group_embed_origins(&self, group_id: i64) -> Result<Option<String>> {
        let row: Option<(Option<String>,)> =
            self.db.optional(Sql::new("SELECT embed_origins FROM groups WHERE id = $1").bind(group_id)).await?;
        Ok(row.and_then(|(o,)| o))
    }

    /// Whether the group is unlisted.
    pub async fn group_unlisted(&self, group_id: i64) -> Result<bool> {
        let row: Option<(bool,)> =
            self.db.optional(Sql::new("SELECT unlisted FROM groups WHERE id = $1").bind(group_id)).await?;
        Ok(row.is_some_and(|(u,)| u))
    }

    /// Whether the event shows in lists (public, of a listed group): only such events are
    /// announced to the group's followers.
    pub async fn event_listed(&self, event_id: i64) -> Result<bool> {
        let row: Option<(bool,)> =
            self.db.optional(Sql::new("SELECT listed FROM events WHERE id = $1").bind(event_id)).await?;
        Ok(row.is_some_and(|(l,)| l))
    }

    /// The event's visibility and group, for the paths that open it by id (`None`: unknown).
    pub async fn event_gate(&self, event_id: i64) -> Result<Option<EventGate>> {
        let row: Option<(i64, String, Option<String>, bool)> = self
            .db
            .optional(
                Sql::new(
                    "SELECT e.group_id, e.visibility, e.invite_token, \
                     (e.hidden_at IS NOT NULL OR g.hidden_at IS NOT NULL) AS hidden \
                     FROM events e JOIN groups g ON g.id = e.group_id WHERE e.id = $1",
                )
                .bind(event_id),
            )
            .await?;
        row.map(|(group_id, v, invite_token, hidden)| {
            let visibility = super::decode(&v, Visibility::parse, "visibility")?;
            Ok(EventGate { group_id, visibility, invite_token, hidden })
        })
        .transpose()
    }
}
