//! Postings of the 1- and 2-character n-grams of the normalised search text: the terms
//! trigrams (FTS5, pg_trgm) cannot answer are exact lookups here (a 2-character substring
//! *is* a bigram).

use std::collections::HashSet;

use roaring::RoaringBitmap;

use super::{Index, TermSets};
use crate::server::store::search_sql::Filter;

/// Key of a 1- or 2-character n-gram.
fn gram1(a: char) -> u64 {
    u64::from(a)
}

fn gram2(a: char, b: char) -> u64 {
    (1 << 42) | (u64::from(a) << 21) | u64::from(b)
}

impl Index {
    /// Adds `slot` to the postings of every n-gram of `body`.
    pub(super) fn add_grams(&mut self, slot: u32, body: &str) {
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

    /// The slots whose text holds the 1–2 character `term` (an empty set for any other).
    pub(super) fn gram_set(&self, term: &str) -> RoaringBitmap {
        let mut chars = term.chars();
        let key = match (chars.next(), chars.next(), chars.next()) {
            (Some(a), None, _) => gram1(a),
            (Some(a), Some(b), None) => gram2(a, b),
            _ => return RoaringBitmap::new(),
        };
        self.grams.get(&key).cloned().unwrap_or_default()
    }

    /// Adds the 1–2 character terms of `f` to `sets` (exact n-gram lookups).
    pub(super) fn short_terms(&self, f: &Filter, sets: &mut TermSets) {
        for (term, ex) in f.terms.iter().filter(|(t, _)| !t.is_empty() && t.chars().count() < 3) {
            sets.add(&self.gram_set(term), *ex);
        }
    }
}
