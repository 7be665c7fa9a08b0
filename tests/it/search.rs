//! Search semantics, table-driven, on every backend: each parameter alone, combinations,
//! normalisation, aliases, `C#` vs `C`, phrases, exclusions, malformed input; and the facet
//! property (a facet's count equals the total after toggling it).

use chrono::{DateTime, Duration, TimeZone, Utc};
use tsudoi::admin::model::Role;
use tsudoi::events::model::{EventStatus, SpokenLanguage, VenueKind};
use tsudoi::registrations::model::RegStatus;
use tsudoi::search::model::SearchQuery;
use tsudoi::server::store::{DynStore, NewEvent, NewFrame, NewGroup, NewRegistration, NewSpeaker, NewTag, NewUser};
use tsudoi::tags::model::TagKind;

use crate::helpers::backends;

/// Saturday 2026-11-28 12:00 in Tokyo.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()
}

fn jst(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap() - Duration::hours(9)
}

struct Ev {
    title: &'static str,
    starts: DateTime<Utc>,
    tags: &'static [&'static str],
    venue: VenueKind,
    prefecture: Option<&'static str>,
    language: SpokenLanguage,
    fee: i64,
    capacity: i64,
    accepted: usize,
    status: EventStatus,
    beginner: bool,
    hands_on: bool,
    group: usize,
    speaker: &'static str,
    description: &'static str,
}

fn ev(title: &'static str, starts: DateTime<Utc>, tags: &'static [&'static str]) -> Ev {
    Ev {
        title,
        starts,
        tags,
        venue: VenueKind::Online,
        prefecture: None,
        language: SpokenLanguage::Ja,
        fee: 0,
        capacity: 20,
        accepted: 5,
        status: EventStatus::Published,
        beginner: false,
        hands_on: false,
        group: 0,
        speaker: "",
        description: "",
    }
}

/// The fixture; event n (1-based) is the n-th of this list.
fn events() -> Vec<Ev> {
    vec![
        Ev {
            venue: VenueKind::Offline,
            prefecture: Some("tokyo"),
            capacity: 10,
            accepted: 10,
            beginner: true,
            hands_on: true,
            ..ev("Rust 入門ハンズオン", jst(2026, 11, 28, 19, 0), &["rust", "docker"])
        },
        ev("AI もくもく会", jst(2026, 11, 29, 10, 0), &["ai"]),
        Ev {
            venue: VenueKind::Hybrid,
            prefecture: Some("osaka"),
            language: SpokenLanguage::En,
            fee: 1000,
            capacity: 30,
            accepted: 12,
            ..ev("Python Beginners Meetup", jst(2026, 12, 1, 19, 30), &["python"])
        },
        Ev {
            description: "教科書を一緒に読みます", ..ev("機械学習 読書会", jst(2026, 12, 9, 13, 0), &["ai"])
        },
        Ev {
            venue: VenueKind::Offline,
            prefecture: Some("fukuoka"),
            ..ev("C# と .NET の勉強会", jst(2026, 12, 3, 19, 0), &["csharp", "kubernetes"])
        },
        ev("C言語 LT会", jst(2026, 12, 4, 19, 0), &["c-lang"]),
        ev("JavaScript 勉強会", jst(2026, 11, 20, 19, 0), &["javascript"]),
        Ev { status: EventStatus::Draft, ..ev("Hidden Rust", jst(2026, 11, 29, 19, 0), &["rust"]) },
        Ev { group: 1, speaker: "Ferris Crab", accepted: 15, ..ev("Go 入門", jst(2027, 1, 10, 14, 0), &["go"]) },
        Ev {
            hands_on: true,
            description: "コンテナを学ぶ",
            ..ev("ハンズオン Kubernetes", jst(2026, 12, 15, 10, 0), &["kubernetes"])
        },
    ]
}

/// Loads the fixture; returns event ids in fixture order.
async fn load(store: &DynStore) -> Vec<i64> {
    let users =
        store.insert_users(&(0..20).map(|i| NewUser::attendee(&format!("s{i}"))).collect::<Vec<_>>()).await.unwrap();
    let groups = store
        .insert_groups(&[
            NewGroup {
                slug: "dev-jp".into(),
                title: "Dev Japan".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![(users[0], Role::Owner)],
            },
            NewGroup {
                slug: "gopher".into(),
                title: "Gopher 会".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![],
            },
        ])
        .await
        .unwrap();
    let tag = |slug: &str, name: &str, kind: TagKind, aliases: &[&str]| NewTag {
        slug: slug.into(),
        name: name.into(),
        kind,
        description: String::new(),
        aliases: aliases.iter().map(|a| a.to_string()).collect(),
    };
    let defs = [
        tag("rust", "Rust", TagKind::Topic, &[]),
        tag("ai", "AI", TagKind::Topic, &["生成AI", "GenAI"]),
        tag("python", "Python", TagKind::Topic, &["py"]),
        tag("csharp", "C#", TagKind::Topic, &[]),
        tag("cpp", "C++", TagKind::Topic, &[]),
        tag("c-lang", "C言語", TagKind::Topic, &["C"]),
        tag("javascript", "JavaScript", TagKind::Topic, &["JS"]),
        tag("go", "Go", TagKind::Topic, &["golang"]),
        tag("docker", "Docker", TagKind::Tool, &[]),
        tag("kubernetes", "Kubernetes", TagKind::Tool, &["k8s"]),
    ];
    let tag_ids = store.insert_tags(&defs).await.unwrap();
    let id_of = |slug: &str| tag_ids[defs.iter().position(|d| d.slug == slug).unwrap()];
    let new: Vec<NewEvent> = events()
        .into_iter()
        .map(|e| NewEvent {
            description: e.description.into(),
            venue_kind: e.venue,
            prefecture: e.prefecture.map(str::to_string),
            language: e.language,
            status: e.status,
            beginner_ok: e.beginner,
            hands_on: e.hands_on,
            created_at: e.starts - Duration::days(20),
            tag_ids: e.tags.iter().map(|t| id_of(t)).collect(),
            frames: vec![NewFrame {
                fee: e.fee,
                closes_at: Some(e.starts),
                registrations: users
                    .iter()
                    .take(e.accepted)
                    .enumerate()
                    .map(|(i, u)| NewRegistration {
                        user_id: *u,
                        status: RegStatus::Confirmed,
                        receipt_code: format!("{}-{i}", e.title),
                        created_at: e.starts - Duration::days(5),
                    })
                    .collect(),
                ..NewFrame::first_come("一般", e.capacity)
            }],
            speakers: if e.speaker.is_empty() {
                vec![]
            } else {
                vec![NewSpeaker {
                    name: e.speaker.into(),
                    affiliation: String::new(),
                    bio: String::new(),
                    talk_title: String::new(),
                    user_id: None,
                }]
            },
            ..NewEvent::minimal(groups[e.group], e.title, e.starts)
        })
        .collect();
    store.insert_events(&new).await.unwrap()
}

fn query(qs: &str) -> SearchQuery {
    let pairs: Vec<(String, String)> = qs
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), urlencoding::decode(v).unwrap().into_owned())
        })
        .collect();
    SearchQuery::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).0
}

/// Fixture numbers (1-based) of the results, sorted.
async fn numbers(store: &DynStore, ids: &[i64], qs: &str) -> Vec<usize> {
    let r = store.search(&query(qs), now()).await.unwrap();
    assert_eq!(r.results.total as usize, r.results.items.len(), "{qs}: fixture fits one page");
    let mut n: Vec<usize> =
        r.results.items.iter().map(|c| ids.iter().position(|id| *id == c.id).unwrap() + 1).collect();
    n.sort();
    n
}

#[tokio::test]
async fn each_parameter_alone_and_in_combination() {
    #[rustfmt::skip]
    let table: &[(&str, &[usize])] = &[
        ("", &[1, 2, 3, 4, 5, 6, 9, 10]),
        // Keywords: case, width, scripts, short terms, fields beyond the title.
        ("q=rust", &[1]),
        ("q=ＲＵＳＴ", &[1]),
        ("q=ﾊﾝｽﾞｵﾝ", &[1, 10]),
        ("q=AI", &[2, 4]),
        ("q=機械", &[4]),
        ("q=教科書を一緒に読みます", &[4]),
        ("q=ferris", &[9]),
        ("q=gopher", &[9]),
        ("q=docker", &[1]),
        ("q=\"beginners meetup\"", &[3]),
        ("q=\"meetup beginners\"", &[]),
        ("q=rust -docker", &[]),
        ("q=会 -\"C#\"", &[2, 4, 6, 9]),
        ("q=c#", &[5]),
        ("q=rust 入門", &[1]),
        ("q=nothing-like-this", &[]),
        // Tags and tools: names, slugs, aliases; C# is not C.
        ("tags=C%23", &[5]),
        ("tags=C#", &[5]),
        ("tags=C", &[6]),
        ("tags=c-lang", &[6]),
        ("tags=AI", &[2, 4]),
        ("tags=生成AI", &[2, 4]),
        ("tags=AI,Python", &[]),
        ("tools=k8s", &[5, 10]),
        ("tools=Kubernetes&tags=C%23", &[5]),
        ("tags=JS&date=all", &[7]),
        // Dates (Saturday 28 Nov, noon in Tokyo).
        ("date=today", &[1]),
        ("date=tomorrow", &[2]),
        ("date=this-weekend", &[1, 2]),
        ("date=this-week", &[1, 2]),
        ("date=next-week", &[3, 5, 6]),
        ("date=this-month", &[1, 2]),
        ("date=next-month", &[3, 4, 5, 6, 10]),
        ("date=past", &[7]),
        ("date=all", &[1, 2, 3, 4, 5, 6, 7, 9, 10]),
        ("from=2026-12-01&to=2026-12-03", &[3, 5]),
        ("from=2026-12-09", &[4, 9, 10]),
        ("to=2026-11-29", &[1, 2, 7]),
        // Preferences.
        ("pref=free", &[1, 2, 4, 5, 6, 9, 10]),
        ("pref=online", &[2, 3, 4, 6, 9, 10]),
        ("pref=offline", &[1, 3, 5]),
        ("pref=available", &[2, 3, 4, 5, 6, 9, 10]),
        ("pref=english", &[3]),
        ("pref=beginner", &[1]),
        ("pref=weekend", &[1, 2, 9]),
        ("pref=evening", &[1, 3, 5, 6]),
        ("pref=hands-on", &[1, 10]),
        ("pref=hands-on,available", &[10]),
        ("pref=waitlist-ok", &[1, 2, 3, 4, 5, 6, 9, 10]),
        // Area and language.
        ("area=tokyo", &[1]),
        ("area=osaka", &[3]),
        ("area=online", &[2, 3, 4, 6, 9, 10]),
        ("lang=en", &[3]),
        ("lang=ja&area=fukuoka", &[5]),
        // Combinations.
        ("q=勉強会&pref=offline&date=next-week", &[5]),
        ("tools=k8s&pref=hands-on", &[10]),
    ];
    for (name, store, _db) in backends().await {
        let ids = load(&store).await;
        for (qs, expected) in table {
            assert_eq!(numbers(&store, &ids, qs).await, *expected, "{name}: {qs}");
        }
    }
}

#[tokio::test]
async fn malformed_and_unknown_values_are_reported_not_fatal() {
    for (name, store, _db) in backends().await {
        let ids = load(&store).await;
        let r = store.search(&query("tags=NoSuchTag&tools=Rust"), now()).await.unwrap();
        let warned: Vec<(&str, &str)> = r.warnings.iter().map(|w| (w.param.as_str(), w.value.as_str())).collect();
        assert_eq!(warned, [("tags", "NoSuchTag"), ("tools", "Rust")], "{name}: a topic is not a tool");
        assert_eq!(numbers(&store, &ids, "tags=NoSuchTag").await, numbers(&store, &ids, "").await);
        let (_, warnings) = SearchQuery::parse([("date", "soon"), ("page", "-1")]);
        assert_eq!(warnings.len(), 2);
        // Quotes and FTS syntax in keywords are text, not query language.
        for q in ["q=\"", "q=AND OR NOT", "q=*", "q=a\"b", "q=(rust", "q=-", "q=NEAR(a b)"] {
            store.search(&query(q), now()).await.unwrap_or_else(|e| panic!("{name}: {q}: {e}"));
        }
    }
}

#[tokio::test]
async fn sorts_and_pages() {
    for (name, store, _db) in backends().await {
        let ids = load(&store).await;
        let order = |qs: &'static str| {
            let store = store.clone();
            let ids = ids.clone();
            async move {
                let r = store.search(&query(qs), now()).await.unwrap();
                r.results.items.iter().map(|c| ids.iter().position(|id| *id == c.id).unwrap() + 1).collect::<Vec<_>>()
            }
        };
        assert_eq!(order("").await, [1, 2, 3, 5, 6, 4, 10, 9], "{name}: soonest first");
        assert_eq!(order("date=past").await, [7]);
        let popular = order("sort=popular").await;
        assert_eq!(&popular[..2], [9, 3], "{name}: most registrations first");
        let seats = order("sort=seats").await;
        assert_eq!(seats[0], 3, "{name}: 18 seats left");
        assert_eq!(*seats.last().unwrap(), 1, "{name}: the full one last");
        let r = store.search(&query("page=2"), now()).await.unwrap();
        assert!(r.results.items.is_empty());
        assert_eq!(r.results.total, 8);
    }
}

#[tokio::test]
async fn a_facet_count_equals_the_total_after_toggling_it() {
    for (name, store, _db) in backends().await {
        load(&store).await;
        for base in ["", "q=勉強会", "pref=free", "tags=AI", "date=next-month&pref=online", "tools=k8s&pref=hands-on"]
        {
            let r = store.search(&query(base), now()).await.unwrap();
            let q = r.query.clone();
            let check = |toggled: SearchQuery, expected: i64, what: String| {
                let store = store.clone();
                async move {
                    let t = store.search(&toggled, now()).await.unwrap();
                    assert_eq!(t.results.total, expected, "{name}: {base}: toggling {what}");
                }
            };
            for f in &r.facets.tags {
                let mut t = q.clone();
                if f.selected {
                    t.tags.retain(|x| *x != f.value.name)
                } else {
                    t.tags.push(f.value.name.clone())
                }
                check(t, f.count, format!("tag {}", f.value.name)).await;
            }
            for f in &r.facets.tools {
                let mut t = q.clone();
                if f.selected {
                    t.tools.retain(|x| *x != f.value.name)
                } else {
                    t.tools.push(f.value.name.clone())
                }
                check(t, f.count, format!("tool {}", f.value.name)).await;
            }
            for f in &r.facets.prefs {
                let p = tsudoi::search::model::Pref::parse(&f.value).unwrap();
                let mut t = q.clone();
                if f.selected {
                    t.prefs.retain(|x| *x != p)
                } else {
                    t.prefs.push(p)
                }
                check(t, f.count, format!("pref {}", f.value)).await;
            }
            for f in &r.facets.dates {
                let mut t = q.clone();
                t.date = tsudoi::search::model::DatePreset::parse(&f.value).unwrap();
                check(t, f.count, format!("date {}", f.value)).await;
            }
            // Every result satisfies every filter it was asked for.
            for card in &r.results.items {
                satisfies(card, &q, name, base);
            }
        }
    }
}

/// Checks one result card against the query (what a card can show: tags, tools, venue,
/// seats, time, keywords in the title or tags of this fixture).
fn satisfies(card: &tsudoi::events::model::EventCard, q: &SearchQuery, name: &str, base: &str) {
    use tsudoi::events::model::VenueKind::*;
    use tsudoi::search::model::{DatePreset, Pref};
    let ctx = format!("{name}: {base}: {}", card.title);
    for tag in q.tags.iter().chain(&q.tools) {
        assert!(card.tags.iter().any(|t| &t.name == tag), "{ctx} lacks {tag}");
    }
    for p in &q.prefs {
        match p {
            Pref::Online => assert!(matches!(card.venue_kind, Online | Hybrid), "{ctx}: online"),
            Pref::Offline => assert!(matches!(card.venue_kind, Offline | Hybrid), "{ctx}: offline"),
            Pref::Available => assert!(card.seats.accepted < card.seats.limit, "{ctx}: available"),
            _ => {}
        }
    }
    match q.date {
        DatePreset::Upcoming => assert!(card.span.ends_at > now(), "{ctx}: upcoming"),
        DatePreset::Past => assert!(card.span.ends_at <= now(), "{ctx}: past"),
        DatePreset::NextMonth => {
            assert!(
                card.span.starts_at >= jst(2026, 12, 1, 0, 0) && card.span.starts_at < jst(2027, 1, 1, 0, 0),
                "{ctx}"
            )
        }
        _ => {}
    }
    for term in q.terms() {
        let haystack =
            format!("{} {}", card.title, card.tags.iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(" "));
        let found = haystack.to_lowercase().contains(&term.text.to_lowercase());
        if term.exclude {
            assert!(!found, "{ctx}: excludes {}", term.text);
        }
    }
    assert_eq!(card.status, tsudoi::events::model::EventStatus::Published, "{ctx}: only published events");
}

/// `%`, `_` and `\` in keywords are plain characters on every backend (PostgreSQL matches
/// with LIKE, where they would otherwise be wildcards and the escape character).
#[tokio::test]
async fn like_wildcards_in_keywords_match_only_themselves() {
    let titles = ["100% Rust", "1000 Rust", "snake_case night", "snakeXcase night", "C:\\temp 読書会"];
    #[rustfmt::skip]
    let table: &[(&str, &[usize])] = &[
        ("q=100%25", &[1]),
        ("q=%25", &[1]),
        ("q=e_c", &[3]),
        ("q=_", &[3]),
        ("q=rust -%25", &[2]),
        ("q=%5C", &[5]),
        ("q=c%3A%5Ctemp", &[5]),
        ("q=%25%25", &[]),
    ];
    for (name, store, _db) in backends().await {
        let owner = store.insert_users(&[NewUser::attendee("w")]).await.unwrap()[0];
        let g = store
            .insert_groups(&[NewGroup {
                slug: "w".into(),
                title: "W".into(),
                description: String::new(),
                website: None,
                image_url: None,
                members: vec![(owner, Role::Owner)],
            }])
            .await
            .unwrap()[0];
        let new: Vec<NewEvent> = titles
            .iter()
            .enumerate()
            .map(|(i, t)| NewEvent::minimal(g, t, jst(2026, 12, 1 + i as u32, 19, 0)))
            .collect();
        let ids = store.insert_events(&new).await.unwrap();
        for (qs, expected) in table {
            assert_eq!(numbers(&store, &ids, qs).await, *expected, "{name}: {qs}");
        }
    }
}
