//! The in-memory search index of the SQLite backend.
//!
//! SQL answers a search with one query per count (the total, each selected facet, the tag,
//! preference and date facets), and each re-evaluates the whole filter: fine for a few
//! thousand events, hundreds of milliseconds at 100,000. This index keeps, per event, the
//! few facts a search filters and sorts on (a compact row: times, flags, frames, tag ids),
//! plus Roaring bitmaps of the 1- and 2-character n-grams of the normalised search text.
//! A search is then one pass over the rows that computes, for each row, the set of filter
//! parts it fails; the total and every facet count follow from those sets in the same pass
//! (a facet of a selected value counts rows failing only that value).
//!
//! Text: terms of 3+ characters go through SQLite's trigram FTS5 (the ids come back as one
//! `group_concat` string); terms of 1–2 characters, which FTS5 trigrams cannot answer, are
//! exact n-gram lookups here (a 2-character substring *is* a bigram).
//!
//! Freshness: triggers (migration 0008) bump an event's row in `search_changes` on every
//! write that can change its search facts; before each search the index applies the rows
//! above the sequence number it has seen, so writes from any connection or process are
//! visible to the next search. The SQL implementation stays as the oracle (tests compare
//! the two) and answers while the index is being built.
//!
//! Here: the handle the store keeps ([`SearchIndex`]: build, catch-up, term lookups). Beside
//! it: `row` (the per-event rows), `grams` (n-gram postings), `term_cache` (FTS5 answers
//! kept), `load` (facts from the database, applied to the index) and `search` (the pass).

mod grams;
mod load;
mod row;
pub(super) mod search;
mod term_cache;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use roaring::RoaringBitmap;
use sqlx::SqlitePool;

use super::search_sql::{Filter, Searched, TagRow, Vocabulary};
use super::search_text::{fts_phrase, parse_ids};
use crate::error::AppError;
use crate::search::model::SearchQuery;
use load::load_facts;
use row::{Doc, Hot};
use term_cache::TermCache;

/// Events per refresh query (bound variables stay far below SQLite's limit).
const CHUNK: usize = 500;
/// Above this many changed events a full rebuild is cheaper than row-by-row refreshes.
const REBUILD_AFTER: usize = 20_000;
/// Selected tags the failure mask holds (1 date bit + tags + 10 preferences ≤ 64).
const MAX_SELECTED_TAGS: usize = 48;

/// The index proper: a row per slot (an event's text gets a new slot when it changes), the
/// n-gram postings of the slots' texts, and what a catch-up needs.
#[derive(Default)]
struct Index {
    docs: Vec<Doc>,
    /// `Hot::of(docs[slot])` for every slot.
    hot: Vec<Hot>,
    slot_of: HashMap<i64, u32>,
    grams: HashMap<u64, RoaringBitmap>,
    prefectures: HashMap<String, u16>,
    dead: usize,
    seq: i64,
    /// Tags and aliases (reloaded when `search_changes` says they changed: its row 0).
    vocabulary: Arc<Vocabulary>,
    /// Recently searched 3+ character terms → the slots whose text contains them.
    terms: std::sync::Mutex<TermCache>,
}

/// The index handle kept by the store.
pub(super) struct SearchIndex {
    index: RwLock<Option<Arc<RwLock<Index>>>>,
    /// Serialises catch-up and builds (searches wait for one, not each run one).
    updating: tokio::sync::Mutex<()>,
}

/// A query's terms resolved to slot sets, ready for the in-memory pass.
#[derive(Default)]
pub(super) struct TermSets {
    /// Slots matching every included term (None: no included term).
    include: Option<RoaringBitmap>,
    /// Slots matching any excluded term.
    exclude: RoaringBitmap,
}

impl TermSets {
    /// Adds one term's slots, included (AND) or excluded (OR).
    fn add(&mut self, set: &RoaringBitmap, exclude: bool) {
        if exclude {
            self.exclude |= set;
        } else {
            match &mut self.include {
                Some(acc) => *acc &= set,
                None => self.include = Some(set.clone()),
            }
        }
    }
}

impl SearchIndex {
    pub(super) fn new() -> Self {
        SearchIndex { index: RwLock::new(None), updating: tokio::sync::Mutex::new(()) }
    }

    fn current(&self) -> Option<Arc<RwLock<Index>>> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    /// Builds the index from the database (in one read transaction, so it is a consistent
    /// snapshot; changes after it are in `search_changes` above the recorded sequence).
    pub(super) async fn build(&self, pool: &SqlitePool) -> Result<(), AppError> {
        let _updating = self.updating.lock().await;
        let fresh = Self::load(pool).await?;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(RwLock::new(fresh)));
        Ok(())
    }

    async fn load(pool: &SqlitePool) -> Result<Index, AppError> {
        let mut tx = pool.begin().await?;
        let (seq,): (i64,) =
            sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM search_changes").fetch_one(&mut *tx).await?;
        let facts = load_facts(&mut tx, None).await?;
        let vocabulary = Arc::new(Vocabulary::load(&mut tx).await?);
        tx.commit().await?;
        let mut index = Index { seq, vocabulary, ..Index::default() };
        index.apply(&facts, &[]);
        Ok(index)
    }

    /// Applies the changes other writers made since the last search.
    pub(super) async fn catch_up(&self, pool: &SqlitePool) -> Result<(), AppError> {
        let Some(index) = self.current() else { return Ok(()) };
        let seen = index.read().unwrap_or_else(|p| p.into_inner()).seq;
        // The common case, without the lock: nothing changed.
        let (top,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(seq), 0) FROM search_changes").fetch_one(pool).await?;
        if top <= seen {
            return Ok(());
        }
        let _updating = self.updating.lock().await;
        let seen = index.read().unwrap_or_else(|p| p.into_inner()).seq;
        let mut tx = pool.begin().await?;
        let changed: Vec<(i64, i64)> =
            sqlx::query_as("SELECT event_id, seq FROM search_changes WHERE seq > ? ORDER BY seq")
                .bind(seen)
                .fetch_all(&mut *tx)
                .await?;
        let Some(top) = changed.iter().map(|(_, s)| *s).max() else { return Ok(()) };
        let (dead, slots) = {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            (guard.dead, guard.docs.len())
        };
        if changed.len() > REBUILD_AFTER || dead > 1_000 && dead * 4 > slots {
            drop(tx);
            let fresh = Self::load(pool).await?;
            *index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
            return Ok(());
        }
        // Row 0 stands for the tag vocabulary (migration 0009); the others are events.
        let vocabulary = if changed.iter().any(|(id, _)| *id == 0) {
            Some(Arc::new(Vocabulary::load(&mut tx).await?))
        } else {
            None
        };
        let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).filter(|id| *id != 0).collect();
        let mut facts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            facts.extend(load_facts(&mut tx, Some(chunk)).await?);
        }
        tx.commit().await?;
        let found: HashSet<i64> = facts.iter().map(|f| f.id).collect();
        let gone: Vec<i64> = ids.iter().copied().filter(|id| !found.contains(id)).collect();
        let mut guard = index.write().unwrap_or_else(|p| p.into_inner());
        guard.apply(&facts, &gone);
        if let Some(vocabulary) = vocabulary {
            guard.vocabulary = vocabulary;
        }
        guard.seq = guard.seq.max(top);
        Ok(())
    }

    /// The tag vocabulary the index holds (`None` while it is not built).
    pub(super) fn vocabulary(&self) -> Option<Arc<Vocabulary>> {
        Some(self.current()?.read().unwrap_or_else(|p| p.into_inner()).vocabulary.clone())
    }

    /// The slots matching the 3+ character terms of `f`: cached answers, or FTS5 (one
    /// MATCH per term not cached). `None` when the index is not built.
    pub(super) async fn long_terms(&self, pool: &SqlitePool, f: &Filter) -> Result<Option<TermSets>, AppError> {
        let Some(index) = self.current() else { return Ok(None) };
        let mut sets = TermSets::default();
        for (term, ex) in f.terms.iter().filter(|(t, _)| t.chars().count() >= 3) {
            let (cached, seq) = {
                let guard = index.read().unwrap_or_else(|p| p.into_inner());
                let cached = guard.terms.lock().unwrap_or_else(|p| p.into_inner()).get(term);
                (cached, guard.seq)
            };
            let set = match cached {
                Some(set) => set,
                None => {
                    let (ids,): (Option<String>,) =
                        sqlx::query_as("SELECT group_concat(rowid) FROM event_fts WHERE event_fts MATCH ?")
                            .bind(fts_phrase(term))
                            .fetch_one(pool)
                            .await?;
                    let ids: Vec<i64> = parse_ids(ids);
                    let guard = index.read().unwrap_or_else(|p| p.into_inner());
                    let mut slots: Vec<u32> = ids.iter().filter_map(|id| guard.slot_of.get(id).copied()).collect();
                    slots.sort_unstable();
                    slots.dedup();
                    let set = RoaringBitmap::from_sorted_iter(slots).unwrap_or_default();
                    // Kept only when no change was applied meanwhile: the answer is then at
                    // least as new as the index (see `TermCache`).
                    if guard.seq == seq {
                        guard.terms.lock().unwrap_or_else(|p| p.into_inner()).put(term, set.clone());
                    }
                    set
                }
            };
            sets.add(&set, *ex);
        }
        Ok(Some(sets))
    }

    /// Term cache hits and misses since the index was built (for the benchmark).
    pub(super) fn term_cache_stats(&self) -> (u64, u64) {
        self.current().map_or((0, 0), |index| {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            let cache = guard.terms.lock().unwrap_or_else(|p| p.into_inner());
            (cache.hits, cache.misses)
        })
    }

    /// Forgets the cached term answers (the benchmark measures searches without them).
    pub(super) fn clear_term_cache(&self) {
        if let Some(index) = self.current() {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            guard.terms.lock().unwrap_or_else(|p| p.into_inner()).entries.clear();
        }
    }

    /// Runs a resolved search. `None` when the index is not built yet.
    pub(super) fn search(
        &self,
        q: &SearchQuery,
        f: &Filter,
        terms: TermSets,
        all_tags: &[TagRow],
        per_page: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Searched> {
        // The failure mask has a bit per selected tag and preference: a query selecting
        // more than it can hold (dozens of tags at once) is left to SQL.
        let distinct_tags: HashSet<i64> = f.tag_ids.iter().copied().collect();
        if distinct_tags.len() > MAX_SELECTED_TAGS || f.impossible {
            return None;
        }
        let index = self.current()?;
        let index = index.read().unwrap_or_else(|p| p.into_inner());
        Some(index.search(q, f, terms, all_tags, per_page, now))
    }
}
