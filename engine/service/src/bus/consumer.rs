//! The command consumer: a durable pull consumer on `{PREFIX}_CMD`, shared by every replica.
//!
//! Each command goes to a [`CommandHandler`], which runs the service function and returns after its
//! transaction committed (or failed); only then is the message acked (invariant 3). Failures come in
//! three kinds (docs/nats.md#dead-letters):
//! - permanent: the command can never succeed; it is published with its problem to
//!   `{prefix}.dlq.{action}` (stored in `{PREFIX}_DLQ`), then acked, and the consumer carries on;
//! - ordering: it may succeed later (unknown complaint, conflict, a case not yet in the caller's
//!   reach); nak with a growing delay, and dead-letter at the 5th attempt once the failures span more
//!   than the ack wait;
//! - transient: the database or NATS is away; nak with a delay, never dead-letter, and pause pulling.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::consumer::pull::Batch;
use async_nats::jetstream::consumer::{AckPolicy, PullConsumer};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::AckKind;
use async_nats::HeaderMap;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::lanes::Lanes;
use super::retry::{sleep_or_shutdown, Backoff, Outage};
use super::{next, Bus};
use crate::wire::Problem;

/// Messages per pull request.
const BATCH: usize = 64;
/// How long a pull request waits for messages: the consumer notices shutdown at least this often.
const PULL_EXPIRES: Duration = Duration::from_secs(1);
/// How long the server waits for an ack before redelivering.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Ordering failures a command may have before it is dead-lettered (at the 5th).
const ORDERING_BUDGET: u32 = 5;
/// Nak delay of an ordering failure: this times the number of its ordering failures, up to the cap.
const ORDERING_DELAY_STEP: Duration = Duration::from_secs(1);
const ORDERING_DELAY_MAX: Duration = Duration::from_secs(10);
/// How long a command's ordering failures must span before it is dead-lettered: longer than the ack
/// wait, so that a predecessor held by a replica that died (redelivered only once its ack wait ran out)
/// is applied first.
const ORDERING_PATIENCE: Duration = ACK_WAIT.saturating_add(ORDERING_DELAY_MAX);
/// Nak delay of a transient failure.
pub(super) const TRANSIENT_DELAY: Duration = Duration::from_secs(2);
/// How long pulling pauses after a transient failure (the database is likely down).
const TRANSIENT_PAUSE: Duration = Duration::from_secs(1);
/// Ordering-failure counts kept in memory; past this many the map is cleared (which only grants some
/// commands extra attempts).
const ORDERING_MEMORY: usize = 10_000;
/// Header naming where the consumer publishes the answer to a command.
const REPLY_TO: &str = "Aduan-Reply-To";
/// Header carrying a one-line summary of the problem, on dead letters and problem replies.
const ERROR_HEADER: &str = "Aduan-Error";
/// JetStream's deduplication header, `Nats-Msg-Id`: the command's idempotency key.
const MSG_ID: &str = "Nats-Msg-Id";
/// The header carrying a command's credentials, `Bearer TOKEN` as on HTTP (docs/nats.md#commands).
const AUTHORIZATION: &str = "Authorization";

/// One command, as the handler sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandMsg {
    /// The action: the subject after `{prefix}.cmd.` (`submit`, `verify`, …).
    pub action: String,
    /// The body (JSON, valid UTF-8).
    pub body: Vec<u8>,
    /// `Nats-Msg-Id`: the idempotency key, when the publisher set one.
    pub msg_id: Option<String>,
    /// `Aduan-Reply-To`: where the answer goes, when the publisher asked for one.
    pub reply_to: Option<String>,
    /// How many times JetStream has delivered this message, this time included (1 the first time).
    pub delivered: u64,
    /// The bearer token of the `Authorization` header (`Bearer TOKEN`), when there is one. It is
    /// never written to a dead letter.
    pub bearer: Option<String>,
}

/// Why a command failed, which decides what the consumer does with it.
#[derive(Debug, Clone, PartialEq)]
pub enum CommandFailure {
    /// It can never succeed (malformed, unknown field, invalid value, role not allowed): dead-letter
    /// it with this problem (RFC 9457 JSON, as HTTP would answer) and move on.
    Permanent {
        /// The problem document.
        problem: Problem,
    },
    /// It may succeed once other commands went through (unknown complaint, conflict): retry later;
    /// dead-letter with this problem at the 5th attempt.
    Ordering {
        /// The problem document.
        problem: Problem,
    },
    /// Something it depends on is away (database, pool timeout): retry, never dead-letter.
    Transient {
        /// What is away, for the log.
        reason: String,
    },
}

/// Runs one command: the service function behind the NATS consumer.
pub trait CommandHandler: Send + Sync + 'static {
    /// Handles `msg` and returns once its effects committed. `Ok` carries the reply body, what HTTP
    /// would have answered; it is published to `reply_to` when set. Redeliveries of a command that
    /// already committed must be answered from its idempotency key (`msg_id`), not applied twice.
    fn handle(&self, msg: CommandMsg) -> impl Future<Output = Result<Vec<u8>, CommandFailure>> + Send;
    /// Told of each dead letter stored, with the action its subject named (for the metrics).
    fn dead_lettered(&self, _action: &str) {}
    /// Told of each message JetStream delivers again (for the metrics).
    fn redelivered(&self) {}
}

/// Runs the command consumer until `shutdown`: pulls batches from the durable consumer
/// `{prefix}-commands` and processes their messages concurrently, one lane per complaint (commands of
/// one complaint in the order received; see `lanes.rs`).
///
/// On shutdown it finishes the messages in hand, naks the ones already received but not started (so
/// another replica gets them at once) and stops pulling. When NATS is away it logs once and retries
/// with a backoff up to 2 s.
pub async fn run_consumer<H: CommandHandler>(bus: Bus, handler: Arc<H>, shutdown: CancellationToken) {
    let mut nats = Outage::new("command consumer", "NATS");
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(2));
    let ordering = Arc::new(Mutex::new(OrderingBudget::default()));
    'bind: while !shutdown.is_cancelled() {
        let consumer = match bind(&bus).await {
            Ok(consumer) => consumer,
            Err(e) => {
                nats.fail(e);
                backoff.wait(&shutdown).await;
                continue;
            }
        };
        nats.ok();
        let mut connects = bus.connects();
        while !shutdown.is_cancelled() {
            connects.borrow_and_update();
            let mut batch = match consumer.batch().max_messages(BATCH).expires(PULL_EXPIRES).messages().await {
                Ok(batch) => batch,
                Err(e) => {
                    nats.fail(e);
                    backoff.wait(&shutdown).await;
                    continue 'bind;
                }
            };
            let mut lanes = Lanes::new(&bus, &handler, &ordering);
            let mut received_all = false;
            while !(received_all && lanes.idle()) {
                tokio::select! {
                    biased;
                    _ = shutdown.cancelled() => {
                        release_buffered(&mut batch).await;
                        lanes.release().await;
                        break 'bind;
                    }
                    _ = reconnect(&mut connects) => {
                        // Reconnected: the pull request may have died with the old connection (a
                        // restarted server forgets it). Pull again rather than wait for its timeout.
                        release_buffered(&mut batch).await;
                        lanes.release().await;
                        break;
                    }
                    done = lanes.next_settled(), if !lanes.idle() => lanes.settled(done).await,
                    item = next(&mut batch), if !received_all => match item {
                        None => received_all = true,
                        Some(Ok(message)) => {
                            nats.ok();
                            backoff.reset();
                            lanes.take(message).await;
                        }
                        Some(Err(e)) => {
                            // The pull request failed (e.g. the consumer was deleted): bind again.
                            nats.fail(e);
                            lanes.finish().await;
                            backoff.wait(&shutdown).await;
                            continue 'bind;
                        }
                    },
                }
            }
            if lanes.failed_transiently() {
                sleep_or_shutdown(TRANSIENT_PAUSE, &shutdown).await;
            }
        }
    }
}

/// Returns on the next (re)connection of the client; never if the client is gone for good.
async fn reconnect(connects: &mut watch::Receiver<u64>) {
    if connects.changed().await.is_err() {
        std::future::pending::<()>().await;
    }
}

/// Creates or updates the durable consumer and returns it.
async fn bind(bus: &Bus) -> Result<PullConsumer, String> {
    let name = bus.commands_consumer();
    let config = jetstream::consumer::pull::Config {
        durable_name: Some(name.clone()),
        description: Some("Aduan command consumer, shared by every replica".to_string()),
        ack_policy: AckPolicy::Explicit,
        ack_wait: ACK_WAIT,
        // Unlimited: the consumer counts its own budget (ordering failures), and transient failures
        // must never exhaust one.
        max_deliver: -1,
        filter_subject: format!("{}.cmd.>", bus.prefix()),
        ..Default::default()
    };
    bus.jetstream()
        .create_consumer_on_stream(config, bus.commands_stream())
        .await
        .map_err(|e| format!("create or update consumer {name}: {e}"))
}

/// What became of a message.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Outcome {
    /// Acked (done or dead-lettered), or nak'd for an ordering retry.
    Settled,
    /// Nak'd because something is away: pause pulling.
    Transient,
}

/// Handles one message: decode, call the handler, then reply, dead-letter, ack or nak.
pub(super) async fn process<H: CommandHandler>(
    bus: &Bus,
    handler: &H,
    message: &jetstream::Message,
    ordering: &Mutex<OrderingBudget>,
) -> Outcome {
    let (sequence, delivered) = match message.info() {
        Ok(info) => (info.stream_sequence, info.delivered.max(1) as u64),
        Err(_) => (0, 1),
    };
    if delivered > 1 {
        handler.redelivered();
    }
    let command_prefix = format!("{}.cmd.", bus.prefix());
    let action = message.subject.as_str().strip_prefix(&command_prefix).filter(|a| !a.is_empty());
    let letter = Letter {
        action: action.unwrap_or("_").to_string(),
        body: &message.payload,
        msg_id: header(message.headers.as_ref(), MSG_ID),
        reply_to: header(message.headers.as_ref(), REPLY_TO),
        sequence,
    };
    if action.is_none() {
        let problem = Problem::bad_request(format!("subject {} names no action", message.subject));
        return dead_letter(bus, handler, message, &letter, problem).await;
    }
    if std::str::from_utf8(&message.payload).is_err() {
        return dead_letter(bus, handler, message, &letter, Problem::bad_request("body is not valid UTF-8")).await;
    }

    let command = CommandMsg {
        action: letter.action.clone(),
        body: message.payload.to_vec(),
        msg_id: letter.msg_id.clone(),
        reply_to: letter.reply_to.clone(),
        delivered,
        bearer: header(message.headers.as_ref(), AUTHORIZATION)
            .map(|v| v.strip_prefix("Bearer ").map_or(v.clone(), str::to_owned)),
    };
    match handler.handle(command).await {
        Ok(reply) => {
            forget(ordering, sequence);
            if let Some(reply_to) = &letter.reply_to {
                publish_reply(bus, reply_to, None, reply).await;
            }
            ack(message).await;
            Outcome::Settled
        }
        Err(CommandFailure::Permanent { problem }) => {
            forget(ordering, sequence);
            dead_letter(bus, handler, message, &letter, problem).await
        }
        Err(CommandFailure::Ordering { problem }) => {
            let (failures, since) = ordering.lock().unwrap_or_else(PoisonError::into_inner).fail(sequence);
            if failures >= ORDERING_BUDGET && since >= ORDERING_PATIENCE {
                tracing::warn!(action = %letter.action, failures, "command still out of order; dead-lettering it");
                forget(ordering, sequence);
                return dead_letter(bus, handler, message, &letter, problem).await;
            }
            let delay = (ORDERING_DELAY_STEP * failures).min(ORDERING_DELAY_MAX);
            tracing::debug!(action = %letter.action, failures, ?delay, "command out of order; retrying later");
            nak(message, delay).await;
            Outcome::Settled
        }
        Err(CommandFailure::Transient { reason }) => {
            tracing::warn!(action = %letter.action, reason = %reason, "command failed transiently; retrying later");
            nak(message, TRANSIENT_DELAY).await;
            Outcome::Transient
        }
    }
}

/// What a dead letter says about its command.
struct Letter<'a> {
    action: String,
    body: &'a [u8],
    msg_id: Option<String>,
    reply_to: Option<String>,
    /// The command's sequence in `{PREFIX}_CMD` (0 if unknown): names the dead letter for deduplication.
    sequence: u64,
}

/// Publishes the command with its problem to `{prefix}.dlq.{action}` through JetStream, answers the
/// problem to `Aduan-Reply-To`, and acks. When the dead letter cannot be stored, naks instead (the
/// command comes back and is dead-lettered then) and reports a transient outcome.
async fn dead_letter<H: CommandHandler>(
    bus: &Bus,
    handler: &H,
    message: &jetstream::Message,
    letter: &Letter<'_>,
    problem: Problem,
) -> Outcome {
    let summary = summary(&problem);
    tracing::warn!(action = %letter.action, error = %summary, "command dead-lettered");
    let payload = super::letter::letter(&letter.action, letter.body, letter.msg_id.as_deref(), &problem);
    let subject = format!("{}.dlq.{}", bus.prefix(), letter.action);
    let mut publish = PublishMessage::build().payload(payload.into()).header(ERROR_HEADER, summary.as_str());
    if letter.sequence > 0 {
        // A redelivered poison message (acked too late, say) is stored once.
        publish = publish.message_id(format!("{}-{}", bus.commands_stream(), letter.sequence));
    }
    let stored = match bus.jetstream().send_publish(subject.clone(), publish).await {
        Ok(ack) => ack.await.map(drop).map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = stored {
        tracing::warn!(subject = %subject, error = %e, "cannot store a dead letter; the command will come back");
        nak(message, TRANSIENT_DELAY).await;
        return Outcome::Transient;
    }
    handler.dead_lettered(&letter.action);
    if let Some(reply_to) = &letter.reply_to {
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        publish_reply(bus, reply_to, Some(&summary), body).await;
    }
    ack(message).await;
    Outcome::Settled
}

/// Publishes an answer on core NATS (with `Aduan-Error` when it is a problem) and flushes. Best effort:
/// the command committed whether or not the answer arrives.
async fn publish_reply(bus: &Bus, reply_to: &str, error: Option<&str>, body: Vec<u8>) {
    let client = bus.client();
    let sent = match error {
        None => client.publish(reply_to.to_string(), body.into()).await,
        Some(error) => {
            let mut headers = HeaderMap::new();
            headers.insert(ERROR_HEADER, error);
            client.publish_with_headers(reply_to.to_string(), headers, body.into()).await
        }
    };
    let flushed = match sent {
        Ok(()) => client.flush().await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = flushed {
        tracing::warn!(reply_to, error = %e, "cannot publish the answer to a command");
    }
}

/// Acks and waits for the server to confirm. If that fails the command comes back after the ack wait
/// and its idempotency key answers it.
async fn ack(message: &jetstream::Message) {
    if let Err(e) = message.double_ack().await {
        tracing::warn!(subject = %message.subject, error = %e, "cannot ack a command; it will be redelivered");
    }
}

/// Naks with a redelivery delay.
pub(super) async fn nak(message: &jetstream::Message, delay: Duration) {
    if let Err(e) = message.ack_with(AckKind::Nak(Some(delay))).await {
        tracing::debug!(subject = %message.subject, error = %e, "cannot nak a command; it comes back after the ack wait");
    }
}

/// On shutdown: hands back (nak, no delay) the messages of the batch already received but not
/// started, so another replica takes them without waiting for the ack wait.
async fn release_buffered(batch: &mut Batch) {
    while let Ok(Some(Ok(message))) = tokio::time::timeout(Duration::ZERO, next(batch)).await {
        nak(&message, Duration::ZERO).await;
    }
}

/// A header's value, matching its name case-insensitively (publishers do not agree on case).
fn header(headers: Option<&HeaderMap>, name: &str) -> Option<String> {
    let headers = headers?;
    if let Some(value) = headers.get(name) {
        return Some(value.as_str().to_string());
    }
    headers
        .iter()
        .find(|(n, _)| AsRef::<str>::as_ref(*n).eq_ignore_ascii_case(name))
        .and_then(|(_, values)| values.first())
        .map(|value| value.as_str().to_string())
}

/// One line naming a problem, for the `Aduan-Error` header: its `detail`, else its `title`; at most 200
/// characters, no line breaks.
fn summary(problem: &Problem) -> String {
    let text = if problem.detail.trim().is_empty() { &problem.title } else { &problem.detail };
    let line: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).take(200).collect();
    if line.trim().is_empty() {
        "error".to_string()
    } else {
        line
    }
}

/// Forgets a settled command's ordering failures.
fn forget(ordering: &Mutex<OrderingBudget>, sequence: u64) {
    ordering.lock().unwrap_or_else(PoisonError::into_inner).forget(sequence);
}

/// Ordering failures per command (by stream sequence), counted in this process, and when the first
/// was.
///
/// Counted here rather than read from JetStream's delivery count, because transient failures (the
/// database away for a minute) also raise the delivery count: a command that was nak'd twenty times
/// while the database was down must still get its five ordering attempts afterwards. With several
/// replicas a command may get up to five attempts on each; it is never dead-lettered early.
#[derive(Default)]
pub(super) struct OrderingBudget {
    failures: HashMap<u64, (u32, Instant)>,
}

impl OrderingBudget {
    /// Records one more ordering failure and returns how many there were, and how long ago the first.
    fn fail(&mut self, sequence: u64) -> (u32, Duration) {
        if self.failures.len() >= ORDERING_MEMORY && !self.failures.contains_key(&sequence) {
            self.failures.clear();
        }
        let (count, first) = self.failures.entry(sequence).or_insert((0, Instant::now()));
        *count += 1;
        (*count, first.elapsed())
    }

    /// Forgets a command that is settled.
    fn forget(&mut self, sequence: u64) {
        self.failures.remove(&sequence);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_match_case_insensitively() {
        let mut headers = HeaderMap::new();
        headers.insert("aduan-reply-to", "_INBOX.x");
        headers.insert("Nats-Msg-Id", "k1");
        assert_eq!(header(Some(&headers), REPLY_TO).as_deref(), Some("_INBOX.x"));
        assert_eq!(header(Some(&headers), MSG_ID).as_deref(), Some("k1"));
        assert_eq!(header(Some(&headers), "Authorization"), None);
        assert_eq!(header(None, MSG_ID), None);
    }

    #[test]
    fn summaries_are_one_short_line() {
        assert_eq!(summary(&Problem::new(422, "title: too long")), "title: too long");
        assert_eq!(summary(&Problem::new(409, "")), "conflict");
        assert_eq!(summary(&Problem::new(400, "a\r\nb")), "a  b");
        assert_eq!(summary(&Problem::new(400, "x".repeat(500))).chars().count(), 200);
        let mut blank = Problem::new(400, " ");
        blank.title = String::new();
        assert_eq!(summary(&blank), "error");
    }

    #[test]
    fn the_ordering_budget_counts_per_command() {
        let mut budget = OrderingBudget::default();
        assert_eq!(budget.fail(7).0, 1);
        assert_eq!(budget.fail(7).0, 2);
        assert_eq!(budget.fail(8).0, 1);
        budget.forget(7);
        assert_eq!(budget.fail(7).0, 1);
    }
}
