//! Listings through the index: the public event lists of the connpass-compatible API and the
//! feeds (`EventFilter`), answered in one pass over the rows instead of SQL that tests every
//! event body for a keyword and counts every match. Same semantics as the SQL listing
//! (`public_sql::push_event_where`), which stays as the oracle.

use std::collections::BinaryHeap;

use roaring::RoaringBitmap;

use super::Index;
use super::row::{HOT_CANCELLED, HOT_LIVE, HOT_PUBLISHED, ONLINE, SortKey, desc};
use crate::events::public::EventOrder;

/// The order of a listing: the API's three, and the most recent start first (a group's past
/// events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ListOrder {
    Updated,
    Start,
    Created,
    StartDesc,
}

impl From<EventOrder> for ListOrder {
    fn from(o: EventOrder) -> Self {
        match o {
            EventOrder::Updated => ListOrder::Updated,
            EventOrder::Start => ListOrder::Start,
            EventOrder::Created => ListOrder::Created,
        }
    }
}

/// A listing resolved for the index: terms as slot sets, tags and prefectures as ids.
pub(crate) struct Listing {
    /// Cancelled events too (the API and feeds list them; the home page does not).
    pub(super) cancelled: bool,
    /// Slots holding every keyword (`None`: no keyword).
    pub(super) text: Option<RoaringBitmap>,
    /// Start instants (Unix seconds) in any of these half-open ranges (empty: any).
    pub(super) starts_in: Vec<(i64, i64)>,
    pub(super) group_ids: Vec<i64>,
    /// Any of these areas: `online` (online or hybrid) and prefecture names; empty: any.
    pub(super) online: bool,
    pub(super) prefectures: Vec<String>,
    /// Any of these tags; `Some(empty)`: tags were asked for and none exists.
    pub(super) tag_ids: Option<Vec<i64>>,
    pub(super) ends_after: Option<i64>,
    /// Only events that ended by this instant.
    pub(super) ended_by: Option<i64>,
    pub(super) order: ListOrder,
    pub(super) offset: usize,
    pub(super) limit: usize,
}

impl Listing {
    /// Every published or cancelled event in `order`, none of it (limit 0): the base that
    /// callers fill in.
    pub(super) fn new(order: ListOrder) -> Self {
        Listing {
            cancelled: true,
            text: None,
            starts_in: Vec::new(),
            group_ids: Vec::new(),
            online: false,
            prefectures: Vec::new(),
            tag_ids: None,
            ends_after: None,
            ended_by: None,
            order,
            offset: 0,
            limit: 0,
        }
    }
}

impl Index {
    /// The ids of one page of the listing in its order, and how many events match.
    pub(super) fn list(&self, l: &Listing) -> (Vec<i64>, i64) {
        let areas = !l.prefectures.is_empty() || l.online;
        // Prefecture codes as `Hot::prefecture` values (code + 1); unknown names match nothing.
        let codes: Vec<u16> = l
            .prefectures
            .iter()
            .filter_map(|p| self.prefectures.get(p.as_str()).map(|c| c.saturating_add(1)))
            .collect();
        let shown = if l.cancelled { HOT_PUBLISHED | HOT_CANCELLED } else { HOT_PUBLISHED };
        let want = l.offset.saturating_add(l.limit);
        let mut page: BinaryHeap<(SortKey, u32)> = BinaryHeap::with_capacity(want.min(4096) + 1);
        let mut total = 0i64;
        let mut visit = |slot: u32| {
            let d = &self.hot[slot as usize];
            if d.flags & HOT_LIVE == 0 || d.flags & shown == 0 {
                return;
            }
            if !l.starts_in.is_empty()
                && !l.starts_in.iter().any(|(from, to)| d.starts_at >= *from && d.starts_at < *to)
            {
                return;
            }
            if l.ends_after.is_some_and(|t| d.ends_at <= t) || l.ended_by.is_some_and(|t| d.ends_at > t) {
                return;
            }
            if areas && !(l.online && d.bits & ONLINE != 0 || codes.contains(&d.prefecture)) {
                return;
            }
            let doc = &self.docs[slot as usize];
            if !l.group_ids.is_empty() && !l.group_ids.contains(&doc.group_id) {
                return;
            }
            if let Some(tags) = &l.tag_ids
                && !tags.iter().any(|t| d.has_tag(*t, doc))
            {
                return;
            }
            total += 1;
            if want == 0 {
                return;
            }
            let key = match l.order {
                ListOrder::Updated => (desc(doc.updated_at), desc(doc.id), 0),
                ListOrder::Start => (d.starts_at, d.id, 0),
                ListOrder::Created => (desc(doc.created_at), desc(doc.id), 0),
                ListOrder::StartDesc => (desc(d.starts_at), desc(d.id), 0),
            };
            if page.len() < want {
                page.push((key, slot));
            } else if let Some(mut worst) = page.peek_mut()
                && key < worst.0
            {
                *worst = (key, slot);
            }
        };
        // Candidates: the slots of the text, intersected with those of the groups (a slot
        // stays in its group's set when the event moves; `visit` checks the group itself).
        let groups = (!l.group_ids.is_empty()).then(|| {
            let mut set = RoaringBitmap::new();
            for g in &l.group_ids {
                if let Some(slots) = self.groups.get(g) {
                    set |= slots;
                }
            }
            set
        });
        let candidates = match (&l.text, groups) {
            (Some(text), Some(groups)) => Some(text & groups),
            (Some(text), None) => Some(text.clone()),
            (None, groups) => groups,
        };
        match &candidates {
            Some(set) => set.iter().for_each(&mut visit),
            None => (0..u32::try_from(self.docs.len()).unwrap_or(u32::MAX)).for_each(&mut visit),
        }
        let ids =
            page.into_sorted_vec().into_iter().skip(l.offset).map(|(_, slot)| self.docs[slot as usize].id).collect();
        (ids, total)
    }
}
