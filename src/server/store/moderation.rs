//! The site's own keys, its administrators, reports and moderation, on either backend.
//! Hidden events and groups leave the public paths through `events.listed` (see
//! `visibility::refresh_listed`) and the gates that open pages by id or slug.

use std::collections::HashMap;

use super::Store;
use super::db::{Sql, Tx};
use super::visibility::refresh_listed;
use crate::error::{AppError, FieldError};
use crate::moderation::model::{
    HiddenItem, ModAction, ModerationLogLine, ModerationQueue, ReportReason, ReportedItem, TargetKind,
};

type Result<T> = std::result::Result<T, AppError>;

/// Reports one account may file a day.
pub const REPORTS_PER_DAY: i64 = 20;

impl Store {
    /// The site's secret named `name`, made on first use: every instance of a site reads the
    /// same one (the first to start writes it; the others' inserts do nothing).
    pub async fn site_secret(&self, name: &str) -> Result<String> {
        let fresh = crate::server::secret::new_hex(32);
        let now = crate::time::now().timestamp();
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO site_secrets (name, secret, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                )
                .bind(name)
                .bind(fresh)
                .bind(now),
            )
            .await?;
        let (secret,): (String,) =
            self.db.one(Sql::new("SELECT secret FROM site_secrets WHERE name = $1").bind(name)).await?;
        Ok(secret)
    }

    /// Whether `user_id` is a site administrator (and not suspended).
    pub async fn is_site_admin(&self, user_id: i64) -> Result<bool> {
        let row: Option<(bool,)> = self
            .db
            .optional(Sql::new("SELECT site_admin FROM users WHERE id = $1 AND suspended_at IS NULL").bind(user_id))
            .await?;
        Ok(row.is_some_and(|(a,)| a))
    }

    /// Makes the account `nickname` a site administrator or not (`tsudoi admin grant` and
    /// `revoke`); `None` when there is no such account.
    pub async fn set_site_admin(&self, nickname: &str, admin: bool) -> Result<Option<i64>> {
        let row: Option<(i64,)> = self
            .db
            .write_optional(
                Sql::new("UPDATE users SET site_admin = $1 WHERE nickname = $2 RETURNING id")
                    .bind(admin)
                    .bind(nickname.trim().to_lowercase()),
            )
            .await?;
        Ok(row.map(|(id,)| id))
    }

    /// The site administrators' nicknames.
    pub async fn site_admins(&self) -> Result<Vec<String>> {
        let rows: Vec<(String,)> = self
            .db
            .all(Sql::new("SELECT nickname FROM users WHERE site_admin = $1 ORDER BY nickname").bind(true))
            .await?;
        Ok(rows.into_iter().map(|(n,)| n).collect())
    }

    /// Files `reporter`'s report about an event, group or account. One open report per person
    /// and target: reporting again while it is open changes nothing. `NotFound` for what does
    /// not exist publicly; 429 past [`REPORTS_PER_DAY`].
    pub async fn file_report(
        &self,
        reporter: i64,
        kind: TargetKind,
        target: i64,
        reason: &str,
        now: i64,
    ) -> Result<()> {
        let exists = match kind {
            TargetKind::Event => "SELECT id FROM events WHERE id = $1 AND status IN ('published', 'cancelled')",
            TargetKind::Group => "SELECT id FROM groups WHERE id = $1",
            TargetKind::User => "SELECT id FROM users WHERE id = $1",
        };
        let found: Option<(i64,)> = self.db.optional(Sql::new(exists).bind(target)).await?;
        if found.is_none() {
            return Err(AppError::NotFound);
        }
        let (today, first): (i64, Option<i64>) = self
            .db
            .one(
                Sql::new("SELECT COUNT(*), MIN(created_at) FROM reports WHERE reporter_id = $1 AND created_at > $2")
                    .bind(reporter)
                    .bind(now - 86_400),
            )
            .await?;
        if today >= REPORTS_PER_DAY {
            let wait = first.map_or(86_400, |f| f + 86_400 - now).clamp(1, 86_400);
            return Err(AppError::RateLimited(wait as u64));
        }
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO reports (reporter_id, target_kind, target_id, reason, created_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                )
                .bind(reporter)
                .bind(kind.as_str())
                .bind(target)
                .bind(reason)
                .bind(now),
            )
            .await?;
        Ok(())
    }

    /// Open reports grouped by what they are about (oldest first), what is hidden now, and
    /// the latest lines of the site's audit log.
    pub async fn moderation_queue(&self) -> Result<ModerationQueue> {
        let db = &self.db;
        let rows: Vec<(String, i64, String, String, i64)> = db
            .all(Sql::new(
                "SELECT r.target_kind, r.target_id, u.nickname, r.reason, r.created_at FROM reports r \
                 JOIN users u ON u.id = r.reporter_id WHERE r.resolved_at IS NULL ORDER BY r.id LIMIT 1000",
            ))
            .await?;
        let mut open: Vec<ReportedItem> = Vec::new();
        let mut at: HashMap<(TargetKind, i64), usize> = HashMap::new();
        for (kind, id, reporter, reason, created) in rows {
            let kind = super::decode(&kind, TargetKind::parse, "report target")?;
            let i = *at.entry((kind, id)).or_insert_with(|| {
                open.push(ReportedItem {
                    kind,
                    id,
                    title: String::new(),
                    url: String::new(),
                    hidden: false,
                    reasons: Vec::new(),
                });
                open.len() - 1
            });
            open[i].reasons.push(ReportReason { reporter, reason, at: created, at_label: String::new() });
        }
        let names = self.target_names(&open.iter().map(|o| (o.kind, o.id)).collect::<Vec<_>>()).await?;
        for item in &mut open {
            if let Some((title, url, hidden)) = names.get(&(item.kind, item.id)) {
                (item.title, item.url, item.hidden) = (title.clone(), url.clone(), hidden.is_some());
            }
        }
        let mut hidden = Vec::new();
        for (kind, q) in [
            (
                TargetKind::Event,
                "SELECT id, title, CAST(id AS TEXT), hidden_at FROM events WHERE hidden_at IS NOT NULL",
            ),
            (TargetKind::Group, "SELECT id, title, slug, hidden_at FROM groups WHERE hidden_at IS NOT NULL"),
            (TargetKind::User, "SELECT id, nickname, nickname, suspended_at FROM users WHERE suspended_at IS NOT NULL"),
        ] {
            let rows: Vec<(i64, String, String, i64)> =
                db.all(Sql::new(format!("{q} ORDER BY 4 DESC LIMIT 200"))).await?;
            hidden.extend(rows.into_iter().map(|(id, title, key, since)| HiddenItem {
                kind,
                id,
                title,
                url: page_url(kind, &key),
                since,
                since_label: String::new(),
            }));
        }
        let lines: Vec<(i64, String, String, String, i64, String)> = db
            .all(Sql::new(
                "SELECT m.created_at, u.nickname, m.action, m.target_kind, m.target_id, m.detail FROM moderation_log m \
                 JOIN users u ON u.id = m.actor_id ORDER BY m.id DESC LIMIT 100",
            ))
            .await?;
        let log = lines
            .into_iter()
            .map(|(at, actor, action, kind, target_id, detail)| {
                let kind = super::decode(&kind, TargetKind::parse, "moderation target")?;
                Ok(ModerationLogLine { at, at_label: String::new(), actor, action, kind, target_id, detail })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(ModerationQueue { open, hidden, log })
    }

    /// Title, public page and hidden/suspended time of each target.
    async fn target_names(
        &self,
        targets: &[(TargetKind, i64)],
    ) -> Result<HashMap<(TargetKind, i64), (String, String, Option<i64>)>> {
        let mut out = HashMap::new();
        for (kind, q) in [
            (TargetKind::Event, "SELECT id, title, CAST(id AS TEXT), hidden_at FROM events WHERE id IN "),
            (TargetKind::Group, "SELECT id, title, slug, hidden_at FROM groups WHERE id IN "),
            (TargetKind::User, "SELECT id, nickname, nickname, suspended_at FROM users WHERE id IN "),
        ] {
            let ids: Vec<i64> = targets.iter().filter(|(k, _)| *k == kind).map(|(_, id)| *id).collect();
            if ids.is_empty() {
                continue;
            }
            let mut sql = Sql::new(q);
            sql.push_list(ids);
            let rows: Vec<(i64, String, String, Option<i64>)> = self.db.all(sql).await?;
            for (id, title, key, hidden) in rows {
                out.insert((kind, id), (title, page_url(kind, &key), hidden));
            }
        }
        Ok(out)
    }

    /// A site administrator's `action` on an event, group or account, in one transaction:
    /// the change, its reports resolved, a line in the site's audit log (and in the group's
    /// history for events and groups). Suspending ends the account's sessions and hides the
    /// groups it alone owns; unsuspending brings exactly those back.
    pub async fn moderate(&self, actor: i64, kind: TargetKind, target: i64, action: ModAction, now: i64) -> Result<()> {
        if !action.applies_to(kind) {
            return Err(AppError::Invalid(vec![FieldError::new(
                "action",
                "not_applicable",
                "This action does not apply to this kind of report.",
            )]));
        }
        let mut tx = self.db.begin().await?;
        let (group_id, name) = target_of(&mut tx, kind, target).await?;
        let detail = match (kind, action) {
            (TargetKind::Event, ModAction::Hide | ModAction::Restore) => {
                let hidden = (action == ModAction::Hide).then_some(now);
                tx.execute(Sql::new("UPDATE events SET hidden_at = $1 WHERE id = $2").bind(hidden).bind(target))
                    .await?;
                refresh_listed(&mut tx, "id", target).await?;
                format!("\"{name}\"")
            }
            (TargetKind::Group, ModAction::Hide | ModAction::Restore) => {
                let (hidden, cause) = match action {
                    ModAction::Hide => (Some(now), Some("moderation")),
                    _ => (None, None),
                };
                tx.execute(
                    Sql::new("UPDATE groups SET hidden_at = $1, hidden_cause = $2 WHERE id = $3")
                        .bind(hidden)
                        .bind(cause)
                        .bind(target),
                )
                .await?;
                refresh_listed(&mut tx, "group_id", target).await?;
                format!("\"{name}\"")
            }
            (TargetKind::User, ModAction::Suspend) => {
                let (admin,): (bool,) =
                    tx.one(Sql::new("SELECT site_admin FROM users WHERE id = $1").bind(target)).await?;
                if target == actor || admin {
                    return Err(AppError::Invalid(vec![FieldError::new(
                        "action",
                        "site_admin",
                        "A site administrator cannot be suspended (revoke the role first: tsudoi admin revoke NICK).",
                    )]));
                }
                tx.execute(Sql::new("UPDATE users SET suspended_at = $1 WHERE id = $2").bind(now).bind(target)).await?;
                tx.execute(super::accounts::end_sessions(&self.db, target, None)).await?;
                // The groups it alone owns (no other owner in good standing) go with it.
                let cause = format!("user:{target}");
                let groups: Vec<(i64,)> = tx
                    .all(
                        Sql::new(
                            "SELECT g.id FROM groups g JOIN group_members m ON m.group_id = g.id \
                             WHERE m.user_id = $1 AND m.role = 'owner' AND g.hidden_at IS NULL AND NOT EXISTS \
                             (SELECT 1 FROM group_members o JOIN users u ON u.id = o.user_id WHERE o.group_id = g.id \
                              AND o.role = 'owner' AND o.user_id <> $1 AND u.suspended_at IS NULL) ORDER BY g.id",
                        )
                        .bind(target),
                    )
                    .await?;
                for (g,) in &groups {
                    tx.execute(
                        Sql::new("UPDATE groups SET hidden_at = $1, hidden_cause = $2 WHERE id = $3")
                            .bind(now)
                            .bind(cause.as_str())
                            .bind(*g),
                    )
                    .await?;
                    refresh_listed(&mut tx, "group_id", *g).await?;
                }
                let ids: Vec<String> = groups.iter().map(|(g,)| g.to_string()).collect();
                format!("@{name}; groups hidden with the account: [{}]", ids.join(", "))
            }
            (TargetKind::User, ModAction::Unsuspend) => {
                tx.execute(Sql::new("UPDATE users SET suspended_at = NULL WHERE id = $1").bind(target)).await?;
                let groups: Vec<(i64,)> = tx
                    .all(Sql::new("SELECT id FROM groups WHERE hidden_cause = $1").bind(format!("user:{target}")))
                    .await?;
                for (g,) in &groups {
                    tx.execute(
                        Sql::new("UPDATE groups SET hidden_at = NULL, hidden_cause = NULL WHERE id = $1").bind(*g),
                    )
                    .await?;
                    refresh_listed(&mut tx, "group_id", *g).await?;
                }
                format!("@{name}; {} groups restored with the account", groups.len())
            }
            (_, ModAction::Dismiss) => format!("reports about {} {target} dismissed", kind.as_str()),
            _ => unreachable!("applies_to rules out the other pairs"),
        };
        let resolution = match action {
            ModAction::Hide => "hidden",
            ModAction::Suspend => "suspended",
            ModAction::Dismiss => "dismissed",
            ModAction::Restore | ModAction::Unsuspend => "restored",
        };
        tx.execute(
            Sql::new(
                "UPDATE reports SET resolved_at = $1, resolved_by = $2, resolution = $3 \
                 WHERE target_kind = $4 AND target_id = $5 AND resolved_at IS NULL",
            )
            .bind(now)
            .bind(actor)
            .bind(resolution)
            .bind(kind.as_str())
            .bind(target),
        )
        .await?;
        let code = action.log_code(kind);
        tx.execute(
            Sql::new(
                "INSERT INTO moderation_log (actor_id, action, target_kind, target_id, detail, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(actor)
            .bind(code.as_str())
            .bind(kind.as_str())
            .bind(target)
            .bind(detail.as_str())
            .bind(now),
        )
        .await?;
        if let (Some(group_id), false) = (group_id, action == ModAction::Dismiss) {
            let event_id = (kind == TargetKind::Event).then_some(target);
            tx.execute(
                Sql::new(
                    "INSERT INTO audit_log (group_id, event_id, user_id, action, detail, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(group_id)
                .bind(event_id)
                .bind(actor)
                .bind(format!("moderation.{code}"))
                .bind(format!("by the site's administrators: {detail}"))
                .bind(now),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// The group (for events and groups) and the name of a moderation target; `NotFound` when
/// it does not exist.
async fn target_of(tx: &mut Tx, kind: TargetKind, id: i64) -> Result<(Option<i64>, String)> {
    let row: Option<(Option<i64>, String)> = match kind {
        TargetKind::Event => tx.optional(Sql::new("SELECT group_id, title FROM events WHERE id = $1").bind(id)).await?,
        TargetKind::Group => tx.optional(Sql::new("SELECT id, title FROM groups WHERE id = $1").bind(id)).await?,
        TargetKind::User => {
            let row: Option<(String,)> =
                tx.optional(Sql::new("SELECT nickname FROM users WHERE id = $1").bind(id)).await?;
            row.map(|(n,)| (None, n))
        }
    };
    row.ok_or(AppError::NotFound)
}

/// The public page of a target from its key (event id, group slug, nickname).
fn page_url(kind: TargetKind, key: &str) -> String {
    match kind {
        TargetKind::Event => format!("/events/{key}"),
        TargetKind::Group => format!("/groups/{key}"),
        TargetKind::User => format!("/users/{key}"),
    }
}
