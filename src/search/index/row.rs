//! The rows of the index: per event, a [`Doc`] with every fact a search filters and sorts on,
//! and its [`Hot`] part, packed into one cache line, that every search reads.

use crate::search::model::{Pref, Sort};
use crate::server::store::search_sql::When;

pub(super) const ONLINE: u16 = 1;
pub(super) const OFFLINE: u16 = 1 << 1;
pub(super) const ENGLISH: u16 = 1 << 2;
pub(super) const BEGINNER: u16 = 1 << 3;
pub(super) const WEEKEND: u16 = 1 << 4;
pub(super) const EVENING: u16 = 1 << 5;
pub(super) const HANDS_ON: u16 = 1 << 6;
pub(super) const FREE: u16 = 1 << 7;
pub(super) const AVAILABLE: u16 = 1 << 8;
/// Never stored: computed at search time (it depends on the time).
pub(super) const WAITLIST_OK: u16 = 1 << 9;

pub(super) const LANG_JA: u8 = 0;
pub(super) const LANG_EN: u8 = 1;
pub(super) const LANG_MULTI: u8 = 2;
pub(super) const LANG_OTHER: u8 = 3;

pub(super) fn lang_code(s: &str) -> u8 {
    match s {
        "ja" => LANG_JA,
        "en" => LANG_EN,
        "multi" => LANG_MULTI,
        _ => LANG_OTHER,
    }
}

/// One event, as a search sees it.
#[derive(Debug, Clone)]
pub(super) struct Doc {
    pub(super) id: i64,
    pub(super) published: bool,
    /// Cancelled (and listed): the API and feeds list it, the search does not.
    pub(super) cancelled: bool,
    pub(super) group_id: i64,
    pub(super) starts_at: i64,
    pub(super) ends_at: i64,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) bits: u16,
    pub(super) lang: u8,
    pub(super) prefecture: Option<u16>,
    pub(super) popular: i64,
    pub(super) seats: i64,
    /// Registration windows of the frames: (opens_at or MIN, closes_at or MAX).
    pub(super) windows: Box<[(i64, i64)]>,
    pub(super) tags: Box<[i64]>,
    pub(super) body_hash: u64,
}

/// A preference's bit in [`Doc::prefs`].
pub(super) fn pref_bit(p: Pref) -> u16 {
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

pub(super) fn when_holds(w: When, d: &Hot) -> bool {
    match w {
        When::Starts(from, to) => from.is_none_or(|f| d.starts_at >= f) && to.is_none_or(|t| d.starts_at < t),
        When::EndsAfter(t) => d.ends_at > t,
        When::EndedBy(t) => d.ends_at <= t,
        When::Any => true,
    }
}

/// A result's place in its query's order: results sort by this key, ascending. Every key
/// ends with the event id (or its negation), so no two events tie.
pub(super) type SortKey = (i64, i64, i64);

/// Descending as ascending (`i64::MIN`, which has no negation, sorts last, as it should).
pub(super) fn desc(x: i64) -> i64 {
    x.checked_neg().unwrap_or(i64::MAX)
}

pub(super) fn sort_key(sort: Sort, past: bool, hot: &Hot, d: &Doc) -> SortKey {
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
pub(super) const HOT_LIVE: u8 = 1;
pub(super) const HOT_PUBLISHED: u8 = 1 << 1;
/// Cancelled and listed (see [`Doc::cancelled`]).
pub(super) const HOT_CANCELLED: u8 = 1 << 4;
/// The tags are in the `Doc` (too many, or an id beyond `u16`).
pub(super) const HOT_MANY_TAGS: u8 = 1 << 2;
/// The event has one registration window, so `[opens_min, closes_max)` is exactly it.
const HOT_ONE_WINDOW: u8 = 1 << 3;

/// The part of a [`Doc`] that every search reads, packed into one 64-byte cache line and
/// kept in a vector of its own: a pass over a million events streams these rows instead of
/// every `Doc` and the allocations its slices point to.
#[derive(Debug, Clone, Copy)]
pub(super) struct Hot {
    pub(super) id: i64,
    pub(super) starts_at: i64,
    pub(super) ends_at: i64,
    /// The hull of the registration windows (`i64::MAX, i64::MIN` without frames).
    opens_min: i64,
    closes_max: i64,
    pub(super) bits: u16,
    pub(super) flags: u8,
    pub(super) lang: u8,
    /// Prefecture code + 1 (0: none).
    pub(super) prefecture: u16,
    pub(super) tag_count: u8,
    pub(super) tags: [u16; INLINE_TAGS],
}

impl Hot {
    /// The row of a live `Doc` (a slot stops being live through its `Hot` flags alone).
    pub(super) fn of(d: &Doc) -> Hot {
        let mut flags = HOT_LIVE;
        if d.published {
            flags |= HOT_PUBLISHED;
        }
        if d.cancelled {
            flags |= HOT_CANCELLED;
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
    pub(super) fn prefs(&self, now: i64, doc: &Doc) -> u16 {
        if self.starts_at <= now || now < self.opens_min || now >= self.closes_max {
            return self.bits;
        }
        if self.flags & HOT_ONE_WINDOW != 0 {
            return self.bits | WAITLIST_OK;
        }
        doc.prefs(now)
    }

    /// Whether the event has tag `id` (`doc` is its `Doc`, read only when the tags are there).
    pub(super) fn has_tag(&self, id: i64, doc: &Doc) -> bool {
        if self.flags & HOT_MANY_TAGS != 0 {
            return doc.tags.contains(&id);
        }
        u16::try_from(id).is_ok_and(|id| self.tags[..usize::from(self.tag_count)].contains(&id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(tags: &[i64]) -> Doc {
        Doc {
            id: 1,
            published: true,
            cancelled: false,
            group_id: 1,
            starts_at: 10,
            ends_at: 20,
            created_at: 0,
            updated_at: 0,
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
