//! The in-memory search index, on either backend (one per process; instances sharing a
//! PostgreSQL database each keep their own, in step through the change log).
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
//! Text: terms of 3+ characters go to the database's own trigram engine, the one the SQL
//! search uses (`search_text::ids_containing`: FTS5 on SQLite, pg_trgm on PostgreSQL), and
//! the answers are cached; terms of 1–2 characters, which trigrams cannot answer, are exact
//! n-gram lookups here (a 2-character substring *is* a bigram).
//!
//! Freshness: triggers (SQLite 0008/0009, PostgreSQL 0009) bump an event's row in
//! `search_changes` on every write that can change its search facts; before each search the
//! index applies the rows above the sequence number it has seen, so writes from any
//! connection, process or instance are visible to the next search. That check is one
//! indexed `MAX(seq)` read per search, cheap enough that PostgreSQL needs no LISTEN/NOTIFY
//! for it (and an instance that was away simply reads what it missed). The SQL
//! implementation stays as the oracle (tests compare the two) and answers while the index
//! is being built.
//!
//! Here: the handle the store keeps ([`SearchIndex`]: build, catch-up, term lookups). Beside
//! it: `row` (the per-event rows), `grams` (n-gram postings), `term_cache` (trigram answers
//! kept), `load` (facts from the database, applied to the index) and `search` (the pass).
//! [`SearchIndex::start`] builds it when the store opens.

mod grams;
mod list;
mod load;
mod result_cache;
mod row;
pub(crate) mod search;
mod term_cache;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use roaring::RoaringBitmap;

use crate::error::AppError;
use crate::events::public::{EventFilter, Reach};
use crate::search::model::SearchQuery;
use crate::server::store::db::{Conn, Db, Sql};
use crate::server::store::search_sql::{Filter, Searched, TagRow, Vocabulary};
use crate::server::store::search_text::ids_containing;
use list::{ListOrder, Listing};
use load::load_facts;
use result_cache::ResultCache;
pub(crate) use result_cache::ResultKey;
use row::{Doc, Hot};
use term_cache::TermCache;

/// The newest change (0: none yet).
const TOP: &str = "SELECT COALESCE(MAX(seq), 0) FROM search_changes";
/// Events per refresh query (bound variables stay far below SQLite's limit).
const CHUNK: usize = 500;
/// Above this many changed events a full rebuild is cheaper than row-by-row refreshes.
const REBUILD_AFTER: usize = 20_000;
/// Databases with more events than this build their index in the background (searches use
/// SQL meanwhile); smaller ones build it before the store is returned.
const INLINE_BUILD: i64 = 20_000;
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
    /// Group id → the slots of its events.
    groups: HashMap<i64, RoaringBitmap>,
    prefectures: HashMap<String, u16>,
    dead: usize,
    seq: i64,
    /// Tags and aliases (reloaded when `search_changes` says they changed: its row 0).
    vocabulary: Arc<Vocabulary>,
    /// Recently searched 3+ character terms → the slots whose text contains them.
    terms: std::sync::Mutex<TermCache>,
    /// Whole answers of this second's searches (see `result_cache`).
    results: std::sync::Mutex<ResultCache>,
}

/// The index handle kept by the store.
pub(crate) struct SearchIndex {
    index: RwLock<Option<Arc<RwLock<Index>>>>,
    /// Serialises catch-up and builds (searches wait for one, not each run one).
    updating: tokio::sync::Mutex<()>,
    /// Whether whole answers are kept (the in-process benchmark measures the search itself).
    keep_results: std::sync::atomic::AtomicBool,
    /// Seconds the last full build took (metrics).
    built_in: std::sync::Mutex<Option<f64>>,
}

/// A query's terms resolved to slot sets, ready for the in-memory pass.
#[derive(Default)]
pub(crate) struct TermSets {
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
    fn new() -> Self {
        SearchIndex {
            index: RwLock::new(None),
            updating: tokio::sync::Mutex::new(()),
            keep_results: std::sync::atomic::AtomicBool::new(true),
            built_in: std::sync::Mutex::new(None),
        }
    }

    /// The index of the store opening `db`: built now for a small database (or when
    /// `TSUDOI_SEARCH_INDEX=inline`), in the background for a large one.
    pub(crate) async fn start(db: &Db) -> Result<Arc<SearchIndex>, AppError> {
        let index = Arc::new(SearchIndex::new());
        let (events,): (i64,) = db.one(Sql::new("SELECT COUNT(*) FROM events")).await?;
        let inline = std::env::var("TSUDOI_SEARCH_INDEX").is_ok_and(|v| v == "inline");
        if inline || events <= INLINE_BUILD {
            index.build(db).await?;
        } else {
            let (index, db) = (index.clone(), db.clone());
            tokio::spawn(async move {
                let started = std::time::Instant::now();
                match index.build(&db).await {
                    Ok(()) => tracing::info!(events, seconds = started.elapsed().as_secs_f64(), "search index built"),
                    Err(e) => tracing::error!(error = %e, "search index not built; searches use SQL"),
                }
            });
        }
        Ok(index)
    }

    fn current(&self) -> Option<Arc<RwLock<Index>>> {
        self.index.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(crate) fn is_ready(&self) -> bool {
        self.current().is_some()
    }

    /// Builds the index from the database (in one read transaction, so it is a consistent
    /// snapshot; changes after it are in `search_changes` above the recorded sequence).
    async fn build(&self, db: &Db) -> Result<(), AppError> {
        let _updating = self.updating.lock().await;
        let started = std::time::Instant::now();
        let fresh = Self::load(db).await?;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(RwLock::new(fresh)));
        *self.built_in.lock().unwrap_or_else(|p| p.into_inner()) = Some(started.elapsed().as_secs_f64());
        Ok(())
    }

    /// Events the index holds, and how long its last full build took (metrics).
    pub(crate) fn stats(&self) -> (usize, Option<f64>) {
        let events = self.current().map_or(0, |i| i.read().unwrap_or_else(|p| p.into_inner()).slot_of.len());
        (events, *self.built_in.lock().unwrap_or_else(|p| p.into_inner()))
    }

    async fn load(db: &Db) -> Result<Index, AppError> {
        let mut tx = db.read().await?;
        let (seq,): (i64,) = tx.one(Sql::new(TOP)).await?;
        let facts = load_facts(&mut Conn::from(&mut tx), None).await?;
        let vocabulary = Arc::new(Vocabulary::load(&mut tx).await?);
        tx.commit().await?;
        let mut index = Index { seq, vocabulary, ..Index::default() };
        index.apply(&facts, &[]);
        Ok(index)
    }

    /// Applies the changes other writers made since the last search.
    pub(crate) async fn catch_up(&self, db: &Db) -> Result<(), AppError> {
        let Some(index) = self.current() else { return Ok(()) };
        let seen = index.read().unwrap_or_else(|p| p.into_inner()).seq;
        // The common case, without the lock: nothing changed.
        let (top,): (i64,) = db.one(Sql::new(TOP)).await?;
        if top <= seen {
            return Ok(());
        }
        let _updating = self.updating.lock().await;
        let seen = index.read().unwrap_or_else(|p| p.into_inner()).seq;
        let mut tx = db.read().await?;
        let changed: Vec<(i64, i64)> =
            tx.all(Sql::new("SELECT event_id, seq FROM search_changes WHERE seq > $1 ORDER BY seq").bind(seen)).await?;
        let Some(top) = changed.iter().map(|(_, s)| *s).max() else { return Ok(()) };
        let (dead, slots) = {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            (guard.dead, guard.docs.len())
        };
        if changed.len() > REBUILD_AFTER || dead > 1_000 && dead * 4 > slots {
            drop(tx);
            let fresh = Self::load(db).await?;
            *index.write().unwrap_or_else(|p| p.into_inner()) = fresh;
            return Ok(());
        }
        // Row 0 stands for the tag vocabulary; the others are events.
        let vocabulary = if changed.iter().any(|(id, _)| *id == 0) {
            Some(Arc::new(Vocabulary::load(&mut tx).await?))
        } else {
            None
        };
        let ids: Vec<i64> = changed.iter().map(|(id, _)| *id).filter(|id| *id != 0).collect();
        let mut facts = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            facts.extend(load_facts(&mut Conn::from(&mut tx), Some(chunk)).await?);
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

    /// Upcoming published events per tag id at `now` (Unix seconds), after catching up: the
    /// tag list's counts in one pass instead of a count query per tag. `None` while the
    /// index is not built.
    pub(crate) async fn upcoming_per_tag(&self, db: &Db, now: i64) -> Result<Option<HashMap<i64, i64>>, AppError> {
        if !self.is_ready() {
            return Ok(None);
        }
        self.catch_up(db).await?;
        let Some(index) = self.current() else { return Ok(None) };
        let guard = index.read().unwrap_or_else(|p| p.into_inner());
        let mut counts: HashMap<i64, i64> = HashMap::new();
        for slot in guard.slot_of.values() {
            let d = &guard.docs[*slot as usize];
            if d.published && d.ends_at > now {
                for tag in d.tags.iter() {
                    *counts.entry(*tag).or_insert(0) += 1;
                }
            }
        }
        Ok(Some(counts))
    }

    /// The tag vocabulary the index holds (`None` while it is not built).
    pub(crate) fn vocabulary(&self) -> Option<Arc<Vocabulary>> {
        Some(self.current()?.read().unwrap_or_else(|p| p.into_inner()).vocabulary.clone())
    }

    /// The slots matching the 3+ character terms of `f`: cached answers, or the database's
    /// trigram engine (one query per term not cached). `None` when the index is not built.
    pub(crate) async fn long_terms(&self, db: &Db, f: &Filter) -> Result<Option<TermSets>, AppError> {
        let mut sets = TermSets::default();
        for (term, ex) in f.terms.iter().filter(|(t, _)| t.chars().count() >= 3) {
            let Some(set) = self.long_term(db, term).await? else { return Ok(None) };
            sets.add(&set, *ex);
        }
        Ok(Some(sets))
    }

    /// The slots whose text holds `term` (3+ characters): the cached answer, or the
    /// database's trigram engine. `None` when the index is not built.
    async fn long_term(&self, db: &Db, term: &str) -> Result<Option<RoaringBitmap>, AppError> {
        let Some(index) = self.current() else { return Ok(None) };
        let (cached, seq) = {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            let cached = guard.terms.lock().unwrap_or_else(|p| p.into_inner()).get(term);
            (cached, guard.seq)
        };
        if let Some(set) = cached {
            return Ok(Some(set));
        }
        let ids = ids_containing(db, term).await?;
        let guard = index.read().unwrap_or_else(|p| p.into_inner());
        let mut slots: Vec<u32> = ids.iter().filter_map(|id| guard.slot_of.get(id).copied()).collect();
        slots.sort_unstable();
        slots.dedup();
        let set = RoaringBitmap::from_sorted_iter(slots).unwrap_or_default();
        // Kept only when no change was applied meanwhile: the answer is then at least as new
        // as the index (see `TermCache`).
        if guard.seq == seq {
            guard.terms.lock().unwrap_or_else(|p| p.into_inner()).put(term, set.clone());
        }
        Ok(Some(set))
    }

    /// The slots whose text holds `term`, of any length (a 1–2 character term is an n-gram
    /// lookup, a longer one [`Self::long_term`]). `None` when the index is not built.
    async fn term(&self, db: &Db, term: &str) -> Result<Option<RoaringBitmap>, AppError> {
        if term.chars().count() >= 3 {
            return self.long_term(db, term).await;
        }
        let Some(index) = self.current() else { return Ok(None) };
        let guard = index.read().unwrap_or_else(|p| p.into_inner());
        Ok(Some(guard.gram_set(term)))
    }

    /// One page of a public event listing (the API's and the feeds' `EventFilter`) in its
    /// order, with the number of events that match, after catching up; the ids are for the
    /// caller to load. `None` when the index is not built or the filter is one it leaves to
    /// SQL (by event id, participant, owner or group slug; a reach other than the lists').
    /// `keywords` are the filter's normalised keywords (`all`, `any`), those holding a NUL
    /// already dropped by the caller as SQL drops them.
    pub(crate) async fn list(
        &self,
        db: &Db,
        f: &EventFilter,
        all: &[String],
        any: &[String],
        limit: u32,
    ) -> Result<Option<(Vec<i64>, i64)>, AppError> {
        let indexable = f.reach == Reach::Listed
            && f.ids.is_empty()
            && f.participants.is_empty()
            && f.owners.is_empty()
            && f.group_slugs.is_empty();
        if !indexable || !self.is_ready() {
            return Ok(None);
        }
        self.catch_up(db).await?;
        let mut text: Option<RoaringBitmap> = None;
        for term in all {
            let Some(set) = self.term(db, term).await? else { return Ok(None) };
            text = Some(match text {
                Some(acc) => acc & set,
                None => set,
            });
        }
        if !any.is_empty() {
            let mut union = RoaringBitmap::new();
            for term in any {
                let Some(set) = self.term(db, term).await? else { return Ok(None) };
                union |= set;
            }
            text = Some(match text {
                Some(acc) => acc & union,
                None => union,
            });
        }
        let Some(vocabulary) = self.vocabulary() else { return Ok(None) };
        let tag_ids = (!f.tag_slugs.is_empty()).then(|| {
            vocabulary.tags.iter().filter(|(_, slug, ..)| f.tag_slugs.contains(slug)).map(|(id, ..)| *id).collect()
        });
        let listing = Listing {
            cancelled: true,
            text,
            starts_in: f.starts_in.iter().map(|(from, to)| (from.timestamp(), to.timestamp())).collect(),
            group_ids: f.group_ids.clone(),
            online: f.prefectures.iter().any(|p| p == "online"),
            prefectures: f.prefectures.iter().filter(|p| *p != "online").cloned().collect(),
            tag_ids,
            ends_after: f.ends_after.map(|t| t.timestamp()),
            ended_by: None,
            order: f.order.into(),
            offset: f.offset as usize,
            limit: limit as usize,
        };
        Ok(self.run(&listing))
    }

    fn run(&self, listing: &Listing) -> Option<(Vec<i64>, i64)> {
        let index = self.current()?;
        let guard = index.read().unwrap_or_else(|p| p.into_inner());
        Some(guard.list(listing))
    }

    /// The upcoming list (the home page): published listed events not ended at `now` (Unix
    /// seconds), soonest first, one page of ids and the total, after catching up; the search
    /// with no condition, without its facets. `None` when the index is not built.
    pub(crate) async fn upcoming(
        &self,
        db: &Db,
        now: i64,
        offset: usize,
        limit: usize,
    ) -> Result<Option<(Vec<i64>, i64)>, AppError> {
        if !self.is_ready() {
            return Ok(None);
        }
        self.catch_up(db).await?;
        Ok(self.run(&Listing {
            cancelled: false,
            ends_after: Some(now),
            offset,
            limit,
            ..Listing::new(ListOrder::Start)
        }))
    }

    /// A listed group's page at `now` (Unix seconds): the ids of its first `upcoming` events
    /// not ended (soonest first) and of its last `past` ones (most recent first), published or
    /// cancelled, after catching up. `None` when the index is not built. (An unlisted group's
    /// events are not listed, so the index does not hold them as public: its page uses SQL.)
    pub(crate) async fn group_page(
        &self,
        db: &Db,
        group_id: i64,
        now: i64,
        upcoming: usize,
        past: usize,
    ) -> Result<Option<(Vec<i64>, Vec<i64>)>, AppError> {
        if !self.is_ready() {
            return Ok(None);
        }
        self.catch_up(db).await?;
        let listing = |ends_after, ended_by, order, limit| Listing {
            group_ids: vec![group_id],
            ends_after,
            ended_by,
            limit,
            ..Listing::new(order)
        };
        let Some((soon, _)) = self.run(&listing(Some(now), None, ListOrder::Start, upcoming)) else { return Ok(None) };
        let Some((ended, _)) = self.run(&listing(None, Some(now), ListOrder::StartDesc, past)) else { return Ok(None) };
        Ok(Some((soon, ended)))
    }

    /// Term cache hits and misses since the index was built (for the benchmark).
    pub(crate) fn term_cache_stats(&self) -> (u64, u64) {
        self.current().map_or((0, 0), |index| {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            let cache = guard.terms.lock().unwrap_or_else(|p| p.into_inner());
            (cache.hits, cache.misses)
        })
    }

    /// Searches answered from the cache of whole answers since the index was built.
    pub(crate) fn result_cache_hits(&self) -> u64 {
        self.current().map_or(0, |index| {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            guard.results.lock().unwrap_or_else(|p| p.into_inner()).hits
        })
    }

    /// Forgets the cached term answers (the benchmark measures searches without them).
    pub(crate) fn clear_term_cache(&self) {
        if let Some(index) = self.current() {
            let guard = index.read().unwrap_or_else(|p| p.into_inner());
            guard.terms.lock().unwrap_or_else(|p| p.into_inner()).entries.clear();
        }
    }

    /// Keeps (`true`, the default) or stops keeping whole answers (see `result_cache`).
    pub(crate) fn keep_results(&self, keep: bool) {
        self.keep_results.store(keep, std::sync::atomic::Ordering::Relaxed);
        if let Some(index) = self.current() {
            index.read().unwrap_or_else(|p| p.into_inner()).results.lock().unwrap_or_else(|p| p.into_inner()).clear();
        }
    }

    /// The key of `q`'s answer (`None` while answers are not kept): made once per search and
    /// used for both the lookup and the keeping.
    pub(crate) fn result_key(
        &self,
        q: &SearchQuery,
        per_page: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<ResultKey> {
        if !self.keep_results.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        let query = serde_json::to_string(q).ok()?;
        Some(ResultKey { query, per_page, second: now.timestamp() })
    }

    /// The answer kept under `key` (earlier in the same second) for the index as it is now.
    pub(crate) fn cached(&self, key: &ResultKey) -> Option<Searched> {
        let index = self.current()?;
        let guard = index.read().unwrap_or_else(|p| p.into_inner());
        guard.results.lock().unwrap_or_else(|p| p.into_inner()).get(key, guard.seq)
    }

    /// Runs a resolved search, `finish` completing its answer (the resolved tags and
    /// warnings), and keeps the answer under `key` for [`Self::cached`]. `None` when the
    /// index is not built yet.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn search(
        &self,
        q: &SearchQuery,
        f: &Filter,
        terms: TermSets,
        all_tags: &[TagRow],
        per_page: u32,
        now: chrono::DateTime<chrono::Utc>,
        key: Option<ResultKey>,
        finish: impl FnOnce(Searched) -> Searched,
    ) -> Option<Searched> {
        // The failure mask has a bit per selected tag and preference: a query selecting
        // more than it can hold (dozens of tags at once) is left to SQL.
        let distinct_tags: HashSet<i64> = f.tag_ids.iter().copied().collect();
        if distinct_tags.len() > MAX_SELECTED_TAGS || f.impossible {
            return None;
        }
        let index = self.current()?;
        let index = index.read().unwrap_or_else(|p| p.into_inner());
        let found = finish(index.search(q, f, terms, all_tags, per_page, now));
        if let Some(key) = key {
            index.results.lock().unwrap_or_else(|p| p.into_inner()).put(key, index.seq, found.clone());
        }
        Some(found)
    }
}
