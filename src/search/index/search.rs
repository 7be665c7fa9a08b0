//! The search itself: one pass over the rows that computes, for each row, the set of filter
//! parts it fails; the page, the total and every facet count follow from those sets.

use std::collections::BinaryHeap;

use super::row::{
    HOT_LIVE, HOT_MANY_TAGS, HOT_PUBLISHED, LANG_MULTI, ONLINE, SortKey, lang_code, pref_bit, sort_key, when_holds,
};
use super::{Index, TermSets};
use crate::search::model::{DatePreset, FacetCount, Facets, Pref, SearchQuery};
use crate::server::store::search_sql::{
    Filter, Searched, TAG_FACETS, TOOL_FACETS, TagRow, When, preset_range, trim_facets,
};
use crate::tags::model::{TagKind, TagRef};

/// Bits of the per-row failure mask: the date condition, then the selected tags, then the
/// selected preferences. Text, area and language are never left out of a count, so a row
/// failing them is skipped outright.
const DATE_BIT: u64 = 1;

impl Index {
    /// Runs a resolved search over the rows (`terms`: the 3+ character terms' slots).
    pub(super) fn search(
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
        Searched {
            total,
            ids,
            facets: Facets {
                tags: trim_facets(tag_facets, TAG_FACETS),
                tools: trim_facets(tool_facets, TOOL_FACETS),
                prefs,
                dates: date_facets(q, &date_counts),
            },
            warnings: Vec::new(),
            tags: Vec::new(),
            tools: Vec::new(),
        }
    }
}

/// The date facets of `q`: each preset with its count (`counts`, in `DatePreset::ALL` order).
pub(crate) fn date_facets(q: &SearchQuery, counts: &[i64]) -> Vec<FacetCount<String>> {
    DatePreset::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| FacetCount {
            value: p.as_str().to_string(),
            selected: !q.has_range() && q.date == *p,
            count: counts.get(i).copied().unwrap_or(0),
        })
        .collect()
}
