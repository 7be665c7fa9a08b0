//! Whole search answers kept for the second they were computed in.
//!
//! A search's answer is a function of the query, the page size, the second it runs at
//! (dates, "seats left while registration is open") and what the index holds, which its
//! change sequence names. So an answer stays exact for other searches of the same query in
//! the same second at the same sequence: a popular search (the home page's links, a tag
//! everyone follows, a link shared on social media) is then computed once a second however
//! many people open it, and any write that could change it moves the sequence on. Bounded:
//! the least recently used answers go first.

use std::collections::HashMap;

use crate::server::store::search_sql::Searched;

/// Answers kept.
const RESULT_CACHE_SIZE: usize = 128;

/// The key of an answer: the query (its serialised form: every field), the page size and the
/// second.
#[derive(Clone, PartialEq, Eq, Hash)]
pub(crate) struct ResultKey {
    pub(super) query: String,
    pub(super) per_page: u32,
    pub(super) second: i64,
}

#[derive(Default)]
pub(super) struct ResultCache {
    entries: HashMap<ResultKey, Entry>,
    clock: u64,
    /// Answers served from the cache since the index was built.
    pub(super) hits: u64,
}

struct Entry {
    seq: i64,
    used: u64,
    found: Searched,
}

impl ResultCache {
    /// The answer kept for `key` at sequence `seq`, if any.
    pub(super) fn get(&mut self, key: &ResultKey, seq: i64) -> Option<Searched> {
        self.clock += 1;
        let clock = self.clock;
        let entry = self.entries.get_mut(key).filter(|e| e.seq == seq)?;
        entry.used = clock;
        self.hits += 1;
        Some(entry.found.clone())
    }

    /// Keeps `found` for `key` at `seq`. Answers of an earlier second are dropped first (no
    /// search can ask for them again), then the least recently used.
    pub(super) fn put(&mut self, key: ResultKey, seq: i64, found: Searched) {
        if self.entries.len() >= RESULT_CACHE_SIZE {
            let second = key.second;
            self.entries.retain(|k, e| k.second >= second && e.seq == seq);
        }
        if self.entries.len() >= RESULT_CACHE_SIZE
            && let Some(oldest) = self.entries.iter().min_by_key(|(_, e)| e.used).map(|(k, _)| k.clone())
        {
            self.entries.remove(&oldest);
        }
        self.clock += 1;
        self.entries.insert(key, Entry { seq, used: self.clock, found });
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(q: &str, second: i64) -> ResultKey {
        ResultKey { query: q.to_string(), per_page: 20, second }
    }

    fn found(total: i64) -> Searched {
        Searched { total, ..Searched::default() }
    }

    #[test]
    fn an_answer_holds_for_its_query_second_and_sequence_only() {
        let mut cache = ResultCache::default();
        cache.put(key("q=a", 10), 5, found(3));
        assert_eq!(cache.get(&key("q=a", 10), 5).map(|f| f.total), Some(3));
        assert!(cache.get(&key("q=a", 11), 5).is_none(), "another second");
        assert!(cache.get(&key("q=b", 10), 5).is_none(), "another query");
        assert!(cache.get(&key("q=a", 10), 6).is_none(), "the index moved on");
        assert!(cache.get(&ResultKey { per_page: 10, ..key("q=a", 10) }, 5).is_none(), "another page size");
    }

    #[test]
    fn the_cache_stays_bounded_and_keeps_what_is_used() {
        let mut cache = ResultCache::default();
        cache.put(key("hot", 1), 1, found(1));
        for i in 0..(RESULT_CACHE_SIZE as i64 * 3) {
            cache.put(key(&format!("q={i}"), 1), 1, found(i));
            assert!(cache.get(&key("hot", 1), 1).is_some(), "the answer used all along is kept");
            assert!(cache.entries.len() <= RESULT_CACHE_SIZE);
        }
        // A new second drops the answers of the seconds before it once the cache is full.
        cache.put(key("q=new", 2), 1, found(0));
        assert_eq!(cache.entries.len(), 1);
    }
}
