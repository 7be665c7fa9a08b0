//! Registration semantics on every backend: seats, waitlist, promotion, frames, lottery,
//! capacity changes, and a property test over random interleavings.

use chrono::{DateTime, Duration, TimeZone, Utc};
use proptest::prelude::*;
use tsudoi::admin::model::Role;
use tsudoi::error::AppError;
use tsudoi::events::model::{EventStatus, FrameMethod};
use tsudoi::messages::model::MessageKind;
use tsudoi::registrations::model::RegStatus;
use tsudoi::server::store::{
    DynStore, NewEvent, NewFrame, NewGroup, NewUser, Notice, Notices, Outbox, RegisterRequest, SeatGuard,
};

use crate::helpers::backends;

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 28, 3, 0, 0).unwrap()
}

fn frame(name: &str, capacity: i64, method: FrameMethod) -> NewFrame {
    NewFrame { method, ..NewFrame::first_come(name, capacity) }
}

/// `users` attendees, one group, one event starting tomorrow with the given frames.
async fn setup(store: &DynStore, users: usize, frames: Vec<NewFrame>) -> (Vec<i64>, i64, Vec<i64>) {
    let user_ids =
        store.insert_users(&(0..users).map(|i| NewUser::attendee(&format!("u{i}"))).collect::<Vec<_>>()).await.unwrap();
    let group = store
        .insert_groups(&[NewGroup {
            slug: "g".into(),
            title: "G".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![(user_ids[0], Role::Owner)],
        }])
        .await
        .unwrap()[0];
    let starts_at = now() + Duration::days(1);
    let event = store
        .insert_events(&[NewEvent {
            online_url: Some("https://meet.example/secret".into()),
            created_at: now() - Duration::days(3),
            frames,
            ..NewEvent::minimal(group, "Rush", starts_at)
        }])
        .await
        .unwrap()[0];
    let frame_ids = store.seat_snapshot(event).await.unwrap().unwrap().frames.iter().map(|f| f.id).collect();
    (user_ids, event, frame_ids)
}

fn req(event_id: i64, user_id: i64, frame_id: Option<i64>) -> RegisterRequest {
    RegisterRequest {
        event_id,
        user_id,
        frame_id,
        also: vec![],
        answers: vec![],
        anonymous: false,
        now: now(),
        guard: SeatGuard::Atomic,
        notices: Default::default(),
    }
}

async fn status_of(store: &DynStore, event: i64, user: i64) -> (RegStatus, Option<i64>) {
    let r = store.my_registration(event, user).await.unwrap().unwrap();
    (r.status, r.waitlist_position)
}

async fn assert_counters_match_rows(store: &DynStore, event: i64) {
    for c in store.counter_check(&[event]).await.unwrap() {
        assert_eq!(c.accepted_count, c.accepted_rows, "{c:?}");
        assert_eq!(c.waiting_count, c.waiting_rows, "{c:?}");
    }
}

#[tokio::test]
async fn first_come_fills_then_waitlists_in_order_and_cancel_promotes_the_head() {
    for (name, store, _db) in backends().await {
        let (users, event, _) = setup(&store, 5, vec![frame("一般", 2, FrameMethod::FirstCome)]).await;
        for u in &users[..4] {
            store.register(&req(event, *u, None)).await.unwrap();
        }
        assert_eq!(status_of(&store, event, users[0]).await, (RegStatus::Confirmed, None), "{name}");
        assert_eq!(status_of(&store, event, users[1]).await, (RegStatus::Confirmed, None));
        assert_eq!(status_of(&store, event, users[2]).await, (RegStatus::Waitlisted, Some(1)));
        assert_eq!(status_of(&store, event, users[3]).await, (RegStatus::Waitlisted, Some(2)));
        let snap = store.seat_snapshot(event).await.unwrap().unwrap();
        assert_eq!((snap.accepted, snap.limit, snap.waiting), (2, 2, 2));

        let change = store.cancel_registration(event, users[0], now()).await.unwrap();
        assert_eq!(change.promoted_user_ids, vec![users[2]], "{name}: the head of the waitlist");
        assert_eq!(status_of(&store, event, users[2]).await, (RegStatus::Confirmed, None));
        assert_eq!(status_of(&store, event, users[3]).await, (RegStatus::Waitlisted, Some(1)));
        assert_eq!(status_of(&store, event, users[0]).await.0, RegStatus::Cancelled);
        assert_counters_match_rows(&store, event).await;

        // Cancelling a waitlisted registration frees no seat.
        let change = store.cancel_registration(event, users[3], now()).await.unwrap();
        assert!(change.promoted_user_ids.is_empty());
        // Coming back after cancelling goes to the end of the queue.
        store.register(&req(event, users[0], None)).await.unwrap();
        assert_eq!(status_of(&store, event, users[0]).await, (RegStatus::Waitlisted, Some(1)));
        assert_counters_match_rows(&store, event).await;
    }
}

fn notice(kind: MessageKind, audience: &'static str) -> Notice {
    Notice { kind, audience: audience.into(), subject: format!("{audience} subject"), body: "body".into(), email: true }
}

fn notifying(event_id: i64, user_id: i64) -> RegisterRequest {
    RegisterRequest {
        notices: Notices {
            registrant: Some(notice(MessageKind::Confirmation, "user")),
            promoted: Some(notice(MessageKind::Promotion, "promoted")),
        },
        ..req(event_id, user_id, None)
    }
}

async fn kinds(store: &DynStore, user: i64) -> Vec<MessageKind> {
    store.inbox(user, 50).await.unwrap().into_iter().map(|m| m.kind).collect()
}

/// The outbox: a registration's confirmation and the promotion its cancellation causes are
/// written by the write itself (on SQLite's one-statement fast path, its full path and
/// PostgreSQL alike), so they are there the moment it answers, and a refused write leaves none.
#[tokio::test]
async fn a_registration_writes_its_confirmation_and_a_cancellation_its_promotion() {
    for fast in [true, false] {
        for (name, store, _db) in backends().await {
            store.set_sqlite_fast_path(fast);
            let (users, event, _) = setup(&store, 3, vec![frame("一般", 1, FrameMethod::FirstCome)]).await;
            store.register(&notifying(event, users[1])).await.unwrap();
            store.register(&notifying(event, users[2])).await.unwrap();
            assert_eq!(kinds(&store, users[1]).await, vec![MessageKind::Confirmation], "{name} fast={fast}");
            assert_eq!(kinds(&store, users[2]).await, vec![MessageKind::Confirmation], "{name}: waitlisted too");
            // Refused (already registered): no second confirmation.
            assert!(store.register(&notifying(event, users[2])).await.is_err());
            assert_eq!(kinds(&store, users[2]).await.len(), 1, "{name} fast={fast}");
            let outbox = Outbox { public_url: "https://tsudoi.test".into(), email: true };
            let change = store.cancel_registration_notifying(event, users[1], now(), Some(&outbox)).await.unwrap();
            assert_eq!(change.promoted_user_ids, vec![users[2]]);
            assert_eq!(kinds(&store, users[2]).await, vec![MessageKind::Promotion, MessageKind::Confirmation]);
            // Nobody waits now: cancelling frees a seat for no one, and writes no promotion.
            store.cancel_registration_notifying(event, users[2], now(), Some(&outbox)).await.unwrap();
            assert_eq!(kinds(&store, users[1]).await, vec![MessageKind::Confirmation], "{name} fast={fast}");
            assert_eq!(kinds(&store, users[0]).await, vec![], "{name}: the organizer got nothing");
            // These users have no address: every delivery row says so, none waits for SMTP.
            let queued: i64 = store.mail_queue_counts().await.unwrap().iter().map(|(_, n)| n).sum();
            assert_eq!(queued, 0, "{name} fast={fast}");
            // One with an address: the confirmation waits for SMTP once.
            let with_mail = NewUser { email: Some("m@example.com".into()), ..NewUser::attendee("m") };
            let m = store.insert_users(&[with_mail]).await.unwrap()[0];
            store.register(&notifying(event, m)).await.unwrap();
            let pending = store.mail_queue_counts().await.unwrap().into_iter().find(|(s, _)| *s == "pending");
            assert_eq!(pending, Some(("pending", 1)), "{name} fast={fast}");
        }
    }
}

/// The workers' claims and the organizers' changes write their messages in the same
/// transaction too: a claimed reminder is a stored reminder (and never twice), and a
/// cancellation tells everyone registered once, however often it is repeated.
#[tokio::test]
async fn claims_and_changes_write_their_messages_with_themselves() {
    let outbox = Outbox { public_url: "https://tsudoi.test".into(), email: false };
    for (name, store, _db) in backends().await {
        let (users, event, _) = setup(&store, 4, vec![frame("一般", 2, FrameMethod::FirstCome)]).await;
        for u in &users[1..] {
            store.register(&req(event, *u, None)).await.unwrap();
        }
        let window = Duration::hours(24) + Duration::minutes(1);
        assert_eq!(store.send_due_reminders(now(), window, Some(&outbox)).await.unwrap(), vec![event], "{name}");
        assert_eq!(store.send_due_reminders(now(), window, Some(&outbox)).await.unwrap(), Vec::<i64>::new());
        assert_eq!(kinds(&store, users[1]).await, vec![MessageKind::Reminder], "{name}: confirmed, reminded once");
        assert_eq!(kinds(&store, users[3]).await, vec![], "{name}: the waitlist is not reminded");
        let reminder = &store.inbox(users[2], 1).await.unwrap()[0];
        assert!(reminder.body.contains(&format!("https://tsudoi.test/events/{event}")), "{}", reminder.body);

        for _ in 0..2 {
            store.set_event_status(event, EventStatus::Cancelled, now(), &outbox).await.unwrap();
        }
        assert_eq!(kinds(&store, users[1]).await, vec![MessageKind::EventCancelled, MessageKind::Reminder], "{name}");
        assert_eq!(kinds(&store, users[3]).await, vec![MessageKind::EventCancelled], "{name}: waiting, told too");
        assert_eq!(kinds(&store, users[0]).await, vec![], "{name}: not registered");
    }
}

#[tokio::test]
async fn one_registration_per_user_per_event() {
    for (name, store, _db) in backends().await {
        let (users, event, _) = setup(&store, 1, vec![frame("一般", 5, FrameMethod::FirstCome)]).await;
        store.register(&req(event, users[0], None)).await.unwrap();
        let again = store.register(&req(event, users[0], None)).await;
        assert_eq!(again.unwrap_err(), AppError::Conflict(tsudoi::error::Conflict::AlreadyRegistered), "{name}");
        assert_counters_match_rows(&store, event).await;
    }
}

#[tokio::test]
async fn switching_frames_releases_the_old_seat_and_follows_the_new_frames_rules() {
    for (name, store, _db) in backends().await {
        let (users, event, frames) =
            setup(&store, 3, vec![frame("一般", 1, FrameMethod::FirstCome), frame("学生", 1, FrameMethod::FirstCome)])
                .await;
        store.register(&req(event, users[0], Some(frames[0]))).await.unwrap();
        store.register(&req(event, users[1], Some(frames[0]))).await.unwrap();
        store.register(&req(event, users[2], Some(frames[1]))).await.unwrap();
        // users[0] moves to the full 学生 frame: waitlisted there, and users[1] is promoted.
        let change = store.register(&req(event, users[0], Some(frames[1]))).await.unwrap();
        assert_eq!(change.promoted_user_ids, vec![users[1]], "{name}");
        let mine = change.registration.unwrap();
        assert_eq!((mine.frame_id, mine.status), (frames[1], RegStatus::Waitlisted));
        assert_eq!(status_of(&store, event, users[1]).await.0, RegStatus::Confirmed);
        assert_counters_match_rows(&store, event).await;
    }
}

#[tokio::test]
async fn a_frame_is_required_when_there_are_several_and_must_belong_to_the_event() {
    for (_, store, _db) in backends().await {
        let (users, event, _) =
            setup(&store, 1, vec![frame("A", 1, FrameMethod::FirstCome), frame("B", 1, FrameMethod::FirstCome)]).await;
        let err = store.register(&req(event, users[0], None)).await.unwrap_err();
        assert_eq!(err.field_code("frame_id"), Some("required"));
        let err = store.register(&req(event, users[0], Some(999_999))).await.unwrap_err();
        assert_eq!(err.field_code("frame_id"), Some("unknown_frame"));
    }
}

#[tokio::test]
async fn registration_respects_the_window_and_the_event_state() {
    for (_, store, _db) in backends().await {
        let mut f = frame("一般", 5, FrameMethod::FirstCome);
        f.opens_at = Some(now() + Duration::hours(1));
        let (users, event, _) = setup(&store, 2, vec![f]).await;
        assert_eq!(
            store.register(&req(event, users[0], None)).await.unwrap_err(),
            AppError::Conflict(tsudoi::error::Conflict::RegistrationNotOpen)
        );
        let mut later = req(event, users[0], None);
        later.now = now() + Duration::hours(2);
        store.register(&later).await.unwrap();
        let mut after_start = req(event, users[1], None);
        after_start.now = now() + Duration::days(2);
        assert_eq!(
            store.register(&after_start).await.unwrap_err(),
            AppError::Conflict(tsudoi::error::Conflict::RegistrationClosed)
        );
        assert_eq!(
            store.cancel_registration(event, users[0], now() + Duration::days(2)).await.unwrap_err(),
            AppError::Conflict(tsudoi::error::Conflict::CancellationClosed)
        );
        assert_eq!(store.register(&req(123_456, users[1], None)).await.unwrap_err(), AppError::NotFound);
    }
}

#[tokio::test]
async fn raising_capacity_promotes_and_lowering_below_confirmed_is_refused() {
    for (name, store, _db) in backends().await {
        let (users, event, frames) = setup(&store, 5, vec![frame("一般", 2, FrameMethod::FirstCome)]).await;
        for u in &users {
            store.register(&req(event, *u, None)).await.unwrap();
        }
        assert_eq!(
            store.set_capacity(event, frames[0], 1, now()).await.unwrap_err(),
            AppError::Conflict(tsudoi::error::Conflict::CapacityBelowConfirmed { confirmed: 2 }),
            "{name}"
        );
        let change = store.set_capacity(event, frames[0], 4, now()).await.unwrap();
        assert_eq!(change.promoted_user_ids, vec![users[2], users[3]], "{name}: in waitlist order");
        assert_eq!(status_of(&store, event, users[4]).await, (RegStatus::Waitlisted, Some(1)));
        assert_counters_match_rows(&store, event).await;
    }
}

#[tokio::test]
async fn a_lottery_is_drawn_exactly_once_re_derivably_then_runs_first_come() {
    for (name, store, _db) in backends().await {
        let mut f = frame("抽選枠", 3, FrameMethod::Lottery);
        f.closes_at = Some(now() + Duration::hours(12));
        let (users, event, frames) = setup(&store, 8, vec![f]).await;
        for u in &users[..6] {
            let r = store.register(&req(event, *u, None)).await.unwrap().registration.unwrap();
            assert!(r.lottery_pending, "{name}: applications wait for the draw");
            assert_eq!(r.status, RegStatus::Waitlisted);
        }
        assert_eq!(store.seat_snapshot(event).await.unwrap().unwrap().accepted, 0);

        let outcome = store.draw_lottery(frames[0], 42, now()).await.unwrap().expect("first draw");
        assert_eq!(outcome.winners, 3);
        assert_eq!(outcome.order.len(), 6);
        assert!(store.draw_lottery(frames[0], 7, now()).await.unwrap().is_none(), "{name}: exactly once");
        // Anyone with the seed re-derives the same order from the application order.
        let mut applications = outcome.order.clone();
        applications.sort();
        assert_eq!(tsudoi::server::store::drawn_order(&applications, 42), outcome.order, "{name}");

        let snap = store.seat_snapshot(event).await.unwrap().unwrap();
        assert_eq!((snap.accepted, snap.waiting), (3, 3));
        assert_counters_match_rows(&store, event).await;
        // After the draw: full, so a newcomer is waitlisted behind the drawn losers; a
        // winner cancelling promotes the first loser in drawn order.
        store.register(&req(event, users[6], None)).await.unwrap();
        assert_eq!(status_of(&store, event, users[6]).await, (RegStatus::Waitlisted, Some(4)));
        let mut winner = None;
        let mut first_loser = None;
        for u in &users[..6] {
            match status_of(&store, event, *u).await {
                (RegStatus::Confirmed, _) => winner = Some(*u),
                (RegStatus::Waitlisted, Some(1)) => first_loser = Some(*u),
                _ => {}
            }
        }
        let change = store.cancel_registration(event, winner.unwrap(), now()).await.unwrap();
        assert_eq!(change.promoted_user_ids, vec![first_loser.unwrap()], "{name}");
        assert!(store.due_draws(now() + Duration::days(9)).await.unwrap().is_empty());
    }
}

#[tokio::test]
async fn due_draws_lists_only_undrawn_lotteries_whose_time_has_come() {
    for (name, store, _db) in backends().await {
        let mut lottery = frame("A", 2, FrameMethod::Lottery);
        lottery.draw_at = Some(now() + Duration::hours(1));
        let mut first_come = frame("B", 2, FrameMethod::FirstCome);
        first_come.draw_at = Some(now());
        let (_, event, frames) = setup(&store, 1, vec![lottery, first_come]).await;
        assert!(store.due_draws(now()).await.unwrap().is_empty(), "{name}: not yet");
        let due = store.due_draws(now() + Duration::hours(1)).await.unwrap();
        assert_eq!(due.len(), 1, "{name}: only the lottery frame");
        assert_eq!((due[0].frame_id, due[0].event_id), (frames[0], event));
        store.draw_lottery(frames[0], 1, now() + Duration::hours(1)).await.unwrap().unwrap();
        assert!(store.due_draws(now() + Duration::hours(2)).await.unwrap().is_empty(), "{name}: drawn");
    }
}

// --- property test -------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Op {
    Register { user: usize, frame: usize },
    Cancel { user: usize },
    Capacity { frame: usize, capacity: i64 },
    Draw,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        5 => (0..12usize, 0..3usize).prop_map(|(user, frame)| Op::Register { user, frame }),
        2 => (0..12usize).prop_map(|user| Op::Cancel { user }),
        1 => (0..3usize, 1..6i64).prop_map(|(frame, capacity)| Op::Capacity { frame, capacity }),
        1 => Just(Op::Draw),
    ]
}

/// Invariants after every operation: confirmed ≤ capacity, counters equal rows, and a
/// first-come (or drawn) frame never has free seats while someone waits.
async fn check_invariants(store: &DynStore, event: i64) -> Result<(), TestCaseError> {
    let snap = store.seat_snapshot(event).await.unwrap().unwrap();
    let detail = store.fetch_event(event).await.unwrap().unwrap();
    for f in &snap.frames {
        prop_assert!(f.accepted <= f.limit, "oversold: {f:?}");
        let summary = detail.frames.iter().find(|s| s.id == f.id).unwrap();
        let promotes = summary.method == FrameMethod::FirstCome || summary.drawn;
        if promotes {
            prop_assert!(f.accepted == f.limit || f.waiting == 0, "free seat while waiting: {f:?}");
        }
    }
    for c in store.counter_check(&[event]).await.unwrap() {
        prop_assert_eq!(c.accepted_count, c.accepted_rows);
        prop_assert_eq!(c.waiting_count, c.waiting_rows);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn random_interleavings_keep_the_seat_invariants(ops in proptest::collection::vec(op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            for (_, store, _db) in backends().await {
                let (users, event, frames) = setup(
                    &store,
                    12,
                    vec![
                        frame("A", 2, FrameMethod::FirstCome),
                        frame("B", 3, FrameMethod::FirstCome),
                        frame("L", 2, FrameMethod::Lottery),
                    ],
                )
                .await;
                for op in &ops {
                    // Each frame's waitlist in queue order, to check that promotions take its head.
                    let rows = store.list_registrations(event).await.unwrap();
                    let queues: Vec<Vec<i64>> = frames
                        .iter()
                        .map(|f| {
                            rows.iter()
                                .filter(|r| r.frame_id == *f && r.status == RegStatus::Waitlisted)
                                .map(|r| r.user_id)
                                .collect()
                        })
                        .collect();
                    let result = match op {
                        Op::Register { user, frame } => store.register(&req(event, users[*user], Some(frames[*frame]))).await,
                        Op::Cancel { user } => store.cancel_registration(event, users[*user], now()).await,
                        Op::Capacity { frame, capacity } => store.set_capacity(event, frames[*frame], *capacity, now()).await,
                        Op::Draw => store.draw_lottery(frames[2], 99, now()).await.map(|_| {
                            tsudoi::server::store::RegistrationChange { event_id: event, registration: None, promoted_user_ids: vec![] }
                        }),
                    };
                    match result {
                        Ok(change) => {
                            let promoted = &change.promoted_user_ids;
                            prop_assert!(
                                promoted.is_empty() || queues.iter().any(|q| q.starts_with(promoted)),
                                "promoted {promoted:?} is not the head of a waitlist {queues:?}"
                            );
                        }
                        Err(AppError::Conflict(_)) | Err(AppError::Invalid(_)) => {}
                        Err(other) => prop_assert!(false, "unexpected error {other:?} for {op:?}"),
                    }
                    check_invariants(&store, event).await?;
                }
            }
            Ok(())
        })?;
    }
}

/// Many writers at once on a multi-threaded runtime: the seat guard and the queue hold on
/// every backend (PostgreSQL runs these in parallel transactions, not one file lock).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_registrations_and_draws_never_oversell_and_draw_once() {
    for (name, store, _db) in backends().await {
        let mut lottery = frame("L", 5, FrameMethod::Lottery);
        lottery.closes_at = Some(now() + Duration::hours(12));
        let (users, event, frames) = setup(&store, 120, vec![frame("A", 40, FrameMethod::FirstCome), lottery]).await;
        let tasks: Vec<_> = users
            .iter()
            .enumerate()
            .map(|(i, u)| {
                let (store, frame) = (store.clone(), if i % 6 == 5 { frames[1] } else { frames[0] });
                let u = *u;
                tokio::spawn(async move { store.register(&req(event, u, Some(frame))).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap_or_else(|e| panic!("{name}: {e:?}"));
        }
        let rows = store.list_registrations(event).await.unwrap();
        let in_a: Vec<_> = rows.iter().filter(|r| r.frame_id == frames[0]).collect();
        let confirmed = in_a.iter().filter(|r| r.status == RegStatus::Confirmed).count();
        assert_eq!((confirmed, in_a.len()), (40, 100), "{name}");
        let mut positions: Vec<i64> = in_a.iter().map(|r| r.position).collect();
        positions.dedup();
        assert_eq!(positions, (1..=100).collect::<Vec<_>>(), "{name}: one place each, in arrival order");
        let last_confirmed = in_a.iter().filter(|r| r.status == RegStatus::Confirmed).map(|r| r.position).max();
        let first_waiting = in_a.iter().filter(|r| r.status == RegStatus::Waitlisted).map(|r| r.position).min();
        assert!(last_confirmed < first_waiting, "{name}: nobody overtook the waitlist");
        assert_counters_match_rows(&store, event).await;

        let draws: Vec<_> = (0..8u64)
            .map(|seed| {
                let store = store.clone();
                let frame = frames[1];
                tokio::spawn(async move { store.draw_lottery(frame, seed, now()).await })
            })
            .collect();
        let mut drawn = 0;
        for d in draws {
            if let Some(outcome) = d.await.unwrap().unwrap() {
                drawn += 1;
                assert_eq!((outcome.winners, outcome.order.len()), (5, 20), "{name}");
            }
        }
        assert_eq!(drawn, 1, "{name}: a lottery is drawn exactly once");
        assert_counters_match_rows(&store, event).await;
    }
}

// --- the SQLite fast path answers as the full path does ------------------------------

#[derive(Debug, Clone)]
enum FastOp {
    /// `frame`: an index into the event's frames, or none named.
    Register {
        user: usize,
        event: usize,
        frame: Option<usize>,
    },
    Cancel {
        user: usize,
        event: usize,
    },
    Capacity {
        frame: usize,
        capacity: i64,
    },
    Draw,
}

fn fast_op() -> impl Strategy<Value = FastOp> {
    prop_oneof![
        6 => (0..10usize, 0..2usize, proptest::option::of(0..4usize))
            .prop_map(|(user, event, frame)| FastOp::Register { user, event, frame }),
        2 => (0..10usize, 0..2usize).prop_map(|(user, event)| FastOp::Cancel { user, event }),
        1 => (0..5usize, 0..4i64).prop_map(|(frame, capacity)| FastOp::Capacity { frame, capacity }),
        1 => Just(FastOp::Draw),
    ]
}

/// Two events: one with a first-come frame, a frame not open yet, a lottery and a frame
/// of another event's id range; one with a single frame (found without being named).
async fn fast_setup(store: &DynStore) -> (Vec<i64>, [i64; 2], Vec<Vec<i64>>) {
    let (users, first, frames) = setup(
        store,
        10,
        vec![
            frame("A", 2, FrameMethod::FirstCome),
            NewFrame { opens_at: Some(now() + Duration::hours(1)), ..frame("Later", 3, FrameMethod::FirstCome) },
            frame("L", 2, FrameMethod::Lottery),
        ],
    )
    .await;
    let group = store
        .insert_groups(&[NewGroup {
            slug: "g2".into(),
            title: "G2".into(),
            description: String::new(),
            website: None,
            image_url: None,
            members: vec![],
        }])
        .await
        .unwrap()[0];
    let second = store
        .insert_events(&[NewEvent {
            frames: vec![frame("Only", 1, FrameMethod::FirstCome)],
            ..NewEvent::minimal(group, "Single", now() + Duration::days(2))
        }])
        .await
        .unwrap()[0];
    let single = store.seat_snapshot(second).await.unwrap().unwrap().frames.iter().map(|f| f.id).collect();
    (users, [first, second], vec![frames, single])
}

/// What an answer says, without the random receipt code.
fn outcome(r: Result<tsudoi::server::store::RegistrationChange, AppError>) -> String {
    match r {
        Ok(mut change) => {
            if let Some(reg) = change.registration.as_mut() {
                reg.receipt_code.clear();
            }
            format!("{change:?}")
        }
        Err(e) => format!("error {e:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The SQLite fast path (one round trip for the common case) is an optimisation of the
    /// rules in `registrations::rules`, not a second copy of them: the same operations with
    /// and without it give the same answers, errors included, and the same rows.
    #[test]
    fn the_sqlite_fast_path_answers_exactly_as_the_full_path(ops in proptest::collection::vec(fast_op(), 1..40)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async {
            let (fast, _fast_db) = crate::helpers::fresh_sqlite().await;
            let (full, _full_db) = crate::helpers::fresh_sqlite().await;
            full.set_sqlite_fast_path(false);
            let (users, events, frames) = fast_setup(&fast).await;
            prop_assert_eq!((users.clone(), events, frames.clone()), fast_setup(&full).await);
            let all_frames: Vec<i64> = frames.concat();
            for op in &ops {
                let mut answers = Vec::new();
                for store in [&fast, &full] {
                    let answer = match op {
                        FastOp::Register { user, event, frame } => {
                            let frame_id = frame.map(|f| all_frames[f % all_frames.len()]);
                            store.register(&req(events[*event], users[*user], frame_id)).await
                        }
                        FastOp::Cancel { user, event } => store.cancel_registration(events[*event], users[*user], now()).await,
                        FastOp::Capacity { frame, capacity } => {
                            let frame_id = all_frames[*frame % all_frames.len()];
                            let event = events[frames.iter().position(|fs| fs.contains(&frame_id)).unwrap()];
                            store.set_capacity(event, frame_id, *capacity, now()).await
                        }
                        FastOp::Draw => store.draw_lottery(frames[0][2], 7, now()).await.map(|_| {
                            tsudoi::server::store::RegistrationChange { event_id: events[0], registration: None, promoted_user_ids: vec![] }
                        }),
                    };
                    answers.push(outcome(answer));
                }
                prop_assert_eq!(&answers[0], &answers[1], "{:?}", op);
            }
            for event in events {
                let rows = |store: &DynStore| {
                    let store = store.clone();
                    async move {
                        store.list_registrations(event).await.unwrap().into_iter()
                            .map(|r| (r.user_id, r.frame_id, r.status, r.position)).collect::<Vec<_>>()
                    }
                };
                prop_assert_eq!(rows(&fast).await, rows(&full).await);
                assert_counters_match_rows(&fast, event).await;
            }
            Ok(())
        })?;
    }
}
