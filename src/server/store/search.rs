//! The search page and search feeds. The semantics are one (`search_sql.rs`, the oracle);
//! the in-memory index (`crate::search::index`) answers on either backend once it is built.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::search_sql::{self, Searched};
use super::{Store, StoreResult};
use crate::events::model::{EventCard, Page};
use crate::search::model::{SearchQuery, SearchResults};

impl Store {
    /// The search page: results of `query` at `now` with facet counts (see `crate::search`).
    pub async fn search(&self, query: &SearchQuery, now: DateTime<Utc>) -> StoreResult<SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let found = match self.search_indexed(query, now, per_page).await? {
            Some(found) => found,
            None => search_sql::search(&self.db, query, now, per_page).await?,
        };
        self.results(found, query).await
    }

    /// The ids of the first `limit` results of a search, in its order (search feeds).
    pub async fn search_ids(&self, query: &SearchQuery, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<i64>> {
        let first = SearchQuery { page: 1, ..query.clone() };
        match self.search_indexed(&first, now, limit).await? {
            Some(found) => Ok(found.ids),
            None => search_sql::search_ids(&self.db, query, now, limit).await,
        }
    }

    /// The search answered by SQL alone, bypassing the in-memory index: the oracle the
    /// index is tested against, and the fallback while it builds.
    pub async fn search_with_sql(&self, query: &SearchQuery, now: DateTime<Utc>) -> StoreResult<SearchResults> {
        let found = search_sql::search(&self.db, query, now, crate::events::api::PER_PAGE).await?;
        self.results(found, query).await
    }

    /// Whether the in-memory search index is built (benchmarks wait for it).
    pub fn search_index_ready(&self) -> bool {
        self.search_index.is_ready()
    }

    /// Events in the search index (after applying the changes it has not seen) and the
    /// seconds its last full build took (metrics).
    pub async fn search_index_stats(&self) -> StoreResult<(usize, Option<f64>)> {
        self.search_index.catch_up(&self.db).await?;
        Ok(self.search_index.stats())
    }

    /// Hits and misses of the search index's cache of 3+ character terms.
    pub fn search_term_cache_stats(&self) -> (u64, u64) {
        self.search_index.term_cache_stats()
    }

    /// Searches answered with an answer kept from earlier in the same second.
    pub fn search_result_cache_hits(&self) -> u64 {
        self.search_index.result_cache_hits()
    }

    /// Empties the search index's term cache (benchmarks also measure searches without it).
    pub fn clear_search_term_cache(&self) {
        self.search_index.clear_term_cache()
    }

    /// Keeps (the default) or stops keeping whole search answers for the rest of their second
    /// (the in-process benchmark measures each search itself).
    pub fn keep_search_results(&self, keep: bool) {
        self.search_index.keep_results(keep)
    }

    /// The in-memory index's answer, `None` when it cannot answer (not built yet, or a
    /// query it leaves to SQL).
    pub(super) async fn search_indexed(
        &self,
        query: &SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Option<Searched>> {
        search_sql::search_indexed(&self.db, &self.search_index, query, now, limit).await
    }

    /// The cards of `ids`, in that order (ids no longer visible are left out).
    pub(super) async fn cards_in_order(&self, ids: &[i64]) -> StoreResult<Vec<EventCard>> {
        let mut by_id: HashMap<i64, EventCard> =
            super::events::cards_by_ids(&self.db, ids, "").await?.into_iter().map(|c| (c.id, c)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// The page of cards and the echo of the query, around what a search found.
    async fn results(&self, found: Searched, query: &SearchQuery) -> StoreResult<SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let cards = self.cards_in_order(&found.ids).await?;
        let mut query = query.clone();
        // The canonical spelling of resolved tags and tools (aliases become names).
        query.tags = found.tags.iter().map(|t| t.name.clone()).collect();
        query.tools = found.tools.iter().map(|t| t.name.clone()).collect();
        let page = query.page;
        Ok(SearchResults {
            query,
            warnings: found.warnings,
            results: Page { items: cards, page, per_page, total: found.total },
            facets: found.facets,
        })
    }
}
