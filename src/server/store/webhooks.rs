//! Outgoing webhooks on either backend: the hooks of a group, the outbox the triggers of
//! migration 0023 fill, and the deliveries a worker sends (see `webhooks::worker`).

use super::Store;
use super::db::Sql;
use crate::error::{AppError, FieldError};
use crate::webhooks::model::{Delivery, MAX_ATTEMPTS, MAX_PER_GROUP, TEST_TYPE, Webhook};

type Result<T> = std::result::Result<T, AppError>;

/// A delivery claimed for sending.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: i64,
    /// Until when this instance holds it.
    pub lease_until: i64,
    pub url: String,
    pub secret: String,
    pub msg_id: String,
    pub payload: String,
    pub attempts: i64,
}

fn iso(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

#[derive(sqlx::FromRow)]
struct DeliveryRow {
    id: i64,
    webhook_id: i64,
    msg_id: String,
    kind: String,
    state: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created_at: i64,
    next_attempt_at: i64,
}

impl Store {
    /// A new webhook of `group_id` (at most [`MAX_PER_GROUP`]); its id.
    pub async fn create_webhook(
        &self,
        group_id: i64,
        url: &str,
        types: &[&str],
        secret: &str,
        by: i64,
        now: i64,
    ) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        // The group's row, locked: two creations at once cannot both pass the count.
        if tx.is_pg() {
            tx.execute(Sql::new("SELECT id FROM groups WHERE id = $1 FOR UPDATE").bind(group_id)).await?;
        }
        let (count,): (i64,) =
            tx.one(Sql::new("SELECT COUNT(*) FROM webhooks WHERE group_id = $1").bind(group_id)).await?;
        if count >= MAX_PER_GROUP as i64 {
            return Err(AppError::Invalid(vec![FieldError::new("url", "too_many", "a group has at most 10 webhooks")]));
        }
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO webhooks (group_id, url, events, secret, created_by, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(group_id)
                .bind(url)
                .bind(types.join(","))
                .bind(secret)
                .bind(by)
                .bind(now),
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// The group a webhook belongs to (`None`: no such webhook).
    pub async fn webhook_group(&self, id: i64) -> Result<Option<i64>> {
        let row: Option<(i64,)> =
            self.db.optional(Sql::new("SELECT group_id FROM webhooks WHERE id = $1").bind(id)).await?;
        Ok(row.map(|(g,)| g))
    }

    /// The group's webhooks, oldest first (never their secrets).
    pub async fn webhooks_of(&self, group_id: i64) -> Result<Vec<Webhook>> {
        let rows: Vec<(i64, String, String, i64)> = self
            .db
            .all(
                Sql::new("SELECT id, url, events, created_at FROM webhooks WHERE group_id = $1 ORDER BY id")
                    .bind(group_id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, url, events, created_at)| Webhook {
                id,
                url,
                events: events.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
                created_at,
            })
            .collect())
    }

    /// Deletes a webhook and its deliveries.
    pub async fn delete_webhook(&self, id: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(Sql::new("DELETE FROM webhook_deliveries WHERE webhook_id = $1").bind(id)).await?;
        if tx.execute(Sql::new("DELETE FROM webhooks WHERE id = $1").bind(id)).await? == 0 {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    /// Replaces a webhook's secret: deliveries from now on are signed with the new one.
    pub async fn rotate_webhook(&self, id: i64, secret: &str) -> Result<()> {
        if self.db.execute(Sql::new("UPDATE webhooks SET secret = $1 WHERE id = $2").bind(secret).bind(id)).await? == 0
        {
            return Err(AppError::NotFound);
        }
        Ok(())
    }

    /// Queues a `webhook.test` delivery to one webhook.
    pub async fn queue_test_delivery(&self, webhook_id: i64, group_slug: &str, now: i64) -> Result<()> {
        let msg_id = format!("msg_test_{}", crate::server::secret::new_hex(8));
        let payload = serde_json::json!({
            "type": TEST_TYPE,
            "timestamp": iso(now),
            "data": { "group": group_slug, "message": "A test from Tsudoi: this webhook works." },
        });
        self.db
            .execute(
                Sql::new(
                    "INSERT INTO webhook_deliveries (webhook_id, msg_id, type, event_id, payload, next_attempt_at, created_at) \
                     VALUES ($1, $2, $3, NULL, $4, $5, $5)",
                )
                .bind(webhook_id)
                .bind(msg_id)
                .bind(TEST_TYPE)
                .bind(payload.to_string())
                .bind(now),
            )
            .await?;
        Ok(())
    }

    /// The group's latest deliveries, newest first.
    pub async fn deliveries_of(&self, group_id: i64, limit: i64) -> Result<Vec<Delivery>> {
        let rows: Vec<DeliveryRow> = self
            .db
            .all(
                Sql::new(
                    "SELECT d.id, d.webhook_id, d.msg_id, d.type AS kind, d.state, d.attempts, d.last_status, d.last_error, \
                     d.created_at, d.next_attempt_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id \
                     WHERE w.group_id = $1 ORDER BY d.id DESC LIMIT $2",
                )
                .bind(group_id)
                .bind(limit),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| Delivery {
                id: r.id,
                webhook_id: r.webhook_id,
                msg_id: r.msg_id,
                r#type: r.kind,
                state: r.state,
                attempts: r.attempts,
                last_status: r.last_status,
                last_error: r.last_error,
                created_at: r.created_at,
                next_attempt_at: r.next_attempt_at,
            })
            .collect())
    }

    /// Turns up to 200 outbox rows into deliveries (one per subscribed webhook), in one
    /// transaction that also removes them: no row is fanned out twice, even by two instances.
    /// Returns how many deliveries were queued.
    pub async fn fan_out_webhooks(&self, public_url: &str, now: i64) -> Result<usize> {
        let mut tx = self.db.begin().await?;
        let happened: Vec<(i64, String, i64, Option<i64>, i64)> = tx
            .all(Sql::new(
                "DELETE FROM webhook_outbox WHERE id IN (SELECT id FROM webhook_outbox ORDER BY id LIMIT 200) \
                 RETURNING id, type, event_id, registration_id, created_at",
            ))
            .await?;
        let mut happened = happened;
        happened.sort_by_key(|h| h.0);
        let mut queued = 0;
        for (outbox_id, kind, event_id, registration_id, at) in happened {
            let hooks: Vec<(i64, String)> = tx
                .all(
                    Sql::new(
                        "SELECT w.id, w.events FROM webhooks w JOIN events e ON e.group_id = w.group_id \
                         WHERE e.id = $1 ORDER BY w.id",
                    )
                    .bind(event_id),
                )
                .await?;
            let hooks: Vec<i64> =
                hooks.into_iter().filter(|(_, types)| types.split(',').any(|t| t == kind)).map(|(id, _)| id).collect();
            if hooks.is_empty() {
                continue;
            }
            let event: Option<(String, String, i64, i64, String, String)> = tx
                .optional(
                    Sql::new(
                        "SELECT e.title, e.status, e.starts_at, e.ends_at, e.time_zone, g.slug FROM events e \
                         JOIN groups g ON g.id = e.group_id WHERE e.id = $1",
                    )
                    .bind(event_id),
                )
                .await?;
            let Some((title, status, starts, ends, zone, group)) = event else { continue };
            let mut data = serde_json::json!({
                "event": {
                    "id": event_id,
                    "title": title,
                    "status": status,
                    "url": format!("{public_url}/events/{event_id}"),
                    "starts_at": iso(starts),
                    "ends_at": iso(ends),
                    "time_zone": zone,
                    "group": group,
                }
            });
            if let Some(rid) = registration_id {
                let reg: Option<(i64, String, String, String)> = tx
                    .optional(
                        Sql::new(
                            "SELECT r.frame_id, r.status, u.nickname, u.display_name FROM registrations r \
                             JOIN users u ON u.id = r.user_id WHERE r.id = $1",
                        )
                        .bind(rid),
                    )
                    .await?;
                let Some((frame_id, status, nickname, display_name)) = reg else { continue };
                data["registration"] = serde_json::json!({
                    "id": rid,
                    "frame_id": frame_id,
                    "status": status,
                    "user": { "nickname": nickname, "display_name": display_name },
                });
            }
            let payload = serde_json::json!({ "type": kind, "timestamp": iso(at), "data": data }).to_string();
            for hook in hooks {
                tx.execute(
                    Sql::new(
                        "INSERT INTO webhook_deliveries (webhook_id, msg_id, type, event_id, payload, next_attempt_at, \
                         created_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
                    )
                    .bind(hook)
                    .bind(format!("msg_{outbox_id}"))
                    .bind(kind.as_str())
                    .bind(event_id)
                    .bind(payload.as_str())
                    .bind(now),
                )
                .await?;
                queued += 1;
            }
        }
        tx.commit().await?;
        Ok(queued)
    }

    /// Claims up to `limit` deliveries due at `now`, each leased until `lease_until` (another
    /// instance skips it; if this one dies, it is tried again then). Of the deliveries about
    /// one event to one webhook, only the oldest pending one is due: they arrive in order.
    pub async fn claim_due_deliveries(&self, now: i64, lease_until: i64, limit: i64) -> Result<Vec<DueDelivery>> {
        let due: Vec<(i64, i64)> = self
            .db
            .all(
                Sql::new(
                    "SELECT d.id, d.next_attempt_at FROM webhook_deliveries d WHERE d.state = 'pending' \
                     AND d.next_attempt_at <= $1 AND NOT EXISTS (SELECT 1 FROM webhook_deliveries o \
                       WHERE o.webhook_id = d.webhook_id AND o.event_id = d.event_id AND o.state = 'pending' AND o.id < d.id) \
                     ORDER BY d.id LIMIT $2",
                )
                .bind(now)
                .bind(limit),
            )
            .await?;
        let mut claimed = Vec::new();
        for (id, at) in due {
            let row: Option<(String, String, String, String, i64)> = self
                .db
                .write_optional(
                    Sql::new(
                        "UPDATE webhook_deliveries SET next_attempt_at = $1 \
                         WHERE id = $2 AND next_attempt_at = $3 AND state = 'pending' \
                         RETURNING (SELECT url FROM webhooks w WHERE w.id = webhook_id), \
                                   (SELECT secret FROM webhooks w WHERE w.id = webhook_id), msg_id, payload, attempts",
                    )
                    .bind(lease_until)
                    .bind(id)
                    .bind(at),
                )
                .await?;
            if let Some((url, secret, msg_id, payload, attempts)) = row {
                claimed.push(DueDelivery { id, lease_until, url, secret, msg_id, payload, attempts });
            }
        }
        Ok(claimed)
    }

    /// Records an attempt: `sent` on success; otherwise retried after `retry_in` seconds, or
    /// `failed` after [`MAX_ATTEMPTS`]. Only while this instance still holds the lease: a late
    /// answer after another instance took the delivery over changes nothing.
    pub async fn finish_delivery(
        &self,
        d: &DueDelivery,
        ok: bool,
        status: Option<i64>,
        error: Option<&str>,
        now: i64,
        retry_in: i64,
    ) -> Result<()> {
        let q = if ok {
            Sql::new(
                "UPDATE webhook_deliveries SET state = 'sent', attempts = attempts + 1, last_status = $1, \
                 last_error = NULL, sent_at = $2 WHERE id = $3 AND state = 'pending' AND next_attempt_at = $4",
            )
            .bind(status)
            .bind(now)
            .bind(d.id)
            .bind(d.lease_until)
        } else {
            Sql::new(
                "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = $1, last_error = $2, \
                 state = CASE WHEN attempts + 1 >= $3 THEN 'failed' ELSE 'pending' END, next_attempt_at = $4 \
                 WHERE id = $5 AND state = 'pending' AND next_attempt_at = $6",
            )
            .bind(status)
            .bind(error.map(|e| e.chars().take(300).collect::<String>()))
            .bind(MAX_ATTEMPTS)
            .bind(now + retry_in)
            .bind(d.id)
            .bind(d.lease_until)
        };
        self.db.execute(q).await?;
        Ok(())
    }
}
