//! The outbox relay: the only publisher of events (invariant 3).
//!
//! A command's transaction writes its events to the outbox; the relay publishes the committed rows to
//! JetStream in id order, each with `Nats-Msg-Id` = its event id, and marks them sent. It never drops,
//! skips or reorders a row: when NATS is away it keeps retrying the same rows and catches up after.
//! Several replicas may run a relay; only the holder of the outbox lease publishes.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::retry::{Backoff, Outage};
use super::{Bus, BusError, PendingPublish};

/// How long a relay's lease lasts; it renews it on every loop, and mid-batch when half of it has passed.
const LEASE_TTL: Duration = Duration::from_secs(10);
/// Rows per batch. A full batch means more may be waiting: the relay loops at once.
const BATCH: i64 = 256;
/// Publishes in flight at once, their acknowledgements awaited in order.
const WINDOW: usize = 64;
/// How far back from each event stream's end a resync looks: a batch published but not marked, and
/// one more for a previous lease holder that was still finishing its own.
const RESYNC_DEPTH: u64 = 2 * BATCH as u64;
/// Longest wait between two polls of the outbox when nobody wakes the relay.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// Backoff after a failure: from [`MIN_BACKOFF`], doubling, up to [`MAX_BACKOFF`].
const MIN_BACKOFF: Duration = Duration::from_millis(100);
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// One committed outbox row: an event waiting to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxItem {
    /// The outbox row id; rows are published in increasing id order.
    pub id: i64,
    /// The event id, sent as `Nats-Msg-Id` (integrations dedupe on it).
    pub event_id: String,
    /// The subject, from [`super::event_subject`].
    pub subject: String,
    /// The event payload (JSON, docs/nats.md#event-payload).
    pub payload: String,
    /// When the row was committed (its command's time): the relay's lag is measured from it.
    pub created_at: DateTime<Utc>,
}

/// Why the outbox could not be read or written. The relay logs either kind once per outage and retries
/// the same rows with a backoff: it never skips a row, so even a failure that looks permanent is
/// retried (an operator may fix it).
#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    /// The database is away or full (connection refused, pool timeout, disk full): it comes back.
    #[error("outbox unavailable: {0}")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// Anything else (a query the database refused).
    #[error("outbox: {0}")]
    Failed(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What the relay needs from the store's outbox. The store implements it over SQL.
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unsent rows, in increasing id order.
    fn batch(&self, limit: i64) -> impl Future<Output = Result<Vec<OutboxItem>, OutboxError>> + Send;
    /// Marks these rows sent (published and acknowledged by JetStream).
    fn mark_sent(&self, ids: &[i64]) -> impl Future<Output = Result<(), OutboxError>> + Send;
    /// Takes or renews the relay lease for `holder` for `ttl`; false when another holder's lease is live.
    fn try_lease(&self, holder: &str, ttl: Duration) -> impl Future<Output = Result<bool, OutboxError>> + Send;
    /// Gives up the lease if `holder` holds it (on shutdown, so another replica takes over at once).
    fn release_lease(&self, holder: &str) -> impl Future<Output = ()> + Send;
    /// Told of each row JetStream acknowledged, `lag` after it was committed (for the metrics).
    fn published(&self, _lag: Duration) {}
}

/// Runs the relay until `shutdown`: while holding the lease, publishes outbox rows in id order, with a
/// window of up to 64 publishes in flight whose acknowledgements are awaited in order, and marks them
/// sent.
///
/// Call `wake.notify_one()` after committing outbox rows so they go out at once; without it the relay
/// still polls every 500 ms. When NATS (or the outbox) fails, the relay logs once, backs off up to 2 s
/// and retries the same rows; it logs again when it recovers. On shutdown it awaits the publishes in
/// flight, marks what was acknowledged and releases the lease.
///
/// No failure reorders a stream: within a window each publish names its predecessor in the stream
/// (`Nats-Expected-Last-Msg-Id`), so the ones after a failed publish fail too, and the relay retries
/// from the failed one; a stale copy left in a reconnect buffer is dropped by JetStream as a duplicate
/// (`Nats-Msg-Id`) or for naming the wrong predecessor. An event published but not marked sent (a
/// crash, a lost lease, an outbox that refused the mark) is found at the end of its stream when the
/// relay takes the lease or recovers, and marked, so it is published once however long the outage.
pub async fn run_relay<O: Outbox>(outbox: O, bus: Bus, wake: Arc<Notify>, shutdown: CancellationToken, holder: String) {
    let mut relay = Relay {
        outbox,
        bus,
        wake,
        shutdown,
        holder,
        nats: Outage::new("outbox relay", "NATS"),
        store: Outage::new("outbox relay", "the outbox"),
        backoff: Backoff::new(MIN_BACKOFF, MAX_BACKOFF),
        holding: false,
        resync: true,
    };
    while !relay.shutdown.is_cancelled() {
        if relay.lease().await && !relay.round(Instant::now()).await {
            break;
        }
    }
    if relay.holding {
        relay.outbox.release_lease(&relay.holder).await;
    }
}

/// The relay's loop state: what it talks to, whether it holds the lease, and how it backs off.
struct Relay<O> {
    outbox: O,
    bus: Bus,
    wake: Arc<Notify>,
    shutdown: CancellationToken,
    holder: String,
    nats: Outage,
    store: Outage,
    backoff: Backoff,
    holding: bool,
    /// The streams may hold events this relay (or the previous lease holder) published but did not
    /// mark sent: ask them before publishing again (on taking the lease, after any failure).
    resync: bool,
}

impl<O: Outbox> Relay<O> {
    /// Takes or renews the lease; false (after idling or backing off) when this round must not publish.
    async fn lease(&mut self) -> bool {
        match self.outbox.try_lease(&self.holder, LEASE_TTL).await {
            Ok(true) => {
                self.store.ok();
                if !self.holding {
                    tracing::info!(holder = %self.holder, "outbox relay: took the lease");
                    self.holding = true;
                    self.resync = true;
                }
                true
            }
            Ok(false) => {
                self.store.ok();
                if self.holding {
                    tracing::info!(holder = %self.holder, "outbox relay: lost the lease");
                    self.holding = false;
                }
                idle(&self.wake, &self.shutdown).await;
                false
            }
            Err(e) => {
                self.store.fail(e);
                self.backoff.wait(&self.shutdown).await;
                false
            }
        }
    }

    /// Publishes one batch under a lease taken at `leased_at`; false when shutdown stopped it.
    async fn round(&mut self, leased_at: Instant) -> bool {
        let mut items = match self.outbox.batch(BATCH).await {
            Ok(items) => items,
            Err(e) => {
                self.store.fail(e);
                self.backoff.wait(&self.shutdown).await;
                return true;
            }
        };
        if items.is_empty() {
            self.backoff.reset();
            idle(&self.wake, &self.shutdown).await;
            return true;
        }
        // The outbox promises id order; sorting is cheap insurance for the one thing that matters.
        items.sort_by_key(|item| item.id);
        let full = items.len() as i64 >= BATCH;
        if self.resync {
            match self.already_published(items).await {
                Some(rest) => items = rest,
                None => return true,
            }
            if items.is_empty() {
                return true;
            }
        }
        let (sent, stop) =
            publish_in_order(&self.outbox, &self.bus, &items, &self.holder, leased_at, &self.shutdown).await;
        if !sent.is_empty() {
            self.nats.ok();
            if let Err(e) = self.outbox.mark_sent(&sent).await {
                // The next round asks the streams first, and marks what they already hold.
                self.resync = true;
                self.store.fail(e);
                self.backoff.wait(&self.shutdown).await;
                return true;
            }
        }
        self.after(stop, full).await
    }

    /// Marks sent the `items` the event streams already hold, and returns the others; `None` (after
    /// backing off) when the streams or the outbox could not be asked. The relay publishes in order and
    /// marks at most a batch at a time, so an event published but not marked is among the last
    /// [`RESYNC_DEPTH`] messages of its stream.
    async fn already_published(&mut self, items: Vec<OutboxItem>) -> Option<Vec<OutboxItem>> {
        let held = match self.bus.recent_event_ids(RESYNC_DEPTH).await {
            Ok(held) => held,
            Err(e) => {
                self.nats.fail(e);
                self.backoff.wait(&self.shutdown).await;
                return None;
            }
        };
        let (done, rest): (Vec<OutboxItem>, Vec<OutboxItem>) =
            items.into_iter().partition(|item| held.contains(&item.event_id));
        if !done.is_empty() {
            let ids: Vec<i64> = done.iter().map(|item| item.id).collect();
            if let Err(e) = self.outbox.mark_sent(&ids).await {
                self.store.fail(e);
                self.backoff.wait(&self.shutdown).await;
                return None;
            }
            tracing::info!(events = ids.len(), "outbox relay: marked sent what the streams already held");
        }
        self.resync = false;
        Some(rest)
    }

    /// Waits as the way the batch ended asks; false on shutdown.
    async fn after(&mut self, stop: Option<Stop>, full: bool) -> bool {
        match stop {
            None => {
                self.backoff.reset();
                if !full {
                    idle(&self.wake, &self.shutdown).await;
                }
            }
            Some(Stop::Nats(e)) => {
                self.resync = true;
                self.nats.fail(e);
                self.backoff.wait(&self.shutdown).await;
            }
            Some(Stop::Outbox(e)) => {
                self.resync = true;
                self.store.fail(e);
                self.backoff.wait(&self.shutdown).await;
            }
            Some(Stop::LeaseLost) => {
                self.holding = false;
                self.resync = true;
                tracing::info!(holder = %self.holder, "outbox relay: lost the lease");
            }
            Some(Stop::Shutdown) => return false,
        }
        true
    }
}

/// Why a batch stopped before its end.
enum Stop {
    Nats(BusError),
    Outbox(OutboxError),
    LeaseLost,
    Shutdown,
}

/// Publishes `items` in order with up to [`WINDOW`] acknowledgements outstanding, awaited in the order
/// sent, renewing the lease when half its time has passed. Returns the ids acknowledged, a prefix of
/// `items`, and why it stopped early, if it did.
async fn publish_in_order<O: Outbox>(
    outbox: &O,
    bus: &Bus,
    items: &[OutboxItem],
    holder: &str,
    mut leased_at: Instant,
    shutdown: &CancellationToken,
) -> (Vec<i64>, Option<Stop>) {
    let mut window = Window::new(outbox, items.len());
    for item in items {
        if shutdown.is_cancelled() {
            return window.close(Some(Stop::Shutdown)).await;
        }
        if leased_at.elapsed() >= LEASE_TTL / 2 {
            match outbox.try_lease(holder, LEASE_TTL).await {
                Ok(true) => leased_at = Instant::now(),
                Ok(false) => return window.close(Some(Stop::LeaseLost)).await,
                Err(e) => return window.close(Some(Stop::Outbox(e))).await,
            }
        }
        if let Err(stop) = window.send(bus, item).await {
            return window.close(Some(stop)).await;
        }
    }
    window.close(None).await
}

/// The publishes in flight of one batch, and what they established.
///
/// The first event of a batch to each stream goes alone: its acknowledgement is awaited before the
/// next publish, so the relay knows the stream's last event. Each later one carries the id of its
/// predecessor in that stream as `Nats-Expected-Last-Msg-Id`, so if a publish of the window fails, the
/// ones sent after it fail too rather than overtake it: no failure can reorder a stream.
struct Window<'a, O> {
    outbox: &'a O,
    in_flight: VecDeque<(&'a OutboxItem, PendingPublish)>,
    /// Per stream, the event id sent to it last.
    last: HashMap<String, &'a str>,
    acked: Vec<i64>,
}

impl<'a, O: Outbox> Window<'a, O> {
    fn new(outbox: &'a O, capacity: usize) -> Self {
        Window {
            outbox,
            in_flight: VecDeque::with_capacity(WINDOW),
            last: HashMap::new(),
            acked: Vec::with_capacity(capacity),
        }
    }

    /// Sends `item`, after awaiting what must be acknowledged first: the oldest publish when the window
    /// is full, everything when `item` is the first to its stream.
    async fn send(&mut self, bus: &Bus, item: &'a OutboxItem) -> Result<(), Stop> {
        let stream = bus.stream_of(&item.subject);
        let after = self.last.get(&stream).copied();
        let pending =
            bus.send_event(&item.subject, &item.event_id, item.payload.as_bytes(), after).await.map_err(Stop::Nats)?;
        self.in_flight.push_back((item, pending));
        self.last.insert(stream, &item.event_id);
        let keep = if after.is_none() { 0 } else { WINDOW - 1 };
        while self.in_flight.len() > keep {
            self.settle_oldest().await?;
        }
        Ok(())
    }

    /// Awaits the oldest publish in flight. When it failed, the publishes after it are dropped
    /// unawaited, so what was acknowledged stays a prefix of the batch.
    async fn settle_oldest(&mut self) -> Result<(), Stop> {
        let Some((item, pending)) = self.in_flight.pop_front() else { return Ok(()) };
        if let Err(e) = pending.acked().await {
            self.in_flight.clear();
            return Err(Stop::Nats(e));
        }
        self.outbox.published((Utc::now() - item.created_at).to_std().unwrap_or_default());
        self.acked.push(item.id);
        Ok(())
    }

    /// Awaits the publishes still in flight, up to the first that fails, and returns the ids
    /// acknowledged with why the batch stopped (`stop`, or that failure). Publishes after a failure are
    /// not awaited: the next round's resync finds whichever of them the stream stored.
    async fn close(mut self, stop: Option<Stop>) -> (Vec<i64>, Option<Stop>) {
        while !self.in_flight.is_empty() {
            if let Err(failed) = self.settle_oldest().await {
                return (self.acked, Some(failed));
            }
        }
        (self.acked, stop)
    }
}

/// Waits for a wake-up, the idle poll interval, or shutdown.
async fn idle(wake: &Notify, shutdown: &CancellationToken) {
    tokio::select! {
        _ = wake.notified() => {}
        _ = tokio::time::sleep(IDLE_POLL) => {}
        _ = shutdown.cancelled() => {}
    }
}
