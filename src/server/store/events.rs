//! Reading events, groups, tags and profiles: one SQL text for SQLite and PostgreSQL.

use super::Store;
use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};

use super::db::{Db, Sql};
use super::{CounterCheck, Directory, StoreResult};
use crate::accounts::model::UserProfile;
use crate::events::model::{
    EventCard, EventDetail, EventStatus, FrameMethod, FrameSummary, FrameVenue, Page, Seats, Speaker, SpokenLanguage,
    VenueKind,
};
use crate::groups::model::GroupDetail;
use crate::registrations::model::{Question, QuestionKind};
use crate::server::markdown;
use crate::tags::model::{TagCount, TagDetail, TagKind, TagRef};
use crate::time::ZonedSpan;

pub(super) fn instant(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

/// False for text PostgreSQL cannot hold: it refuses NUL characters in TEXT (SQLite takes
/// them), so such a value would fail the query. Nothing stored contains one, so a lookup by
/// such a value finds nothing on either backend without asking the database.
pub(super) fn storable(s: &str) -> bool {
    !s.contains('\0')
}

/// Tags of many events in one query (topics first, in list order).
pub(super) async fn tags_of(db: &Db, event_ids: &[i64]) -> StoreResult<HashMap<i64, Vec<TagRef>>> {
    let mut out: HashMap<i64, Vec<TagRef>> = HashMap::new();
    if event_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Sql::new(
        "SELECT et.event_id, t.slug, t.name, t.kind FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE et.event_id IN ",
    );
    q.push_list(event_ids.iter().copied()).push(" ORDER BY t.kind DESC, t.position, t.id");
    let rows: Vec<(i64, String, String, String)> = db.all(q).await?;
    for (event_id, slug, name, kind) in rows {
        out.entry(event_id).or_default().push(TagRef {
            slug,
            name,
            kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic),
        });
    }
    Ok(out)
}

/// Upcoming events a group page shows.
const GROUP_UPCOMING: usize = 50;
/// Past events a group page shows.
const GROUP_PAST: usize = 30;

impl Store {
    /// Answers when the database does (for `/healthz`).
    pub async fn ping(&self) -> StoreResult<()> {
        let db = &self.db;
        db.one::<(i32,)>(Sql::new("SELECT 1")).await?;
        Ok(())
    }

    /// Closes the pools once their connections are returned (a stopping instance, after its
    /// requests and workers): SQLite's last connection checkpoints the WAL into the file.
    pub async fn close(&self) {
        match &self.db {
            super::db::Db::Sqlite { reader, writer } => {
                reader.close().await;
                writer.close().await;
            }
            super::db::Db::Pg(pool) => pool.close().await,
        }
    }

    /// Connections of each pool: (name, open, idle) (metrics).
    pub fn pool_stats(&self) -> Vec<(&'static str, u32, u32)> {
        fn stats<D: sqlx::Database>(p: &sqlx::Pool<D>) -> (u32, u32) {
            (p.size(), u32::try_from(p.num_idle()).unwrap_or(u32::MAX))
        }
        match &self.db {
            super::db::Db::Sqlite { reader, writer } => {
                let (r, w) = (stats(reader), stats(writer));
                vec![("sqlite_reader", r.0, r.1), ("sqlite_writer", w.0, w.1)]
            }
            super::db::Db::Pg(pool) => {
                let p = stats(pool);
                vec![("postgres", p.0, p.1)]
            }
        }
    }

    /// True when no event and no group exist yet (demo data is loaded only then).
    pub async fn is_empty(&self) -> StoreResult<bool> {
        let db = &self.db;
        let (n,): (i64,) =
            db.one(Sql::new("SELECT (SELECT COUNT(*) FROM events) + (SELECT COUNT(*) FROM groups)")).await?;
        Ok(n == 0)
    }

    /// Published events that have not ended at `now`, soonest first; `page` is 1-based.
    pub async fn list_upcoming(&self, now: DateTime<Utc>, page: u32, per_page: u32) -> StoreResult<Page<EventCard>> {
        // The deepest page any list serves: an OFFSET past it would only make the database
        // walk rows to skip them.
        let page = page.clamp(1, crate::search::model::MAX_PAGE);
        let per_page = per_page.clamp(1, 100);
        // The list is the search with no condition (upcoming, soonest first) without its
        // facets: the in-memory index answers it in one pass, on either backend.
        let offset = (page as usize - 1) * per_page as usize;
        if let Some((ids, total)) =
            self.search_index.upcoming(&self.db, now.timestamp(), offset, per_page as usize).await?
        {
            let items = self.cards_in_order(&ids).await?;
            return Ok(Page { items, page, per_page, total });
        }
        // While the index is being built.
        let db = &self.db;
        let (total,): (i64,) = db
            .one(
                Sql::new("SELECT COUNT(*) FROM events WHERE status = 'published' AND listed AND ends_at > $1")
                    .bind(now.timestamp()),
            )
            .await?;
        let mut q = card_query();
        q.push("WHERE e.status = 'published' AND e.listed AND e.ends_at > ")
            .push_bind(now.timestamp())
            .push(" ORDER BY e.starts_at, e.id LIMIT ")
            .push_bind(i64::from(per_page))
            .push(" OFFSET ")
            .push_bind(i64::from(page - 1) * i64::from(per_page));
        let items = cards(db, q).await?;
        Ok(Page { items, page, per_page, total })
    }

    /// A published or cancelled event by id (drafts are not public).
    pub async fn fetch_event(&self, id: i64) -> StoreResult<Option<EventDetail>> {
        let db = &self.db;
        let mut q = card_query();
        q.push("WHERE e.status IN ('published', 'cancelled') AND e.id = ").push_bind(id);
        let Some(card) = cards(db, q).await?.into_iter().next() else {
            return Ok(None);
        };
        let row: EventRow = db
        .one(
            Sql::new(
                "SELECT catch, description, place, address, lat, lon, language, hashtag, image_url, title_en, catch_en, \
                 description_en FROM events WHERE id = $1",
            )
            .bind(id),
        )
        .await?;
        let frames: Vec<FrameRow> = db
            .all(
                Sql::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id = $1 ORDER BY position, id"))
                    .bind(id),
            )
            .await?;
        let speakers: Vec<(String, String, String, String)> = db
            .all(
                Sql::new(
                    "SELECT name, affiliation, bio, talk_title FROM speakers WHERE event_id = $1 ORDER BY position, id",
                )
                .bind(id),
            )
            .await?;
        let questions = self.fetch_questions(id).await?;
        let language = SpokenLanguage::parse(&row.language).unwrap_or(SpokenLanguage::Ja);
        let english_text = crate::events::model::EnglishText {
            title: row.title_en.clone(),
            catch: row.catch_en.clone(),
            description: row.description_en.clone(),
        };
        // Only an event with an English text of its own has a second language to switch to;
        // its empty parts follow the one rule (`bilingual`): the Japanese ones.
        let english = (!english_text.is_empty()).then(|| {
            let (_, (title, catch, description)) =
                crate::events::model::bilingual(&card.title, &row.catch, &row.description, &english_text, language);
            crate::events::model::EnglishDetail {
                title,
                catch,
                description_html: markdown::to_safe_html(&description),
                description_text: markdown::to_plain_text(&description),
            }
        });
        Ok(Some(EventDetail {
            english,
            card,
            catch: row.catch,
            description_html: markdown::to_safe_html(&row.description),
            description_text: markdown::to_plain_text(&row.description),
            place: row.place,
            address: row.address,
            lat: row.lat,
            lon: row.lon,
            language,
            hashtag: row.hashtag,
            image_url: row.image_url,
            frames: frames.into_iter().map(FrameRow::into_summary).collect(),
            speakers: speakers
                .into_iter()
                .map(|(name, affiliation, bio, talk_title)| Speaker { name, affiliation, bio, talk_title })
                .collect(),
            questions,
            ended: false,
            url: format!("/events/{id}"),
            json_ld: String::new(),
            visibility: crate::events::model::Visibility::Public,
        }))
    }

    /// The questions an event asks, in order.
    pub async fn fetch_questions(&self, event_id: i64) -> StoreResult<Vec<Question>> {
        let db = &self.db;
        let rows: Vec<(i64, String, String, String, bool)> = db
            .all(
                Sql::new(
                    "SELECT id, kind, label, options, required FROM questions WHERE event_id = $1 ORDER BY position, id",
                )
                .bind(event_id),
            )
            .await?;
        Ok(rows
            .into_iter()
            .map(|(id, kind, label, options, required)| Question {
                id,
                kind: QuestionKind::parse(&kind).unwrap_or(QuestionKind::Text),
                label,
                options: serde_json::from_str(&options).unwrap_or_default(),
                required,
            })
            .collect())
    }

    /// A group with its upcoming (the first [`GROUP_UPCOMING`]) and past (the last
    /// [`GROUP_PAST`]) public events.
    pub async fn fetch_group(&self, slug: &str, now: DateTime<Utc>) -> StoreResult<Option<GroupDetail>> {
        let db = &self.db;
        if !storable(slug) {
            return Ok(None);
        }
        let q = Sql::new(
            "SELECT id, slug, title, description, website, image_url, unlisted FROM groups \
                 WHERE slug = $1 AND hidden_at IS NULL",
        )
        .bind(slug);
        let Some(g): Option<GroupRow> = db.optional(q).await? else {
            return Ok(None);
        };
        let (member_count,): (i64,) =
            db.one(Sql::new("SELECT COUNT(*) FROM group_members WHERE group_id = $1").bind(g.id)).await?;
        // A listed group's lists come from the in-memory index (a big group's events are not
        // walked in start order to find the ones not ended); an unlisted group's from SQL.
        let indexed = match g.unlisted {
            false => self.search_index.group_page(db, g.id, now.timestamp(), GROUP_UPCOMING, GROUP_PAST).await?,
            true => None,
        };
        let (upcoming, past) = match indexed {
            Some((soon, ended)) => (self.cards_in_order(&soon).await?, self.cards_in_order(&ended).await?),
            None => {
                let list = |ended: bool| {
                    let mut q = card_query();
                    q.push("WHERE e.group_id = ")
                        .push_bind(g.id)
                        .push(
                            " AND e.status IN ('published', 'cancelled') AND e.visibility = 'public' \
                             AND e.hidden_at IS NULL AND e.ends_at ",
                        )
                        .push(if ended { "<= " } else { "> " })
                        .push_bind(now.timestamp())
                        .push(if ended {
                            " ORDER BY e.starts_at DESC, e.id DESC"
                        } else {
                            " ORDER BY e.starts_at, e.id"
                        })
                        .push(" LIMIT ")
                        .push_bind(if ended { GROUP_PAST } else { GROUP_UPCOMING } as i64);
                    q
                };
                (cards(db, list(false)).await?, cards(db, list(true)).await?)
            }
        };
        Ok(Some(GroupDetail {
            id: g.id,
            slug: g.slug,
            title: g.title,
            description_html: markdown::to_safe_html(&g.description),
            website: g.website,
            image_url: g.image_url,
            member_count,
            unlisted: g.unlisted,
            upcoming,
            past,
        }))
    }

    /// One tag by slug.
    pub async fn fetch_tag(&self, slug: &str) -> StoreResult<Option<TagDetail>> {
        let db = &self.db;
        if !storable(slug) {
            return Ok(None);
        }
        let row: Option<(String, String, String, String)> =
            db.optional(Sql::new("SELECT slug, name, kind, description FROM tags WHERE slug = $1").bind(slug)).await?;
        Ok(row.map(|(slug, name, kind, description)| TagDetail {
            tag: TagRef { slug, name, kind: TagKind::parse(&kind).unwrap_or(TagKind::Topic) },
            description,
        }))
    }

    /// Every tag with its count of upcoming published events, topics first, in list order.
    /// The counts come from the in-memory index (one pass), or by SQL while it is built.
    pub async fn list_tags(&self, now: DateTime<Utc>) -> StoreResult<Vec<TagCount>> {
        let db = &self.db;
        let order = " FROM tags t ORDER BY t.kind DESC, t.position, t.id";
        let rows: Vec<(i64, String, String, String, i64)> =
            match self.search_index.upcoming_per_tag(db, now.timestamp()).await? {
                Some(counts) => db
                    .all::<(i64, String, String, String)>(Sql::new(format!(
                        "SELECT t.id, t.slug, t.name, t.kind{order}"
                    )))
                    .await?
                    .into_iter()
                    .map(|(id, slug, name, kind)| (id, slug, name, kind, counts.get(&id).copied().unwrap_or(0)))
                    .collect(),
                None => {
                    db.all(
                        Sql::new(format!(
                            "SELECT t.id, t.slug, t.name, t.kind, \
                             (SELECT COUNT(*) FROM event_tags et JOIN events e ON e.id = et.event_id \
                              WHERE et.tag_id = t.id AND e.status = 'published' AND e.listed AND e.ends_at > $1){order}"
                        ))
                        .bind(now.timestamp()),
                    )
                    .await?
                }
            };
        rows.into_iter()
            .map(|(_, slug, name, kind, upcoming)| {
                let kind = super::decode(&kind, TagKind::parse, "tag kind")?;
                Ok(TagCount { tag: TagRef { slug, name, kind }, upcoming })
            })
            .collect()
    }

    /// What exists, for generators.
    pub async fn directory(&self) -> StoreResult<Directory> {
        let db = &self.db;
        let groups: Vec<(i64, String)> = db.all(Sql::new("SELECT id, slug FROM groups ORDER BY id")).await?;
        let tags: Vec<(i64, String, String)> =
            db.all(Sql::new("SELECT id, slug, kind FROM tags ORDER BY position, id")).await?;
        let attendees: Vec<(i64,)> =
            db.all(Sql::new("SELECT id FROM users WHERE password_hash IS NULL ORDER BY id")).await?;
        Ok(Directory {
            groups,
            tags: tags
                .into_iter()
                .map(|(id, slug, kind)| (id, slug, TagKind::parse(&kind).unwrap_or(TagKind::Topic)))
                .collect(),
            attendee_ids: attendees.into_iter().map(|(id,)| id).collect(),
        })
    }

    /// Cached frame counters beside the real row counts, for every frame of `event_ids`
    /// (all frames when empty).
    pub async fn counter_check(&self, event_ids: &[i64]) -> StoreResult<Vec<CounterCheck>> {
        let db = &self.db;
        let mut q = Sql::new(
            "SELECT f.id, f.accepted_count, \
           (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'confirmed'), \
           f.waiting_count, \
           (SELECT COUNT(*) FROM registrations r WHERE r.frame_id = f.id AND r.status = 'waitlisted') \
         FROM frames f",
        );
        if !event_ids.is_empty() {
            q.push(" WHERE f.event_id IN ").push_list(event_ids.iter().copied());
        }
        q.push(" ORDER BY f.id");
        let rows: Vec<(i64, i64, i64, i64, i64)> = db.all(q).await?;
        Ok(rows
            .into_iter()
            .map(|(frame_id, accepted_count, accepted_rows, waiting_count, waiting_rows)| CounterCheck {
                frame_id,
                accepted_count,
                accepted_rows,
                waiting_count,
                waiting_rows,
            })
            .collect())
    }

    /// Public profile with attended (confirmed) and organised events.
    pub async fn fetch_user_profile(&self, nickname: &str) -> StoreResult<Option<UserProfile>> {
        let db = &self.db;
        if !storable(nickname) {
            return Ok(None);
        }
        let row: Option<(i64, String, String, String, bool)> = db
            .optional(
                Sql::new(
                    "SELECT id, nickname, display_name, bio, hide_attended FROM users \
                     WHERE nickname = $1 AND suspended_at IS NULL",
                )
                .bind(nickname),
            )
            .await?;
        let Some((id, nickname, display_name, bio, attended_hidden)) = row else { return Ok(None) };
        // Registrations made anonymously stay off the profile too.
        let mut attended = card_query();
        attended
        .push("WHERE e.status IN ('published', 'cancelled') AND e.listed AND e.id IN (SELECT event_id FROM registrations WHERE user_id = ")
        .push_bind(id)
        .push(" AND status = 'confirmed' AND NOT anonymous) ORDER BY e.starts_at DESC LIMIT 50");
        let mut organised = card_query();
        organised
            .push(
                "WHERE e.status IN ('published', 'cancelled') AND e.listed AND e.group_id IN \
             (SELECT group_id FROM group_members WHERE role IN ('owner', 'admin') AND user_id = ",
            )
            .push_bind(id)
            .push(") ORDER BY e.starts_at DESC LIMIT 50");
        Ok(Some(UserProfile {
            id,
            nickname,
            display_name,
            bio,
            attended_hidden,
            attended: if attended_hidden { Vec::new() } else { cards(db, attended).await? },
            organised: cards(db, organised).await?,
        }))
    }

    /// The online URL for attendees of a frame of the event (server side only; see
    /// `OnlineUrl`): the frame's own, or the event's unless the frame is in person only.
    pub async fn online_url(&self, event_id: i64, frame_id: i64) -> StoreResult<Option<String>> {
        let db = &self.db;
        let q = Sql::new(
            "SELECT e.online_url, f.online_url, f.venue_kind FROM frames f \
             JOIN events e ON e.id = f.event_id WHERE f.id = $1 AND f.event_id = $2",
        );
        let row: Option<(Option<String>, Option<String>, Option<String>)> =
            db.optional(q.bind(frame_id).bind(event_id)).await?;
        Ok(row.and_then(|(event_url, frame_url, frame_kind)| {
            crate::events::model::frame_online_url(
                event_url,
                frame_kind.as_deref().and_then(VenueKind::parse),
                frame_url,
            )
        }))
    }

    /// Where attendees of a frame go: its own venue, else the event's, as (kind, "place,
    /// address"); `None` when the frame is not the event's.
    pub async fn attendee_venue(&self, event_id: i64, frame_id: i64) -> StoreResult<Option<(VenueKind, String)>> {
        let q = Sql::new(
            "SELECT e.venue_kind, e.place, e.address, f.venue_kind, f.place, f.address FROM frames f \
             JOIN events e ON e.id = f.event_id WHERE f.id = $1 AND f.event_id = $2",
        );
        type Row = (String, String, String, Option<String>, String, String);
        let Some((kind, place, address, f_kind, f_place, f_address)): Option<Row> =
            self.db.optional(q.bind(frame_id).bind(event_id)).await?
        else {
            return Ok(None);
        };
        let kind = super::decode(&kind, VenueKind::parse, "venue kind")?;
        let frame =
            FrameVenue { kind: f_kind.as_deref().and_then(VenueKind::parse), place: f_place, address: f_address };
        let (kind, place, address) = frame.resolve(kind, &place, &address);
        Ok(Some((kind, crate::events::model::place_line(place, address))))
    }

    /// Title and time of an event (any status but draft): what an automatic message about
    /// it says. One light query (a message follows every registration).
    pub async fn message_context(&self, event_id: i64) -> StoreResult<Option<(String, ZonedSpan)>> {
        let db = &self.db;
        let row: Option<(String, i64, i64, String)> = db
            .optional(
                Sql::new("SELECT title, starts_at, ends_at, time_zone FROM events WHERE id = $1 AND status != 'draft'")
                    .bind(event_id),
            )
            .await?;
        Ok(row.map(|(title, starts, ends, tz)| (title, ZonedSpan::resolve(instant(starts), instant(ends), &tz))))
    }

    /// What registering needs before the write, in one query: the event's questions (to
    /// validate the answers), its message context (title and time for the confirmation;
    /// `None` for drafts and unknown events) and whether it is invitation-only; `NotFound`
    /// for an event hidden by moderation.
    pub async fn registration_form(
        &self,
        event_id: i64,
    ) -> StoreResult<(Vec<Question>, Option<(String, ZonedSpan)>, bool)> {
        let db = &self.db;
        let rows: Vec<FormRow> = db
            .all(
                Sql::new(
                    "SELECT e.title, e.starts_at, e.ends_at, e.time_zone, e.status, e.visibility, \
                 (e.hidden_at IS NOT NULL OR EXISTS (SELECT 1 FROM groups g WHERE g.id = e.group_id \
                   AND g.hidden_at IS NOT NULL)) AS hidden, \
                 q.id, q.kind, q.label, q.options, q.required \
                 FROM events e LEFT JOIN questions q ON q.event_id = e.id \
                 WHERE e.id = $1 ORDER BY q.position, q.id",
                )
                .bind(event_id),
            )
            .await?;
        let Some(first) = rows.first() else { return Ok((Vec::new(), None, false)) };
        if first.hidden {
            // Hidden by the site's administrators: as if it did not exist.
            return Err(crate::error::AppError::NotFound);
        }
        let invitation_only = first.visibility == "invitation";
        let context = (first.status != "draft").then(|| {
            (
                first.title.clone(),
                ZonedSpan::resolve(instant(first.starts_at), instant(first.ends_at), &first.time_zone),
            )
        });
        let questions = rows
            .iter()
            .filter_map(|r| {
                Some(Question {
                    id: r.id?,
                    kind: QuestionKind::parse(r.kind.as_deref()?).unwrap_or(QuestionKind::Text),
                    label: r.label.clone()?,
                    options: serde_json::from_str(r.options.as_deref()?).unwrap_or_default(),
                    required: r.required?,
                })
            })
            .collect();
        Ok((questions, context, invitation_only))
    }

    /// Current card of an event (any status but draft).
    pub async fn fetch_card(&self, event_id: i64) -> StoreResult<Option<EventCard>> {
        let db = &self.db;
        let mut q = card_query();
        q.push("WHERE e.status != 'draft' AND e.id = ").push_bind(event_id);
        Ok(cards(db, q).await?.into_iter().next())
    }
}

/// The columns of an event card, in the order of [`card_query`].
#[derive(sqlx::FromRow)]
struct CardRow {
    id: i64,
    title: String,
    title_en: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    venue_kind: String,
    prefecture: Option<String>,
    status: String,
    group_slug: String,
    group_title: String,
    accepted: i64,
    capacity: i64,
    waiting: i64,
}

impl CardRow {
    fn into_card(self, tags: Vec<TagRef>) -> EventCard {
        EventCard {
            id: self.id,
            title: self.title,
            title_en: self.title_en,
            span: ZonedSpan::resolve(instant(self.starts_at), instant(self.ends_at), &self.time_zone),
            group_slug: self.group_slug,
            group_title: self.group_title,
            tags,
            venue_kind: VenueKind::parse(&self.venue_kind).unwrap_or(VenueKind::Online),
            prefecture: self.prefecture,
            status: EventStatus::parse(&self.status).unwrap_or(EventStatus::Published),
            seats: Seats { accepted: self.accepted, limit: self.capacity, waiting: self.waiting },
        }
    }
}

/// SELECT of card columns; the caller appends WHERE / ORDER / LIMIT. Seat sums are
/// correlated subqueries over the frames index, so only the returned rows pay for them
/// (cast because PostgreSQL sums BIGINT into NUMERIC).
pub(super) fn card_query() -> Sql {
    Sql::new(
        "SELECT e.id, e.title, e.title_en, e.starts_at, e.ends_at, e.time_zone, e.venue_kind, e.prefecture, e.status, \
         g.slug AS group_slug, g.title AS group_title, \
         CAST((SELECT COALESCE(SUM(f.accepted_count), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS accepted, \
         CAST((SELECT COALESCE(SUM(f.capacity), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS capacity, \
         CAST((SELECT COALESCE(SUM(f.waiting_count), 0) FROM frames f WHERE f.event_id = e.id) AS BIGINT) AS waiting \
         FROM events e JOIN groups g ON g.id = e.group_id ",
    )
}

/// The cards a [`card_query`] selects, with their tags, in its order.
pub(super) async fn cards(db: &Db, q: Sql) -> StoreResult<Vec<EventCard>> {
    let rows: Vec<CardRow> = db.all(q).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut tags = tags_of(db, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let t = tags.remove(&r.id).unwrap_or_default();
            r.into_card(t)
        })
        .collect())
}

/// The cards of `ids`, in that order (ids not visible are left out).
pub(super) async fn cards_by_ids(db: &Db, ids: &[i64], order: &str) -> StoreResult<Vec<EventCard>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut q = card_query();
    q.push("WHERE e.id IN ").push_list(ids.iter().copied()).push(order);
    cards(db, q).await
}

#[derive(sqlx::FromRow)]
struct EventRow {
    catch: String,
    description: String,
    place: String,
    address: String,
    lat: Option<f64>,
    lon: Option<f64>,
    language: String,
    hashtag: String,
    image_url: Option<String>,
    title_en: String,
    catch_en: String,
    description_en: String,
}

/// A frame as stored; [`FRAME_COLUMNS`] selects it.
#[derive(sqlx::FromRow)]
pub(super) struct FrameRow {
    pub(super) event_id: i64,
    id: i64,
    name: String,
    method: String,
    fee: i64,
    capacity: i64,
    accepted_count: i64,
    waiting_count: i64,
    opens_at: Option<i64>,
    closes_at: Option<i64>,
    draw_at: Option<i64>,
    drawn_at: Option<i64>,
    promotion_frozen: bool,
    venue_kind: Option<String>,
    place: String,
    address: String,
}

/// The SELECT list of [`FrameRow`].
pub(super) const FRAME_COLUMNS: &str = "event_id, id, name, method, fee, capacity, accepted_count, waiting_count, \
     opens_at, closes_at, draw_at, drawn_at, promotion_frozen, venue_kind, place, address";

impl FrameRow {
    pub(super) fn into_summary(self) -> FrameSummary {
        FrameSummary {
            id: self.id,
            name: self.name,
            method: FrameMethod::parse(&self.method).unwrap_or(FrameMethod::FirstCome),
            fee: self.fee,
            seats: Seats { accepted: self.accepted_count, limit: self.capacity, waiting: self.waiting_count },
            opens_at: self.opens_at.map(instant),
            closes_at: self.closes_at.map(instant),
            draw_at: self.draw_at.map(instant),
            drawn: self.drawn_at.is_some(),
            promotion_frozen: self.promotion_frozen,
            // The column's CHECK admits the three codes only.
            venue: FrameVenue {
                kind: self.venue_kind.as_deref().and_then(VenueKind::parse),
                place: self.place,
                address: self.address,
            },
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct GroupRow {
    pub(super) id: i64,
    pub(super) slug: String,
    pub(super) title: String,
    pub(super) description: String,
    pub(super) website: Option<String>,
    pub(super) image_url: Option<String>,
    pub(super) unlisted: bool,
}

/// An event and its questions, as the registration form reads them.
#[derive(sqlx::FromRow)]
struct FormRow {
    title: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    status: String,
    visibility: String,
    /// Hidden by the site's administrators (the event or its group).
    hidden: bool,
    id: Option<i64>,
    kind: Option<String>,
    label: Option<String>,
    options: Option<String>,
    required: Option<bool>,
}
