//! Organizer admin writes, on either backend: the editor's fields and status, frames,
//! questions, speakers, duplication, tag names and members. The rules are decided in
//! `admin::rules`. Where SQLite serialises a read-then-write with `BEGIN IMMEDIATE`
//! ([`Db::begin`]), PostgreSQL first takes a row lock: the event's ([`Tx::lock_event`], the
//! lock every registration writer of the event takes first) for frames, questions and
//! speakers (`MAX(position) + 1`, "does this frame have registrations?"), or the group's
//! member rows for member changes.

use super::Store;
use chrono::{DateTime, Utc};

use super::db::{Db, Sql, Tx};
use super::{EventFields, FrameFields, NewQuestion, NewSpeaker};
use crate::admin::model::Role;
use crate::admin::rules;
use crate::error::{AppError, Conflict};
use crate::events::model::{EventStatus, FrameMethod};

type Result<T> = std::result::Result<T, AppError>;

/// The function that keeps the larger of two values: `MAX` on SQLite, `GREATEST` on
/// PostgreSQL (neither has the other's two-argument form).
fn greatest(db: &Db) -> &'static str {
    if db.is_pg() { "GREATEST" } else { "MAX" }
}

/// Rebuilds the search text of `event_ids` inside the transaction (each backend's search
/// index keeps its own).
async fn index_events(tx: &mut Tx, event_ids: &[i64]) -> Result<()> {
    super::search_sql::index_events(tx, event_ids).await
}

impl Store {
    /// Saves the editor's fields, the local weekday/minute and the search text in one
    /// transaction (the calendar SEQUENCE follows by trigger).
    pub async fn update_event(&self, event_id: i64, f: &EventFields, now: DateTime<Utc>) -> Result<()> {
        self.update_event_notifying(event_id, f, now, None).await
    }

    /// [`Store::update_event`] that also tells everyone registered that the event changed,
    /// in the same transaction (the outbox; the caller decides whether the change is news).
    pub async fn update_event_notifying(
        &self,
        event_id: i64,
        f: &EventFields,
        now: DateTime<Utc>,
        changed: Option<&crate::messages::records::Outbox>,
    ) -> Result<()> {
        let db = &self.db;
        let (dow, minute) = super::search_sql::local_parts(f.starts_at, &f.time_zone);
        let mut tx = db.begin().await?;
        let done = tx
            .execute(
                Sql::new(format!(
                    "UPDATE events SET title = $1, catch = $2, description = $3, starts_at = $4, ends_at = $5, \
                     time_zone = $6, venue_kind = $7, place = $8, address = $9, prefecture = $10, online_url = $11, \
                     language = $12, hashtag = $13, lat = $14, lon = $15, beginner_ok = $16, hands_on = $17, \
                     local_dow = $18, local_start_min = $19, updated_at = {}(updated_at, $20), \
                     title_en = COALESCE($22, title_en), catch_en = COALESCE($23, catch_en), \
                     description_en = COALESCE($24, description_en) WHERE id = $21",
                    greatest(db)
                ))
                .bind(&f.title)
                .bind(&f.catch)
                .bind(&f.description)
                .bind(f.starts_at.timestamp())
                .bind(f.ends_at.timestamp())
                .bind(&f.time_zone)
                .bind(f.venue_kind.as_str())
                .bind(&f.place)
                .bind(&f.address)
                .bind(f.prefecture.as_ref())
                .bind(f.online_url.as_ref())
                .bind(f.language.as_str())
                .bind(&f.hashtag)
                .bind(f.lat)
                .bind(f.lon)
                .bind(f.beginner_ok)
                .bind(f.hands_on)
                .bind(dow)
                .bind(minute)
                .bind(now.timestamp())
                .bind(event_id)
                .bind(f.english.as_ref().map(|e| e.title.as_str()))
                .bind(f.english.as_ref().map(|e| e.catch.as_str()))
                .bind(f.english.as_ref().map(|e| e.description.as_str())),
            )
            .await?;
        if done == 0 {
            return Err(AppError::NotFound);
        }
        tx.execute(Sql::new("DELETE FROM event_tags WHERE event_id = $1").bind(event_id)).await?;
        if !f.tag_ids.is_empty() {
            let mut q = Sql::new("INSERT INTO event_tags (event_id, tag_id) VALUES ").bind(event_id);
            for (i, tag_id) in f.tag_ids.iter().enumerate() {
                q.push(if i == 0 { "($1, " } else { ", ($1, " }).push_bind(*tag_id).push(")");
            }
            q.push(" ON CONFLICT DO NOTHING");
            tx.execute(q).await?;
        }
        index_events(&mut tx, &[event_id]).await?;
        if let Some(outbox) = changed {
            use crate::messages::model::{Audience, MessageKind};
            super::messages::post_to(&mut tx, outbox, event_id, MessageKind::EventChanged, Audience::All, now).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Sets the status; cancelling an event that was not cancelled tells everyone
    /// registered, in the same transaction (the outbox).
    pub async fn set_event_status(
        &self,
        event_id: i64,
        status: EventStatus,
        now: DateTime<Utc>,
        outbox: &crate::messages::records::Outbox,
    ) -> Result<()> {
        use crate::messages::model::{Audience, MessageKind};
        let db = &self.db;
        let mut tx = db.begin().await?;
        // Under the event's lock, so two cancellations racing tell registrants once.
        let Some((was, _)) = tx.lock_event(event_id).await? else { return Err(AppError::NotFound) };
        tx.execute(
            Sql::new(format!(
                "UPDATE events SET status = $1, updated_at = {}(updated_at, $2) WHERE id = $3",
                greatest(db)
            ))
            .bind(status.as_str())
            .bind(now.timestamp())
            .bind(event_id),
        )
        .await?;
        if status == EventStatus::Cancelled && was != EventStatus::Cancelled.as_str() {
            super::messages::post_to(&mut tx, outbox, event_id, MessageKind::EventCancelled, Audience::All, now)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Adds a frame after the others.
    pub async fn add_frame(&self, event_id: i64, f: &FrameFields) -> Result<i64> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        tx.lock_event(event_id).await?;
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO frames (event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at, \
                     promotion_frozen, venue_kind, place, address, online_url) \
                     VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM frames WHERE event_id = $1), \
                     $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
                )
                .bind(event_id)
                .bind(&f.name)
                .bind(f.capacity)
                .bind(f.method.as_str())
                .bind(f.fee)
                .bind(f.opens_at.map(|t| t.timestamp()))
                .bind(f.closes_at.map(|t| t.timestamp()))
                .bind(f.draw_at.map(|t| t.timestamp()))
                .bind(f.promotion_frozen)
                .bind(f.venue.kind.map(|k| k.as_str()))
                .bind(&f.venue.place)
                .bind(&f.venue.address)
                .bind(f.online_url.as_deref()),
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Updates a frame's rules (not its capacity: see `set_capacity`). A lottery that has been
    /// drawn keeps its method and draw time.
    pub async fn update_frame(&self, event_id: i64, frame_id: i64, f: &FrameFields) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        // Ordered against a draw of the frame, which takes the same lock.
        tx.lock_event(event_id).await?;
        let row: Option<(String, Option<i64>)> = tx
            .optional(
                Sql::new("SELECT method, drawn_at FROM frames WHERE id = $1 AND event_id = $2")
                    .bind(frame_id)
                    .bind(event_id),
            )
            .await?;
        let Some((method, drawn_at)) = row else { return Err(AppError::NotFound) };
        let method = super::decode(&method, FrameMethod::parse, "frame method")?;
        rules::check_frame_update(method, drawn_at.is_some(), f.method, f.draw_at.is_some())?;
        tx.execute(
            Sql::new(
                "UPDATE frames SET name = $1, method = $2, fee = $3, opens_at = $4, closes_at = $5, \
                 draw_at = CASE WHEN drawn_at IS NULL THEN $6 ELSE draw_at END, promotion_frozen = $7, \
                 venue_kind = $8, place = $9, address = $10, online_url = $11 WHERE id = $12",
            )
            .bind(&f.name)
            .bind(f.method.as_str())
            .bind(f.fee)
            .bind(f.opens_at.map(|t| t.timestamp()))
            .bind(f.closes_at.map(|t| t.timestamp()))
            .bind(f.draw_at.map(|t| t.timestamp()))
            .bind(f.promotion_frozen)
            .bind(f.venue.kind.map(|k| k.as_str()))
            .bind(&f.venue.place)
            .bind(&f.venue.address)
            .bind(f.online_url.as_deref())
            .bind(frame_id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Deletes a frame nobody has registered to (`Conflict::FrameHasRegistrations` otherwise,
    /// and never the last frame: `Conflict::LastFrame`).
    pub async fn delete_frame(&self, event_id: i64, frame_id: i64) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        // Two deletions cannot both see two frames, and a registration to this frame either
        // committed before (and is counted below) or waits for us (and then finds no frame).
        tx.lock_event(event_id).await?;
        // Registrations are counted only on a frame of this event, so another event's frame
        // never answers `frame_has_registrations`: it passes the rules with none and the
        // scoped DELETE below finds nothing (NotFound).
        let (frames, regs): (i64, i64) = tx
            .one(
                Sql::new(
                    "SELECT (SELECT COUNT(*) FROM frames WHERE event_id = $1), \
                        (SELECT COUNT(*) FROM registrations r JOIN frames f ON f.id = r.frame_id \
                         WHERE r.frame_id = $2 AND f.event_id = $1)",
                )
                .bind(event_id)
                .bind(frame_id),
            )
            .await?;
        rules::check_frame_delete(frames, regs)?;
        let done = tx
            .execute(Sql::new("DELETE FROM frames WHERE id = $1 AND event_id = $2").bind(frame_id).bind(event_id))
            .await?;
        if done == 0 {
            return Err(AppError::NotFound);
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_question(&self, event_id: i64, q: &NewQuestion) -> Result<i64> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        tx.lock_event(event_id).await?;
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO questions (event_id, position, kind, label, options, required) \
                     VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM questions WHERE event_id = $1), \
                     $2, $3, $4, $5) RETURNING id",
                )
                .bind(event_id)
                .bind(q.kind.as_str())
                .bind(&q.label)
                .bind(serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()))
                .bind(q.required),
            )
            .await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_question(&self, event_id: i64, question_id: i64) -> Result<()> {
        let db = &self.db;
        let done = db
            .execute(Sql::new("DELETE FROM questions WHERE id = $1 AND event_id = $2").bind(question_id).bind(event_id))
            .await?;
        if done == 0 { Err(AppError::NotFound) } else { Ok(()) }
    }

    /// Copies an event as a new draft starting at `starts_at` (end, registration windows and
    /// draws move by the same amount): frames without registrations, questions, tags and
    /// speakers come along.
    pub async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> Result<i64> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        // PostgreSQL: SHARE, so the source cannot change while it is copied (editors wait;
        // readers and registrations do not).
        let share = if tx.is_pg() { " FOR SHARE" } else { "" };
        let row: Option<(i64, String)> = tx
            .optional(Sql::new(format!("SELECT starts_at, time_zone FROM events WHERE id = $1{share}")).bind(event_id))
            .await?;
        let Some((old_start, tz)) = row else { return Err(AppError::NotFound) };
        let shift = starts_at.timestamp() - old_start;
        let (dow, minute) = super::search_sql::local_parts(starts_at, &tz);
        let (new_id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO events (group_id, title, catch, description, starts_at, ends_at, time_zone, venue_kind, \
                       place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, status, event_type, \
                       beginner_ok, hands_on, created_at, updated_at, local_dow, local_start_min, \
                       title_en, catch_en, description_en, hidden_at) \
                     SELECT group_id, title, catch, description, starts_at + $1, ends_at + $1, time_zone, venue_kind, \
                       place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, 'draft', event_type, \
                       beginner_ok, hands_on, $2, $2, $3, $4, title_en, catch_en, description_en, hidden_at \
                     FROM events WHERE id = $5 RETURNING id",
                )
                .bind(shift)
                .bind(now.timestamp())
                .bind(dow)
                .bind(minute)
                .bind(event_id),
            )
            .await?;
        tx.execute(
            Sql::new(
                "INSERT INTO frames (event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at, \
                 promotion_frozen, venue_kind, place, address, online_url) \
                 SELECT $1, position, name, capacity, method, fee, opens_at + $2, closes_at + $2, draw_at + $2, \
                 promotion_frozen, venue_kind, place, address, online_url FROM frames WHERE event_id = $3 \
                 ORDER BY position, id",
            )
            .bind(new_id)
            .bind(shift)
            .bind(event_id),
        )
        .await?;
        for sql in [
            "INSERT INTO questions (event_id, position, kind, label, options, required) \
             SELECT $1, position, kind, label, options, required FROM questions WHERE event_id = $2 ORDER BY position, id",
            "INSERT INTO event_tags (event_id, tag_id) SELECT $1, tag_id FROM event_tags WHERE event_id = $2",
            "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) \
             SELECT $1, position, name, affiliation, bio, talk_title, user_id FROM speakers WHERE event_id = $2 \
             ORDER BY position, id",
        ] {
            tx.execute(Sql::new(sql).bind(new_id).bind(event_id)).await?;
        }
        index_events(&mut tx, &[new_id]).await?;
        tx.commit().await?;
        Ok(new_id)
    }

    /// Tag ids for names, slugs or aliases of either kind (NFKC, case-insensitive), and the
    /// names that match none. The vocabulary is folded once into a map and the aliases of the
    /// names it lacks are read with one query, so the cost is the vocabulary plus the names,
    /// not their product; callers bound the names ([`crate::admin::model::checked_tag_names`]).
    pub async fn resolve_tag_names(&self, names: &[String]) -> Result<(Vec<i64>, Vec<String>)> {
        use crate::server::text::normalize;
        use std::collections::{HashMap, HashSet};
        let db = &self.db;
        let keys: Vec<String> = names.iter().map(|n| normalize(n)).collect();
        let all: Vec<(i64, String, String)> = db.all(Sql::new("SELECT id, slug, name FROM tags ORDER BY id")).await?;
        let mut vocabulary: HashMap<String, i64> = HashMap::with_capacity(all.len() * 2);
        // Should one tag's slug equal another's folded name, the slug wins.
        for (id, _, name) in &all {
            vocabulary.entry(normalize(name)).or_insert(*id);
        }
        for (id, slug, _) in &all {
            vocabulary.insert(slug.clone(), *id);
        }
        let missing: HashSet<&str> =
            keys.iter().filter(|k| !vocabulary.contains_key(k.as_str())).map(String::as_str).collect();
        let mut aliases: HashMap<String, i64> = HashMap::new();
        if !missing.is_empty() {
            let mut q = Sql::new("SELECT alias, tag_id FROM tag_aliases WHERE alias IN ");
            q.push_list(missing.iter().map(|k| k.to_string()));
            let rows: Vec<(String, i64)> = db.all(q).await?;
            aliases.extend(rows);
        }
        let mut ids = Vec::new();
        let mut seen = HashSet::new();
        let mut unknown = Vec::new();
        for (name, key) in names.iter().zip(&keys) {
            match vocabulary.get(key).or_else(|| aliases.get(key)) {
                Some(id) => {
                    if seen.insert(*id) {
                        ids.push(*id);
                    }
                }
                None => unknown.push(name.clone()),
            }
        }
        Ok((ids, unknown))
    }

    /// Adds a speaker to an event, after the others.
    pub async fn add_speaker(&self, event_id: i64, s: &NewSpeaker) -> Result<i64> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        tx.lock_event(event_id).await?;
        let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) \
                 VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM speakers WHERE event_id = $1), \
                 $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(event_id)
                .bind(&s.name)
                .bind(&s.affiliation)
                .bind(&s.bio)
                .bind(&s.talk_title)
                .bind(s.user_id),
            )
            .await?;
        index_events(&mut tx, &[event_id]).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let done = tx
            .execute(Sql::new("DELETE FROM speakers WHERE id = $1 AND event_id = $2").bind(speaker_id).bind(event_id))
            .await?;
        if done == 0 {
            return Err(AppError::NotFound);
        }
        index_events(&mut tx, &[event_id]).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Adds a member (`Conflict::AlreadyMember` when they are one).
    pub async fn add_member(&self, group_id: i64, user_id: i64, role: Role, now: DateTime<Utc>) -> Result<()> {
        let done = self.db.execute(insert_member(group_id, user_id, role, now)).await?;
        if done == 0 { Err(AppError::Conflict(Conflict::AlreadyMember)) } else { Ok(()) }
    }

    /// Sets a member's role, or removes them (`None`), keeping at least one owner
    /// (`Conflict::LastOwner`).
    pub async fn set_member(&self, group_id: i64, user_id: i64, role: Option<Role>) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let members = locked_members(&mut tx, group_id).await?;
        rules::check_member_change(&members, user_id, role)?;
        match role {
            Some(r) => {
                tx.execute(
                    Sql::new("UPDATE group_members SET role = $1 WHERE group_id = $2 AND user_id = $3")
                        .bind(r.as_str())
                        .bind(group_id)
                        .bind(user_id),
                )
                .await?;
            }
            None => {
                tx.execute(
                    Sql::new("DELETE FROM group_members WHERE group_id = $1 AND user_id = $2")
                        .bind(group_id)
                        .bind(user_id),
                )
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// Makes `to` (a member) the owner and `from` an admin, in one transaction.
    pub async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> Result<()> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        locked_members(&mut tx, group_id).await?;
        let made = tx
            .execute(
                Sql::new("UPDATE group_members SET role = 'owner' WHERE group_id = $1 AND user_id = $2")
                    .bind(group_id)
                    .bind(to),
            )
            .await?;
        if made == 0 {
            return Err(AppError::NotFound);
        }
        if from != to {
            tx.execute(
                Sql::new(
                    "UPDATE group_members SET role = 'admin' WHERE group_id = $1 AND user_id = $2 AND role = 'owner'",
                )
                .bind(group_id)
                .bind(from),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}

/// Adds a member with `role`; nothing when they are one already (0 rows).
pub(super) fn insert_member(group_id: i64, user_id: i64, role: Role, now: DateTime<Utc>) -> Sql {
    Sql::new(
        "INSERT INTO group_members (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (group_id, user_id) DO NOTHING",
    )
    .bind(group_id)
    .bind(user_id)
    .bind(role.as_str())
    .bind(now.timestamp())
}

/// Every member of the group with their role. PostgreSQL: their rows `FOR UPDATE`, so that
/// the owner count read stays true until commit (SQLite's `BEGIN IMMEDIATE` holds the
/// database's write lock already).
async fn locked_members(tx: &mut Tx, group_id: i64) -> Result<Vec<(i64, Role)>> {
    let lock = if tx.is_pg() { " FOR UPDATE" } else { "" };
    let rows: Vec<(i64, String)> = tx
        .all(
            Sql::new(format!("SELECT user_id, role FROM group_members WHERE group_id = $1 ORDER BY user_id{lock}"))
                .bind(group_id),
        )
        .await?;
    rows.into_iter().map(|(user_id, role)| Ok((user_id, super::decode(&role, Role::parse, "member role")?))).collect()
}
