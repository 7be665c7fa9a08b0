//! The public read surfaces, on either backend: event, group and user listings for the API
//! and the feeds, materials, calendar tokens and the sitemap.
//!
//! One dialect difference lives here: PostgreSQL cannot store text with NUL characters, so a
//! user-given string containing one equals nothing stored and is left out of the query there
//! ([`storable`]); SQLite compares it like any other string.

use super::Store;
use std::collections::HashMap;

use super::db::{Db, Sql};
use super::events::instant;
use super::events::{FRAME_COLUMNS, FrameRow, tags_of};
use super::public::{
    EventFilter, EventOrder, GroupFilter, PublicEvent, PublicGroup, PublicGroupRef, PublicUser, PublicUserRef, Reach,
    SitemapEntry, UserFilter,
};
use crate::error::AppError;
use crate::events::model::{EventStatus, FrameSummary, Speaker, SpokenLanguage, VenueKind};
use crate::server::text::normalize;

type Result<T> = std::result::Result<T, AppError>;

/// Upper bound of one listing page.
const MAX_LIMIT: u32 = 1_000;

/// False for a user-given string PostgreSQL could not have stored (see `events::storable`): it
/// equals nothing there. Always true on SQLite.
fn storable(db: &Db, s: &str) -> bool {
    !db.is_pg() || super::events::storable(s)
}

/// `(…)` of user-given strings for `IN`, the ones that cannot be stored left out; none left
/// is `(NULL)`, which matches no row.
fn push_in_text(db: &Db, q: &mut Sql, values: &[String]) {
    q.push_list(values.iter().filter(|v| storable(db, v)));
}

/// The normalised keywords of `f` that must all occur, and those of which one must; `None`
/// when nothing can match. A keyword holding a NUL matches nothing, as in the search: no
/// search text holds one (PostgreSQL refuses it in text, FTS5 in a query).
fn keywords(f: &EventFilter) -> Option<(Vec<String>, Vec<String>)> {
    let all: Vec<String> = f.keywords.iter().map(|k| normalize(k)).filter(|k| !k.is_empty()).collect();
    let any: Vec<String> = f.keywords_or.iter().map(|k| normalize(k)).filter(|k| !k.is_empty()).collect();
    let any_storable: Vec<String> = any.iter().filter(|k| !k.contains('\0')).cloned().collect();
    if all.iter().any(|k| k.contains('\0')) || !any.is_empty() && any_storable.is_empty() {
        return None;
    }
    Some((all, any_storable))
}

/// ` WHERE …` over `events e` (joined with `groups g`) for `f`.
fn push_event_where(db: &Db, q: &mut Sql, f: &EventFilter) {
    q.push(" WHERE e.status IN ('published', 'cancelled')");
    q.push(match f.reach {
        Reach::Listed => " AND e.listed",
        Reach::GroupPage => " AND e.visibility = 'public' AND e.hidden_at IS NULL",
        Reach::Admitted => "",
    });
    if !f.ids.is_empty() {
        q.push(" AND e.id IN ").push_list(f.ids.iter().copied());
    }
    match keywords(f) {
        Some((all, any)) => super::search_text::push_keywords(q, &all, &any, db.is_pg()),
        None => {
            q.push(" AND FALSE");
        }
    }
    if !f.starts_in.is_empty() {
        q.push(" AND (");
        for (i, (from, to)) in f.starts_in.iter().enumerate() {
            if i > 0 {
                q.push(" OR ");
            }
            q.push("(e.starts_at >= ")
                .push_bind(from.timestamp())
                .push(" AND e.starts_at < ")
                .push_bind(to.timestamp())
                .push(")");
        }
        q.push(")");
    }
    if !f.participants.is_empty() {
        // Only what the person shows: not their anonymous registrations, nothing at all when
        // they keep attended events private.
        q.push(if f.include_waitlisted {
            " AND e.id IN (SELECT r.event_id FROM registrations r JOIN users u ON u.id = r.user_id \
             WHERE r.status IN ('confirmed', 'waitlisted') AND NOT r.anonymous AND NOT u.hide_attended \
             AND u.nickname IN "
        } else {
            " AND e.id IN (SELECT r.event_id FROM registrations r JOIN users u ON u.id = r.user_id \
             WHERE r.status = 'confirmed' AND NOT r.anonymous AND NOT u.hide_attended AND u.nickname IN "
        });
        push_in_text(db, q, &f.participants);
        q.push(")");
    }
    if !f.owners.is_empty() {
        q.push(
            " AND e.group_id IN (SELECT m.group_id FROM group_members m JOIN users u ON u.id = m.user_id \
             WHERE m.role IN ('owner', 'admin') AND u.nickname IN ",
        );
        push_in_text(db, q, &f.owners);
        q.push(")");
    }
    if !f.group_ids.is_empty() {
        q.push(" AND e.group_id IN ").push_list(f.group_ids.iter().copied());
    }
    if !f.group_slugs.is_empty() {
        q.push(" AND g.slug IN ");
        push_in_text(db, q, &f.group_slugs);
    }
    if !f.prefectures.is_empty() {
        let online = f.prefectures.iter().any(|p| p == "online");
        let codes: Vec<String> = f.prefectures.iter().filter(|p| *p != "online").cloned().collect();
        q.push(" AND (FALSE");
        if online {
            q.push(" OR e.venue_kind IN ('online', 'hybrid')");
        }
        if !codes.is_empty() {
            q.push(" OR e.prefecture IN ");
            push_in_text(db, q, &codes);
        }
        q.push(")");
    }
    if !f.tag_slugs.is_empty() {
        q.push(" AND e.id IN (SELECT et.event_id FROM event_tags et JOIN tags t ON t.id = et.tag_id WHERE t.slug IN ");
        push_in_text(db, q, &f.tag_slugs);
        q.push(")");
    }
    if let Some(t) = f.ends_after {
        q.push(" AND e.ends_at > ").push_bind(t.timestamp());
    }
}

/// The columns of [`PublicEventRow`], over `events e` joined with `groups g`.
const EVENT_SELECT: &str = "SELECT e.id, e.title, e.catch, e.description, e.image_url, e.hashtag, e.starts_at, \
     e.ends_at, e.time_zone, e.venue_kind, e.place, e.address, e.prefecture, e.lat, e.lon, e.language, e.status, \
     e.event_type, e.created_at, e.updated_at, e.sequence, e.listed, g.id AS group_id, g.slug AS group_slug, \
     g.title AS group_title, e.title_en, e.catch_en, e.description_en FROM events e JOIN groups g ON g.id = e.group_id";

#[derive(sqlx::FromRow)]
struct PublicEventRow {
    id: i64,
    title: String,
    catch: String,
    description: String,
    title_en: String,
    catch_en: String,
    description_en: String,
    image_url: Option<String>,
    hashtag: String,
    starts_at: i64,
    ends_at: i64,
    time_zone: String,
    venue_kind: String,
    place: String,
    address: String,
    prefecture: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    language: String,
    status: String,
    event_type: String,
    created_at: i64,
    updated_at: i64,
    sequence: i64,
    listed: bool,
    group_id: i64,
    group_slug: String,
    group_title: String,
}

impl Store {
    /// Public events matching `f`, with the total number that match: through the in-memory
    /// index when it can answer (see `SearchIndex::list`), by SQL otherwise.
    pub async fn public_events(&self, f: &EventFilter) -> Result<(Vec<PublicEvent>, i64)> {
        let limit = f.limit.clamp(1, MAX_LIMIT);
        let listed = match keywords(f) {
            Some((all, any)) => self.search_index.list(&self.db, f, &all, &any, limit).await?,
            None => Some((Vec::new(), 0)),
        };
        match listed {
            Some((ids, total)) => Ok((self.public_events_by_ids(&ids).await?, total)),
            None => self.public_events_with_sql(f).await,
        }
    }

    /// [`Self::public_events`] answered by SQL alone: the oracle the index is tested against,
    /// and the answer while it builds.
    pub async fn public_events_with_sql(&self, f: &EventFilter) -> Result<(Vec<PublicEvent>, i64)> {
        let db = &self.db;
        let mut count = Sql::new("SELECT COUNT(*) FROM events e JOIN groups g ON g.id = e.group_id");
        push_event_where(db, &mut count, f);
        let (total,): (i64,) = db.one(count).await?;
        let limit = f.limit.clamp(1, MAX_LIMIT);
        let mut q = Sql::new(EVENT_SELECT);
        push_event_where(db, &mut q, f);
        q.push(match f.order {
            EventOrder::Updated => " ORDER BY e.updated_at DESC, e.id DESC",
            EventOrder::Start => " ORDER BY e.starts_at, e.id",
            EventOrder::Created => " ORDER BY e.created_at DESC, e.id DESC",
        });
        q.push(" LIMIT ").push_bind(i64::from(limit)).push(" OFFSET ").push_bind(i64::from(f.offset));
        let rows: Vec<PublicEventRow> = db.all(q).await?;
        let events = complete(db, rows).await?;
        Ok((events, total))
    }

    /// Public listed events by id, in the order of `ids` (the others are left out). Looked up
    /// by key alone, unordered and uncounted, and sorted out on the rows: with a condition on
    /// the status or an `ORDER BY` in the query, SQLite (which plans without statistics) walks
    /// an index of every event to find these few.
    pub async fn public_events_by_ids(&self, ids: &[i64]) -> Result<Vec<PublicEvent>> {
        let db = &self.db;
        let ids = &ids[..ids.len().min(MAX_LIMIT as usize)];
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(EVENT_SELECT);
        q.push(" WHERE e.id IN ").push_list(ids.iter().copied());
        let rows: Vec<PublicEventRow> = db.all(q).await?;
        let rows = rows.into_iter().filter(|r| r.listed && matches!(r.status.as_str(), "published" | "cancelled"));
        let mut by_id: HashMap<i64, PublicEvent> =
            complete(db, rows.collect()).await?.into_iter().map(|e| (e.id, e)).collect();
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Groups matching `f` (by id), with the total.
    pub async fn public_groups(&self, f: &GroupFilter) -> Result<(Vec<PublicGroup>, i64)> {
        let db = &self.db;
        fn push_where(db: &Db, q: &mut Sql, f: &GroupFilter) {
            q.push(if f.include_unlisted {
                " WHERE g.hidden_at IS NULL"
            } else {
                " WHERE NOT g.unlisted AND g.hidden_at IS NULL"
            });
            if !f.ids.is_empty() {
                q.push(" AND g.id IN ").push_list(f.ids.iter().copied());
            }
            if !f.slugs.is_empty() {
                q.push(" AND g.slug IN ");
                push_in_text(db, q, &f.slugs);
            }
            if !f.members.is_empty() {
                q.push(
                " AND g.id IN (SELECT m.group_id FROM group_members m JOIN users u ON u.id = m.user_id WHERE u.nickname IN ",
            );
                push_in_text(db, q, &f.members);
                q.push(")");
            }
        }
        let mut count = Sql::new("SELECT COUNT(*) FROM groups g");
        push_where(db, &mut count, f);
        let (total,): (i64,) = db.one(count).await?;
        let mut q = Sql::new(
            "SELECT g.id, g.slug, g.title, g.description, g.website, g.image_url, g.unlisted, g.updated_at, \
         (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) AS member_count FROM groups g",
        );
        push_where(db, &mut q, f);
        q.push(" ORDER BY g.id LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, MAX_LIMIT)))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let rows: Vec<PublicGroupRow> = db.all(q).await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.group.id).collect();
        let owners = owners_of(db, &ids).await?;
        let groups = rows
            .into_iter()
            .map(|r| PublicGroup {
                owner: owners.get(&r.group.id).cloned(),
                id: r.group.id,
                slug: r.group.slug,
                title: r.group.title,
                description: r.group.description,
                website: r.group.website,
                image_url: r.group.image_url,
                member_count: r.member_count,
                updated_at: instant(r.updated_at),
            })
            .collect();
        Ok((groups, total))
    }

    /// Users matching `f` (generated attendees without accounts included), with the total.
    pub async fn public_users(&self, f: &UserFilter) -> Result<(Vec<PublicUser>, i64)> {
        let db = &self.db;
        fn push_where(db: &Db, q: &mut Sql, f: &UserFilter) {
            // Suspended accounts are gone from every public path.
            q.push(" WHERE u.suspended_at IS NULL");
            if !f.nicknames.is_empty() {
                q.push(" AND u.nickname IN ");
                push_in_text(db, q, &f.nicknames);
            }
        }
        let mut count = Sql::new("SELECT COUNT(*) FROM users u");
        push_where(db, &mut count, f);
        let (total,): (i64,) = db.one(count).await?;
        let mut q = Sql::new(
            "SELECT u.id, u.nickname, u.display_name, u.bio, u.created_at, \
         (SELECT COUNT(*) FROM registrations r JOIN events e ON e.id = r.event_id \
            WHERE r.user_id = u.id AND r.status = 'confirmed' AND e.status = 'published' AND e.listed \
            AND NOT r.anonymous AND NOT u.hide_attended) AS attended, \
         (SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
            WHERE m.user_id = u.id AND m.role IN ('owner', 'admin') AND e.status IN ('published', 'cancelled') \
            AND e.listed) \
            AS organized, \
         (SELECT COUNT(DISTINCT s.event_id) FROM speakers s JOIN events e ON e.id = s.event_id \
            WHERE s.user_id = u.id AND e.status IN ('published', 'cancelled') AND e.listed) AS presented \
         FROM users u",
        );
        push_where(db, &mut q, f);
        q.push(" ORDER BY u.id LIMIT ")
            .push_bind(i64::from(f.limit.clamp(1, MAX_LIMIT)))
            .push(" OFFSET ")
            .push_bind(i64::from(f.offset));
        let rows: Vec<PublicUserRow> = db.all(q).await?;
        let users = rows
            .into_iter()
            .map(|r| PublicUser {
                id: r.id,
                nickname: r.nickname,
                display_name: r.display_name,
                bio: r.bio,
                created_at: instant(r.created_at),
                attended_event_count: r.attended,
                organize_event_count: r.organized,
                presenter_event_count: r.presented,
            })
            .collect();
        Ok((users, total))
    }

    /// Ids of public events a user presented at (linked speaker), soonest first.
    pub async fn presenter_event_ids(&self, nickname: &str) -> Result<Vec<i64>> {
        let db = &self.db;
        if !storable(db, nickname) {
            return Ok(Vec::new());
        }
        let rows: Vec<(i64,)> = db
            .all(
                Sql::new(
                    "SELECT DISTINCT e.id FROM speakers s JOIN users u ON u.id = s.user_id \
                 JOIN events e ON e.id = s.event_id \
                 WHERE u.nickname = $1 AND e.status IN ('published', 'cancelled') AND e.listed ORDER BY e.id",
                )
                .bind(nickname),
            )
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    /// True when the user is an owner or admin of the event's group.
    pub async fn organizes_event(&self, event_id: i64, user_id: i64) -> Result<bool> {
        let db = &self.db;
        let (n,): (i64,) = db
            .one(
                Sql::new(
                    "SELECT COUNT(*) FROM events e JOIN group_members m ON m.group_id = e.group_id \
                 WHERE e.id = $1 AND m.user_id = $2 AND m.role IN ('owner', 'admin')",
                )
                .bind(event_id)
                .bind(user_id),
            )
            .await?;
        Ok(n > 0)
    }

    /// Whether I have a private calendar feed. Its secret is stored hashed, so it cannot be
    /// shown again: the URL is shown once, when it is made.
    pub async fn has_calendar_token(&self, user_id: i64) -> Result<bool> {
        let db = &self.db;
        let row: Option<(Option<String>,)> =
            db.optional(Sql::new("SELECT calendar_token FROM users WHERE id = $1").bind(user_id)).await?;
        Ok(row.and_then(|(t,)| t).is_some())
    }

    /// Replaces the secret (the old feed URL stops working); only its hash is stored.
    pub async fn set_calendar_token(&self, user_id: i64, token: &str) -> Result<()> {
        let db = &self.db;
        let q = Sql::new("UPDATE users SET calendar_token = $1 WHERE id = $2");
        db.execute(q.bind(calendar_token_hash(token)).bind(user_id)).await?;
        Ok(())
    }

    /// (id, nickname) of the user whose calendar token this is.
    pub async fn user_by_calendar_token(&self, token: &str) -> Result<Option<(i64, String)>> {
        let db = &self.db;
        let q = Sql::new("SELECT id, nickname FROM users WHERE calendar_token = $1").bind(calendar_token_hash(token));
        Ok(db.optional(q).await?)
    }

    /// Public events (newest change first) and groups, up to `limit` URLs.
    pub async fn sitemap(&self, limit: u32) -> Result<Vec<SitemapEntry>> {
        let db = &self.db;
        let groups: Vec<(String, i64)> = db
            .all(
                Sql::new(
                    "SELECT slug, updated_at FROM groups WHERE NOT unlisted AND hidden_at IS NULL ORDER BY id LIMIT $1",
                )
                .bind(i64::from(limit)),
            )
            .await?;
        let rest = i64::from(limit).saturating_sub(groups.len() as i64);
        let events: Vec<(i64, i64)> = db
            .all(
                Sql::new(
                    "SELECT id, updated_at FROM events WHERE status IN ('published', 'cancelled') AND listed \
                 ORDER BY updated_at DESC, id DESC LIMIT $1",
                )
                .bind(rest),
            )
            .await?;
        Ok(groups
            .into_iter()
            .map(|(slug, t)| SitemapEntry::Group { slug, updated_at: instant(t) })
            .chain(events.into_iter().map(|(id, t)| SitemapEntry::Event { id, updated_at: instant(t) }))
            .collect())
    }
}

/// Adds tags, frames, speakers and owners to event rows: one query each, not one per event.
async fn complete(db: &Db, rows: Vec<PublicEventRow>) -> Result<Vec<PublicEvent>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let group_ids: Vec<i64> = rows.iter().map(|r| r.group_id).collect();

    let mut tags = tags_of(db, &ids).await?;

    let mut q = Sql::new(format!("SELECT {FRAME_COLUMNS} FROM frames WHERE event_id IN "));
    q.push_list(ids.iter().copied()).push(" ORDER BY position, id");
    let mut frames: HashMap<i64, Vec<FrameSummary>> = HashMap::new();
    for f in db.all::<FrameRow>(q).await? {
        frames.entry(f.event_id).or_default().push(f.into_summary());
    }

    let mut q = Sql::new("SELECT event_id, name, affiliation, bio, talk_title FROM speakers WHERE event_id IN ");
    q.push_list(ids.iter().copied()).push(" ORDER BY position, id");
    let mut speakers: HashMap<i64, Vec<Speaker>> = HashMap::new();
    for (event_id, name, affiliation, bio, talk_title) in db.all::<(i64, String, String, String, String)>(q).await? {
        speakers.entry(event_id).or_default().push(Speaker { name, affiliation, bio, talk_title });
    }

    let owners = owners_of(db, &group_ids).await?;

    Ok(rows
        .into_iter()
        .map(|r| PublicEvent {
            tags: tags.remove(&r.id).unwrap_or_default(),
            frames: frames.remove(&r.id).unwrap_or_default(),
            speakers: speakers.remove(&r.id).unwrap_or_default(),
            owner: owners.get(&r.group_id).cloned(),
            id: r.id,
            title: r.title,
            catch: r.catch,
            description: r.description,
            english: crate::events::model::EnglishText {
                title: r.title_en,
                catch: r.catch_en,
                description: r.description_en,
            },
            image_url: r.image_url,
            hashtag: r.hashtag,
            starts_at: instant(r.starts_at),
            ends_at: instant(r.ends_at),
            time_zone: r.time_zone,
            venue_kind: VenueKind::parse(&r.venue_kind).unwrap_or(VenueKind::Online),
            place: r.place,
            address: r.address,
            prefecture: r.prefecture,
            lat: r.lat,
            lon: r.lon,
            language: SpokenLanguage::parse(&r.language).unwrap_or(SpokenLanguage::Ja),
            status: EventStatus::parse(&r.status).unwrap_or(EventStatus::Published),
            event_type: r.event_type,
            created_at: instant(r.created_at),
            updated_at: instant(r.updated_at),
            sequence: r.sequence,
            group: PublicGroupRef { id: r.group_id, slug: r.group_slug, title: r.group_title },
        })
        .collect())
}

/// The first owner of each group.
async fn owners_of(db: &Db, group_ids: &[i64]) -> Result<HashMap<i64, PublicUserRef>> {
    let mut out = HashMap::new();
    if group_ids.is_empty() {
        return Ok(out);
    }
    let mut q = Sql::new(
        "SELECT m.group_id, u.id, u.nickname, u.display_name FROM group_members m JOIN users u ON u.id = m.user_id \
         WHERE m.role = 'owner' AND m.group_id IN ",
    );
    q.push_list(group_ids.iter().copied()).push(" ORDER BY m.created_at, u.id");
    for (group_id, id, nickname, display_name) in db.all::<(i64, i64, String, String)>(q).await? {
        out.entry(group_id).or_insert(PublicUserRef { id, nickname, display_name });
    }
    Ok(out)
}

#[derive(sqlx::FromRow)]
struct PublicGroupRow {
    #[sqlx(flatten)]
    group: super::events::GroupRow,
    updated_at: i64,
    member_count: i64,
}

#[derive(sqlx::FromRow)]
struct PublicUserRow {
    id: i64,
    nickname: String,
    display_name: String,
    bio: String,
    created_at: i64,
    attended: i64,
    organized: i64,
    presented: i64,
}

/// How a calendar secret is stored (see `server::secret`).
fn calendar_token_hash(token: &str) -> String {
    crate::server::secret::hash(token)
}

/// Replaces secrets stored in clear by an earlier version (48 hex characters) with their
/// hash, at start: the URLs people subscribed to keep working.
pub(super) async fn hash_clear_calendar_tokens(db: &Db) -> Result<usize> {
    let clear: Vec<(i64, String)> =
        db.all(Sql::new("SELECT id, calendar_token FROM users WHERE LENGTH(calendar_token) = 48")).await?;
    for (id, token) in &clear {
        db.execute(
            Sql::new("UPDATE users SET calendar_token = $1 WHERE id = $2").bind(calendar_token_hash(token)).bind(*id),
        )
        .await?;
    }
    Ok(clear.len())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_calendar_secret_is_stored_as_its_hash_never_as_itself() {
        let secret = "00112233445566778899aabbccddeeff0011223344556677";
        let stored = super::calendar_token_hash(secret);
        assert_eq!(stored.len(), 64, "not mistaken for a clear secret (48) at the next start");
        assert_ne!(stored, secret);
        assert_eq!(stored, super::calendar_token_hash(secret), "the same secret finds the same row");
    }
}
