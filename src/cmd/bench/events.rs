//! The events the relay publishes, as the load clients wait for them: one subscription to every event
//! of the prefix, each event noted with its arrival time in its complaint's mailbox, where the client
//! that sent the command takes it (an event may arrive before the command's reply does).

use aduan_service::bus::Bus;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The events of one complaint that no client has taken yet, and the client waiting for one.
#[derive(Default)]
struct Mailbox {
    arrived: Vec<(String, Instant)>,
    waiter: Option<(&'static str, oneshot::Sender<Instant>)>,
}

/// Every event of the prefix, by complaint.
pub(super) struct Events {
    mailboxes: Arc<Mutex<HashMap<String, Mailbox>>>,
    seen: Arc<AtomicU64>,
    collector: JoinHandle<()>,
}

#[derive(Deserialize)]
struct Payload {
    complaint_id: Option<String>,
}

impl Events {
    /// Subscribes to `{prefix}.evt.>` and starts noting arrivals.
    pub(super) async fn start(bus: &Bus, prefix: &str) -> anyhow::Result<Self> {
        let mut sub = bus.subscribe(&format!("{prefix}.evt.>")).await?;
        let mailboxes: Arc<Mutex<HashMap<String, Mailbox>>> = Arc::default();
        let seen = Arc::new(AtomicU64::new(0));
        let (boxes, count) = (mailboxes.clone(), seen.clone());
        let collector = tokio::spawn(async move {
            while let Some((subject, payload)) = sub.next().await {
                let at = Instant::now();
                count.fetch_add(1, Ordering::Relaxed);
                let Ok(Payload { complaint_id: Some(id) }) = serde_json::from_slice(&payload) else { continue };
                let ty = subject.rsplit('.').next().unwrap_or_default();
                deliver(boxes.lock().unwrap().entry(id).or_default(), ty, at);
            }
        });
        Ok(Self { mailboxes, seen, collector })
    }

    /// When the next event of type `ty` about `complaint` arrived, waiting up to `timeout` for it;
    /// `None` when it did not come. Events before it in the mailbox are dropped.
    pub(super) async fn wait(&self, complaint: &str, ty: &'static str, timeout: Duration) -> Option<Instant> {
        let rx = {
            let mut boxes = self.mailboxes.lock().unwrap();
            let mailbox = boxes.entry(complaint.to_owned()).or_default();
            if let Some(i) = mailbox.arrived.iter().position(|(t, _)| t == ty) {
                return mailbox.arrived.drain(..=i).next_back().map(|(_, at)| at);
            }
            let (tx, rx) = oneshot::channel();
            mailbox.waiter = Some((ty, tx));
            rx
        };
        tokio::time::timeout(timeout, rx).await.ok().and_then(Result::ok)
    }

    /// Forgets a complaint whose lifecycle is over.
    pub(super) fn forget(&self, complaint: &str) {
        self.mailboxes.lock().unwrap().remove(complaint);
    }

    /// How many events arrived.
    pub(super) fn seen(&self) -> u64 {
        self.seen.load(Ordering::Relaxed)
    }
}

impl Drop for Events {
    fn drop(&mut self) {
        self.collector.abort();
    }
}

/// Hands the event to the client waiting for its type, or keeps it.
fn deliver(mailbox: &mut Mailbox, ty: &str, at: Instant) {
    if mailbox.waiter.as_ref().is_some_and(|(want, _)| *want == ty) {
        if let Some((_, tx)) = mailbox.waiter.take() {
            if tx.send(at).is_ok() {
                return;
            }
        }
    }
    mailbox.arrived.push((ty.to_owned(), at));
}
