//! One `watch` channel per event that someone is watching. A watch holds only the latest
//! value, so a slow subscriber can never fall behind: it simply gets the newest snapshot
//! (never a stale diff).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::watch;

use crate::registrations::model::SeatSnapshot;
use crate::server::store::DynStore;

type Slot = watch::Sender<Option<Arc<SeatSnapshot>>>;

pub struct LiveHub {
    store: DynStore,
    channels: Mutex<HashMap<i64, Slot>>,
}

impl LiveHub {
    pub fn new(store: DynStore) -> Self {
        LiveHub { store, channels: Mutex::new(HashMap::new()) }
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
