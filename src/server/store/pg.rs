//! The PostgreSQL backend: a pool of 16 connections, migrated on start
//! (`migrations/postgres`). Same semantics as the SQLite backend: the store tests run the
//! same cases against both. Flags are BOOLEAN, instants and counters BIGINT; sums are cast
//! back to BIGINT (PostgreSQL's SUM of BIGINT is NUMERIC).

use std::collections::HashMap;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::postgres::PgPoolOptions;
use sqlx::{PgConnection, PgPool, Postgres, QueryBuilder};

use super::{
    CounterCheck, Directory, DrawOutcome, DueDraw, NewEvent, NewGroup, NewTag, NewUser, RegisterRequest,
    RegistrationChange, SessionRow, Store, StoreResult, accounts, messages as msg_sql, public as pub_,
    registrations as regs,
};
use crate::accounts::model::{CurrentUser, MyProfile, UserProfile};
use crate::error::AppError;
use crate::events::model::{EventCard, EventDetail, EventStatus, Page};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{MyEventRegistration, MyRegistration, Question, SeatSnapshot};
use crate::tags::model::TagCount;
use crate::time::ZonedSpan;

/// Rows per multi-row INSERT: well under PostgreSQL's 65,535 bind parameters for every table.
const BATCH_ROWS: usize = 1_000;

pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// This store's database for the queries written once (see `db.rs`).
    pub(crate) fn db(&self) -> super::db::Db {
        super::db::Db::Pg(self.pool.clone())
    }

    /// Connects to the (existing) database at `url` and migrates it.
    pub async fn connect(url: &str) -> anyhow::Result<Self> {
        let pool =
            PgPoolOptions::new().max_connections(16).acquire_timeout(Duration::from_secs(30)).connect(url).await?;
        sqlx::migrate!("migrations/postgres").run(&pool).await?;
        let indexed = super::search_sql::index_missing(&super::db::Db::Pg(pool.clone())).await?;
        if indexed > 0 {
            tracing::info!(events = indexed, "search index built for existing events");
        }
        Ok(PgStore { pool })
    }

    /// The underlying pool (tests inspect rows directly).
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// `n` fresh ids from the identity sequence of `table` (`events` or `frames`), ascending.
async fn next_ids(conn: &mut PgConnection, table: &'static str, n: usize) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT nextval(pg_get_serial_sequence($1, 'id')) FROM generate_series(1, $2::BIGINT) ORDER BY 1",
    )
    .bind(table)
    .bind(n as i64)
    .fetch_all(&mut *conn)
    .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[async_trait]
impl Store for PgStore {
    async fn announce_seats(&self, event_id: i64) -> StoreResult<()> {
        sqlx::query("SELECT pg_notify('tsudoi_seats', $1)").bind(event_id.to_string()).execute(&self.pool).await?;
        Ok(())
    }

    async fn seat_announcements(&self) -> StoreResult<Option<tokio::sync::mpsc::UnboundedReceiver<i64>>> {
        // LISTEN on a connection of its own; PgListener reconnects after a lost connection
        // (changes announced while it was away are missed: the clients' periodic refresh
        // covers that gap).
        let mut listener = sqlx::postgres::PgListener::connect_with(&self.pool).await?;
        listener.listen("tsudoi_seats").await?;
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match listener.recv().await {
                    Ok(note) => {
                        if let Ok(id) = note.payload().parse::<i64>()
                            && tx.send(id).is_err()
                        {
                            break;
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "seat announcements: listener lost its connection; retrying");
                        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    }
                }
            }
        });
        Ok(Some(rx))
    }

    async fn ping(&self) -> StoreResult<()> {
        super::events::ping(&self.db()).await
    }

    async fn is_empty(&self) -> StoreResult<bool> {
        super::events::is_empty(&self.db()).await
    }

    async fn list_upcoming(&self, now: DateTime<Utc>, page: u32, per_page: u32) -> StoreResult<Page<EventCard>> {
        super::events::list_upcoming(&self.db(), now, page, per_page).await
    }

    async fn fetch_event(&self, id: i64) -> StoreResult<Option<EventDetail>> {
        super::events::fetch_event(&self.db(), id).await
    }

    async fn fetch_questions(&self, event_id: i64) -> StoreResult<Vec<Question>> {
        super::events::questions_of(&self.db(), event_id).await
    }

    async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>> {
        super::events::fetch_group(&self.db(), slug, now).await
    }

    async fn fetch_tag(&self, slug: &str) -> StoreResult<Option<crate::tags::model::TagDetail>> {
        super::events::fetch_tag(&self.db(), slug).await
    }

    async fn list_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>> {
        super::events::list_tags(&self.db(), now).await
    }

    async fn insert_users(&self, users: &[NewUser]) -> StoreResult<Vec<i64>> {
        super::events::insert_users(&self.db(), users).await
    }

    async fn insert_groups(&self, groups: &[NewGroup]) -> StoreResult<Vec<i64>> {
        super::events::insert_groups(&self.db(), groups).await
    }

    async fn insert_tags(&self, tags: &[NewTag]) -> StoreResult<Vec<i64>> {
        super::events::insert_tags(&self.db(), tags).await
    }

    async fn insert_events(&self, events: &[NewEvent]) -> StoreResult<Vec<i64>> {
        // Ids come from the identity sequences up front (nextval is never handed out twice,
        // even to concurrent writers), so the batches below can refer to each other.
        let mut tx = self.pool.begin().await?;
        let frame_total: usize = events.iter().map(|e| e.frames.len()).sum();
        let mut event_ids = next_ids(&mut tx, "events", events.len()).await?.into_iter();
        let mut frame_ids = next_ids(&mut tx, "frames", frame_total).await?.into_iter();

        struct FrameIns<'a> {
            id: i64,
            event_id: i64,
            position: i64,
            frame: &'a super::NewFrame,
        }
        let mut ids = Vec::with_capacity(events.len());
        let mut frames = Vec::new();
        for e in events {
            let event_id = event_ids.next().ok_or(AppError::Internal)?;
            ids.push(event_id);
            for (position, frame) in e.frames.iter().enumerate() {
                let id = frame_ids.next().ok_or(AppError::Internal)?;
                frames.push(FrameIns { id, event_id, position: position as i64, frame });
            }
        }
        let now = crate::time::now().timestamp();

        for chunk in ids.iter().zip(events).collect::<Vec<_>>().chunks(BATCH_ROWS / 2) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO events (id, group_id, title, catch, description, starts_at, ends_at, time_zone, \
                 venue_kind, place, address, prefecture, lat, lon, online_url, language, hashtag, image_url, \
                 status, event_type, beginner_ok, hands_on, created_at, updated_at, local_dow, local_start_min) ",
            );
            qb.push_values(chunk, |mut b, (id, e)| {
                let (dow, minute) = super::search_sql::local_parts(e.starts_at, &e.time_zone);
                b.push_bind(**id)
                    .push_bind(e.group_id)
                    .push_bind(e.title.as_str())
                    .push_bind(e.catch.as_str())
                    .push_bind(e.description.as_str())
                    .push_bind(e.starts_at.timestamp())
                    .push_bind(e.ends_at.timestamp())
                    .push_bind(e.time_zone.as_str())
                    .push_bind(e.venue_kind.as_str())
                    .push_bind(e.place.as_str())
                    .push_bind(e.address.as_str())
                    .push_bind(e.prefecture.as_deref())
                    .push_bind(e.lat)
                    .push_bind(e.lon)
                    .push_bind(e.online_url.as_deref())
                    .push_bind(e.language.as_str())
                    .push_bind(e.hashtag.as_str())
                    .push_bind(e.image_url.as_deref())
                    .push_bind(e.status.as_str())
                    .push_bind("participation")
                    .push_bind(e.beginner_ok)
                    .push_bind(e.hands_on)
                    .push_bind(e.created_at.timestamp())
                    .push_bind(now)
                    .push_bind(dow)
                    .push_bind(minute);
            });
            qb.build().execute(&mut *tx).await?;
        }

        for chunk in frames.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO frames (id, event_id, position, name, capacity, method, fee, opens_at, closes_at, draw_at) ",
            );
            qb.push_values(chunk, |mut b, f| {
                b.push_bind(f.id)
                    .push_bind(f.event_id)
                    .push_bind(f.position)
                    .push_bind(f.frame.name.as_str())
                    .push_bind(f.frame.capacity)
                    .push_bind(f.frame.method.as_str())
                    .push_bind(f.frame.fee)
                    .push_bind(f.frame.opens_at.map(|t| t.timestamp()))
                    .push_bind(f.frame.closes_at.map(|t| t.timestamp()))
                    .push_bind(f.frame.draw_at.map(|t| t.timestamp()));
            });
            qb.build().execute(&mut *tx).await?;
        }

        let tag_rows: Vec<(i64, i64)> =
            ids.iter().zip(events).flat_map(|(id, e)| e.tag_ids.iter().map(move |t| (*id, *t))).collect();
        for chunk in tag_rows.chunks(BATCH_ROWS * 4) {
            let mut qb = QueryBuilder::<Postgres>::new("INSERT INTO event_tags (event_id, tag_id) ");
            qb.push_values(chunk, |mut b, (e, t)| {
                b.push_bind(*e).push_bind(*t);
            });
            qb.push(" ON CONFLICT DO NOTHING");
            qb.build().execute(&mut *tx).await?;
        }

        let speaker_rows: Vec<(i64, i64, &super::NewSpeaker)> = ids
            .iter()
            .zip(events)
            .flat_map(|(id, e)| e.speakers.iter().enumerate().map(move |(p, s)| (*id, p as i64, s)))
            .collect();
        for chunk in speaker_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO speakers (event_id, position, name, affiliation, bio, talk_title, user_id) ",
            );
            qb.push_values(chunk, |mut b, (e, p, s)| {
                b.push_bind(*e)
                    .push_bind(*p)
                    .push_bind(s.name.as_str())
                    .push_bind(s.affiliation.as_str())
                    .push_bind(s.bio.as_str())
                    .push_bind(s.talk_title.as_str())
                    .push_bind(s.user_id);
            });
            qb.build().execute(&mut *tx).await?;
        }

        let question_rows: Vec<(i64, i64, &super::NewQuestion)> = ids
            .iter()
            .zip(events)
            .flat_map(|(id, e)| e.questions.iter().enumerate().map(move |(p, q)| (*id, p as i64, q)))
            .collect();
        for chunk in question_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO questions (event_id, position, kind, label, options, required) ",
            );
            qb.push_values(chunk, |mut b, (e, p, q)| {
                b.push_bind(*e)
                    .push_bind(*p)
                    .push_bind(q.kind.as_str())
                    .push_bind(q.label.as_str())
                    .push_bind(serde_json::to_string(&q.options).unwrap_or_else(|_| "[]".into()))
                    .push_bind(q.required);
            });
            qb.build().execute(&mut *tx).await?;
        }

        let reg_rows: Vec<(i64, i64, i64, &super::NewRegistration)> = frames
            .iter()
            .flat_map(|f| {
                f.frame.registrations.iter().enumerate().map(move |(p, r)| (f.event_id, f.id, p as i64 + 1, r))
            })
            .collect();
        for chunk in reg_rows.chunks(BATCH_ROWS) {
            let mut qb = QueryBuilder::<Postgres>::new(
                "INSERT INTO registrations (event_id, frame_id, user_id, status, position, receipt_code, created_at, updated_at) ",
            );
            qb.push_values(chunk, |mut b, (e, f, p, r)| {
                b.push_bind(*e)
                    .push_bind(*f)
                    .push_bind(r.user_id)
                    .push_bind(r.status.as_str())
                    .push_bind(*p)
                    .push_bind(r.receipt_code.as_str())
                    .push_bind(r.created_at.timestamp())
                    .push_bind(r.created_at.timestamp());
            });
            qb.build().execute(&mut *tx).await?;
        }

        super::search_sql::index_events(&mut tx, &ids).await?;

        // Counters from the rows just written, in the same transaction (frame ids from a
        // sequence need not be contiguous, hence the array rather than a range).
        if !frames.is_empty() {
            let frame_ids: Vec<i64> = frames.iter().map(|f| f.id).collect();
            sqlx::query(
                "UPDATE frames SET \
                   accepted_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'confirmed'), \
                   waiting_count = (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = frames.id AND r.status = 'waitlisted') \
                 WHERE id = ANY($1)",
            )
            .bind(&frame_ids)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn directory(&self) -> StoreResult<Directory> {
        super::events::directory(&self.db()).await
    }

    async fn counter_check(&self, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>> {
        super::events::counter_check(&self.db(), event_ids).await
    }

    async fn create_user(&self, user: &NewUser) -> StoreResult<CurrentUser> {
        accounts::create_user(&self.db(), user).await
    }

    async fn find_login(&self, login: &str) -> StoreResult<Option<(i64, String)>> {
        accounts::find_login(&self.db(), login).await
    }

    async fn fetch_user(&self, id: i64) -> StoreResult<Option<CurrentUser>> {
        accounts::fetch_user(&self.db(), id).await
    }

    async fn fetch_my_profile(&self, id: i64) -> StoreResult<Option<MyProfile>> {
        accounts::fetch_my_profile(&self.db(), id).await
    }

    async fn fetch_user_profile(&self, nickname: &str) -> StoreResult<Option<UserProfile>> {
        super::events::fetch_user_profile(&self.db(), nickname).await
    }

    async fn update_profile(&self, id: i64, display_name: &str, bio: &str) -> StoreResult<()> {
        accounts::update_profile(&self.db(), id, display_name, bio).await
    }

    async fn fetch_password_hash(&self, id: i64) -> StoreResult<Option<String>> {
        accounts::fetch_password_hash(&self.db(), id).await
    }

    async fn update_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        accounts::update_password_hash(&self.db(), id, hash).await
    }

    async fn session_create(&self, id: &str, row: &SessionRow) -> StoreResult<bool> {
        accounts::session_create(&self.db(), id, row).await
    }

    async fn session_save(&self, id: &str, row: &SessionRow) -> StoreResult<()> {
        accounts::session_save(&self.db(), id, row).await
    }

    async fn session_load(&self, id: &str, now: i64) -> StoreResult<Option<(SessionRow, Option<CurrentUser>)>> {
        accounts::session_load(&self.db(), id, now).await
    }

    async fn session_delete(&self, id: &str) -> StoreResult<()> {
        accounts::session_delete(&self.db(), id).await
    }

    async fn sessions_purge(&self, now: i64) -> StoreResult<u64> {
        accounts::sessions_purge(&self.db(), now).await
    }

    async fn register(&self, req: &RegisterRequest) -> StoreResult<RegistrationChange> {
        regs::register(&self.db(), req).await
    }

    async fn cancel_registration(
        &self,
        event_id: i64,
        user_id: i64,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::cancel(&self.db(), event_id, user_id, now).await
    }

    async fn set_capacity(&self, frame_id: i64, capacity: i64, now: DateTime<Utc>) -> StoreResult<RegistrationChange> {
        regs::set_capacity(&self.db(), frame_id, capacity, now).await
    }

    async fn due_draws(&self, now: DateTime<Utc>) -> StoreResult<Vec<DueDraw>> {
        regs::due_draws(&self.db(), now).await
    }

    async fn draw_lottery(&self, frame_id: i64, seed: u64, now: DateTime<Utc>) -> StoreResult<Option<DrawOutcome>> {
        regs::draw(&self.db(), frame_id, seed, now).await
    }

    async fn my_registration(&self, event_id: i64, user_id: i64) -> StoreResult<Option<MyRegistration>> {
        regs::fetch_my_registration(&self.db(), event_id, user_id).await
    }

    async fn online_url(&self, event_id: i64) -> StoreResult<Option<String>> {
        super::events::online_url(&self.db(), event_id).await
    }

    async fn my_registrations(&self, user_id: i64) -> StoreResult<Vec<MyEventRegistration>> {
        let mut q = super::events::card_query();
        q.push("WHERE e.status != 'draft' AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
            .push_bind(user_id)
            .push(") ORDER BY e.starts_at, e.id");
        let cards = super::events::cards(&self.db(), q).await?;
        let db = self.db();
        let mut out = Vec::with_capacity(cards.len());
        for card in cards {
            if let Some(registration) = regs::fetch_my_registration(&db, card.id, user_id).await? {
                out.push(MyEventRegistration { card, registration });
            }
        }
        Ok(out)
    }

    async fn seat_snapshot(&self, event_id: i64) -> StoreResult<Option<SeatSnapshot>> {
        regs::seat_snapshot(&self.db(), event_id).await
    }

    async fn search(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
    ) -> StoreResult<crate::search::model::SearchResults> {
        let per_page = crate::events::api::PER_PAGE;
        let found = super::search_sql::search(&self.db(), query, now, per_page).await?;
        let mut cards = Vec::with_capacity(found.ids.len());
        if !found.ids.is_empty() {
            let mut by_id: HashMap<i64, EventCard> =
                super::events::cards_by_ids(&self.db(), &found.ids, "").await?.into_iter().map(|c| (c.id, c)).collect();
            cards.extend(found.ids.iter().filter_map(|id| by_id.remove(id)));
        }
        let mut query = query.clone();
        // The canonical spelling of resolved tags and tools (aliases become names).
        query.tags = found.tags.iter().map(|t| t.name.clone()).collect();
        query.tools = found.tools.iter().map(|t| t.name.clone()).collect();
        let page = query.page;
        Ok(crate::search::model::SearchResults {
            query,
            warnings: found.warnings,
            results: Page { items: cards, page, per_page, total: found.total },
            facets: found.facets,
        })
    }

    async fn list_registrations(&self, event_id: i64) -> StoreResult<Vec<super::RegistrationRow>> {
        regs::list_registrations(&self.db(), event_id).await
    }

    async fn search_ids(
        &self,
        query: &crate::search::model::SearchQuery,
        now: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<i64>> {
        super::search_sql::search_ids(&self.db(), query, now, limit).await
    }

    async fn public_events(&self, filter: &pub_::EventFilter) -> StoreResult<(Vec<pub_::PublicEvent>, i64)> {
        super::public_sql::events(&self.db(), filter).await
    }

    async fn public_events_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<pub_::PublicEvent>> {
        super::public_sql::events_by_ids(&self.db(), ids).await
    }

    async fn public_groups(&self, filter: &pub_::GroupFilter) -> StoreResult<(Vec<pub_::PublicGroup>, i64)> {
        super::public_sql::groups(&self.db(), filter).await
    }

    async fn public_users(&self, filter: &pub_::UserFilter) -> StoreResult<(Vec<pub_::PublicUser>, i64)> {
        super::public_sql::users(&self.db(), filter).await
    }

    async fn presenter_event_ids(&self, nickname: &str) -> StoreResult<Vec<i64>> {
        super::public_sql::presenter_event_ids(&self.db(), nickname).await
    }

    async fn materials(&self, event_ids: &[i64]) -> StoreResult<Vec<pub_::MaterialRow>> {
        super::public_sql::materials(&self.db(), event_ids).await
    }

    async fn material(&self, id: i64) -> StoreResult<Option<pub_::MaterialRow>> {
        super::public_sql::material_by_id(&self.db(), id).await
    }

    async fn add_material(&self, material: &pub_::NewMaterial) -> StoreResult<pub_::MaterialRow> {
        super::public_sql::add_material(&self.db(), material).await
    }

    async fn delete_material(&self, id: i64) -> StoreResult<bool> {
        super::public_sql::delete_material(&self.db(), id).await
    }

    async fn may_attach_material(&self, event_id: i64, user_id: i64) -> StoreResult<bool> {
        super::public_sql::may_attach_material(&self.db(), event_id, user_id).await
    }

    async fn member_role(&self, group_id: i64, user_id: i64) -> StoreResult<Option<crate::admin::model::Role>> {
        super::admin::member_role(&self.db(), group_id, user_id).await
    }

    async fn event_group_id(&self, event_id: i64) -> StoreResult<Option<i64>> {
        super::admin::event_group_id(&self.db(), event_id).await
    }

    async fn admin_groups(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminGroup>> {
        super::admin::admin_groups(&self.db(), user_id).await
    }

    async fn admin_events(&self, user_id: i64) -> StoreResult<Vec<crate::admin::model::AdminEventRow>> {
        super::admin::admin_events(&self.db(), user_id).await
    }

    async fn admin_event(&self, event_id: i64) -> StoreResult<Option<crate::admin::model::AdminEvent>> {
        super::admin::admin_event(&self.db(), event_id).await
    }

    async fn update_event(&self, event_id: i64, fields: &super::EventFields, now: DateTime<Utc>) -> StoreResult<()> {
        super::admin_edit::update_event(&self.db(), event_id, fields, now).await
    }

    async fn set_event_status(&self, event_id: i64, status: EventStatus, now: DateTime<Utc>) -> StoreResult<()> {
        super::admin_edit::set_event_status(&self.db(), event_id, status, now).await
    }

    async fn attendees(&self, event_id: i64) -> StoreResult<Vec<crate::admin::model::Attendee>> {
        super::admin::attendees(&self.db(), event_id).await
    }

    async fn check_in(
        &self,
        event_id: i64,
        receipt_code: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<crate::admin::model::Attendee>> {
        super::admin::check_in(&self.db(), event_id, receipt_code, now).await
    }

    async fn move_registration(
        &self,
        event_id: i64,
        registration_id: i64,
        to: crate::registrations::model::RegStatus,
        now: DateTime<Utc>,
    ) -> StoreResult<RegistrationChange> {
        regs::move_registration(&self.db(), event_id, registration_id, to, now).await
    }

    async fn add_frame(&self, event_id: i64, frame: &super::FrameFields) -> StoreResult<i64> {
        super::admin_edit::add_frame(&self.db(), event_id, frame).await
    }

    async fn update_frame(&self, event_id: i64, frame_id: i64, frame: &super::FrameFields) -> StoreResult<()> {
        super::admin_edit::update_frame(&self.db(), event_id, frame_id, frame).await
    }

    async fn delete_frame(&self, event_id: i64, frame_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_frame(&self.db(), event_id, frame_id).await
    }

    async fn add_question(&self, event_id: i64, question: &super::NewQuestion) -> StoreResult<i64> {
        super::admin_edit::add_question(&self.db(), event_id, question).await
    }

    async fn delete_question(&self, event_id: i64, question_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_question(&self.db(), event_id, question_id).await
    }

    async fn duplicate_event(&self, event_id: i64, starts_at: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<i64> {
        super::admin_edit::duplicate_event(&self.db(), event_id, starts_at, now).await
    }

    async fn create_message(&self, message: &super::NewMessage) -> StoreResult<i64> {
        msg_sql::create_message(&self.db(), message).await
    }

    async fn audience_user_ids(
        &self,
        event_id: i64,
        audience: crate::messages::model::Audience,
    ) -> StoreResult<Vec<i64>> {
        msg_sql::audience_user_ids(&self.db(), event_id, audience).await
    }

    async fn inbox(&self, user_id: i64, limit: u32) -> StoreResult<Vec<crate::messages::model::InboxMessage>> {
        msg_sql::inbox(&self.db(), user_id, limit).await
    }

    async fn mark_read(&self, user_id: i64, message_id: i64, now: DateTime<Utc>) -> StoreResult<bool> {
        msg_sql::mark_read(&self.db(), user_id, message_id, now).await
    }

    async fn sent_messages(&self, event_id: i64) -> StoreResult<Vec<crate::messages::model::SentMessage>> {
        msg_sql::sent_messages(&self.db(), event_id).await
    }

    async fn claim_due_reminders(&self, now: DateTime<Utc>, window: chrono::Duration) -> StoreResult<Vec<i64>> {
        msg_sql::claim_due_reminders(&self.db(), now, window).await
    }

    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease: chrono::Duration,
        limit: u32,
    ) -> StoreResult<Vec<super::MailJob>> {
        msg_sql::claim_deliveries(&self.db(), now, lease, limit).await
    }

    async fn record_delivery(
        &self,
        message_id: i64,
        user_id: i64,
        outcome: &Result<(), String>,
        retry_at: Option<DateTime<Utc>>,
    ) -> StoreResult<()> {
        msg_sql::record_delivery(&self.db(), message_id, user_id, outcome, retry_at).await
    }

    async fn set_follow(&self, group_id: i64, user_id: i64, follow: bool, now: DateTime<Utc>) -> StoreResult<()> {
        msg_sql::set_follow(&self.db(), group_id, user_id, follow, now).await
    }

    async fn follow_state(&self, group_id: i64, user_id: Option<i64>) -> StoreResult<(i64, bool)> {
        msg_sql::follow_state(&self.db(), group_id, user_id).await
    }

    async fn follower_ids(&self, group_id: i64) -> StoreResult<Vec<i64>> {
        msg_sql::follower_ids(&self.db(), group_id).await
    }

    async fn followed_events(&self, user_id: i64, now: DateTime<Utc>, limit: u32) -> StoreResult<Vec<EventCard>> {
        let ids = msg_sql::followed_event_ids(&self.db(), user_id, now, limit).await?;
        super::events::cards_by_ids(&self.db(), &ids, " ORDER BY e.starts_at, e.id").await
    }

    async fn resolve_tag_names(&self, names: &[String]) -> StoreResult<(Vec<i64>, Vec<String>)> {
        super::admin_edit::resolve_tag_names(&self.db(), names).await
    }

    async fn add_speaker(&self, event_id: i64, speaker: &super::NewSpeaker) -> StoreResult<i64> {
        super::admin_edit::add_speaker(&self.db(), event_id, speaker).await
    }

    async fn delete_speaker(&self, event_id: i64, speaker_id: i64) -> StoreResult<()> {
        super::admin_edit::delete_speaker(&self.db(), event_id, speaker_id).await
    }

    async fn members(&self, group_id: i64) -> StoreResult<Vec<crate::admin::model::Member>> {
        super::admin::members(&self.db(), group_id).await
    }

    async fn add_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: crate::admin::model::Role,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        super::admin_edit::add_member(&self.db(), group_id, user_id, role, now).await
    }

    async fn set_member(
        &self,
        group_id: i64,
        user_id: i64,
        role: Option<crate::admin::model::Role>,
    ) -> StoreResult<()> {
        super::admin_edit::set_member(&self.db(), group_id, user_id, role).await
    }

    async fn transfer_ownership(&self, group_id: i64, from: i64, to: i64) -> StoreResult<()> {
        super::admin_edit::transfer_ownership(&self.db(), group_id, from, to).await
    }

    async fn record_audit(&self, entry: &super::NewAudit) -> StoreResult<()> {
        super::admin::record_audit(&self.db(), entry).await
    }

    async fn audit_log(
        &self,
        group_id: i64,
        event_id: Option<i64>,
    ) -> StoreResult<Vec<crate::admin::model::AuditEntry>> {
        super::admin::audit_log(&self.db(), group_id, event_id).await
    }

    async fn organizes_event(&self, event_id: i64, user_id: i64) -> StoreResult<bool> {
        super::public_sql::organizes_event(&self.db(), event_id, user_id).await
    }

    async fn calendar_token(&self, user_id: i64) -> StoreResult<Option<String>> {
        super::public_sql::calendar_token(&self.db(), user_id).await
    }

    async fn set_calendar_token(&self, user_id: i64, token: &str) -> StoreResult<()> {
        super::public_sql::set_calendar_token(&self.db(), user_id, token).await
    }

    async fn user_by_calendar_token(&self, token: &str) -> StoreResult<Option<(i64, String)>> {
        super::public_sql::user_by_calendar_token(&self.db(), token).await
    }

    async fn sitemap(&self, limit: u32) -> StoreResult<Vec<pub_::SitemapEntry>> {
        super::public_sql::sitemap(&self.db(), limit).await
    }

    async fn message_context(&self, event_id: i64) -> StoreResult<Option<(String, ZonedSpan)>> {
        super::events::message_context(&self.db(), event_id).await
    }

    async fn registration_form(&self, event_id: i64) -> StoreResult<(Vec<Question>, Option<(String, ZonedSpan)>)> {
        super::events::registration_form(&self.db(), event_id).await
    }

    async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>> {
        super::events::fetch_card(&self.db(), event_id).await
    }
}
