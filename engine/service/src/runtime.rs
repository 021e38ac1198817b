//! Glue between the parts: the store as the relay's outbox, and the service as the NATS consumer's
//! command handler (decode, call one service function, encode; sort failures into permanent, ordering
//! and transient).

use crate::bus::{CommandFailure, CommandHandler, CommandMsg, Outbox, OutboxError, OutboxItem};
use crate::problem::{self, decode_json};
use crate::service::{Service, ServiceError};
use crate::store::{Store, StoreError};
use crate::wire::{ActionRequest, Problem, Submission};
use chrono::Utc;
use std::time::Duration;

/// The lease that makes one relay at a time publish.
pub const RELAY_LEASE: &str = "outbox-relay";

/// The SQL outbox, as the relay reads it: the service's store, and its metrics for the relay's lag.
#[derive(Clone)]
pub struct StoreOutbox(pub Service);

/// A store error as the relay sees it: transient (the database away) or not.
fn outbox_error(e: StoreError) -> OutboxError {
    if e.is_transient() {
        OutboxError::Unavailable(Box::new(e))
    } else {
        OutboxError::Failed(Box::new(e))
    }
}

impl StoreOutbox {
    fn store(&self) -> &Store {
        self.0.store()
    }
}

impl Outbox for StoreOutbox {
    async fn batch(&self, limit: i64) -> Result<Vec<OutboxItem>, OutboxError> {
        let rows = self.store().outbox_batch(limit).await.map_err(outbox_error)?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxItem {
                id: r.id,
                event_id: r.event_id,
                subject: r.subject,
                payload: r.payload,
                created_at: r.created_at,
            })
            .collect())
    }

    async fn mark_sent(&self, ids: &[i64]) -> Result<(), OutboxError> {
        self.store().mark_sent(ids, Utc::now()).await.map_err(outbox_error)
    }

    async fn try_lease(&self, holder: &str, ttl: Duration) -> Result<bool, OutboxError> {
        self.store().try_lease(RELAY_LEASE, holder, Utc::now(), ttl).await.map_err(outbox_error)
    }

    async fn release_lease(&self, holder: &str) {
        let _ = self.store().release_lease(RELAY_LEASE, holder).await;
    }

    fn published(&self, lag: Duration) {
        self.0.metrics().relay_lag(lag);
    }
}

/// The service behind the NATS command consumer.
#[derive(Clone)]
pub struct CommandService(pub Service);

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CommandFailure> {
    decode_json(body).map_err(|problem| CommandFailure::Permanent { problem })
}

/// Sorts a service error for the consumer, with the problem HTTP would answer: transient ones are
/// retried (never dead-lettered), ordering ones retried then dead-lettered, the rest dead-lettered.
fn failure(e: ServiceError) -> CommandFailure {
    if problem::is_transient(&e) {
        return CommandFailure::Transient { reason: e.to_string() };
    }
    let problem = problem::problem(&e);
    match e {
        ServiceError::NotFound(_)
        | ServiceError::Conflict { .. }
        | ServiceError::OutOfReach(_)
        | ServiceError::Internal(_) => CommandFailure::Ordering { problem },
        _ => CommandFailure::Permanent { problem },
    }
}

fn invalid(field: &str, detail: String) -> CommandFailure {
    CommandFailure::Permanent { problem: Problem::new(422, detail).with_field(field) }
}

impl CommandHandler for CommandService {
    async fn handle(&self, msg: CommandMsg) -> Result<Vec<u8>, CommandFailure> {
        let now = crate::clock::now();
        let caller = self.0.authenticate(msg.bearer.as_deref()).await.map_err(failure)?;
        let reply = if msg.action == "submit" {
            let sub: Submission = decode(&msg.body)?;
            self.0.submit(sub, msg.msg_id.clone(), &caller, now).await
        } else {
            let mut req: ActionRequest = decode(&msg.body)?;
            if req.action.as_deref().is_some_and(|a| a != msg.action) {
                let d =
                    format!("action: `{}` differs from the subject's `{}`", req.action.unwrap_or_default(), msg.action);
                return Err(invalid("action", d));
            }
            req.action = Some(msg.action.clone());
            let Some(id) = req.complaint.clone() else {
                return Err(invalid("complaint", "complaint: required".to_owned()));
            };
            self.0.act(&id, req, msg.msg_id.clone(), &caller, now).await
        };
        let reply = reply.map_err(failure)?;
        serde_json::to_vec(&reply.view).map_err(|e| CommandFailure::Transient { reason: e.to_string() })
    }

    fn dead_lettered(&self, action: &str) {
        self.0.metrics().dead_letter(self.0.action_label(action));
    }

    fn redelivered(&self) {
        self.0.metrics().redelivery();
    }
}
