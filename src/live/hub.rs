//! One `watch` channel per event that someone is watching. A watch holds only the latest
//! value, so a slow subscriber can never fall behind: it simply gets the newest snapshot
//! (never a stale diff).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::registrations::model::SeatSnapshot;
use crate::server::store::DynStore;

type Slot = watch::Sender<Option<Arc<SeatSnapshot>>>;

pub struct LiveHub {
    store: DynStore,
    channels: Mutex<HashMap<i64, Slot>>,
    limits: StreamLimits,
    open: Mutex<OpenStreams>,
}

/// How many seat streams one instance holds: per client (an IPv4 address or an IPv6 /64,
/// behind a trusted proxy the address it reports) and in all. Beyond either, a new stream
/// gets 503 with `Retry-After`; the page works on without live updates and its
/// `EventSource` tries again later.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamLimits {
    pub per_client: usize,
    pub total: usize,
}

impl Default for StreamLimits {
    fn default() -> Self {
        // A venue's Wi-Fi puts a whole audience behind one address: room for it.
        StreamLimits { per_client: 200, total: 20_000 }
    }
}

/// Open streams, counted per client and in all.
#[derive(Default)]
struct OpenStreams {
    total: usize,
    per_client: HashMap<IpAddr, usize>,
}

/// One open stream; dropping it (the client went away) frees its place.
pub struct StreamPermit {
    hub: Arc<LiveHub>,
    client: IpAddr,
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.hub.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.per_client.get_mut(&self.client) {
            *n -= 1;
            if *n == 0 {
                open.per_client.remove(&self.client);
            }
        }
    }
}

impl LiveHub {
    pub fn new(store: DynStore, limits: StreamLimits) -> Self {
        LiveHub { store, channels: Mutex::new(HashMap::new()), limits, open: Mutex::default() }
    }

    /// A place for one more stream of `client` (see [`StreamLimits`]), or `None` when it
    /// or the instance holds as many as allowed.
    pub fn open_stream(self: &Arc<Self>, client: IpAddr) -> Option<StreamPermit> {
        let client = crate::server::client_ip::limit_key(client);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let mine = open.per_client.get(&client).copied().unwrap_or(0);
        if open.total >= self.limits.total || mine >= self.limits.per_client {
            return None;
        }
        open.total += 1;
        *open.per_client.entry(client).or_insert(0) += 1;
        Some(StreamPermit { hub: Arc::clone(self), client })
    }

    /// Streams open now (for tests and metrics).
    pub fn open_streams(&self) -> usize {
        self.open.lock().unwrap_or_else(|p| p.into_inner()).total
    }

    /// Drops the channel of an event nobody receives from (an id that named no event: it
    /// must not leave a channel behind).
    pub fn forget_if_idle(&self, event_id: i64) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        if channels.get(&event_id).is_some_and(|s| s.receiver_count() == 0) {
            channels.remove(&event_id);
        }
    }

    /// A receiver for an event's snapshots (the current one is fetched by the caller).
    pub fn subscribe(&self, event_id: i64) -> watch::Receiver<Option<Arc<SeatSnapshot>>> {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.entry(event_id).or_insert_with(|| watch::channel(None).0).subscribe()
    }

    /// Re-reads the event's seats and hands the snapshot to its subscribers (if any).
    /// Called after every committed change to registrations or capacities.
    pub async fn publish(&self, event_id: i64) {
        // Other instances on the same database (PostgreSQL) hear of it and publish too.
        if let Err(err) = self.store.announce_seats(event_id).await {
            tracing::warn!(event_id, error = %err, "seat change not announced to other instances");
        }
        self.publish_local(event_id).await;
    }

    /// [`publish`](Self::publish) for this instance's subscribers only (used for changes
    /// other instances announce).
    pub async fn publish_local(&self, event_id: i64) {
        let has_subscribers = {
            let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
            channels.get(&event_id).is_some_and(|s| s.receiver_count() > 0)
        };
        if !has_subscribers {
            return;
        }
        match self.store.seat_snapshot(event_id).await {
            Ok(Some(snapshot)) => {
                let channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
                if let Some(slot) = channels.get(&event_id) {
                    slot.send_replace(Some(Arc::new(snapshot)));
                }
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(event_id, error = %err, "live snapshot failed"),
        }
    }

    /// Drops channels nobody listens to any more (called periodically).
    pub fn prune(&self) {
        let mut channels = self.channels.lock().unwrap_or_else(|p| p.into_inner());
        channels.retain(|_, slot| slot.receiver_count() > 0);
    }

    /// Number of events with at least one channel (for tests and metrics).
    pub fn channel_count(&self) -> usize {
        self.channels.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
}
