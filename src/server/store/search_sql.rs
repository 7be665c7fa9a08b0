//! Search in SQL, one text for SQLite and PostgreSQL: the search text of events
//! (`event_search`, kept from Rust), the search query with its facets, and the way into the
//! in-memory index. What differs between the backends is the text search, side by
//! side in `search_text`, and one SQLite workaround in [`push_frames`].

use std::collections::HashMap;

use super::db::{Conn, Db, Sql};
use super::search_text::{joined, push_terms, write_bodies};
use crate::error::AppError;
use crate::search::index::SearchIndex;
use crate::search::model::{DatePreset, FacetCount, Facets, Pref, SearchQuery, Sort, Warning};
use crate::server::text::normalize;
use crate::tags::model::{TagKind, TagRef};
use chrono::{DateTime, TimeZone, Utc};

use crate::search::when::when_of;
pub(crate) use crate::search::when::{When, local_parts, preset_range};

/// What the search text of an event is made of.
#[derive(sqlx::FromRow)]
struct IndexRow {
    id: i64,
    title: String,
    catch: String,
    description: String,
    title_en: String,
    catch_en: String,
    description_en: String,
    place: String,
    address: String,
    group_title: String,
    speakers: Option<String>,
    tags: Option<String>,
}

/// (Re)builds the search text of `event_ids` from what is stored, inside the caller's
/// transaction (a [`super::db::Tx`] or a raw one).
pub(crate) async fn index_events<'c>(conn: impl Into<Conn<'c>>, event_ids: &[i64]) -> Result<(), AppError> {
    let mut conn = conn.into();
    let pg = conn.is_pg();
    for chunk in event_ids.chunks(500) {
        let mut q = Sql::new(format!(
            "SELECT e.id, e.title, e.catch, e.description, e.title_en, e.catch_en, e.description_en, e.place, e.address, g.title AS group_title, \
               (SELECT {} FROM speakers s WHERE s.event_id = e.id) AS speakers, \
               (SELECT {} FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id = e.id) AS tags \
             FROM events e JOIN groups g ON g.id = e.group_id WHERE e.id IN ",
            joined(pg, "s.name", "s.position, s.id"),
            joined(pg, "t.name", "t.position, t.id"),
        ));
        q.push_list(chunk.iter().copied());
        let rows: Vec<IndexRow> = conn.all(q).await?;
        if rows.is_empty() {
            continue;
        }
        let bodies: Vec<(i64, String)> = rows
            .into_iter()
            .map(|r| {
                let text = [
                    r.title,
                    r.catch,
                    r.description,
                    r.title_en,
                    r.catch_en,
                    r.description_en,
                    r.place,
                    r.address,
                    r.group_title,
                    r.speakers.unwrap_or_default(),
                    r.tags.unwrap_or_default(),
                ]
                .join("\n");
                (r.id, normalize(&text))
            })
            .collect();
        write_bodies(&mut conn, &bodies).await?;
    }
    Ok(())
}

/// Indexes events that have no search text yet (rows from before the search migration),
/// and fills in their local weekday and start minute.
/// `NOT EXISTS`, an anti-join on both backends: PostgreSQL ran the `NOT IN (subquery)` this
/// was as a subplan per row once the subquery outgrew `work_mem` (5+ minutes at every start
/// with 100,000 events).
pub(crate) async fn index_missing(db: &Db) -> Result<usize, AppError> {
    let missing: Vec<(i64, i64, String)> = db
        .all(Sql::new(
            "SELECT e.id, e.starts_at, e.time_zone FROM events e \
             WHERE NOT EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id)",
        ))
        .await?;
    if missing.is_empty() {
        return Ok(0);
    }
    let mut tx = db.begin().await?;
    for (id, starts_at, tz) in &missing {
        let (dow, minute) = local_parts(Utc.timestamp_opt(*starts_at, 0).single().unwrap_or_default(), tz);
        tx.execute(
            Sql::new("UPDATE events SET local_dow = $1, local_start_min = $2 WHERE id = $3")
                .bind(dow)
                .bind(minute)
                .bind(*id),
        )
        .await?;
    }
    let ids: Vec<i64> = missing.iter().map(|(id, _, _)| *id).collect();
    index_events(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(ids.len())
}

fn push_when(q: &mut Sql, w: When) {
    match w {
        When::Starts(from, to) => {
            if let Some(f) = from {
                q.push(" AND e.starts_at >= ").push_bind(f);
            }
            if let Some(t) = to {
                q.push(" AND e.starts_at < ").push_bind(t);
            }
        }
        When::EndsAfter(t) => {
            q.push(" AND e.ends_at > ").push_bind(t);
        }
        When::EndedBy(t) => {
            q.push(" AND e.ends_at <= ").push_bind(t);
        }
        When::Any => {}
    }
}

/// Events with [no] frame meeting `cond` (on `frames f`). SQLite: `e.id [NOT] IN (…)`
/// rather than correlated `[NOT] EXISTS (…)`: with the latter, SQLite 3.51 returned
/// overlapping pages for `ORDER BY … LIMIT … OFFSET` (found by the test comparing this search
/// with the in-memory index). PostgreSQL: `[NOT] EXISTS`, which it plans as a (anti) join.
fn push_frames(q: &mut Sql, pg: bool, not: bool, cond: impl FnOnce(&mut Sql)) {
    let not = if not { "NOT " } else { "" };
    if pg {
        q.push(not).push("EXISTS (SELECT 1 FROM frames f WHERE f.event_id = e.id AND ");
    } else {
        q.push("e.id ").push(not).push("IN (SELECT f.event_id FROM frames f WHERE ");
    }
    cond(q);
    q.push(")");
}

fn push_pref(q: &mut Sql, p: Pref, now: i64, pg: bool) {
    match p {
        Pref::Free => push_frames(q, pg, true, |q| {
            q.push("f.fee > 0");
        }),
        Pref::Online => {
            q.push("e.venue_kind IN ('online', 'hybrid')");
        }
        Pref::Offline => {
            q.push("e.venue_kind IN ('offline', 'hybrid')");
        }
        Pref::Available => push_frames(q, pg, false, |q| {
            q.push("f.accepted_count < f.capacity");
        }),
        Pref::WaitlistOk => {
            q.push("(e.starts_at > ").push_bind(now).push(" AND ");
            push_frames(q, pg, false, |q| {
                q.push("(f.closes_at IS NULL OR f.closes_at > ")
                    .push_bind(now)
                    .push(") AND (f.opens_at IS NULL OR f.opens_at <= ")
                    .push_bind(now)
                    .push(")");
            });
            q.push(")");
        }
        Pref::English => {
            q.push("e.language IN ('en', 'multi')");
        }
        Pref::Beginner => {
            q.push("e.beginner_ok = TRUE");
        }
        Pref::Weekend => {
            q.push("e.local_dow IN (0, 6)");
        }
        Pref::Evening => {
            q.push("e.local_start_min >= 1080");
        }
        Pref::HandsOn => {
            q.push("e.hands_on = TRUE");
        }
    }
}

/// Everything a search filters on, resolved.
pub(crate) struct Filter {
    /// Normalised terms (text, exclude).
    pub terms: Vec<(String, bool)>,
    pub tag_ids: Vec<i64>,
    pub when: When,
    pub prefs: Vec<Pref>,
    pub area: Option<String>,
    pub lang: Option<String>,
    pub now: i64,
    /// An included term holds a NUL, which no stored text contains (PostgreSQL refuses it in
    /// text, FTS5 in a query): the search matches nothing.
    pub impossible: bool,
}

/// What a facet count leaves out of the filter.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Skip {
    Nothing,
    Tag(i64),
    Pref(Pref),
    Date,
}

/// ` WHERE …` over `events e` for `f`, leaving out `skip`.
fn push_where(q: &mut Sql, f: &Filter, skip: Skip, pg: bool) {
    q.push(" WHERE e.status = 'published' AND e.listed");
    if f.impossible {
        q.push(" AND FALSE");
    }
    if skip != Skip::Date {
        push_when(q, f.when);
    }
    push_terms(q, &f.terms, pg);
    for id in f.tag_ids.iter().filter(|id| skip != Skip::Tag(**id)) {
        q.push(" AND e.id IN (SELECT event_id FROM event_tags WHERE tag_id = ").push_bind(*id).push(")");
    }
    for p in f.prefs.iter().filter(|p| skip != Skip::Pref(**p)) {
        q.push(" AND ");
        push_pref(q, *p, f.now, pg);
    }
    match f.area.as_deref() {
        Some("online") => {
            q.push(" AND e.venue_kind IN ('online', 'hybrid')");
        }
        Some(code) => {
            q.push(" AND e.prefecture = ").push_bind(code);
        }
        None => {}
    }
    if let Some(lang) = &f.lang {
        q.push(" AND e.language IN (").push_bind(lang).push(", 'multi')");
    }
}

/// `SELECT <select> FROM events e WHERE …` for `f`, leaving out `skip`.
fn over_events(db: &Db, select: Sql, f: &Filter, skip: Skip) -> Sql {
    let mut q = select;
    q.push(" FROM events e");
    push_where(&mut q, f, skip, db.is_pg());
    q
}

async fn count(db: &Db, f: &Filter, skip: Skip) -> Result<i64, AppError> {
    let (n,): (i64,) = db.one(over_events(db, Sql::new("SELECT COUNT(*)"), f, skip)).await?;
    Ok(n)
}

/// The columns of a one-row answer, as integers in order (0 for what does not decode).
struct Sums(Vec<i64>);

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Sums
where
    usize: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Sums((0..row.len()).map(|i| row.try_get::<i64, _>(i).unwrap_or(0)).collect()))
    }
}

/// A tag as a search sees it: id, slug, name, kind (as stored).
pub(crate) type TagRow = (i64, String, String, String);

/// The tag vocabulary: every tag in facet order (position, id) and every alias (slugs and
/// names included, normalised) with its tag. Small (hundreds of rows): the index keeps one
/// in memory, the SQL search reads it per query.
#[derive(Debug, Default)]
pub(crate) struct Vocabulary {
    pub tags: Vec<TagRow>,
    /// Normalised alias → position in `tags`.
    aliases: HashMap<String, usize>,
}

impl Vocabulary {
    const TAGS: &str = "SELECT id, slug, name, kind FROM tags ORDER BY position, id";
    const ALIASES: &str = "SELECT alias, tag_id FROM tag_aliases";

    /// The vocabulary as seen in the caller's transaction (the index).
    pub(crate) async fn load<'c>(conn: impl Into<Conn<'c>>) -> Result<Vocabulary, AppError> {
        let mut conn = conn.into();
        let tags = conn.all(Sql::new(Self::TAGS)).await?;
        Ok(Self::new(tags, conn.all(Sql::new(Self::ALIASES)).await?))
    }

    async fn read(db: &Db) -> Result<Vocabulary, AppError> {
        Ok(Self::new(db.all(Sql::new(Self::TAGS)).await?, db.all(Sql::new(Self::ALIASES)).await?))
    }

    fn new(tags: Vec<TagRow>, aliases: Vec<(String, i64)>) -> Vocabulary {
        let at: HashMap<i64, usize> = tags.iter().enumerate().map(|(i, (id, ..))| (*id, i)).collect();
        let aliases = aliases.into_iter().filter_map(|(alias, id)| Some((alias, *at.get(&id)?))).collect();
        Vocabulary { tags, aliases }
    }

    /// Resolves tag names, slugs or aliases (NFKC, case-insensitive) of one kind; unknown
    /// names and names of the other kind become warnings.
    fn resolve(&self, names: &[String], kind: TagKind, param: &str, warnings: &mut Vec<Warning>) -> Vec<TagRef> {
        let mut out: Vec<TagRef> = Vec::new();
        for name in names {
            match self.aliases.get(&normalize(name)).map(|i| &self.tags[*i]) {
                Some((_, slug, tag_name, k)) if TagKind::parse(k) == Some(kind) => {
                    if !out.iter().any(|t| t.slug == *slug) {
                        out.push(TagRef { slug: slug.clone(), name: tag_name.clone(), kind });
                    }
                }
                _ => warnings.push(Warning { param: param.into(), value: name.clone() }),
            }
        }
        out
    }
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Searched {
    pub total: i64,
    pub ids: Vec<i64>,
    pub facets: Facets,
    pub warnings: Vec<Warning>,
    pub tags: Vec<TagRef>,
    pub tools: Vec<TagRef>,
}

/// Facet size: how many unselected tags / tools are offered.
pub(crate) const TAG_FACETS: usize = 24;
pub(crate) const TOOL_FACETS: usize = 12;

/// Selected values first, then by count; values with no results are dropped.
pub(crate) fn trim_facets(mut v: Vec<FacetCount<TagRef>>, n: usize) -> Vec<FacetCount<TagRef>> {
    v.sort_by(|a, b| b.selected.cmp(&a.selected).then(b.count.cmp(&a.count)));
    v.retain(|x| x.selected || x.count > 0);
    v.truncate(n.max(v.iter().filter(|x| x.selected).count()));
    v
}

/// Resolves a query into its filter (tags and tools by name, slug or alias).
pub(crate) fn resolve_filter(
    vocabulary: &Vocabulary,
    q: &SearchQuery,
    now: DateTime<Utc>,
    warnings: &mut Vec<Warning>,
) -> (Filter, Vec<TagRef>, Vec<TagRef>) {
    let tags = vocabulary.resolve(&q.tags, TagKind::Topic, "tags", warnings);
    let tools = vocabulary.resolve(&q.tools, TagKind::Tool, "tools", warnings);
    let tag_ids = tags
        .iter()
        .chain(&tools)
        .filter_map(|t| vocabulary.tags.iter().find(|(_, slug, ..)| *slug == t.slug).map(|(id, ..)| *id))
        .collect();
    let mut terms: Vec<(String, bool)> =
        q.terms().into_iter().map(|t| (normalize(&t.text), t.exclude)).filter(|(t, _)| !t.is_empty()).collect();
    let impossible = terms.iter().any(|(t, ex)| !ex && t.contains('\0'));
    terms.retain(|(t, _)| !t.contains('\0'));
    let f = Filter {
        impossible,
        terms,
        tag_ids,
        when: when_of(q, now),
        prefs: q.prefs.clone(),
        area: q.area.clone(),
        lang: q.lang.clone(),
        now: now.timestamp(),
    };
    (f, tags, tools)
}

fn push_order(q: &mut Sql, f: &Filter, sort: Sort) {
    let past = matches!(f.when, When::EndedBy(_));
    q.push(match sort {
        Sort::Date if past => " ORDER BY e.starts_at DESC, e.id DESC",
        Sort::Date => " ORDER BY e.starts_at, e.id",
        Sort::New => " ORDER BY e.created_at DESC, e.id DESC",
        Sort::Popular => " ORDER BY (SELECT COALESCE(SUM(accepted_count), 0) FROM frames WHERE event_id = e.id) DESC, e.starts_at, e.id",
        Sort::Seats => {
            " ORDER BY (SELECT COALESCE(SUM(capacity - accepted_count), 0) FROM frames WHERE event_id = e.id) DESC, e.starts_at, e.id"
        }
    });
}

/// The ids of results of `f` in the order of `sort`, `limit` of them from `offset` on.
async fn page_ids(db: &Db, f: &Filter, sort: Sort, limit: u32, offset: Option<i64>) -> Result<Vec<i64>, AppError> {
    let mut q = over_events(db, Sql::new("SELECT e.id"), f, Skip::Nothing);
    push_order(&mut q, f, sort);
    q.push(" LIMIT ").push_bind(i64::from(limit));
    if let Some(offset) = offset {
        q.push(" OFFSET ").push_bind(offset);
    }
    let ids: Vec<(i64,)> = db.all(q).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

/// The ids of the first `limit` results of `q` in its order, ignoring its page (feeds).
pub(crate) async fn search_ids(db: &Db, q: &SearchQuery, now: DateTime<Utc>, limit: u32) -> Result<Vec<i64>, AppError> {
    let mut warnings = Vec::new();
    let vocabulary = Vocabulary::read(db).await?;
    let (f, ..) = resolve_filter(&vocabulary, q, now, &mut warnings);
    page_ids(db, &f, q.sort, limit, None).await
}

pub(crate) async fn search(db: &Db, q: &SearchQuery, now: DateTime<Utc>, per_page: u32) -> Result<Searched, AppError> {
    let mut warnings = Vec::new();
    let vocabulary = Vocabulary::read(db).await?;
    let (f, tags, tools) = resolve_filter(&vocabulary, q, now, &mut warnings);
    let all_tags = vocabulary.tags;

    let total = count(db, &f, Skip::Nothing).await?;
    let offset = i64::from(q.page.saturating_sub(1)) * i64::from(per_page);
    let ids = page_ids(db, &f, q.sort, per_page, Some(offset)).await?;

    // Tags and tools: how many results each would leave if added (AND) or removed.
    let mut by_tag: HashMap<i64, i64> = HashMap::new();
    let mut tagged =
        Sql::new("SELECT et.tag_id, COUNT(*) FROM event_tags et WHERE et.event_id IN (SELECT e.id FROM events e");
    push_where(&mut tagged, &f, Skip::Nothing, db.is_pg());
    tagged.push(") GROUP BY et.tag_id");
    by_tag.extend(db.all::<(i64, i64)>(tagged).await?);
    let mut tag_facets = Vec::new();
    let mut tool_facets = Vec::new();
    for (id, slug, name, kind) in &all_tags {
        let kind = TagKind::parse(kind).unwrap_or(TagKind::Topic);
        let selected = f.tag_ids.contains(id);
        let n = if selected { count(db, &f, Skip::Tag(*id)).await? } else { by_tag.get(id).copied().unwrap_or(0) };
        let facet = FacetCount { value: TagRef { slug: slug.clone(), name: name.clone(), kind }, selected, count: n };
        match kind {
            TagKind::Topic => tag_facets.push(facet),
            TagKind::Tool => tool_facets.push(facet),
        }
    }

    // Preferences: one pass for the unselected ones, a count each for the selected ones.
    let mut pref_facets = Vec::new();
    let unselected: Vec<Pref> = Pref::ALL.into_iter().filter(|p| !f.prefs.contains(p)).collect();
    let mut sums: Vec<i64> = Vec::new();
    if !unselected.is_empty() {
        let mut select = Sql::new("SELECT ");
        for (i, p) in unselected.iter().enumerate() {
            if i > 0 {
                select.push(", ");
            }
            select.push("COALESCE(SUM(CASE WHEN ");
            push_pref(&mut select, *p, f.now, db.is_pg());
            select.push(" THEN 1 ELSE 0 END), 0)");
        }
        let Sums(row) = db.one(over_events(db, select, &f, Skip::Nothing)).await?;
        sums = row;
    }
    for p in Pref::ALL {
        let (selected, n) = match unselected.iter().position(|u| *u == p) {
            Some(i) => (false, sums[i]),
            None => (true, count(db, &f, Skip::Pref(p)).await?),
        };
        pref_facets.push(FacetCount { value: p.as_str().to_string(), selected, count: n });
    }

    // Dates: each preset instead of the current date condition, in one pass.
    let mut select = Sql::new("SELECT ");
    for (i, p) in DatePreset::ALL.iter().enumerate() {
        if i > 0 {
            select.push(", ");
        }
        select.push("COALESCE(SUM(CASE WHEN 1 = 1");
        push_when(&mut select, preset_range(*p, now));
        select.push(" THEN 1 ELSE 0 END), 0)");
    }
    let Sums(row) = db.one(over_events(db, select, &f, Skip::Date)).await?;
    let date_facets = crate::search::index::search::date_facets(q, &row);

    Ok(Searched {
        total,
        ids,
        facets: Facets {
            tags: trim_facets(tag_facets, TAG_FACETS),
            tools: trim_facets(tool_facets, TOOL_FACETS),
            prefs: pref_facets,
            dates: date_facets,
        },
        warnings,
        tags,
        tools,
    })
}

/// The search through the in-memory index, or `None` while it is not built yet.
pub(crate) async fn search_indexed(
    db: &Db,
    index: &SearchIndex,
    q: &SearchQuery,
    now: DateTime<Utc>,
    per_page: u32,
) -> Result<Option<Searched>, AppError> {
    if !index.is_ready() {
        return Ok(None);
    }
    index.catch_up(db).await?;
    let key = index.result_key(q, per_page, now);
    if let Some(found) = key.as_ref().and_then(|k| index.cached(k)) {
        return Ok(Some(found));
    }
    let Some(vocabulary) = index.vocabulary() else { return Ok(None) };
    let mut warnings = Vec::new();
    let (f, tags, tools) = resolve_filter(&vocabulary, q, now, &mut warnings);
    let Some(long) = index.long_terms(db, &f).await? else { return Ok(None) };
    Ok(index.search(q, &f, long, &vocabulary.tags, per_page, now, key, |mut found| {
        found.warnings = warnings;
        found.tags = tags;
        found.tools = tools;
        found
    }))
}
