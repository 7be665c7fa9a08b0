//! The cache of trigram answers (FTS5 or pg_trgm) for recently searched 3+ character terms.

use std::collections::HashMap;

use roaring::RoaringBitmap;

/// Terms kept by [`TermCache`].
const TERM_CACHE_SIZE: usize = 256;
/// More new texts than this in one catch-up empty the term cache instead of updating it.
pub(super) const TERM_CACHE_REFRESH_LIMIT: usize = 256;

/// The trigram engine's answers for recently searched 3+ character terms, as slot sets, so
/// that a common term ("勉強会" matches a third of all events) is not decoded again by every
/// search. Kept exact: a slot is only ever created with a new text (`Index::apply`), and
/// each new text is tested against every cached term (substring of the normalised text,
/// which is what a trigram phrase match is); an answer computed against an index that
/// moved on meanwhile is not kept. Least recently used terms go first.
#[derive(Default)]
pub(super) struct TermCache {
    pub(super) entries: HashMap<String, (RoaringBitmap, u64)>,
    clock: u64,
    pub(super) hits: u64,
    pub(super) misses: u64,
}

impl TermCache {
    pub(super) fn get(&mut self, term: &str) -> Option<RoaringBitmap> {
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

    pub(super) fn put(&mut self, term: &str, set: RoaringBitmap) {
        if self.entries.len() >= TERM_CACHE_SIZE
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, (_, used))| *used).map(|(t, _)| t.clone())
        {
            self.entries.remove(&oldest);
        }
        self.clock += 1;
        self.entries.insert(term.to_string(), (set, self.clock));
    }
}
