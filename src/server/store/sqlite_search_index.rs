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

use std::collections::{BinaryHeap, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, RwLock};

use roaring::RoaringBitmap;
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::search_sql::{Filter, Searched, TagRow, Vocabulary, When, preset_range};
use super::search_text::{fts_phrase, parse_ids};
use crate::error::AppError;
use crate::search::model::{DatePreset, FacetCount, Facets, Pref, SearchQuery, Sort};
use crate::tags::model::{TagKind, TagRef};

/// Events per refresh query (bound variables stay far below SQLite's limit).
const CHUNK: usize = 500;
/// Above this many changed events a full rebuild is cheaper than row-by-row refreshes.
const REBUILD_AFTER: usize = 20_000;
/// Selected tags the failure mask holds (1 date bit + tags + 10 preferences ≤ 64).
const MAX_SELECTED_TAGS: usize = 48;

const ONLINE: u16 = 1;
const OFFLINE: u16 = 1 << 1;
const ENGLISH: u16 = 1 << 2;
const BEGINNER: u16 = 1 << 3;
const WEEKEND: u16 = 1 << 4;
const EVENING: u16 = 1 << 5;
const HANDS_ON: u16 = 1 << 6;
const FREE: u16 = 1 << 7;
const AVAILABLE: u16 = 1 << 8;
/// Never stored: computed at search time (it depends on the time).
const WAITLIST_OK: u16 = 1 << 9;

const LANG_JA: u8 = 0;
const LANG_EN: u8 = 1;
const LANG_MULTI: u8 = 2;
const LANG_OTHER: u8 = 3;

fn lang_code(s: &str) -> u8 {
    match s {
        "ja" => LANG_JA,
        "en" => LANG_EN,
        "multi" => LANG_MULTI,
        _ => LANG_OTHER,
    }
}

/// One event, as a search sees it.
#[derive(Debug, Clone)]
struct Doc {
    id: i64,
    published: bool,
    starts_at: i64,
    ends_at: i64,
    created_at: i64,
    bits: u16,
    lang: u8,
    prefecture: Option<u16>,
    popular: i64,
    seats: i64,
    /// Registration windows of the frames: (opens_at or MIN, closes_at or MAX).
    windows: Box<[(i64, i64)]>,
    tags: Box<[i64]>,
    body_hash: u64,
}

/// A preference's bit in [`Doc::prefs`].
fn pref_bit(p: Pref) -> u16 {
    match p {
        Pref::Free => FREE,
        Pref::Online => ONLINE,
        Pref::Offline => OFFLINE,
        Pref::Available => AVAILABLE,
        Pref::WaitlistOk => WAITLIST_OK,
        Pref::English => ENGLISH,
        Pref::Beginner => BEGINNER,
        Pref::Weekend => WEEKEND,
        Pref::Evening => EVENING,
        Pref::HandsOn => HANDS_ON,
    }
}

impl Doc {
    /// Every preference the event meets at `now`, as bits.
    fn prefs(&self, now: i64) -> u16 {
        let mut bits = self.bits;
        if self.starts_at > now && self.windows.iter().any(|(o, c)| *c > now && *o <= now) {
            bits |= WAITLIST_OK;
        }
        bits
    }
}

fn when_holds(w: When, d: &Hot) -> bool {
    match w {
        When::Starts(from, to) => from.is_none_or(|f| d.starts_at >= f) && to.is_none_or(|t| d.starts_at < t),
        When::EndsAfter(t) => d.ends_at > t,
        When::EndedBy(t) => d.ends_at <= t,
        When::Any => true,
    }
}

/// A result's place in its query's order: results sort by this key, ascending. Every key
/// ends with the event id (or its negation), so no two events tie.
type SortKey = (i64, i64, i64);

/// Descending as ascending (`i64::MIN`, which has no negation, sorts last, as it should).
fn desc(x: i64) -> i64 {
    x.checked_neg().unwrap_or(i64::MAX)
}

fn sort_key(sort: Sort, past: bool, hot: &Hot, d: &Doc) -> SortKey {
    match sort {
        // Past events: the most recent first.
        Sort::Date if past => (desc(hot.starts_at), desc(hot.id), 0),
        Sort::Date => (hot.starts_at, hot.id, 0),
        Sort::New => (desc(d.created_at), desc(d.id), 0),
        Sort::Popular => (desc(d.popular), hot.starts_at, d.id),
        Sort::Seats => (desc(d.seats), hot.starts_at, d.id),
    }
}

/// Tags a [`Hot`] row holds itself (more go to its `Doc`).
const INLINE_TAGS: usize = 6;
/// False for a slot left behind when the event's text changed (or it was deleted).
const HOT_LIVE: u8 = 1;
const HOT_PUBLISHED: u8 = 1 << 1;
/// The tags are in the `Doc` (too many, or an id beyond `u16`).
const HOT_MANY_TAGS: u8 = 1 << 2;
/// The event has one registration window, so `[opens_min, closes_max)` is exactly it.
const HOT_ONE_WINDOW: u8 = 1 << 3;

/// The part of a [`Doc`] that every search reads, packed into one 64-byte cache line and
/// kept in a vector of its own: a pass over a million events streams these rows instead of
/// every `Doc` and the allocations its slices point to.
#[derive(Debug, Clone, Copy)]
struct Hot {
    id: i64,
    starts_at: i64,
    ends_at: i64,
    /// The hull of the registration windows (`i64::MAX, i64::MIN` without frames).
    opens_min: i64,
    closes_max: i64,
    bits: u16,
    flags: u8,
    lang: u8,
    /// Prefecture code + 1 (0: none).
    prefecture: u16,
    tag_count: u8,
    tags: [u16; INLINE_TAGS],
}

impl Hot {
    /// The row of a live `Doc` (a slot stops being live through its `Hot` flags alone).
    fn of(d: &Doc) -> Hot {
        let mut flags = HOT_LIVE;
        if d.published {
            flags |= HOT_PUBLISHED;
        }
        let mut tags = [0u16; INLINE_TAGS];
        let inline: Option<Vec<u16>> = d.tags.iter().map(|t| u16::try_from(*t).ok()).collect();
        let mut tag_count = 0;
        match inline {
            Some(ids) if ids.len() <= INLINE_TAGS => {
                tags[..ids.len()].copy_from_slice(&ids);
                tag_count = ids.len() as u8;
            }
            _ => flags |= HOT_MANY_TAGS,
        }
        if d.windows.len() == 1 {
            flags |= HOT_ONE_WINDOW;
        }
        Hot {
            id: d.id,
            starts_at: d.starts_at,
            ends_at: d.ends_at,
            opens_min: d.windows.iter().map(|(o, _)| *o).min().unwrap_or(i64::MAX),
            closes_max: d.windows.iter().map(|(_, c)| *c).max().unwrap_or(i64::MIN),
            bits: d.bits,
            flags,
            lang: d.lang,
            prefecture: d.prefecture.map_or(0, |p| p.saturating_add(1)),
            tag_count,
            tags,
        }
    }

    /// Every preference the event meets at `now` (`Doc::prefs`), reading the `Doc` only when
    /// the window hull cannot answer.
    fn prefs(&self, now: i64, doc: &Doc) -> u16 {
        if self.starts_at <= now || now < self.opens_min || now >= self.closes_max {
            return self.bits;
        }
        if self.flags & HOT_ONE_WINDOW != 0 {
            return self.bits | WAITLIST_OK;
        }
        doc.prefs(now)
    }

    /// Whether the event has tag `id` (`doc` is its `Doc`, read only when the tags are there).
    fn has_tag(&self, id: i64, doc: &Doc) -> bool {
        if self.flags & HOT_MANY_TAGS != 0 {
            return doc.tags.contains(&id);
        }
        u16::try_from(id).is_ok_and(|id| self.tags[..usize::from(self.tag_count)].contains(&id))
    }
}

/// Key of a 1- or 2-character n-gram.
fn gram1(a: char) -> u64 {
    u64::from(a)
}

fn gram2(a: char, b: char) -> u64 {
    (1 << 42) | (u64::from(a) << 21) | u64::from(b)
}

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

/// Terms kept by [`TermCache`].
const TERM_CACHE_SIZE: usize = 256;
/// More new texts than this in one catch-up empty the term cache instead of updating it.
const TERM_CACHE_REFRESH_LIMIT: usize = 256;

/// The answers of FTS5 for recently searched 3+ character terms, as slot sets, so that a
/// common term ("勉強会" matches a third of all events) is not decoded again by every
/// search. Kept exact: a slot is only ever created with a new text (`Index::apply`), and
/// each new text is tested against every cached term (substring of the normalised text,
/// which is what a trigram phrase match is); an answer computed against an index that
/// moved on meanwhile is not kept. Least recently used terms go first.
#[derive(Default)]
struct TermCache {
    entries: HashMap<String, (RoaringBitmap, u64)>,
    clock: u64,
    hits: u64,
    misses: u64,
}

impl TermCache {
    fn get(&mut self, term: &str) -> Option<RoaringBitmap> {
        self.clock += 1;
        let clock = self.clock;
        match self.entries.get_mut(term) {
            Some((set, used)) => {
                *used = clock;
                self.hits += 1;
                Some(set.clone())
            }
            None => {
                self.misses += 1;
                None
            }
        }
    }

    fn put(&mut self, term: &str, set: RoaringBitmap) {
        if self.entries.len() >= TERM_CACHE_SIZE
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(t, _)| t.clone())
        {
            self.entries.remove(&oldest);
        }
        self.clock += 1;
        self.entries.insert(term.to_string(), (set, self.clock));
    }
}

/// What the database says about one event.
struct Facts {
    id: i64,
    status: String,
    starts_at: i64,
    ends_at: i64,
    created_at: i64,
    venue_kind: String,
    prefecture: Option<String>,
    language: String,
    beginner_ok: bool,
    hands_on: bool,
    local_dow: i64,
    local_start_min: i64,
    frames: Vec<FrameFacts>,
    tags: Vec<i64>,
    body: String,
}

/// Fee, capacity, accepted, opens_at, closes_at.
type FrameFacts = (i64, i64, i64, Option<i64>, Option<i64>);

type EventRow = (i64, String, i64, i64, i64, String, Option<String>, String, bool, bool, i64, i64);

async fn load_facts(conn: &mut SqliteConnection, ids: Option<&[i64]>) -> Result<Vec<Facts>, AppError> {
    fn scope(qb: &mut QueryBuilder<Sqlite>, column: &str, ids: Option<&[i64]>) {
        if let Some(ids) = ids {
            qb.push(" WHERE ").push(column).push(" IN (");
            let mut sep = qb.separated(", ");
            for id in ids {
                sep.push_bind(*id);
            }
            qb.push(")");
        }
    }
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT id, status, starts_at, ends_at, created_at, venue_kind, prefecture, language, beginner_ok, hands_on, \
         local_dow, local_start_min FROM events",
    );
    scope(&mut qb, "id", ids);
    let rows: Vec<EventRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
    let mut facts: Vec<Facts> = rows
        .into_iter()
        .map(|r| Facts {
            id: r.0,
            status: r.1,
            starts_at: r.2,
            ends_at: r.3,
            created_at: r.4,
            venue_kind: r.5,
            prefecture: r.6,
            language: r.7,
            beginner_ok: r.8,
            hands_on: r.9,
            local_dow: r.10,
            local_start_min: r.11,
            frames: Vec::new(),
            tags: Vec::new(),
            body: String::new(),
        })
        .collect();
    let pos: HashMap<i64, usize> = facts.iter().enumerate().map(|(i, f)| (f.id, i)).collect();

    let mut qb =
        QueryBuilder::<Sqlite>::new("SELECT event_id, fee, capacity, accepted_count, opens_at, closes_at FROM frames");
    scope(&mut qb, "event_id", ids);
    let frames: Vec<(i64, FrameFacts)> = qb
        .build_query_as::<(i64, i64, i64, i64, Option<i64>, Option<i64>)>()
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|(event_id, fee, capacity, accepted, opens, closes)| (event_id, (fee, capacity, accepted, opens, closes)))
        .collect();
    for (event_id, frame) in frames {
        if let Some(i) = pos.get(&event_id) {
            facts[*i].frames.push(frame);
        }
    }

    let mut qb = QueryBuilder::<Sqlite>::new("SELECT event_id, tag_id FROM event_tags");
    scope(&mut qb, "event_id", ids);
    let tags: Vec<(i64, i64)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    for (event_id, tag_id) in tags {
        if let Some(i) = pos.get(&event_id) {
            facts[*i].tags.push(tag_id);
        }
    }

    let mut qb = QueryBuilder::<Sqlite>::new("SELECT event_id, body FROM event_search");
    scope(&mut qb, "event_id", ids);
    let bodies: Vec<(i64, String)> = qb.build_query_as().fetch_all(&mut *conn).await?;
    for (event_id, body) in bodies {
        if let Some(i) = pos.get(&event_id) {
            facts[*i].body = body;
        }
    }
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
            starts_at: f.starts_at,
            ends_at: f.ends_at,
            created_at: f.created_at,
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

    fn add_grams(&mut self, slot: u32, body: &str) {
        let mut seen: HashSet<u64> = HashSet::new();
        let mut prev: Option<char> = None;
        for c in body.chars() {
            seen.insert(gram1(c));
            if let Some(p) = prev {
                seen.insert(gram2(p, c));
            }
            prev = Some(c);
        }
        for g in seen {
            self.grams.entry(g).or_default().insert(slot);
        }
    }

    /// Adds or replaces the events in `facts`; `gone` were deleted.
    fn apply(&mut self, facts: &[Facts], gone: &[i64]) {
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

/// Bits of the per-row failure mask: the date condition, then the selected tags, then the
/// selected preferences. Text, area and language are never left out of a count, so a row
/// failing them is skipped outright.
const DATE_BIT: u64 = 1;

impl Index {
    /// Adds the 1–2 character terms of `f` to `sets` (exact n-gram lookups).
    fn short_terms(&self, f: &Filter, sets: &mut TermSets) {
        for (term, ex) in f.terms.iter().filter(|(t, _)| t.chars().count() < 3) {
            let mut chars = term.chars();
            let key = match (chars.next(), chars.next()) {
                (Some(a), None) => gram1(a),
                (Some(a), Some(b)) => gram2(a, b),
                _ => continue,
            };
            let empty = RoaringBitmap::new();
            sets.add(self.grams.get(&key).unwrap_or(&empty), *ex);
        }
    }

    fn search(
        &self,
        q: &SearchQuery,
        f: &Filter,
        terms: TermSets,
        all_tags: &[TagRow],
        per_page: u32,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Searched {
        // One bit per distinct selected value (a value given twice is one condition).
        let mut tag_ids: Vec<i64> = Vec::new();
        for id in &f.tag_ids {
            if !tag_ids.contains(id) {
                tag_ids.push(*id);
            }
        }
        let mut prefs: Vec<Pref> = Vec::new();
        for p in &f.prefs {
            if !prefs.contains(p) {
                prefs.push(*p);
            }
        }
        let tag_bits: Vec<(i64, u64)> = tag_ids.iter().enumerate().map(|(i, id)| (*id, 1u64 << (1 + i))).collect();
        let pref_base = 1 + tag_bits.len();
        let pref_bits: Vec<(Pref, u64)> =
            prefs.iter().enumerate().map(|(i, p)| (*p, 1u64 << (pref_base + i))).collect();
        let unselected: Vec<Pref> = Pref::ALL.into_iter().filter(|p| !f.prefs.contains(p)).collect();
        let presets: Vec<When> = DatePreset::ALL.iter().map(|p| preset_range(*p, now)).collect();
        let area = f.area.as_deref().map(|a| match a {
            "online" => None,
            code => Some(self.prefectures.get(code).copied()),
        });
        let lang = f.lang.as_deref().map(lang_code);

        let mut terms = terms;
        self.short_terms(f, &mut terms);
        // Candidate slots: the text's when there are included terms.
        let TermSets { include: candidates, exclude: excluded } = terms;

        let mut total = 0i64;
        // The page: the first `offset + per_page` results in the query's order, kept in a
        // bounded heap during the pass (its top is the worst kept), so that a query matching
        // a million events neither collects nor sorts them.
        let offset = usize::try_from(u64::from(q.page.saturating_sub(1)) * u64::from(per_page)).unwrap_or(usize::MAX);
        let want = offset.saturating_add(per_page as usize);
        let past = matches!(f.when, When::EndedBy(_));
        let mut page: BinaryHeap<(SortKey, u32)> = BinaryHeap::with_capacity(want.min(4096) + 1);
        // Tag ids are small integers: counts in a vector indexed by id.
        let max_tag = all_tags.iter().map(|(id, ..)| *id).max().unwrap_or(0).max(0) as usize;
        let mut by_tag: Vec<i64> = vec![0; max_tag + 1];
        // Each preference's bit in `Doc::prefs`, for the unselected ones.
        let unselected_bits: Vec<u16> = unselected.iter().map(|p| pref_bit(*p)).collect();
        let mut selected_tag_counts = vec![0i64; tag_bits.len()];
        let mut selected_pref_counts = vec![0i64; pref_bits.len()];
        let mut unselected_counts = vec![0i64; unselected.len()];
        let mut date_counts = vec![0i64; presets.len()];

        let excluding = !excluded.is_empty();
        // The area as a `Hot::prefecture` value (code + 1); an unknown code matches nothing.
        let area = area.map(|code| code.map(|c| c.map_or(u16::MAX, |c| c.saturating_add(1))));
        // WAITLIST_OK (it depends on the frames and the time) is only worked out when a
        // selected preference or the unselected counts need it.
        let waitlist_selected = prefs.contains(&Pref::WaitlistOk);
        let waitlist_counted = unselected.contains(&Pref::WaitlistOk);

        let mut visit = |slot: u32| {
            let d = &self.hot[slot as usize];
            if d.flags & (HOT_LIVE | HOT_PUBLISHED) != HOT_LIVE | HOT_PUBLISHED {
                return;
            }
            if excluding && excluded.contains(slot) {
                return;
            }
            match area {
                Some(None) if d.bits & ONLINE == 0 => return,
                Some(Some(code)) if d.prefecture != code => return,
                _ => {}
            }
            if let Some(l) = lang
                && d.lang != l
                && d.lang != LANG_MULTI
            {
                return;
            }
            let mut mask = 0u64;
            if !when_holds(f.when, d) {
                mask |= DATE_BIT;
            }
            let doc = &self.docs[slot as usize];
            for (id, bit) in &tag_bits {
                if !d.has_tag(*id, doc) {
                    mask |= bit;
                }
            }
            let mut held = d.bits;
            if waitlist_selected || (waitlist_counted && mask == 0) {
                held = d.prefs(f.now, doc);
            }
            for (p, bit) in &pref_bits {
                if held & pref_bit(*p) == 0 {
                    mask |= bit;
                }
            }
            if mask == 0 {
                total += 1;
                if want > 0 {
                    let key = sort_key(q.sort, past, d, doc);
                    if page.len() < want {
                        page.push((key, slot));
                    } else if let Some(mut worst) = page.peek_mut()
                        && key < worst.0
                    {
                        *worst = (key, slot);
                    }
                }
                let mut count = |t: i64| {
                    if let Some(n) = usize::try_from(t).ok().and_then(|t| by_tag.get_mut(t)) {
                        *n += 1;
                    }
                };
                if d.flags & HOT_MANY_TAGS != 0 {
                    doc.tags.iter().for_each(|t| count(*t));
                } else {
                    d.tags[..usize::from(d.tag_count)].iter().for_each(|t| count(i64::from(*t)));
                }
                for (i, bit) in unselected_bits.iter().enumerate() {
                    if held & bit != 0 {
                        unselected_counts[i] += 1;
                    }
                }
            }
            if mask & !DATE_BIT == 0 {
                for (i, w) in presets.iter().enumerate() {
                    if when_holds(*w, d) {
                        date_counts[i] += 1;
                    }
                }
            }
            for (i, (_, bit)) in tag_bits.iter().enumerate() {
                if mask & !bit == 0 {
                    selected_tag_counts[i] += 1;
                }
            }
            for (i, (_, bit)) in pref_bits.iter().enumerate() {
                if mask & !bit == 0 {
                    selected_pref_counts[i] += 1;
                }
            }
        };
        match &candidates {
            Some(set) => set.iter().for_each(&mut visit),
            None => (0..u32::try_from(self.docs.len()).unwrap_or(u32::MAX)).for_each(&mut visit),
        }

        let ids: Vec<i64> =
            page.into_sorted_vec().into_iter().skip(offset).map(|(_, slot)| self.docs[slot as usize].id).collect();

        let mut tag_facets = Vec::new();
        let mut tool_facets = Vec::new();
        for (id, slug, name, kind) in all_tags {
            let kind = TagKind::parse(kind).unwrap_or(TagKind::Topic);
            let position = tag_bits.iter().position(|(t, _)| t == id);
            let n = match position {
                Some(i) => selected_tag_counts[i],
                None => usize::try_from(*id).ok().and_then(|i| by_tag.get(i).copied()).unwrap_or(0),
            };
            let facet = FacetCount {
                value: TagRef { slug: slug.clone(), name: name.clone(), kind },
                selected: position.is_some(),
                count: n,
            };
            match kind {
                TagKind::Topic => tag_facets.push(facet),
                TagKind::Tool => tool_facets.push(facet),
            }
        }
        let prefs = Pref::ALL
            .into_iter()
            .map(|p| match unselected.iter().position(|u| *u == p) {
                Some(i) => FacetCount { value: p.as_str().to_string(), selected: false, count: unselected_counts[i] },
                None => {
                    let i = pref_bits.iter().position(|(s, _)| *s == p).unwrap_or(0);
                    FacetCount {
                        value: p.as_str().to_string(),
                        selected: true,
                        count: selected_pref_counts.get(i).copied().unwrap_or(0),
                    }
                }
            })
            .collect();
        let dates = DatePreset::ALL
            .iter()
            .enumerate()
            .map(|(i, p)| FacetCount {
                value: p.as_str().to_string(),
                selected: !q.has_range() && q.date == *p,
                count: date_counts[i],
            })
            .collect();
        Searched {
            total,
            ids,
            facets: Facets {
                tags: super::search_sql::trim_facets(tag_facets, super::search_sql::TAG_FACETS),
                tools: super::search_sql::trim_facets(tool_facets, super::search_sql::TOOL_FACETS),
                prefs,
                dates,
            },
            warnings: Vec::new(),
            tags: Vec::new(),
            tools: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tags: &[i64]) -> Doc {
        Doc {
            id: 1,
            published: true,
            starts_at: 10,
            ends_at: 20,
            created_at: 0,
            bits: FREE,
            lang: LANG_JA,
            prefecture: Some(3),
            popular: 0,
            seats: 0,
            windows: Box::new([]),
            tags: tags.into(),
            body_hash: 0,
        }
    }

    #[test]
    fn hot_rows_answer_tags_inline_or_from_the_doc() {
        for tags in [vec![], vec![1, 2, 3], vec![1, 2, 3, 4, 5, 6], vec![1, 2, 3, 4, 5, 6, 7, 8], vec![5, 70_000]] {
            let d = doc(&tags);
            let hot = Hot::of(&d);
            assert_eq!(hot.flags & HOT_MANY_TAGS != 0, tags.len() > INLINE_TAGS || tags.contains(&70_000), "{tags:?}");
            for id in [0, 1, 4, 6, 7, 8, 9, 70_000, -1] {
                assert_eq!(hot.has_tag(id, &d), tags.contains(&id), "{id} in {tags:?}");
            }
            assert_eq!(hot.prefecture, 4, "code + 1");
            assert_eq!(std::mem::size_of::<Hot>(), 64, "one cache line");
            assert_eq!(hot.flags & (HOT_LIVE | HOT_PUBLISHED), HOT_LIVE | HOT_PUBLISHED);
        }
    }

    #[test]
    fn hot_rows_answer_waitlist_ok_as_the_doc_does() {
        let windows: [&[(i64, i64)]; 5] =
            [&[], &[(0, 5)], &[(0, 3), (6, 9)], &[(i64::MIN, i64::MAX)], &[(4, 4), (2, 8), (i64::MIN, 1)]];
        for w in windows {
            for starts_at in [5, 10] {
                let mut d = doc(&[]);
                d.windows = w.into();
                d.starts_at = starts_at;
                let hot = Hot::of(&d);
                for now in [-1, 0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11] {
                    assert_eq!(hot.prefs(now, &d), d.prefs(now), "{w:?} starts {starts_at} at {now}");
                }
            }
        }
    }
}
