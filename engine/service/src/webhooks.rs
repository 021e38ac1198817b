//! Webhooks to the source systems (docs/integrations.md#webhooks): the worker that posts what
//! `webhook_deliveries` holds. Every event of a case a source filed was queued there in the event's
//! own transaction, so nothing is sent for a command that did not commit.
//!
//! - Several replicas may run it; the holder of the `webhooks` lease posts.
//! - A case's events go in order: the store hands out only the earliest undelivered event of a case,
//!   so a later one waits while an earlier one is retried.
//! - A failed attempt (no answer, or a status other than 2xx) is tried again after a backoff that
//!   doubles from [`WebhookConfig::backoff`] (at most an hour); after [`WebhookConfig::attempts`] the
//!   delivery is dead-lettered (the dashboard lists it) and the case's later events go on.
//! - Each post is signed: `Aduan-Signature: t=UNIX,v1=HEX`, the HMAC-SHA256 of `t.BODY` under the
//!   source's webhook secret; the receiver checks it and refuses an old `t` (a replay).
//! - At least once: a receiver keeps the `Aduan-Event-Id`s it has seen, since a replica that dies
//!   between the receiver's answer and its own mark sends that event again.

use crate::service::Service;
use crate::store::WebhookDue;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The signature header.
pub const SIGNATURE_HEADER: &str = "Aduan-Signature";
/// The header naming the event, the receiver's deduplication key.
pub const EVENT_ID_HEADER: &str = "Aduan-Event-Id";
/// The lease the posting replica holds.
const LEASE: &str = "webhooks";
/// How long the lease lasts; it is renewed on every round.
const LEASE_TTL: Duration = Duration::from_secs(10);
/// Deliveries taken per round (each the earliest of its case).
const BATCH: i64 = 64;
/// The wait between rounds when the last one found less than a batch.
const POLL: Duration = Duration::from_millis(250);
// The lease is renewed before a post once half of it has passed: the post must end before it runs out.
const _: () = assert!(2 * TIMEOUT.as_secs() <= LEASE_TTL.as_secs());
/// A post's whole time (connect, send, answer).
const TIMEOUT: Duration = Duration::from_secs(5);
/// The longest wait between two attempts.
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// How deliveries are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WebhookConfig {
    /// Attempts before a delivery is dead-lettered (at least 1).
    pub attempts: u32,
    /// The wait after the first failed attempt; it doubles after each.
    pub backoff: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        Self { attempts: 8, backoff: Duration::from_secs(10) }
    }
}

impl WebhookConfig {
    /// The wait after the `failed`-th failed attempt (1 for the first).
    pub fn wait_after(&self, failed: u32) -> Duration {
        let doubled = self.backoff.saturating_mul(1u32 << failed.saturating_sub(1).min(20));
        doubled.min(MAX_BACKOFF)
    }
}

/// The `Aduan-Signature` value of `body` sent at `timestamp` (seconds since the epoch).
pub fn signature(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("t={timestamp},v1={hex}")
}

/// Posts due deliveries until `shutdown`, while this replica (`holder`) holds the lease.
pub async fn run_webhooks(service: Service, cfg: WebhookConfig, shutdown: CancellationToken, holder: String) {
    let client = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .user_agent(concat!("aduan/", env!("CARGO_PKG_VERSION")))
        .build()
    {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "webhooks: no HTTP client; no webhook is sent");
            return;
        }
    };
    let mut failing = false;
    while !shutdown.is_cancelled() {
        let taken = match round(&service, &client, cfg, &holder).await {
            Ok(n) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("webhooks: the database answers again");
                }
                n
            }
            Err(e) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %e, "webhooks: cannot read the deliveries; retrying");
                }
                0
            }
        };
        if taken < BATCH as usize {
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(POLL) => {}
            }
        }
    }
}

/// One round: when anything is due (a read, so an idle replica writes nothing), the lease, then each
/// due delivery, renewing the lease when half of it has passed and stopping if another replica took
/// it; how many were due.
async fn round(
    service: &Service,
    client: &reqwest::Client,
    cfg: WebhookConfig,
    holder: &str,
) -> Result<usize, crate::store::StoreError> {
    let store = service.store();
    if store.due_webhooks(Utc::now(), 1).await?.is_empty()
        || !store.try_lease(LEASE, holder, Utc::now(), LEASE_TTL).await?
    {
        return Ok(0);
    }
    let mut leased_at = std::time::Instant::now();
    let due = store.due_webhooks(Utc::now(), BATCH).await?;
    for d in &due {
        if leased_at.elapsed() >= LEASE_TTL / 2 {
            if !store.try_lease(LEASE, holder, Utc::now(), LEASE_TTL).await? {
                return Ok(0);
            }
            leased_at = std::time::Instant::now();
        }
        let outcome = post(service, client, d).await;
        let now = Utc::now();
        match outcome {
            Ok(()) => {
                service.metrics().webhook("delivered");
                store.webhook_delivered(d.id, now).await?;
            }
            Err(why) => failed(service, cfg, d, &why, now).await?,
        }
    }
    Ok(due.len())
}

/// Posts one delivery: `Err` says why it failed, never quoting the body.
async fn post(service: &Service, client: &reqwest::Client, d: &WebhookDue) -> Result<(), String> {
    let secret = service
        .data_key()
        .open(&d.secret_sealed)
        .map_err(|_| "the source's webhook secret does not open with this data key".to_owned())?;
    let sent = client
        .post(&d.url)
        .header("content-type", "application/json")
        .header(EVENT_ID_HEADER, &d.event_id)
        .header("Aduan-Event-Type", &d.event_type)
        .header("Aduan-Source", &d.source)
        .header(SIGNATURE_HEADER, signature(secret.as_bytes(), Utc::now().timestamp(), d.payload.as_bytes()))
        .body(d.payload.clone())
        .send()
        .await
        .map_err(|e| format!("no answer: {}", e.without_url()))?;
    match sent.status() {
        s if s.is_success() => Ok(()),
        s => Err(format!("HTTP {}", s.as_u16())),
    }
}

/// A failed attempt: retried after the backoff, or dead-lettered after the last.
async fn failed(
    service: &Service,
    cfg: WebhookConfig,
    d: &WebhookDue,
    why: &str,
    now: DateTime<Utc>,
) -> Result<(), crate::store::StoreError> {
    let failed = u32::try_from(d.attempts + 1).unwrap_or(u32::MAX);
    if failed >= cfg.attempts.max(1) {
        tracing::warn!(source = %d.source, event_id = %d.event_id, attempts = failed, error = why,
                       "webhook dead-lettered after its last attempt");
        service.metrics().webhook("dead");
        return service.store().webhook_failed(d.id, now, why).await;
    }
    let wait = chrono::Duration::from_std(cfg.wait_after(failed)).unwrap_or(chrono::Duration::hours(1));
    tracing::info!(source = %d.source, event_id = %d.event_id, attempts = failed, error = why, "webhook failed; retrying");
    service.metrics().webhook("retried");
    service.store().webhook_retry(d.id, now + wait, why).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_the_hmac_of_the_timestamp_and_body() {
        // The value Python's hmac module gives for the same key and `0.BODY`.
        let sig = signature(b"Jefe", 0, b"what do ya want for nothing?");
        assert_eq!(sig, "t=0,v1=37f471929915ccd2cbbe79feb84ffcff4f2bb25e15fc41c2506687331ae179cc");
        assert_ne!(signature(b"Jefe", 1, b"x"), signature(b"Jefe", 2, b"x"), "the timestamp is signed");
        assert_ne!(signature(b"a", 1, b"x"), signature(b"b", 1, b"x"), "the key is used");
    }

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let cfg = WebhookConfig { attempts: 30, backoff: Duration::from_secs(10) };
        let waits: Vec<u64> = (1..=5).map(|n| cfg.wait_after(n).as_secs()).collect();
        assert_eq!(waits, [10, 20, 40, 80, 160]);
        assert_eq!(cfg.wait_after(29), MAX_BACKOFF);
    }
}
