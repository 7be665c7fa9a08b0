//! Text search, where the two backends differ, side by side: the stored search text
//! (`event_search`, NFKC and lower case, written from Rust) and how terms are matched.
//!
//! - SQLite: a trigram FTS5 table (`event_fts`, external content `event_search`) kept in step
//!   by hand; terms of three or more characters go through FTS5, shorter ones (`AI`, `Go`,
//!   `機械`) through `instr` on the candidate rows the other filters leave.
//! - PostgreSQL: every term is a substring test, `body LIKE '%term%'` with the user's `%`,
//!   `_` and `\` escaped; the pg_trgm GIN index on the body follows the table and serves terms
//!   of three or more characters, shorter ones are checked on the candidate rows.
//!
//! The in-memory index asks the same engines for the events containing one term of three or
//! more characters ([`ids_containing`]).

use super::db::{Conn, Db, Sql};

/// `string`s of a subquery's rows joined with spaces: SQLite's `group_concat` in scan order,
/// PostgreSQL's `string_agg` in `order`.
pub(crate) fn joined(pg: bool, expr: &str, order: &str) -> String {
    if pg { format!("string_agg({expr}, ' ' ORDER BY {order})") } else { format!("group_concat({expr}, ' ')") }
}

/// Writes the search text of events (`(event id, normalised body)`).
pub(crate) async fn write_bodies(conn: &mut Conn<'_>, bodies: &[(i64, String)]) -> Result<(), sqlx::Error> {
    let values = |head: &str| {
        let mut q = Sql::new(head);
        for (i, (id, body)) in bodies.iter().enumerate() {
            q.push(if i == 0 { "VALUES (" } else { ", (" }).push_bind(*id).push(", ").push_bind(body).push(")");
        }
        q
    };
    if conn.is_pg() {
        // The trigram index follows the table: no second structure to keep in step.
        let mut upsert = values("INSERT INTO event_search (event_id, body) ");
        upsert.push(" ON CONFLICT (event_id) DO UPDATE SET body = excluded.body");
        conn.execute(upsert).await?;
    } else {
        let mut del = Sql::new(
            "INSERT INTO event_fts (event_fts, rowid, body) SELECT 'delete', event_id, body FROM event_search WHERE event_id IN ",
        );
        del.push_list(bodies.iter().map(|(id, _)| *id));
        conn.execute(del).await?;
        conn.execute(values("INSERT OR REPLACE INTO event_search (event_id, body) ")).await?;
        conn.execute(values("INSERT INTO event_fts (rowid, body) ")).await?;
    }
    Ok(())
}

/// ` AND …` conditions on `events e` for the normalised `(term, exclude)` pairs.
pub(crate) fn push_terms(q: &mut Sql, terms: &[(String, bool)], pg: bool) {
    if pg { push_terms_pg(q, terms) } else { push_terms_sqlite(q, terms) }
}

fn push_terms_sqlite(q: &mut Sql, terms: &[(String, bool)]) {
    let long: Vec<&(String, bool)> = terms.iter().filter(|(t, _)| t.chars().count() >= 3).collect();
    let short: Vec<&(String, bool)> = terms.iter().filter(|(t, _)| t.chars().count() < 3).collect();
    let include: Vec<String> = long.iter().filter(|(_, ex)| !ex).map(|(t, _)| fts_phrase(t)).collect();
    if !include.is_empty() {
        q.push(" AND e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ")
            .push_bind(include.join(" AND "))
            .push(")");
    }
    for (t, _) in long.iter().filter(|(_, ex)| *ex) {
        q.push(" AND e.id NOT IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ")
            .push_bind(fts_phrase(t))
            .push(")");
    }
    for (t, ex) in short {
        q.push(if *ex { " AND e.id NOT IN" } else { " AND e.id IN" })
            .push(" (SELECT s.event_id FROM event_search s WHERE instr(s.body, ")
            .push_bind(t)
            .push(") > 0)");
    }
}

fn push_terms_pg(q: &mut Sql, terms: &[(String, bool)]) {
    // Included terms of 3+ characters in one subquery the trigram index answers (a bitmap
    // AND of the terms); the others row by row on the candidates.
    let long: Vec<String> =
        terms.iter().filter(|(t, ex)| !ex && t.chars().count() >= 3).map(|(t, _)| contains_pattern(t)).collect();
    if !long.is_empty() {
        q.push(" AND e.id IN (SELECT s.event_id FROM event_search s WHERE TRUE");
        for p in long {
            q.push(" AND s.body LIKE ").push_bind(p).push(" ESCAPE '\\'");
        }
        q.push(")");
    }
    for (t, ex) in terms.iter().filter(|(t, ex)| *ex || t.chars().count() < 3) {
        q.push(if *ex { " AND NOT EXISTS" } else { " AND EXISTS" })
            .push(" (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND s.body LIKE ")
            .push_bind(contains_pattern(t))
            .push(" ESCAPE '\\')");
    }
}

/// The public API's keyword filter: ` AND …` requiring every term of `all` and (when given)
/// one of `any` (normalised, non-empty) in the event's search text. Terms of 3+ characters go
/// through the trigram engine (FTS5's index on SQLite, pg_trgm's GIN index on PostgreSQL), so
/// no event body is scanned for them; shorter ones, which trigrams cannot answer, are checked
/// only on the rows the other conditions leave (a correlated `EXISTS`).
pub(crate) fn push_keywords(q: &mut Sql, all: &[String], any: &[String], pg: bool) {
    let long = |t: &&String| t.chars().count() >= 3;
    let short = |t: &&String| t.chars().count() < 3;
    let all_long: Vec<&String> = all.iter().filter(long).collect();
    if !all_long.is_empty() {
        q.push(" AND ");
        push_long_ids(q, &all_long, " AND ", pg);
    }
    for t in all.iter().filter(short) {
        q.push(" AND ");
        push_body_exists(q, &[t], pg);
    }
    if any.is_empty() {
        return;
    }
    let (any_long, any_short): (Vec<&String>, Vec<&String>) = any.iter().partition(long);
    q.push(" AND (");
    if !any_long.is_empty() {
        push_long_ids(q, &any_long, " OR ", pg);
    }
    if !any_short.is_empty() {
        if !any_long.is_empty() {
            q.push(" OR ");
        }
        push_body_exists(q, &any_short, pg);
    }
    q.push(")");
}

/// `e.id IN (…)`: the events whose text holds the 3+ character `terms`, joined by `op`
/// (` AND ` or ` OR `), as the trigram index answers.
fn push_long_ids(q: &mut Sql, terms: &[&String], op: &str, pg: bool) {
    if pg {
        q.push("e.id IN (SELECT s.event_id FROM event_search s WHERE ");
        for (i, t) in terms.iter().enumerate() {
            q.push(if i == 0 { "" } else { op })
                .push("s.body LIKE ")
                .push_bind(contains_pattern(t))
                .push(" ESCAPE '\\'");
        }
    } else {
        let phrases: Vec<String> = terms.iter().map(|t| fts_phrase(t)).collect();
        q.push("e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH ").push_bind(phrases.join(op));
    }
    q.push(")");
}

/// `EXISTS (…)`: this event's text holds one of `terms`, checked on its own row.
fn push_body_exists(q: &mut Sql, terms: &[&String], pg: bool) {
    q.push("EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (");
    for (i, t) in terms.iter().enumerate() {
        if i > 0 {
            q.push(" OR ");
        }
        if pg {
            q.push("s.body LIKE ").push_bind(contains_pattern(t)).push(" ESCAPE '\\'");
        } else {
            q.push("instr(s.body, ").push_bind(t.as_str()).push(") > 0");
        }
    }
    q.push("))");
}

/// The ids of the events whose search text contains `term` (3+ characters, normalised), for
/// the in-memory index: FTS5's trigrams on SQLite (its rowid is the event id, the ids come
/// back as one `group_concat` string), the pg_trgm-indexed `LIKE` on PostgreSQL — the same
/// engines, and so the same answers, as the SQL search's.
pub(crate) async fn ids_containing(db: &Db, term: &str) -> Result<Vec<i64>, sqlx::Error> {
    if db.is_pg() {
        let q =
            Sql::new("SELECT event_id FROM event_search WHERE body LIKE $1 ESCAPE '\\'").bind(contains_pattern(term));
        Ok(db.all::<(i64,)>(q).await?.into_iter().map(|(id,)| id).collect())
    } else {
        let q = Sql::new("SELECT group_concat(rowid) FROM event_fts WHERE event_fts MATCH $1").bind(fts_phrase(term));
        let (ids,): (Option<String>,) = db.one(q).await?;
        Ok(parse_ids(ids))
    }
}

/// An FTS5 phrase matching `term` as it is.
pub(crate) fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Ids in a `group_concat(rowid)` answer.
pub(crate) fn parse_ids<C: FromIterator<i64>>(ids: Option<String>) -> C {
    ids.unwrap_or_default().split(',').filter_map(|s| s.parse().ok()).collect()
}

/// A LIKE pattern matching `term` anywhere, its wildcards and escape character escaped
/// (`ESCAPE '\'` in the queries).
fn contains_pattern(term: &str) -> String {
    let mut p = String::with_capacity(term.len() + 2);
    p.push('%');
    for c in term.chars() {
        if matches!(c, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_matched_as_they_are_on_both_backends() {
        assert_eq!(fts_phrase(r#"say "hi""#), r#""say ""hi""""#);
        assert_eq!(contains_pattern(r"50%_a\b"), r"%50\%\_a\\b%");
        let terms = [("rust".to_string(), false), ("go".to_string(), true)];
        let (mut lite, mut pg) = (Sql::new(""), Sql::new(""));
        push_terms(&mut lite, &terms, false);
        push_terms(&mut pg, &terms, true);
        assert_eq!(
            lite.text(),
            " AND e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH $1) \
             AND e.id NOT IN (SELECT s.event_id FROM event_search s WHERE instr(s.body, $2) > 0)"
        );
        assert_eq!(
            pg.text(),
            " AND e.id IN (SELECT s.event_id FROM event_search s WHERE TRUE AND s.body LIKE $1 ESCAPE '\\') \
             AND NOT EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND s.body LIKE $2 ESCAPE '\\')"
        );
        assert_eq!(parse_ids::<Vec<i64>>(Some("3,1,x".into())), [3, 1]);
    }

    #[test]
    fn api_keywords_use_the_trigram_index_for_long_terms_and_check_short_ones_per_row() {
        let all = ["python".to_string(), "ai".to_string()];
        let any = ["rust".to_string(), "go".to_string()];
        let (mut lite, mut pg) = (Sql::new(""), Sql::new(""));
        push_keywords(&mut lite, &all, &any, false);
        push_keywords(&mut pg, &all, &any, true);
        assert_eq!(
            lite.text(),
            " AND e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH $1) \
             AND EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (instr(s.body, $2) > 0)) \
             AND (e.id IN (SELECT rowid FROM event_fts WHERE event_fts MATCH $3) \
             OR EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (instr(s.body, $4) > 0)))"
        );
        assert_eq!(
            pg.text(),
            " AND e.id IN (SELECT s.event_id FROM event_search s WHERE s.body LIKE $1 ESCAPE '\\') \
             AND EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (s.body LIKE $2 ESCAPE '\\')) \
             AND (e.id IN (SELECT s.event_id FROM event_search s WHERE s.body LIKE $3 ESCAPE '\\') \
             OR EXISTS (SELECT 1 FROM event_search s WHERE s.event_id = e.id AND (s.body LIKE $4 ESCAPE '\\')))"
        );
    }
}
