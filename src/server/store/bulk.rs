//! Bulk loading (demo data, fixtures, benchmarks): accounts, groups, tags and whole events
//! with their frames and registrations, many rows per statement.

use super::db::{Arg, Sql, Tx};
use super::{NewEvent, NewFrame, NewQuestion, NewRegistration, NewSpeaker, Store, StoreResult};

/// Rows per multi-row INSERT: well under SQLite's 32,766 and PostgreSQL's 65,535 bound
/// parameters for every table.
const BATCH_ROWS: usize = 1_000;

/// Writes `rows` with `INSERT INTO table (columns) VALUES (…), (…) [tail]`, `per_statement`
/// rows at a time, one placeholder per value.
async fn insert_rows<T>(
    tx: &mut Tx,
    head: &str,
    tail: &str,
    rows: &[T],
    per_statement: usize,
    values: impl Fn(&T) -> Vec<Arg>,
) -> StoreResult<()> {
    for chunk in rows.chunks(per_statement) {
        let mut q = Sql::new(head);
        q.push(" VALUES ");
        for (i, row) in chunk.iter().enumerate() {
            if i > 0 {
                q.push(", ");
            }
            q.push_list(values(row));
        }
        q.push(tail);
        tx.execute(q).await?;
    }
    Ok(())
}

struct FrameRow<'a> {
    id: i64,
    event_id: i64,
    position: i64,
    frame: &'a NewFrame,
}

impl Store {
    /// Adds accounts (fixtures, demo data); their ids in order.
    /// After a bulk load: PostgreSQL plans from table statistics, which only ANALYZE (or
    /// autovacuum, which an operator may have turned off) brings up to date; without them it
    /// guesses the row counts and value distributions of freshly loaded tables. SQLite plans
    /// without statistics unless ANALYZE was ever run, and the tests hold its plans as they are.
    pub async fn refresh_planner_statistics(&self) -> StoreResult<()> {
        if self.db.is_pg() {
            self.db.execute(Sql::new("ANALYZE")).await?;
        }
        Ok(())
    }

    pub async fn insert_users(&self, users: &[super::NewUser]) -> StoreResult<Vec<i64>> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(users.len());
        for u in users {
            let (id,): (i64,) = tx.one(super::accounts::insert_user(u, now, true, None)).await?;
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Adds groups with their members; their ids in order.
    pub async fn insert_groups(&self, groups: &[super::NewGroup]) -> StoreResult<Vec<i64>> {
        let db = &self.db;
        let mut tx = db.begin().await?;
        let now = crate::time::now().timestamp();
        let mut ids = Vec::with_capacity(groups.len());
        for g in groups {
            let (id,): (i64,) = tx
                .one(
                    Sql::new(
                        "INSERT INTO groups (slug, title, description, website, image_url, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                    )
                    .bind(&g.slug)
                    .bind(&g.title)
                    .bind(&g.description)
                    .bind(g.website.as_ref())
                    .bind(g.image_url.as_ref())
                    .bind(now)
                    .bind(now),
                )
                .await?;
            for (user_id, role) in &g.members {
                tx.execute(
                    Sql::new("INSERT INTO group_members (group_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)")
                        .bind(id)
                        .bind(*user_id)
                        .bind(role.as_str())
                        .bind(now),
                )
                .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }

    /// Adds tags after the last one's position, each resolvable by its aliases, name and slug.
    pub async fn insert_tags(&self, tags: &[super::NewTag]) -> StoreResult<Vec<i64>> {
        let db = &self.db;
        use crate::server::text::normalize;
        let mut tx = db.begin().await?;
        if tx.is_pg() {
            // Positions continue after the last one: concurrent tag writers wait for each other
            // here (a mode that conflicts with itself, not with readers), as BEGIN IMMEDIATE
            // makes them on SQLite.
            tx.execute(Sql::new("LOCK TABLE tags IN SHARE ROW EXCLUSIVE MODE")).await?;
        }
        let (base,): (i64,) = tx.one(Sql::new("SELECT COALESCE(MAX(position), 0) FROM tags")).await?;
        let mut ids = Vec::with_capacity(tags.len());
        for (i, t) in tags.iter().enumerate() {
            let (id,): (i64,) = tx
            .one(
                Sql::new(
                    "INSERT INTO tags (slug, name, kind, position, description) VALUES ($1, $2, $3, $4, $5) RETURNING id",
                )
                .bind(&t.slug)
                .bind(&t.name)
                .bind(t.kind.as_str())
                .bind(base + 1 + i as i64)
                .bind(&t.description),
            )
            .await?;
            let mut aliases: Vec<String> = t.aliases.iter().map(|a| normalize(a)).collect();
            aliases.push(normalize(&t.name));
            aliases.push(normalize(&t.slug));
            aliases.sort();
            aliases.dedup();
            for alias in aliases {
                tx.execute(
                    Sql::new("INSERT INTO tag_aliases (alias, tag_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                        .bind(alias)
                        .bind(id),
                )
                .await?;
            }
            ids.push(id);
        }
        tx.commit().await?;
        Ok(ids)
    }
    /// Creates events with frames, tags, speakers and registrations in one transaction,
    /// batched for bulk loading; frame counters are set from the inserted rows.
    pub async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<i64>> {
        let mut tx = self.db.begin().await?;
        let frame_total: usize = events.iter().map(|e| e.frames.len()).sum();
        let ids = tx.next_ids("events", events.len()).await?;
        let mut frame_ids = tx.next_ids("frames", frame_total).await?.into_iter();
        let mut frames = Vec::with_capacity(frame_total);
        for (event_id, e) in ids.iter().zip(events) {
            for (position, frame) in e.frames.iter().enumerate() {
                let id = frame_ids.next().ok_or(crate::error::AppError::Internal)?;
                frames.push(FrameRow { id, event_id: *event_id, position: position as i64, frame });
            }
        }
        let now = crate::time::now().timestamp();
        let with_ids: Vec<(i64, &NewEvent)> = ids.iter().copied().zip(events).collect();

        insert_rows(
            &mut tx,
            "INSERT INTO events (id, group_id, title, catch, description, starts_at, ends_at, time_zone, \
         venue_kind, place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, \
         status, event_type, beginner_ok, hands_on, created_at, updated_at, local_dow, local_start_min, \
         title_en, catch_en, description_en)",
            "",
            &with_ids,
            BATCH_ROWS / 2,
            |(id, e)| {
                let (dow, minute) = super::search_sql::local_parts(e.starts_at, &e.time_zone);
                vec![
                    (*id).into(),
                    e.group_id.into(),
                    e.title.as_str().into(),
                    e.catch.as_str().into(),
                    e.description.as_str().into(),
                    e.starts_at.timestamp().into(),
                    e.ends_at.timestamp().into(),
                    e.time_zone.as_str().into(),
                    e.venue_kind.as_str().into(),
                    e.place.as_str().into(),
                    e.address.as_str().into(),
                    e.prefecture.as_deref().into(),
                    e.lat.into(),
                    e.lon.into(),
                    e.online_url.as_deref().into(),
                    e.language.as_str().into(),
                    e.hashtag.as_str().into(),
                    e.image_url.as_deref().into(),
                    e.status.as_str().into(),
                    "participation".into(),
                    e.beginner_ok.into(),
                    e.hands_on.into(),
                    e.created_at.timestamp().into(),
                    now.into(),
                    dow.into(),
                    minute.into(),
                    e.english.title.as_str().into(),
                    e.english.catch.as_str().into(),
                    e.english.description.as_str().into(),
                ]
            },
        )
        .await?;

        insert_rows(
            &mut tx,
            "INSERT INTO frames (id, event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at, \
             venue_kind, place, address, online_url)",
            "",
            &frames,
            BATCH_ROWS,
            |f| {
                vec![
                    f.id.into(),
                    f.event_id.into(),
                    f.position.into(),
                    f.frame.name.as_str().into(),
                    f.frame.capacity.into(),
                    f.frame.method.as_str().into(),
                    f.frame.fee.into(),
                    f.frame.opens_at.map(|t| t.timestamp()).into(),
                    f.frame.closes_at.map(|t| t.timestamp()).into(),
                    f.frame.draw_at.map(|t| t.timestamp()).into(),
                    f.frame.venue.kind.map(|k| k.as_str()).into(),
                    f.frame.venue.place.as_str().into(),
                    f.frame.venue.address.as_str().into(),
                    f.frame.online_url.as_deref().into(),
                ]
            },
        )
        .await?;

        let tags: Vec<(i64, i64)> =
            with_ids.iter().flat_map(|(id, e)| e.tag_ids.iter().map(move |t| (*id, *t))).collect();
        insert_rows(
            &mut tx,
            "INSERT INTO event_tags (event_id, tag_id)",
            " ON CONFLICT DO NOTHING",
            &tags,
            BATCH_ROWS * 4,
            |(e, t)| vec![(*e).into(), (*t).into()],
        )
        .await?;

        let speakers: Vec<(i64, i64, &NewSpeaker)> = with_ids
            .iter()
            .flat_map(|(id, e)| e.speakers.iter().enumerate().map(move |(p, s)| (*id, p as i64, s)))
            .collect();
        insert_rows(
            &mut tx,
            "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id)",
            "",
            &speakers,
            BATCH_ROWS,
            |(e, p, s)| {
                vec![
                    (*e).into(),
                    (*p).into(),
                    s.name.as_str().into(),
                    s.affiliation.as_str().into(),
                    s.bio.as_str().into(),
                    s.talk_title.as_str().into(),
                    s.user_id.into(),
                ]
            },
        )
        .await?;

        let questions: Vec<(i64, i64, &NewQuestion)> = with_ids
            .iter()
            .flat_map(|(id, e)| e.questions.iter().enumerate().map(move |(p, q)| (*id, p as i64, q)))
            .collect();
        insert_rows(
            &mut tx,
            "INSERT INTO questions (event_id, position, kind, label, options, required)",
            "",
            &questions,
            BATCH_ROWS,
            |(e, p, q)| {
                vec![
                    (*e).into(),
                    (*p).into(),
                    q.kind.as_str().into(),
                    q.label.as_str().into(),
                    serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()).into(),
                    q.required.into(),
                ]
            },
        )
        .await?;

        let registrations: Vec<(i64, i64, i64, &NewRegistration)> = frames
            .iter()
            .flat_map(|f| {
                f.frame.registrations.iter().enumerate().map(move |(p, r)| (f.event_id, f.id, p as i64 + 1, r))
            })
            .collect();
        insert_rows(
        &mut tx,
        "INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at)",
        "",
        &registrations,
        BATCH_ROWS,
        |(e, f, p, r)| {
            vec![
                (*e).into(),
                (*f).into(),
                r.user_id.into(),
                r.status.as_str().into(),
                (*p).into(),
                r.receipt_code.as_str().into(),
                r.created_at.timestamp().into(),
                r.created_at.timestamp().into(),
            ]
        },
    )
    .await?;

        super::search_sql::index_events(&mut tx, &ids).await?;

        // Counters from the rows just written, in the same transaction.
        for chunk in frames.chunks(BATCH_ROWS) {
            let mut q = Sql::new(
                "UPDATE frames SET \
               accepted_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'confirmed'), \
               waiting_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'waitlisted') \
             WHERE id IN ",
            );
            q.push_list(chunk.iter().map(|f| f.id));
            tx.execute(q).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }
}
