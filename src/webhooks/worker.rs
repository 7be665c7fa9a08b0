//! Sends webhook deliveries: every `webhook_interval`, fans the outbox out into deliveries
//! and sends those due, each in its own task (a slow receiver holds up only its own
//! deliveries, for at most [`TIMEOUT`]). A delivery is leased while it is being sent, so
//! several instances never send it together; one that dies mid-send is retried when the
//! lease ends (receivers deduplicate by `webhook-id`).
//!
//! Receivers on loopback, private, link-local or other non-public addresses are refused
//! (unless `TSUDOI_WEBHOOK_ALLOW_PRIVATE=1`), checked on the address actually connected to:
//! the name is resolved once and the request pinned to that address.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use crate::server::state::AppState;
use crate::server::store::DueDelivery;
use crate::webhooks::model::{backoff_secs, sign};

/// How long one delivery may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Deliveries in flight per instance.
const IN_FLIGHT: usize = 16;

/// Whether `ip` is on the public internet (not loopback, private, link-local, shared,
/// documentation, multicast or unspecified).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || o[0] >= 240
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1])))
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                IpAddr::V4(std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8))
            };
            // NAT64 (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16) reach an IPv4 address:
            // that one must be public too.
            if s[0] == 0x64 && s[1] == 0xff9b {
                return is_public(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return is_public(embedded(s[1], s[2]));
            }
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || s[0..6] == [0; 6] // IPv4-compatible ::a.b.c.d
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0) // Teredo
                || (s[0] == 0x2001 && s[1] == 0x0db8))
        }
    }
}

/// Starts the webhook loop (tracked by the shutdown).
pub fn spawn(state: AppState) {
    let stop = state.shutdown.begun();
    let worker = state.clone();
    state.shutdown.track(tokio::spawn(async move {
        tokio::pin!(stop);
        let slots = Arc::new(tokio::sync::Semaphore::new(IN_FLIGHT));
        let mut tick = tokio::time::interval(worker.config.webhook_interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = &mut stop => return,
            }
            run_once(&worker, &slots).await;
        }
    }));
}

/// One round: fan out, then send what is due (without waiting for the answers).
pub async fn run_once(state: &AppState, slots: &Arc<tokio::sync::Semaphore>) {
    let now = crate::time::now().timestamp();
    if let Err(e) = state.store.fan_out_webhooks(&state.config.public_url, now).await {
        tracing::warn!(error = %e, "webhook fan-out failed");
        return;
    }
    let free = slots.available_permits() as i64;
    if free == 0 {
        return;
    }
    let lease = now + TIMEOUT.as_secs() as i64 * 3;
    let due = match state.store.claim_due_deliveries(now, lease, free).await {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "claiming webhook deliveries failed");
            return;
        }
    };
    for delivery in due {
        let Ok(permit) = slots.clone().acquire_owned().await else { return };
        let state = state.clone();
        tokio::spawn(async move {
            // Name lookup included: the attempt ends well before its lease does.
            let (ok, status, error) = tokio::time::timeout(TIMEOUT + Duration::from_secs(5), send(&state, &delivery))
                .await
                .unwrap_or_else(|_| (false, None, Some("no answer in time".into())));
            let now = crate::time::now().timestamp();
            let unit = state.config.webhook_retry_unit.as_millis() as i64;
            let retry_in = (backoff_secs(delivery.attempts + 1) * unit / 1000).max(0);
            if !ok {
                tracing::info!(
                    delivery = delivery.id,
                    status,
                    error = error.as_deref().unwrap_or(""),
                    "webhook attempt failed"
                );
            }
            let finished = state.store.finish_delivery(&delivery, ok, status, error.as_deref(), now, retry_in).await;
            if let Err(e) = finished {
                tracing::warn!(error = %e, delivery = delivery.id, "recording a webhook attempt failed");
            }
            drop(permit);
        });
    }
}

/// One attempt: `(delivered, HTTP status, what went wrong)`.
async fn send(state: &AppState, d: &DueDelivery) -> (bool, Option<i64>, Option<String>) {
    let url = match reqwest::Url::parse(&d.url) {
        Ok(u) => u,
        Err(_) => return (false, None, Some("the URL cannot be parsed".into())),
    };
    let Some(host) = url.host_str().map(str::to_string) else {
        return (false, None, Some("the URL has no host".into()));
    };
    let port = url.port_or_known_default().unwrap_or(443);
    let addrs: Vec<SocketAddr> = match tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await {
        Ok(a) => a.collect(),
        Err(e) => return (false, None, Some(format!("cannot resolve {host}: {e}"))),
    };
    let allowed = |a: &&SocketAddr| state.config.webhook_allow_private || is_public(a.ip());
    let Some(addr) = addrs.iter().find(allowed).copied() else {
        return (false, None, Some(format!("{host} is not a public address (refused)")));
    };
    let timestamp = chrono::Utc::now().timestamp();
    let Some(signature) = sign(&d.secret, &d.msg_id, timestamp, &d.payload) else {
        return (false, None, Some("the signing secret is malformed".into()));
    };
    let client = match reqwest::Client::builder()
        .resolve(&host, addr)
        // A proxy would resolve the name again, undoing the check of the address.
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(TIMEOUT)
        .user_agent("Tsudoi-Webhooks/1")
        .build()
    {
        Ok(c) => c,
        Err(e) => return (false, None, Some(format!("client: {e}"))),
    };
    let res = client
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", &d.msg_id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(d.payload.clone())
        .send()
        .await;
    match res {
        Ok(r) if r.status().is_success() => (true, Some(i64::from(r.status().as_u16())), None),
        Ok(r) => (false, Some(i64::from(r.status().as_u16())), Some(format!("answered {}", r.status()))),
        Err(e) if e.is_timeout() => (false, None, Some(format!("no answer within {} s", TIMEOUT.as_secs()))),
        Err(e) => (false, None, Some(format!("could not deliver: {}", e.without_url()))),
    }
}

#[cfg(test)]
mod tests {
    use super::is_public;

    #[test]
    fn only_public_addresses_receive_webhooks() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
            "2001:0:1::1",
            "::7f00:1",
            "fec0::1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "64:ff9b::808:808", "2002:808:808::1"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }
}
