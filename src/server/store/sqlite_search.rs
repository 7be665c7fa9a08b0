//! Search on SQLite: the normalised text index (event_search + trigram FTS5), and the
//! search query with its facets. Terms of three or more characters go through FTS5; shorter
//! ones (`AI`, `Go`, `機械`) through `instr` on the candidate rows the other filters leave.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use sqlx::{QueryBuilder, Sqlite, SqliteConnection, SqlitePool};

use super::sqlite_search_index::SearchIndex;
use crate::error::AppError;
use crate::search::model::{DatePreset, FacetCount, Facets, Pref, SearchQuery, Sort, Warning};
use crate::server::text::normalize;
use crate::tags::model::{TagKind, TagRef};

/// Weekday (0 = Sunday) and minutes after midnight of `starts_at` in `time_zone`.
pub(super) fn local_parts(starts_at: DateTime<Utc>, time_zone: &str) -> (i64, i64) {
    let tz: chrono_tz::Tz = time_zone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    let local = starts_at.with_timezone(&tz);
    (i64::from(local.weekday().num_days_from_sunday()), i64::from(local.hour() * 60 + local.minute()))
}

type IndexRow = (i64, String, String, String, String, String, String, Option<String>, Option<String>);

/// (Re)builds the search text of `event_ids` from what is stored.
pub(super) async fn index_events(conn: &mut SqliteConnection, event_ids: &[i64]) -> Result<(), AppError> {
    for chunk in event_ids.chunks(500) {
        let mut qb = QueryBuilder::<Sqlite>::new(
            "SELECT e.id, e.title, e.catch, e.description, e.place, e.address, g.title, \
               (SELECT group_concat(s.name, ' ') FROM speakers s WHERE s.event_id = e.id), \
               (SELECT group_concat(t.name, ' ') FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id = e.id) \
             FROM events e JOIN groups g ON g.id = e.group_id WHERE e.id IN (",
        );
        let mut sep = qb.separated(", ");
        for id in chunk {
            sep.push_bind(*id);
        }
        qb.push(")");
        let rows: Vec<IndexRow> = qb.build_query_as().fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            continue;
        }
        let bodies: Vec<(i64, String)> = rows
            .into_iter()
            .map(|(id, title, catch, description, place, address, group, speakers, tags)| {
                let text = [
                    title,
                    catch,
                    description,
                    place,
                    address,
                    group,
                    speakers.unwrap_or_default(),
                    tags.unwrap_or_default(),
                ]
                .join("\n");
                (id, normalize(&text))
            })
            .collect();
        let mut del = QueryBuilder::<Sqlite>::new(
            "INSERT INTO event_fts (event_fts, rowid, body) SELECT 'delete', event_id, body FROM event_search WHERE event_id IN (",
        );
        let mut sep = del.separated(", ");
        for (id, _) in &bodies {
            sep.push_bind(*id);
        }
        del.push(")");
        del.build().execute(&mut *conn).await?;
        let mut ins = QueryBuilder::<Sqlite>::new("INSERT OR REPLACE INTO event_search (event_id, body) ");
        ins.push_values(&bodies, |mut b, (id, body)| {
            b.push_bind(*id).push_bind(body.as_str());
        });
        ins.build().execute(&mut *conn).await?;
        let mut fts = QueryBuilder::<Sqlite>::new("INSERT INTO event_fts (rowid, body) ");
        fts.push_values(&bodies, |mut b, (id, body)| {
            b.push_bind(*id).push_bind(body.as_str());
        });
        fts.build().execute(&mut *conn).await?;
    }
    Ok(())
}

/// Indexes events that have no search text yet (rows from before the search migration),
/// and fills in their local weekday and start minute.
pub(super) async fn index_missing(pool: &SqlitePool) -> Result<usize, AppError> {
    let missing: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT id, starts_at, time_zone FROM events WHERE id NOT IN (SELECT event_id FROM event_search)",
    )
    .fetch_all(pool)
    .await?;
    if missing.is_empty() {
        return Ok(0);
    }
    let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
    for (id, starts_at, tz) in &missing {
        let (dow, minute) = local_parts(Utc.timestamp_opt(*starts_at, 0).single().unwrap_or_default(), tz);
        sqlx::query("UPDATE events SET local_dow = ?, local_start_min = ? WHERE id = ?")
            .bind(dow)
            .bind(minute)
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    let ids: Vec<i64> = missing.iter().map(|(id, _, _)| *id).collect();
    index_events(&mut tx, &ids).await?;
    tx.commit().await?;
    Ok(ids.len())
}

/// Start of `date` in Asia/Tokyo (search dates are Tokyo dates), as Unix seconds.
fn tokyo_midnight(date: NaiveDate) -> i64 {
    chrono_tz::Asia::Tokyo
        .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map(|d| d.timestamp())
        .unwrap_or_default()
}

/// A condition on the event's time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum When {
    /// starts_at in [from, to) (either bound optional).
    Starts(Option<i64>, Option<i64>),
    /// Not ended at this instant.
    EndsAfter(i64),
    /// Ended at this instant.
    EndedBy(i64),
    Any,
}

pub(super) fn preset_range(p: DatePreset, now: DateTime<Utc>) -> When {
    let today = now.with_timezone(&chrono_tz::Asia::Tokyo).date_naive();
    let day = |d: NaiveDate| tokyo_midnight(d);
    let monday = today - Duration::days(i64::from(today.weekday().num_days_from_monday()));
    let first_of = |y: i32, m: u32| NaiveDate::from_ymd_opt(y, m, 1).unwrap_or(today);
    let next_month =
        |d: NaiveDate| if d.month() == 12 { first_of(d.year() + 1, 1) } else { first_of(d.year(), d.month() + 1) };
    match p {
        DatePreset::Today => When::Starts(Some(day(today)), Some(day(today + Duration::days(1)))),
        DatePreset::Tomorrow => {
            When::Starts(Some(day(today + Duration::days(1))), Some(day(today + Duration::days(2))))
        }
        DatePreset::ThisWeek => When::Starts(Some(day(today)), Some(day(monday + Duration::days(7)))),
        DatePreset::ThisWeekend => {
            let saturday = monday + Duration::days(5);
            let from = if today.weekday() == Weekday::Sun { today } else { saturday };
            When::Starts(Some(day(from)), Some(day(monday + Duration::days(7))))
        }
        DatePreset::NextWeek => {
            When::Starts(Some(day(monday + Duration::days(7))), Some(day(monday + Duration::days(14))))
        }
        DatePreset::ThisMonth => When::Starts(Some(day(today)), Some(day(next_month(today)))),
        DatePreset::NextMonth => {
            let n = next_month(today);
            When::Starts(Some(day(n)), Some(day(next_month(n))))
        }
        DatePreset::Upcoming => When::EndsAfter(now.timestamp()),
        DatePreset::Past => When::EndedBy(now.timestamp()),
        DatePreset::All => When::Any,
    }
}

fn when_of(q: &SearchQuery, now: DateTime<Utc>) -> When {
    if q.has_range() {
        When::Starts(q.from.map(tokyo_midnight), q.to.map(|t| tokyo_midnight(t + Duration::days(1))))
    } else {
        preset_range(q.date, now)
    }
}

fn push_when(qb: &mut QueryBuilder<Sqlite>, w: When) {
    match w {
        When::Starts(from, to) => {
            if let Some(f) = from {
                qb.push(" AND e.starts_at >= ").push_bind(f);
            }
            if let Some(t) = to {
                qb.push(" AND e.starts_at < ").push_bind(t);
            }
        }
        When::EndsAfter(t) => {
            qb.push(" AND e.ends_at > ").push_bind(t);
        }
        When::EndedBy(t) => {
            qb.push(" AND e.ends_at <= ").push_bind(t);
        }
        When::Any => {}
    }
}

fn push_pref(qb: &mut QueryBuilder<Sqlite>, p: Pref, now: i64) {
    match p {
        // `e.id [NOT] IN (…)` rather than correlated `[NOT] EXISTS (…)`: with the latter,
        // SQLite 3.51 returned overlapping pages for `ORDER BY … LIMIT … OFFSET` (found by
        // the test comparing this search with the in-memory index).
        Pref::Free => qb.push("e.id NOT IN (SELECT f.event_id FROM frames f WHERE f.fee > 0)"),
        Pref::Online => qb.push("e.venue_kind IN ('online', 'hybrid')"),
        Pref::Offline => qb.push("e.venue_kind IN ('offline', 'hybrid')"),
        Pref::Available => qb.push("e.id IN (SELECT f.event_id FROM frames f WHERE f.accepted_count < f.capacity)"),
        Pref::WaitlistOk => qb
            .push("(e.starts_at > ")
            .push_bind(now)
            .push(" AND e.id IN (SELECT f.event_id FROM frames f WHERE (f.closes_at IS NULL OR f.closes_at > ")
            .push_bind(now)
            .push(") AND (f.opens_at IS NULL OR f.opens_at <= ")
            .push_bind(now)
            .push(")))"),
        Pref::English => qb.push("e.language IN ('en', 'multi')"),
        Pref::Beginner => qb.push("e.beginner_ok = 1"),
        Pref::Weekend => qb.push("e.local_dow IN (0, 6)"),
        Pref::Evening => qb.push("e.local_start_min >= 1080"),
        Pref::HandsOn => qb.push("e.hands_on = 1"),
    };
}

/// Everything a search filters on, resolved.
pub(super) struct Filter {
    /// Normalised terms (text, exclude).
    pub terms: Vec<(String, bool)>,
    pub tag_ids: Vec<i64>,
    pub when: When,
    pub prefs: Vec<Pref>,
    pub area: Option<String>,
    pub lang: Option<String>,
    pub now: i64,
    /// An included term holds a NUL, which no stored text contains (and FTS5 refuses):
    /// the search matches nothing, as on PostgreSQL.
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

pub(super) fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// ` WHERE …` over `events e` for `f`, leaving out `skip`.
fn push_where(qb: &mut QueryBuilder<Sqlite>, f: &Filter, skip: Skip) {
    qb.push(" WHERE e.status = 'published'");
    if f.impossible {
        qb.push(" AND 0");
    }
    if skip != Skip::Date {
        push_when(qb, f.when);
    }
    let long: Vec<&(String, bool)> = f.terms.iter().filter(|(t, _)| t.chars().count() >= 3).collect();
    let short: Vec<&(String, bool)> = f.terms.iter().filter(|(t, _)| t.chars().count() < 3).collect();
    let include: Vec<String> = long.iter().filter(|(_, ex)| !ex).map(|(t, _)| fts_phrase(t)).collect();
    if !include.is_empty() {
        qb.push(" AND e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ")
            .push_bind(include.join(" AND "))
            .push(")");
    }
    for (t, _) in long.iter().filter(|(_, ex)| *ex) {
        qb.push(" AND e.id NOT IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ")
            .push_bind(fts_phrase(t))
            .push(")");
    }
    for (t, ex) in short {
        qb.push(if *ex { " AND e.id NOT IN" } else { " AND e.id IN" })
            .push(" (SELECT s.event_id FROM event_search s WHERE instr(s.body, ")
            .push_bind(t.clone())
            .push(") > 0)");
    }
    for id in f.tag_ids.iter().filter(|id| skip != Skip::Tag(**id)) {
        qb.push(" AND e.id IN (SELECT event_id FROM event_tags WHERE tag_id = ").push_bind(*id).push(")");
    }
    for p in f.prefs.iter().filter(|p| skip != Skip::Pref(**p)) {
        qb.push(" AND ");
        push_pref(qb, *p, f.now);
    }
    match f.area.as_deref() {
        Some("online") => {
            qb.push(" AND e.venue_kind IN ('online', 'hybrid')");
        }
        Some(code) => {
            qb.push(" AND e.prefecture = ").push_bind(code.to_string());
        }
        None => {}
    }
    if let Some(lang) = &f.lang {
        qb.push(" AND e.language IN (").push_bind(lang.clone()).push(", 'multi')");
    }
}

async fn count(pool: &SqlitePool, f: &Filter, skip: Skip) -> Result<i64, AppError> {
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT COUNT(*) FROM events e");
    push_where(&mut qb, f, skip);
    let (n,): (i64,) = qb.build_query_as().fetch_one(pool).await?;
    Ok(n)
}

/// A tag as a search sees it: id, slug, name, kind (as stored).
pub(super) type TagRow = (i64, String, String, String);

/// The tag vocabulary: every tag in facet order (position, id) and every alias (slugs and
/// names included, normalised) with its tag. Small (hundreds of rows): the index keeps one
/// in memory, the SQL search reads it per query.
#[derive(Debug, Default)]
pub(super) struct Vocabulary {
    pub tags: Vec<TagRow>,
    /// Normalised alias → position in `tags`.
    aliases: HashMap<String, usize>,
}

impl Vocabulary {
    pub(super) async fn load(conn: &mut SqliteConnection) -> Result<Vocabulary, AppError> {
        let tags: Vec<TagRow> =
            sqlx::query_as("SELECT id, slug, name, kind FROM tags ORDER BY position, id").fetch_all(&mut *conn).await?;
        let rows: Vec<(String, i64)> =
            sqlx::query_as("SELECT alias, tag_id FROM tag_aliases").fetch_all(&mut *conn).await?;
        let at: HashMap<i64, usize> = tags.iter().enumerate().map(|(i, (id, ..))| (*id, i)).collect();
        let aliases = rows.into_iter().filter_map(|(alias, id)| Some((alias, *at.get(&id)?))).collect();
        Ok(Vocabulary { tags, aliases })
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

pub(super) struct Searched {
    pub total: i64,
    pub ids: Vec<i64>,
    pub facets: Facets,
    pub warnings: Vec<Warning>,
    pub tags: Vec<TagRef>,
    pub tools: Vec<TagRef>,
}

/// Facet size: how many unselected tags / tools are offered.
pub(super) const TAG_FACETS: usize = 24;
pub(super) const TOOL_FACETS: usize = 12;

/// Selected values first, then by count; values with no results are dropped.
pub(super) fn trim_facets(mut v: Vec<FacetCount<TagRef>>, n: usize) -> Vec<FacetCount<TagRef>> {
    v.sort_by(|a, b| b.selected.cmp(&a.selected).then(b.count.cmp(&a.count)));
    v.retain(|x| x.selected || x.count > 0);
    v.truncate(n.max(v.iter().filter(|x| x.selected).count()));
    v
}

/// Resolves a query into its filter (tags and tools by name, slug or alias).
pub(super) fn resolve_filter(
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

fn push_order(qb: &mut QueryBuilder<Sqlite>, f: &Filter, sort: Sort) {
    let past = matches!(f.when, When::EndedBy(_));
    qb.push(match sort {
        Sort::Date if past => " ORDER BY e.starts_at DESC, e.id DESC",
        Sort::Date => " ORDER BY e.starts_at, e.id",
        Sort::New => " ORDER BY e.created_at DESC, e.id DESC",
        Sort::Popular => " ORDER BY (SELECT COALESCE(SUM(accepted_count), 0) FROM frames WHERE event_id = e.id) DESC, e.starts_at, e.id",
        Sort::Seats => {
            " ORDER BY (SELECT COALESCE(SUM(capacity - accepted_count), 0) FROM frames WHERE event_id = e.id) DESC, e.starts_at, e.id"
        }
    });
}

/// The ids of the first `limit` results of `q` in its order, ignoring its page (feeds).
pub(super) async fn search_ids(
    pool: &SqlitePool,
    q: &SearchQuery,
    now: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<i64>, AppError> {
    let mut warnings = Vec::new();
    let vocabulary = Vocabulary::load(&mut *pool.acquire().await?).await?;
    let (f, ..) = resolve_filter(&vocabulary, q, now, &mut warnings);
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT e.id FROM events e");
    push_where(&mut qb, &f, Skip::Nothing);
    push_order(&mut qb, &f, q.sort);
    qb.push(" LIMIT ").push_bind(i64::from(limit));
    let ids: Vec<(i64,)> = qb.build_query_as().fetch_all(pool).await?;
    Ok(ids.into_iter().map(|(id,)| id).collect())
}

pub(super) async fn search(
    pool: &SqlitePool,
    q: &SearchQuery,
    now: DateTime<Utc>,
    per_page: u32,
) -> Result<Searched, AppError> {
    let mut warnings = Vec::new();
    let vocabulary = Vocabulary::load(&mut *pool.acquire().await?).await?;
    let (f, tags, tools) = resolve_filter(&vocabulary, q, now, &mut warnings);
    let all_tags = vocabulary.tags;

    let total = count(pool, &f, Skip::Nothing).await?;
    let mut page = QueryBuilder::<Sqlite>::new("SELECT e.id FROM events e");
    push_where(&mut page, &f, Skip::Nothing);
    push_order(&mut page, &f, q.sort);
    page.push(" LIMIT ")
        .push_bind(i64::from(per_page))
        .push(" OFFSET ")
        .push_bind(i64::from(q.page.saturating_sub(1)) * i64::from(per_page));
    let ids: Vec<(i64,)> = page.build_query_as().fetch_all(pool).await?;

    // Tags and tools: how many results each would leave if added (AND) or removed.
    let mut by_tag: HashMap<i64, i64> = HashMap::new();
    let mut qb = QueryBuilder::<Sqlite>::new(
        "SELECT et.tag_id, COUNT(*) FROM event_tags et WHERE et.event_id IN (SELECT e.id FROM events e",
    );
    push_where(&mut qb, &f, Skip::Nothing);
    qb.push(") GROUP BY et.tag_id");
    let rows: Vec<(i64, i64)> = qb.build_query_as().fetch_all(pool).await?;
    by_tag.extend(rows);
    let mut tag_facets = Vec::new();
    let mut tool_facets = Vec::new();
    for (id, slug, name, kind) in &all_tags {
        let kind = TagKind::parse(kind).unwrap_or(TagKind::Topic);
        let selected = f.tag_ids.contains(id);
        let n = if selected { count(pool, &f, Skip::Tag(*id)).await? } else { by_tag.get(id).copied().unwrap_or(0) };
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
        let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
        for (i, p) in unselected.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            qb.push("COALESCE(SUM(CASE WHEN ");
            push_pref(&mut qb, *p, f.now);
            qb.push(" THEN 1 ELSE 0 END), 0)");
        }
        qb.push(" FROM events e");
        push_where(&mut qb, &f, Skip::Nothing);
        let row = qb.build().fetch_one(pool).await?;
        use sqlx::Row;
        for i in 0..unselected.len() {
            sums.push(row.try_get::<i64, _>(i).unwrap_or(0));
        }
    }
    for p in Pref::ALL {
        let (selected, n) = match unselected.iter().position(|u| *u == p) {
            Some(i) => (false, sums[i]),
            None => (true, count(pool, &f, Skip::Pref(p)).await?),
        };
        pref_facets.push(FacetCount { value: p.as_str().to_string(), selected, count: n });
    }

    // Dates: each preset instead of the current date condition, in one pass.
    let mut qb = QueryBuilder::<Sqlite>::new("SELECT ");
    for (i, p) in DatePreset::ALL.iter().enumerate() {
        if i > 0 {
            qb.push(", ");
        }
        qb.push("COALESCE(SUM(CASE WHEN 1 = 1");
        push_when(&mut qb, preset_range(*p, now));
        qb.push(" THEN 1 ELSE 0 END), 0)");
    }
    qb.push(" FROM events e");
    push_where(&mut qb, &f, Skip::Date);
    let row = qb.build().fetch_one(pool).await?;
    let mut date_facets = Vec::new();
    {
        use sqlx::Row;
        for (i, p) in DatePreset::ALL.iter().enumerate() {
            date_facets.push(FacetCount {
                value: p.as_str().to_string(),
                selected: !q.has_range() && q.date == *p,
                count: row.try_get::<i64, _>(i).unwrap_or(0),
            });
        }
    }

    Ok(Searched {
        total,
        ids: ids.into_iter().map(|(id,)| id).collect(),
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

/// Ids in a `group_concat(rowid)` answer.
pub(super) fn parse_ids<C: FromIterator<i64>>(ids: Option<String>) -> C {
    ids.unwrap_or_default().split(',').filter_map(|s| s.parse().ok()).collect()
}

/// The search through the in-memory index, or `None` while it is not built yet.
pub(super) async fn search_indexed(
    pool: &SqlitePool,
    index: &SearchIndex,
    q: &SearchQuery,
    now: DateTime<Utc>,
    per_page: u32,
) -> Result<Option<Searched>, AppError> {
    if !index.is_ready() {
        return Ok(None);
    }
    index.catch_up(pool).await?;
    let Some(vocabulary) = index.vocabulary() else { return Ok(None) };
    let mut warnings = Vec::new();
    let (f, tags, tools) = resolve_filter(&vocabulary, q, now, &mut warnings);
    let Some(long) = index.long_terms(pool, &f).await? else { return Ok(None) };
    Ok(index.search(q, &f, long, &vocabulary.tags, per_page, now).map(|mut found| {
        found.warnings = warnings;
        found.tags = tags;
        found.tools = tools;
        found
    }))
}
