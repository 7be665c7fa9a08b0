//! Graceful shutdown. On SIGTERM or Ctrl-C, `startup::run` stops accepting connections and
//! begins the shutdown here: open seat streams say "reconnect in a moment" and end (so
//! they do not hold the process open), the background workers finish the step they are in
//! and stop, and in-flight requests finish; all of it bounded by `TSUDOI_SHUTDOWN_TIMEOUT`.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Default bound on the whole drain (requests, streams, workers).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

/// `TSUDOI_SHUTDOWN_TIMEOUT`: seconds the drain may take (default 20; at least 1).
pub fn timeout_from(value: Option<&str>) -> anyhow::Result<Duration> {
    match value.map(str::trim).filter(|v| !v.is_empty()) {
        None => Ok(DEFAULT_TIMEOUT),
        Some(v) => match v.parse::<u64>() {
            Ok(secs) if (1..=3600).contains(&secs) => Ok(Duration::from_secs(secs)),
            _ => anyhow::bail!("TSUDOI_SHUTDOWN_TIMEOUT={v:?}: expected whole seconds from 1 to 3600"),
        },
    }
}

/// The shutdown switch shared by the server, the seat streams and the workers.
#[derive(Clone)]
pub struct Shutdown {
    begun: Arc<watch::Sender<bool>>,
    begun_at: Arc<OnceLock<Instant>>,
    workers: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Default for Shutdown {
    fn default() -> Self {
        Shutdown { begun: Arc::new(watch::Sender::new(false)), begun_at: Arc::default(), workers: Arc::default() }
    }
}

impl Shutdown {
    /// Starts the shutdown (idempotent).
    pub fn begin(&self) {
        self.begun_at.get_or_init(Instant::now);
        self.begun.send_replace(true);
    }

    /// Time since the shutdown began (zero before).
    pub fn elapsed(&self) -> Duration {
        self.begun_at.get().map_or(Duration::ZERO, Instant::elapsed)
    }

    pub fn is_begun(&self) -> bool {
        *self.begun.borrow()
    }

    /// Resolves once the shutdown has begun (at once if it already has).
    pub fn begun(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.begun.subscribe();
        async move {
            let _ = rx.wait_for(|begun| *begun).await;
        }
    }

    /// A worker to wait for when stopping; it must watch [`Shutdown::begun`] and return at
    /// a safe point.
    pub fn track(&self, worker: JoinHandle<()>) {
        if let Ok(mut workers) = self.workers.lock() {
            workers.push(worker);
        }
    }

    /// Waits up to `limit` for the tracked workers to return; `false` if some did not (they
    /// are stopped where they are: every step of theirs is its own transaction).
    pub async fn workers_stopped(&self, limit: Duration) -> bool {
        let workers: Vec<JoinHandle<()>> = match self.workers.lock() {
            Ok(mut w) => w.drain(..).collect(),
            Err(_) => return false,
        };
        let all = futures::future::join_all(workers);
        tokio::time::timeout(limit, all).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_setting_is_whole_seconds_within_bounds() {
        assert_eq!(timeout_from(None).unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(timeout_from(Some(" ")).unwrap(), DEFAULT_TIMEOUT);
        assert_eq!(timeout_from(Some("5")).unwrap(), Duration::from_secs(5));
        for bad in ["0", "-1", "1.5", "soon", "3601"] {
            assert!(timeout_from(Some(bad)).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn workers_stop_when_the_shutdown_begins_and_late_waiters_return_at_once() {
        let shutdown = Shutdown::default();
        let watched = shutdown.clone();
        shutdown.track(tokio::spawn(async move { watched.begun().await }));
        assert!(!shutdown.workers_stopped(Duration::from_millis(50)).await, "still running before the signal");
        let watched = shutdown.clone();
        shutdown.track(tokio::spawn(async move { watched.begun().await }));
        shutdown.begin();
        assert!(shutdown.is_begun());
        assert!(shutdown.workers_stopped(Duration::from_secs(5)).await);
        shutdown.begun().await;
    }
}
