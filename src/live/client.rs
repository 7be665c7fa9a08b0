//! The browser side of live seats: one `EventSource` per list (or event page) feeding a
//! map of snapshots that seat meters read. Reconnects with exponential backoff and, when
//! streams keep failing, falls back to polling. On the server this only provides the
//! (empty) map, so SSR and hydration render the same numbers.

use std::collections::HashMap;

use leptos::prelude::*;

use crate::events::model::Seats;
use crate::registrations::model::SeatSnapshot;

/// Latest snapshots by event id, for the components below the provider.
#[derive(Clone, Copy)]
pub struct LiveSeats(pub RwSignal<HashMap<i64, SeatSnapshot>>);

/// Opens one live stream for `ids` (in the browser) and provides its snapshots.
pub fn provide_live_seats(ids: Vec<i64>) -> LiveSeats {
    let live = LiveSeats(RwSignal::new(HashMap::new()));
    provide_context(live);
    #[cfg(feature = "hydrate")]
    if !ids.is_empty() {
        browser::connect(ids, live.0);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = ids;
    live
}

/// Event seats: the live snapshot when one arrived, `initial` until then.
pub fn live_event_seats(event_id: i64, initial: Seats) -> Signal<Seats> {
    let live = use_context::<LiveSeats>();
    Signal::derive(move || {
        live.and_then(|l| {
            l.0.with(|m| m.get(&event_id).map(|s| Seats { accepted: s.accepted, limit: s.limit, waiting: s.waiting }))
        })
        .unwrap_or(initial)
    })
}

/// Frame seats: the live snapshot when one arrived, `initial` until then.
pub fn live_frame_seats(event_id: i64, frame_id: i64, initial: Seats) -> Signal<Seats> {
    let live = use_context::<LiveSeats>();
    Signal::derive(move || {
        live.and_then(|l| {
            l.0.with(|m| {
                m.get(&event_id).and_then(|s| s.frames.iter().find(|f| f.id == frame_id)).map(|f| Seats {
                    accepted: f.accepted,
                    limit: f.limit,
                    waiting: f.waiting,
                })
            })
        })
        .unwrap_or(initial)
    })
}

#[cfg(feature = "hydrate")]
mod browser {
    use std::cell::{Cell, RefCell};
    use std::collections::HashMap;
    use std::rc::Rc;

    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{EventSource, MessageEvent};

    use crate::registrations::model::SeatSnapshot;

    /// After this many failures in a row, stop reconnecting and poll instead.
    const MAX_FAILURES: u32 = 6;
    const POLL_MS: u32 = 10_000;

    type Handler = Closure<dyn FnMut(web_sys::Event)>;

    struct Conn {
        source: RefCell<Option<EventSource>>,
        /// Kept alive as long as the EventSource uses them; dropped on close.
        handlers: RefCell<Vec<Handler>>,
        failures: Cell<u32>,
        disposed: Cell<bool>,
        url: String,
        ids: String,
        seats: RwSignal<HashMap<i64, SeatSnapshot>>,
    }

    fn apply(seats: RwSignal<HashMap<i64, SeatSnapshot>>, snapshot: SeatSnapshot) {
        seats.update(|m| {
            m.insert(snapshot.event_id, snapshot);
        });
    }

    fn close(conn: &Conn) {
        if let Some(es) = conn.source.borrow_mut().take() {
            es.close();
        }
        conn.handlers.borrow_mut().clear();
    }

    fn open(conn: Rc<Conn>) {
        if conn.disposed.get() {
            return;
        }
        let Ok(es) = EventSource::new(&conn.url) else {
            schedule_retry(conn);
            return;
        };
        let seats = conn.seats;
        let on_seats = Handler::new(move |e: web_sys::Event| {
            let Some(msg) = e.dyn_ref::<MessageEvent>() else { return };
            if let Some(text) = msg.data().as_string()
                && let Ok(snapshot) = serde_json::from_str::<SeatSnapshot>(&text)
            {
                apply(seats, snapshot);
            }
        });
        // The instance is stopping (a restart, a deploy): come back after the delay it asks
        // for, without counting a failure.
        let restarting = Rc::clone(&conn);
        let on_restart = Handler::new(move |e: web_sys::Event| {
            let delay = e.dyn_ref::<MessageEvent>().and_then(|m| m.data().as_string()).and_then(|d| d.parse().ok());
            close(&restarting);
            restarting.failures.set(0);
            let again = Rc::clone(&restarting);
            gloo_timers::callback::Timeout::new(delay.unwrap_or(2_000u32).min(30_000), move || open(again)).forget();
        });
        let opened = Rc::clone(&conn);
        let on_open = Handler::new(move |_| opened.failures.set(0));
        let failed = Rc::clone(&conn);
        let on_error = Handler::new(move |_| {
            close(&failed);
            schedule_retry(Rc::clone(&failed));
        });
        let _ = es.add_event_listener_with_callback("seats", on_seats.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("restart", on_restart.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("open", on_open.as_ref().unchecked_ref());
        let _ = es.add_event_listener_with_callback("error", on_error.as_ref().unchecked_ref());
        *conn.source.borrow_mut() = Some(es);
        *conn.handlers.borrow_mut() = vec![on_seats, on_restart, on_open, on_error];
    }

    /// Exponential backoff (0.5 s, 1 s, 2 s … capped at 30 s); after MAX_FAILURES, poll.
    fn schedule_retry(conn: Rc<Conn>) {
        if conn.disposed.get() {
            return;
        }
        let failures = conn.failures.get() + 1;
        conn.failures.set(failures);
        if failures > MAX_FAILURES {
            leptos::task::spawn_local(poll(conn));
            return;
        }
        let delay = (500u32 << (failures - 1).min(6)).min(30_000);
        gloo_timers::callback::Timeout::new(delay, move || open(conn)).forget();
    }

    async fn poll(conn: Rc<Conn>) {
        while !conn.disposed.get() {
            if let Ok(snapshots) = crate::registrations::api::seat_snapshots(conn.ids.clone()).await {
                for s in snapshots {
                    apply(conn.seats, s);
                }
            }
            gloo_timers::future::TimeoutFuture::new(POLL_MS).await;
        }
    }

    pub fn connect(ids: Vec<i64>, seats: RwSignal<HashMap<i64, SeatSnapshot>>) {
        let ids = ids.iter().map(|i| i.to_string()).collect::<Vec<_>>().join(",");
        let conn = Rc::new(Conn {
            source: RefCell::new(None),
            handlers: RefCell::new(Vec::new()),
            failures: Cell::new(0),
            disposed: Cell::new(false),
            url: format!("/live/events?ids={ids}"),
            ids,
            seats,
        });
        open(Rc::clone(&conn));
        let guard = SendWrapper::new(conn);
        on_cleanup(move || {
            guard.disposed.set(true);
            close(&guard);
        });
    }
}
