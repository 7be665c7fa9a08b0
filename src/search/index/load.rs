//! Filling the index from the database: the facts of events as stored, turned into rows and
//! n-gram postings, and applied to the index (new, changed and deleted events).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

use super::Index;
use super::row::{
    AVAILABLE, BEGINNER, Doc, ENGLISH, EVENING, FREE, HANDS_ON, HOT_LIVE, Hot, LANG_EN, LANG_MULTI, OFFLINE, ONLINE,
    WEEKEND, lang_code,
};
use super::term_cache::TERM_CACHE_REFRESH_LIMIT;
use crate::error::AppError;
use crate::server::store::db::{Conn, Row, Sql};

/// What the database says about one event.
#[derive(sqlx::FromRow)]
pub(super) struct Facts {
    pub(super) id: i64,
    status: String,
    group_id: i64,
    starts_at: i64,
    ends_at: i64,
    created_at: i64,
    updated_at: i64,
    venue_kind: String,
    prefecture: Option<String>,
    language: String,
    beginner_ok: bool,
    hands_on: bool,
    local_dow: i64,
    local_start_min: i64,
    #[sqlx(skip)]
    frames: Vec<FrameFacts>,
    #[sqlx(skip)]
    tags: Vec<i64>,
    #[sqlx(skip)]
    body: String,
}

/// Fee, capacity, accepted, opens_at, closes_at.
type FrameFacts = (i64, i64, i64, Option<i64>, Option<i64>);
/// Event id, then the [`FrameFacts`].
type FrameRow = (i64, i64, i64, i64, Option<i64>, Option<i64>);

/// The rows of `select`, only those whose `column` is in `ids` when there are `ids`.
async fn scoped<T: Row>(
    conn: &mut Conn<'_>,
    select: &str,
    column: &str,
    ids: Option<&[i64]>,
) -> Result<Vec<T>, AppError> {
    let mut q = Sql::new(select);
    if let Some(ids) = ids {
        q.push(" WHERE ").push(column).push(" IN ").push_list(ids.iter().copied());
    }
    Ok(conn.all(q).await?)
}

/// Hands each `(event_id, value)` row to the facts of its event (`pos`: event id → index).
fn attach<T>(facts: &mut [Facts], pos: &HashMap<i64, usize>, rows: Vec<(i64, T)>, put: impl Fn(&mut Facts, T)) {
    for (event_id, value) in rows {
        if let Some(i) = pos.get(&event_id) {
            put(&mut facts[*i], value);
        }
    }
}

/// The facts of the events `ids` (all events when `None`; deleted ones are missing), read
/// inside the caller's transaction.
pub(super) async fn load_facts(conn: &mut Conn<'_>, ids: Option<&[i64]>) -> Result<Vec<Facts>, AppError> {
    let mut facts: Vec<Facts> = scoped(
        conn,
        // An event left out of lists (unlisted, invitation-only, or of an unlisted group) is
        // indexed as not published: search, home and tag counts never show it.
        "SELECT id, CASE WHEN listed THEN status ELSE 'unlisted' END AS status, group_id, starts_at, ends_at, \
         created_at, updated_at, venue_kind, prefecture, language, beginner_ok, hands_on, local_dow, local_start_min FROM events",
        "id",
        ids,
    )
    .await?;
    let pos: HashMap<i64, usize> = facts.iter().enumerate().map(|(i, f)| (f.id, i)).collect();

    let frames: Vec<FrameRow> = scoped(
        conn,
        "SELECT event_id, fee, capacity, accepted_count, opens_at, closes_at FROM frames",
        "event_id",
        ids,
    )
    .await?;
    let frames = frames
        .into_iter()
        .map(|(event_id, fee, capacity, accepted, opens, closes)| (event_id, (fee, capacity, accepted, opens, closes)))
        .collect();
    attach(&mut facts, &pos, frames, |f, frame| f.frames.push(frame));
    let tags = scoped(conn, "SELECT event_id, tag_id FROM event_tags", "event_id", ids).await?;
    attach(&mut facts, &pos, tags, |f, tag_id| f.tags.push(tag_id));
    let bodies = scoped(conn, "SELECT event_id, body FROM event_search", "event_id", ids).await?;
    attach(&mut facts, &pos, bodies, |f, body| f.body = body);
    Ok(facts)
}

impl Index {
    fn prefecture_code(&mut self, p: &str) -> u16 {
        let next = u16::try_from(self.prefectures.len()).unwrap_or(u16::MAX);
        *self.prefectures.entry(p.to_string()).or_insert(next)
    }

    fn doc_of(&mut self, f: &Facts, body_hash: u64) -> Doc {
        let mut bits = 0;
        match f.venue_kind.as_str() {
            "online" => bits |= ONLINE,
            "offline" => bits |= OFFLINE,
            "hybrid" => bits |= ONLINE | OFFLINE,
            _ => {}
        }
        let lang = lang_code(&f.language);
        if lang == LANG_EN || lang == LANG_MULTI {
            bits |= ENGLISH;
        }
        if f.beginner_ok {
            bits |= BEGINNER;
        }
        if f.hands_on {
            bits |= HANDS_ON;
        }
        if f.local_dow == 0 || f.local_dow == 6 {
            bits |= WEEKEND;
        }
        if f.local_start_min >= 1080 {
            bits |= EVENING;
        }
        if !f.frames.iter().any(|(fee, ..)| *fee > 0) {
            bits |= FREE;
        }
        if f.frames.iter().any(|(_, cap, acc, ..)| acc < cap) {
            bits |= AVAILABLE;
        }
        Doc {
            id: f.id,
            published: f.status == "published",
            cancelled: f.status == "cancelled",
            group_id: f.group_id,
            starts_at: f.starts_at,
            ends_at: f.ends_at,
            created_at: f.created_at,
            updated_at: f.updated_at,
            bits,
            lang,
            prefecture: f.prefecture.as_deref().map(|p| self.prefecture_code(p)),
            popular: f.frames.iter().map(|(_, _, acc, ..)| acc).sum(),
            seats: f.frames.iter().map(|(_, cap, acc, ..)| cap - acc).sum(),
            windows: f
                .frames
                .iter()
                .map(|(.., opens, closes)| (opens.unwrap_or(i64::MIN), closes.unwrap_or(i64::MAX)))
                .collect(),
            tags: f.tags.clone().into_boxed_slice(),
            body_hash,
        }
    }

    /// Adds or replaces the events in `facts`; `gone` were deleted.
    pub(super) fn apply(&mut self, facts: &[Facts], gone: &[i64]) {
        let first_new = self.docs.len();
        for id in gone {
            if let Some(slot) = self.slot_of.remove(id) {
                self.hot[slot as usize].flags &= !HOT_LIVE;
                self.dead += 1;
            }
        }
        for f in facts {
            let mut h = DefaultHasher::new();
            f.body.hash(&mut h);
            let hash = h.finish();
            let doc = self.doc_of(f, hash);
            match self.slot_of.get(&f.id).copied() {
                // Same text: the grams stay, the facts are replaced in place.
                Some(slot) if self.docs[slot as usize].body_hash == hash => {
                    self.groups.entry(doc.group_id).or_default().insert(slot);
                    self.hot[slot as usize] = Hot::of(&doc);
                    self.docs[slot as usize] = doc;
                }
                existing => {
                    // New text: a new slot (the old one's bits stay in the bitmaps, ignored
                    // because the slot is no longer live).
                    if let Some(old) = existing {
                        self.hot[old as usize].flags &= !HOT_LIVE;
                        self.dead += 1;
                    }
                    let slot = u32::try_from(self.docs.len()).unwrap_or(u32::MAX);
                    self.groups.entry(doc.group_id).or_default().insert(slot);
                    self.hot.push(Hot::of(&doc));
                    self.docs.push(doc);
                    self.slot_of.insert(f.id, slot);
                    self.add_grams(slot, &f.body);
                }
            }
        }
        // The term cache learns the new texts (or, after many, starts over).
        let terms = self.terms.get_mut().unwrap_or_else(|p| p.into_inner());
        if terms.entries.is_empty() || self.docs.len() == first_new {
            return;
        }
        if self.docs.len() - first_new > TERM_CACHE_REFRESH_LIMIT {
            terms.entries.clear();
            return;
        }
        let bodies: HashMap<i64, &str> = facts.iter().map(|f| (f.id, f.body.as_str())).collect();
        for slot in first_new..self.docs.len() {
            let Some(body) = bodies.get(&self.docs[slot].id) else { continue };
            let slot = u32::try_from(slot).unwrap_or(u32::MAX);
            for (term, (set, _)) in terms.entries.iter_mut() {
                if body.contains(term.as_str()) {
                    set.insert(slot);
                }
            }
        }
    }
}
