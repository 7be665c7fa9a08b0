//! Store semantics, written against `dyn Store` so every backend runs the same cases.

use chrono::{DateTime, Duration, TimeZone, Utc};
use tsudoi::admin::model::Role;
use tsudoi::events::model::{EventStatus, FrameMethod, VenueKind};
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{DynStore, NewEvent, NewFrame, NewGroup, NewRegistration, NewSpeaker, NewTag, NewUser};
use tsudoi::tags::model::TagKind;

use crate::helpers::{TempDb, backends};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()
}

struct Fixture {
    users: Vec<i64>,
    group: i64,
    rust: i64,
    docker: i64,
}

async fn fixture(store: &DynStore) -> Fixture {
    let users =
        store.insert_users(&(0..30).map(|i| NewUser::attendee(&format!("user{i}"))).collect::<Vec<_>>()).await.unwrap();
    let group = store
        .insert_groups(&[NewGroup {
            slug: "rust-tokyo".into(),
            title: "Rust.Tokyo".into(),
            description: "# Rust\n<script>alert(1)</script>**welcome**".into(),
            website: Some("https://rust.tokyo/".into()),
            image_url: None,
            members: vec![(users[0], Role::Owner), (users[1], Role::Staff)],
        }])
        .await
        .unwrap()[0];
    let tags = store
        .insert_tags(&[
            NewTag {
                slug: "rust".into(),
                name: "Rust".into(),
                kind: TagKind::Topic,
                description: String::new(),
                aliases: vec!["rustlang".into()],
            },
            NewTag {
                slug: "docker".into(),
                name: "Docker".into(),
                kind: TagKind::Tool,
                description: String::new(),
                aliases: vec![],
            },
        ])
        .await
        .unwrap();
    Fixture { users, group, rust: tags[0], docker: tags[1] }
}

fn event(f: &Fixture, title: &str, starts_in_hours: i64, status: EventStatus) -> NewEvent {
    let starts_at = now() + Duration::hours(starts_in_hours);
    NewEvent {
        description: "## 概要\n\nRust を学ぶ".into(),
        venue_kind: VenueKind::Offline,
        place: "会議室".into(),
        address: "東京都".into(),
        prefecture: Some("tokyo".into()),
        online_url: Some("https://secret.example/meet".into()),
        hashtag: "#rusttokyo".into(),
        status,
        tag_ids: vec![f.rust, f.docker],
        ..NewEvent::minimal(f.group, title, starts_at)
    }
}

fn registrations(users: &[i64], confirmed: usize, waiting: usize) -> Vec<NewRegistration> {
    users
        .iter()
        .take(confirmed + waiting)
        .enumerate()
        .map(|(i, u)| NewRegistration {
            user_id: *u,
            status: if i < confirmed { RegStatus::Confirmed } else { RegStatus::Waitlisted },
            receipt_code: format!("R{u}-{i}-{confirmed}-{waiting}"),
            created_at: now() - Duration::days(1),
        })
        .collect()
}

#[tokio::test]
async fn a_new_store_is_empty_and_answers() {
    for (name, store, _db) in backends().await {
        store.ping().await.unwrap();
        assert!(store.is_empty().await.unwrap(), "{name}");
        assert!(store.list_upcoming(now(), 1, 20).await.unwrap().items.is_empty(), "{name}");
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let db = TempDb::new();
    let first = tsudoi::server::store::connect(&db.url()).await.unwrap();
    drop(first);
    let again = tsudoi::server::store::connect(&db.url()).await.unwrap();
    again.ping().await.unwrap();
}

#[tokio::test]
async fn migrations_are_idempotent_on_postgres() {
    let db = TempDb::postgres().await;
    let first = tsudoi::server::store::connect(&db.url()).await.unwrap();
    drop(first);
    let again = tsudoi::server::store::connect(&db.url()).await.unwrap();
    again.ping().await.unwrap();
    assert!(again.is_empty().await.unwrap());
}

#[tokio::test]
async fn upcoming_lists_published_unfinished_events_soonest_first_with_paging() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let mut events = vec![
            event(&f, "past", -48, EventStatus::Published),
            event(&f, "ongoing", -1, EventStatus::Published),
            event(&f, "draft", 5, EventStatus::Draft),
            event(&f, "cancelled", 6, EventStatus::Cancelled),
        ];
        for i in 0..25 {
            events.push(event(&f, &format!("future {i:02}"), 100 - i, EventStatus::Published));
        }
        store.insert_events(&events).await.unwrap();
        let p1 = store.list_upcoming(now(), 1, 10).await.unwrap();
        assert_eq!(p1.total, 26, "{name}: 25 future + 1 ongoing");
        assert_eq!(p1.pages(), 3);
        let titles: Vec<&str> = p1.items.iter().map(|c| c.title.as_str()).collect();
        assert_eq!(titles[0], "ongoing", "{name}");
        assert_eq!(titles[1], "future 24", "{name}: soonest first");
        assert!(p1.items.windows(2).all(|w| w[0].span.starts_at <= w[1].span.starts_at));
        let p3 = store.list_upcoming(now(), 3, 10).await.unwrap();
        assert_eq!(p3.items.len(), 6, "{name}");
        assert_eq!(p3.items.last().unwrap().title, "future 00");
        let beyond = store.list_upcoming(now(), 9, 10).await.unwrap();
        assert!(beyond.items.is_empty());
        // Cards carry tags in kind order (topics first) and the group.
        let card = &p1.items[0];
        assert_eq!(card.group_slug, "rust-tokyo");
        let tag_names: Vec<&str> = card.tags.iter().map(|t| t.name.as_str()).collect();
        assert_eq!(tag_names, ["Rust", "Docker"], "{name}");
    }
}

#[tokio::test]
async fn event_detail_has_frames_speakers_counts_and_sanitised_description() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let mut e = event(&f, "with frames", 24, EventStatus::Published);
        e.description = "**bold** <script>alert(1)</script> <a href=\"javascript:x\">x</a>".into();
        e.frames = vec![
            NewFrame {
                name: "一般枠".into(),
                capacity: 10,
                method: FrameMethod::FirstCome,
                fee: 0,
                opens_at: None,
                closes_at: None,
                draw_at: None,
                venue: Default::default(),
                online_url: None,
                registrations: registrations(&f.users[..12], 10, 2),
            },
            NewFrame {
                name: "学生枠".into(),
                capacity: 5,
                method: FrameMethod::Lottery,
                fee: 500,
                opens_at: None,
                closes_at: None,
                draw_at: None,
                venue: Default::default(),
                online_url: None,
                registrations: registrations(&f.users[12..], 3, 0),
            },
        ];
        e.speakers = vec![NewSpeaker {
            name: "Ferris".into(),
            affiliation: "Rust Foundation".into(),
            bio: "A crab.".into(),
            talk_title: "Ownership".into(),
            user_id: None,
        }];
        let id = store.insert_events(&[e]).await.unwrap()[0];
        let d = store.fetch_event(id).await.unwrap().expect("published event");
        assert_eq!(d.card.seats.accepted, 13, "{name}");
        assert_eq!(d.card.seats.limit, 15);
        assert_eq!(d.card.seats.waiting, 2);
        assert_eq!(d.frames.len(), 2);
        assert_eq!(d.frames[0].name, "一般枠");
        assert!(d.frames[0].seats.is_full());
        assert_eq!(d.frames[1].method, FrameMethod::Lottery);
        assert_eq!(d.frames[1].fee, 500);
        assert_eq!(d.speakers[0].talk_title, "Ownership");
        assert!(d.description_html.contains("<strong>bold</strong>"), "{name}");
        assert!(!d.description_html.contains("<script"), "{name}");
        assert!(!d.description_html.contains("javascript:"), "{name}");
        assert_eq!(d.card.span.zone_abbr, "JST");

        let checks = store.counter_check(&[id]).await.unwrap();
        assert_eq!(checks.len(), 2);
        for c in checks {
            assert_eq!(c.accepted_count, c.accepted_rows, "{name}: {c:?}");
            assert_eq!(c.waiting_count, c.waiting_rows, "{name}: {c:?}");
        }
    }
}

#[tokio::test]
async fn drafts_and_unknown_ids_are_not_fetched_but_cancelled_events_are() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let ids = store
            .insert_events(&[
                event(&f, "draft", 5, EventStatus::Draft),
                event(&f, "cancelled", 6, EventStatus::Cancelled),
            ])
            .await
            .unwrap();
        assert!(store.fetch_event(ids[0]).await.unwrap().is_none(), "{name}");
        let c = store.fetch_event(ids[1]).await.unwrap().expect("cancelled events stay visible");
        assert_eq!(c.card.status, EventStatus::Cancelled);
        assert!(store.fetch_event(999_999).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn group_page_splits_upcoming_and_past_and_counts_members() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        store
            .insert_events(&[
                event(&f, "old", -100, EventStatus::Published),
                event(&f, "older", -200, EventStatus::Published),
                event(&f, "soon", 10, EventStatus::Published),
                event(&f, "hidden", 20, EventStatus::Draft),
            ])
            .await
            .unwrap();
        let g = store.fetch_group("rust-tokyo", now()).await.unwrap().expect("group");
        assert_eq!(g.member_count, 2, "{name}");
        assert_eq!(g.upcoming.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["soon"]);
        assert_eq!(g.past.iter().map(|c| c.title.as_str()).collect::<Vec<_>>(), ["old", "older"], "most recent first");
        assert!(!g.description_html.contains("<script"));
        assert!(store.fetch_group("nope", now()).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn tag_counts_are_upcoming_published_events_only() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let mut docker_only = event(&f, "docker", 30, EventStatus::Published);
        docker_only.tag_ids = vec![f.docker];
        store
            .insert_events(&[
                event(&f, "both", 10, EventStatus::Published),
                event(&f, "past", -50, EventStatus::Published),
                event(&f, "draft", 10, EventStatus::Draft),
                docker_only,
            ])
            .await
            .unwrap();
        let tags = store.list_tags(now()).await.unwrap();
        let count = |n: &str| tags.iter().find(|t| t.tag.name == n).unwrap().upcoming;
        assert_eq!(count("Rust"), 1, "{name}");
        assert_eq!(count("Docker"), 2, "{name}");
        assert_eq!(tags[0].tag.kind, TagKind::Topic, "topics first");
    }
}

#[tokio::test]
async fn directory_lists_groups_tags_and_passwordless_attendees() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        store
            .insert_users(&[NewUser {
                nickname: "organizer".into(),
                display_name: "Organizer".into(),
                email: Some("o@example.com".into()),
                password_hash: Some("$argon2id$x".into()),
                bio: String::new(),
            }])
            .await
            .unwrap();
        let dir = store.directory().await.unwrap();
        assert_eq!(dir.groups, vec![(f.group, "rust-tokyo".to_string())], "{name}");
        assert_eq!(dir.tags.len(), 2);
        assert_eq!(dir.attendee_ids.len(), 30, "{name}: users with a password are not attendees");
    }
}

#[tokio::test]
async fn duplicate_registration_of_a_user_for_an_event_is_refused() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let mut e = event(&f, "dup", 10, EventStatus::Published);
        let mut regs = registrations(&f.users[..2], 2, 0);
        regs[1].user_id = regs[0].user_id;
        e.frames = vec![NewFrame {
            name: "枠".into(),
            capacity: 5,
            method: FrameMethod::FirstCome,
            fee: 0,
            opens_at: None,
            closes_at: None,
            draw_at: None,
            venue: Default::default(),
            online_url: None,
            registrations: regs,
        }];
        assert!(store.insert_events(&[e]).await.is_err(), "{name}");
        let counts = store.counter_check(&[]).await.unwrap();
        assert!(counts.is_empty(), "{name}: the failed transaction left no frame behind");
    }
}

#[tokio::test]
async fn a_taken_group_slug_and_a_taken_nickname_are_conflicts_not_internal_errors() {
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let again = NewGroup {
            slug: "rust-tokyo".into(),
            title: "Another".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(f.users[2], Role::Owner)],
        };
        let err = store.insert_groups(&[again]).await.unwrap_err();
        assert_eq!(err, tsudoi::error::AppError::Conflict(tsudoi::error::Conflict::SlugTaken), "{name}");
        let err = store.create_user(&NewUser::attendee("user0")).await.unwrap_err();
        assert_eq!(err, tsudoi::error::AppError::Conflict(tsudoi::error::Conflict::AccountExists), "{name}");
    }
}

/// The PostgreSQL twin of `public::the_sequence_grows_when_calendar_fields_change_and_only_then`
/// (the trigger is plpgsql there, SQL in SQLite).
#[tokio::test]
async fn the_calendar_sequence_trigger_fires_on_postgres_when_calendar_fields_change_and_only_then() {
    let (store, _db) = crate::helpers::fresh_pg().await;
    let g = store
        .insert_groups(&[NewGroup {
            slug: "g".into(),
            title: "G".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![],
        }])
        .await
        .unwrap()[0];
    let id = store.insert_events(&[NewEvent::minimal(g, "Seq", now() + Duration::days(30))]).await.unwrap()[0];
    let seq = || async {
        let (s, u): (i64, i64) = sqlx::query_as("SELECT sequence, updated_at FROM events WHERE id = $1")
            .bind(id)
            .fetch_one(store.pg_pool().expect("pg store"))
            .await
            .unwrap();
        (s, u)
    };
    let (s0, u0) = seq().await;
    assert_eq!(s0, 0);
    sqlx::query("UPDATE events SET hands_on = TRUE WHERE id = $1")
        .bind(id)
        .execute(store.pg_pool().expect("pg store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 0, "a field calendars do not show");
    sqlx::query("UPDATE events SET title = title WHERE id = $1")
        .bind(id)
        .execute(store.pg_pool().expect("pg store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 0, "an update that changes nothing");
    sqlx::query("UPDATE events SET starts_at = starts_at + 3600, ends_at = ends_at + 3600 WHERE id = $1")
        .bind(id)
        .execute(store.pg_pool().expect("pg store"))
        .await
        .unwrap();
    let (s1, u1) = seq().await;
    assert_eq!(s1, 1, "one statement, one revision");
    assert!(u1 > u0);
    sqlx::query("UPDATE events SET status = 'cancelled' WHERE id = $1")
        .bind(id)
        .execute(store.pg_pool().expect("pg store"))
        .await
        .unwrap();
    assert_eq!(seq().await.0, 2);
}

/// A NUL character in what users type (search, URL segments, API filters, logins) finds
/// nothing on every backend; PostgreSQL cannot even hold one in TEXT, so a query with it
/// would fail there, and users would see a server error instead of no results.
#[tokio::test]
async fn nul_characters_in_lookups_find_nothing_instead_of_failing() {
    use tsudoi::server::store::public::{EventFilter, GroupFilter, UserFilter};
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        store.insert_events(&[event(&f, "Rust night", 10, EventStatus::Published)]).await.unwrap();
        let nul = "rust\0".to_string();
        let q = |qs: &str| tsudoi::search::model::SearchQuery::parse([("q", qs), ("date", "all")]).0;
        assert_eq!(store.search(&q("rust"), now()).await.unwrap().results.total, 1, "{name}");
        assert_eq!(store.search(&q("rust -\0"), now()).await.unwrap().results.total, 1, "{name}");
        assert_eq!(store.search(&q("rust -rust\0"), now()).await.unwrap().results.total, 1, "{name}");
        assert_eq!(store.search(&q(&nul), now()).await.unwrap().results.total, 0, "{name}");
        assert_eq!(store.search(&q("ru\0"), now()).await.unwrap().results.total, 0, "{name}");
        // Storing one: SQLite keeps it; PostgreSQL cannot, and says so as a bad request (400),
        // never an internal error.
        let stored = store.update_profile(f.users[2], "a\0b", "").await;
        match name {
            "postgres" => assert!(matches!(stored, Err(tsudoi::error::AppError::BadRequest(_))), "{stored:?}"),
            _ => assert!(stored.is_ok(), "{name}: {stored:?}"),
        }
        let tagged = tsudoi::search::model::SearchQuery::parse([("tags", "rust\0"), ("date", "all")]).0;
        assert_eq!(store.search(&tagged, now()).await.unwrap().warnings.len(), 1, "{name}");
        assert!(store.fetch_group("rust-tokyo\0", now()).await.unwrap().is_none(), "{name}");
        assert!(store.fetch_tag("rust\0").await.unwrap().is_none(), "{name}");
        assert!(store.fetch_user_profile("user0\0").await.unwrap().is_none(), "{name}");
        assert!(store.find_login("user0\0").await.unwrap().is_none(), "{name}");
        assert!(store.user_by_calendar_token("\0").await.unwrap().is_none(), "{name}");
        assert!(store.presenter_event_ids("user0\0").await.unwrap().is_empty(), "{name}");
        let by = |filter: EventFilter| {
            let store = store.clone();
            async move { store.public_events(&EventFilter { limit: 10, ..filter }).await.unwrap().1 }
        };
        assert_eq!(by(EventFilter::default()).await, 1, "{name}");
        assert_eq!(by(EventFilter { keywords: vec![nul.clone()], ..Default::default() }).await, 0, "{name}");
        assert_eq!(by(EventFilter { keywords_or: vec![nul.clone()], ..Default::default() }).await, 0, "{name}");
        let slugs = vec!["rust-tokyo\0".to_string()];
        assert_eq!(by(EventFilter { group_slugs: slugs.clone(), ..Default::default() }).await, 0, "{name}");
        let groups = store.public_groups(&GroupFilter { slugs, limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(groups.1, 0, "{name}");
        let users = vec!["user0\0".to_string()];
        let users =
            store.public_users(&UserFilter { nicknames: users, limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(users.1, 0, "{name}");
    }
}

/// A session loads with the account its `uid` names, in one query; a session without a
/// uid, with a uid of no account, or with a non-numeric uid loads without one.
#[tokio::test]
async fn a_session_loads_with_its_signed_in_user() {
    use tsudoi::server::store::SessionRow;
    for (name, store, _db) in backends().await {
        let f = fixture(&store).await;
        let uid = f.users[1];
        let at = 2_000_000_000;
        let cases = [
            ("signed-in", format!(r#"{{"uid":{uid},"lang":"ja"}}"#), Some(uid)),
            ("anonymous", r#"{"lang":"en"}"#.to_string(), None),
            ("gone", r#"{"uid":987654}"#.to_string(), None),
            ("odd", r#"{"uid":"12"}"#.to_string(), None),
        ];
        for (id, data, expected) in &cases {
            let row = SessionRow { data: data.clone(), expires_at: at };
            assert!(store.session_create(id, &row).await.unwrap(), "{name} {id}");
            let (loaded, user) = store.session_load(id, at - 1).await.unwrap().expect("not expired");
            assert_eq!(loaded, row, "{name} {id}");
            assert_eq!(user.map(|u| u.id), *expected, "{name} {id}");
            assert!(store.session_load(id, at).await.unwrap().is_none(), "{name} {id}: expired at its expiry");
        }
        let (_, user) = store.session_load("signed-in", at - 1).await.unwrap().unwrap();
        let user = user.unwrap();
        assert_eq!(
            Some(user.clone()),
            store.fetch_user(uid).await.unwrap(),
            "{name}: the same account fetch_user gives"
        );
    }
}

#[tokio::test]
async fn calendar_secrets_stored_in_clear_by_an_earlier_version_are_hashed_at_start_and_keep_working() {
    for (name, store, db) in backends().await {
        let user = store.insert_users(&[NewUser::attendee("kei")]).await.unwrap()[0];
        let clear = "00112233445566778899aabbccddeeff0011223344556677";
        let q = "UPDATE users SET calendar_token = $1 WHERE id = $2";
        match (store.sqlite_pool(), store.pg_pool()) {
            (Some(p), _) => sqlx::query(q).bind(clear).bind(user).execute(p).await.map(|_| ()).unwrap(),
            (_, Some(p)) => sqlx::query(q).bind(clear).bind(user).execute(p).await.map(|_| ()).unwrap(),
            _ => unreachable!(),
        }
        drop(store);
        let store = tsudoi::server::store::connect(&db.url()).await.unwrap();
        let stored: String = match (store.sqlite_pool(), store.pg_pool()) {
            (Some(p), _) => sqlx::query_scalar("SELECT calendar_token FROM users").fetch_one(p).await.unwrap(),
            (_, Some(p)) => sqlx::query_scalar("SELECT calendar_token FROM users").fetch_one(p).await.unwrap(),
            _ => unreachable!(),
        };
        assert_ne!(stored, clear, "{name}: hashed at start");
        assert_eq!(store.user_by_calendar_token(clear).await.unwrap(), Some((user, "kei".to_string())), "{name}");
        assert!(store.has_calendar_token(user).await.unwrap(), "{name}");
        assert_eq!(store.user_by_calendar_token(&stored).await.unwrap(), None, "{name}: the hash is not a secret");
    }
}
