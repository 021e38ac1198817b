//! The messages of a pull batch, handled concurrently, one lane per complaint.
//!
//! Commands naming the same complaint (`"complaint"` of the body, as the publisher spelled it) run one
//! after the other in the order the stream delivered them; commands of different complaints, and every
//! submission, run at once, each on its own task. A panicking handler settles its lane too (the message
//! is redelivered after the ack wait).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use async_nats::jetstream;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::consumer::{nak, process, OrderingBudget, Outcome, TRANSIENT_DELAY};
use super::{Bus, CommandHandler};

/// The lanes of one batch: the commands running, and those waiting behind one of the same complaint.
pub(super) struct Lanes<H> {
    bus: Bus,
    handler: Arc<H>,
    ordering: Arc<Mutex<OrderingBudget>>,
    /// Per lane key, the messages received behind the one running.
    waiting: HashMap<String, VecDeque<jetstream::Message>>,
    running: usize,
    done_tx: mpsc::UnboundedSender<(String, Outcome)>,
    done_rx: mpsc::UnboundedReceiver<(String, Outcome)>,
    /// A command failed transiently: the rest of the batch is handed back untried.
    transient: bool,
}

impl<H: CommandHandler> Lanes<H> {
    pub(super) fn new(bus: &Bus, handler: &Arc<H>, ordering: &Arc<Mutex<OrderingBudget>>) -> Self {
        let (done_tx, done_rx) = mpsc::unbounded_channel();
        Lanes {
            bus: bus.clone(),
            handler: handler.clone(),
            ordering: ordering.clone(),
            waiting: HashMap::new(),
            running: 0,
            done_tx,
            done_rx,
            transient: false,
        }
    }

    /// True when no command is running (nothing waits then either).
    pub(super) fn idle(&self) -> bool {
        self.running == 0
    }

    /// Whether a command of this batch failed transiently (the caller pauses before pulling again).
    pub(super) fn failed_transiently(&self) -> bool {
        self.transient
    }

    /// Takes a message just received: starts it, queues it behind its complaint's running command, or,
    /// after a transient failure, hands it back.
    pub(super) async fn take(&mut self, message: jetstream::Message) {
        if self.transient {
            nak(&message, TRANSIENT_DELAY).await;
            return;
        }
        let key = lane_key(&message);
        match self.waiting.get_mut(&key) {
            Some(queue) => queue.push_back(message),
            None => {
                self.waiting.insert(key.clone(), VecDeque::new());
                self.start(key, message);
            }
        }
    }

    /// Waits for a running command to settle (cancel-safe: nothing is lost when another event wins a
    /// `select!`). Pass what it returns to [`Lanes::settled`]. Call only when not [`Lanes::idle`].
    pub(super) async fn next_settled(&mut self) -> Option<(String, Outcome)> {
        self.done_rx.recv().await
    }

    /// Books a settled command and starts the next of its lane; after a transient failure, hands back
    /// every message waiting instead.
    pub(super) async fn settled(&mut self, done: Option<(String, Outcome)>) {
        let Some((key, outcome)) = done else { return };
        self.running -= 1;
        if outcome == Outcome::Transient && !self.transient {
            self.transient = true;
            self.hand_back(TRANSIENT_DELAY).await;
        }
        let next = self.waiting.get_mut(&key).and_then(VecDeque::pop_front);
        match next {
            Some(message) => self.start(key, message),
            None => {
                self.waiting.remove(&key);
            }
        }
    }

    /// Hands back (nak, no delay) every message not started, so another replica takes them at once, and
    /// waits for the running ones to settle.
    pub(super) async fn release(&mut self) {
        self.hand_back(std::time::Duration::ZERO).await;
        self.finish().await;
    }

    /// Waits for every command of the batch to settle.
    pub(super) async fn finish(&mut self) {
        while !self.idle() {
            let done = self.next_settled().await;
            self.settled(done).await;
        }
    }

    /// Naks the messages waiting in every lane with `delay`; the lanes stay open for their running ones.
    async fn hand_back(&mut self, delay: std::time::Duration) {
        for queue in self.waiting.values_mut() {
            for message in queue.drain(..) {
                nak(&message, delay).await;
            }
        }
    }

    fn start(&mut self, key: String, message: jetstream::Message) {
        self.running += 1;
        let (bus, handler, ordering) = (self.bus.clone(), self.handler.clone(), self.ordering.clone());
        let done = Done { key: Some(key), tx: self.done_tx.clone() };
        tokio::spawn(async move {
            let outcome = process(&bus, handler.as_ref(), &message, &ordering).await;
            done.send(outcome);
        });
    }
}

/// Reports a command's outcome to its lanes, exactly once: `Settled` if its task ends without
/// reporting (it panicked).
struct Done {
    key: Option<String>,
    tx: mpsc::UnboundedSender<(String, Outcome)>,
}

impl Done {
    fn send(mut self, outcome: Outcome) {
        if let Some(key) = self.key.take() {
            let _ = self.tx.send((key, outcome));
        }
    }
}

impl Drop for Done {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            tracing::error!("a command handler panicked; its message will be redelivered");
            let _ = self.tx.send((key, Outcome::Settled));
        }
    }
}

/// The complaint a command names, for its lane.
#[derive(Deserialize)]
struct Named {
    complaint: Option<String>,
}

/// The lane of a message: its complaint as named in the body, or, for a submission or a body naming
/// none, a lane of its own (its stream sequence).
fn lane_key(message: &jetstream::Message) -> String {
    match serde_json::from_slice::<Named>(&message.payload) {
        Ok(Named { complaint: Some(complaint) }) => complaint,
        _ => {
            let sequence = message.info().map(|info| info.stream_sequence).unwrap_or_default();
            format!("#{sequence}")
        }
    }
}
