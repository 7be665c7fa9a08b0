//! Background work: lottery draws when they are due, and housekeeping.

use std::time::Duration;

use rand::Rng;

use super::state::AppState;

/// Runs due lottery draws, day-before reminders, reconfirmation and e-mail deliveries every
/// `config.draw_interval`; purges expired sessions and idle rate-limit keys every ten
/// minutes. Draws are exactly-once in the store, so several instances (or a restart
/// mid-draw) are safe. Both loops stop when the shutdown begins, between steps (each step is
/// its own transaction), and the shutdown waits for them.
pub fn spawn(state: AppState) {
    let draws = state.clone();
    let stop = state.shutdown.begun();
    state.shutdown.track(tokio::spawn(async move {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(draws.config.draw_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut stop => return,
            }
            run_due_draws(&draws).await;
            crate::messages::notify::send_due_reminders(&draws).await;
            crate::messages::notify::run_reconfirmation(&draws).await;
            if draws.shutdown.is_begun() {
                return;
            }
            crate::messages::mail::deliver_due(&draws).await;
        }
    }));
    crate::webhooks::worker::spawn(state.clone());
    let stop = state.shutdown.begun();
    let housekeeping = state.clone();
    state.shutdown.track(tokio::spawn(async move {
        tokio::pin!(stop);
        let mut tick = tokio::time::interval(Duration::from_secs(600));
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut stop => return,
            }
            let now = chrono::Utc::now().timestamp();
            if let Err(err) = housekeeping.store.sessions_purge(now).await {
                tracing::warn!(error = %err, "session purge failed");
            }
            housekeeping.limits.retain_recent();
            housekeeping.live.prune();
        }
    }));
}

/// Draws every due lottery once; returns how many were drawn by this call.
pub async fn run_due_draws(state: &AppState) -> usize {
    let now = crate::time::now();
    let due = match state.store.due_draws(now).await {
        Ok(due) => due,
        Err(err) => {
            tracing::warn!(error = %err, "looking for due draws failed");
            return 0;
        }
    };
    let mut drawn = 0;
    for d in due {
        let seed: u64 = rand::rng().random();
        match state.store.draw_lottery(d.frame_id, seed, now).await {
            Ok(Some(outcome)) => {
                drawn += 1;
                tracing::info!(
                    frame_id = outcome.frame_id,
                    event_id = outcome.event_id,
                    seed = outcome.seed,
                    applicants = outcome.order.len(),
                    winners = outcome.winners,
                    "lottery drawn"
                );
                state.live.publish(outcome.event_id).await;
            }
            Ok(None) => {}
            Err(err) => tracing::warn!(frame_id = d.frame_id, error = %err, "lottery draw failed"),
        }
    }
    drawn
}
