//! Glue between the parts: the store as the relay's outbox, and the service as the NATS consumer's
//! command handler (decode, call one service function, encode; sort failures into permanent, ordering
//! and transient).

use crate::api::decode_problem;
use crate::bus::{CommandFailure, CommandHandler, CommandMsg, Outbox, OutboxItem};
use crate::service::{Service, ServiceError};
use crate::store::Store;
use crate::wire::{ActionRequest, Problem, Submission};
use chrono::Utc;
use std::time::Duration;

/// The lease that makes one relay at a time publish.
pub const RELAY_LEASE: &str = "outbox-relay";

/// The SQL outbox, as the relay reads it.
#[derive(Clone)]
pub struct StoreOutbox(pub Store);

impl Outbox for StoreOutbox {
    async fn batch(&self, limit: i64) -> Result<Vec<OutboxItem>, String> {
        let rows = self.0.outbox_batch(limit).await.map_err(|e| e.to_string())?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxItem { id: r.id, event_id: r.event_id, subject: r.subject, payload: r.payload })
            .collect())
    }

    async fn mark_sent(&self, ids: &[i64]) -> Result<(), String> {
        self.0.mark_sent(ids, Utc::now()).await.map_err(|e| e.to_string())
    }

    async fn try_lease(&self, holder: &str, ttl: Duration) -> Result<bool, String> {
        self.0.try_lease(RELAY_LEASE, holder, Utc::now(), ttl).await.map_err(|e| e.to_string())
    }

    async fn release_lease(&self, holder: &str) {
        let _ = self.0.release_lease(RELAY_LEASE, holder).await;
    }
}

/// The service behind the NATS command consumer.
#[derive(Clone)]
pub struct CommandService(pub Service);

fn problem(status: u16, detail: String, field: Option<String>, allowed: Option<Vec<String>>) -> serde_json::Value {
    let title = match status {
        400 => "bad request",
        403 => "forbidden",
        404 => "not found",
        409 => "conflict",
        422 => "invalid field",
        _ => "error",
    };
    serde_json::to_value(Problem { title: title.into(), status, detail, field, allowed }).unwrap_or_default()
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, CommandFailure> {
    serde_json::from_slice(body).map_err(|e| {
        let (status, detail, field) = decode_problem(&e);
        CommandFailure::Permanent { problem: problem(status, detail, field, None) }
    })
}

fn failure(e: ServiceError) -> CommandFailure {
    let status = e.status();
    match e {
        ServiceError::Unavailable(reason) => CommandFailure::Transient { reason },
        ServiceError::NotFound(d) => CommandFailure::Ordering { problem: problem(404, d, None, None) },
        ServiceError::Conflict { detail, allowed } => {
            CommandFailure::Ordering { problem: problem(409, detail, None, Some(allowed)) }
        }
        ServiceError::Invalid { field, detail } => {
            CommandFailure::Permanent { problem: problem(422, format!("{field}: {detail}"), Some(field), None) }
        }
        ServiceError::Internal(d) => CommandFailure::Ordering { problem: problem(500, d, None, None) },
        other => CommandFailure::Permanent { problem: problem(status, other.to_string(), None, None) },
    }
}

impl CommandHandler for CommandService {
    async fn handle(&self, msg: CommandMsg) -> Result<Vec<u8>, CommandFailure> {
        let now = crate::clock::now();
        let reply = if msg.action == "submit" {
            let sub: Submission = decode(&msg.body)?;
            self.0.submit(sub, msg.msg_id.clone(), now).await
        } else {
            let mut req: ActionRequest = decode(&msg.body)?;
            if req.action.as_deref().is_some_and(|a| a != msg.action) {
                let d =
                    format!("action: `{}` differs from the subject's `{}`", req.action.unwrap_or_default(), msg.action);
                return Err(CommandFailure::Permanent { problem: problem(422, d, Some("action".into()), None) });
            }
            req.action = Some(msg.action.clone());
            let Some(id) = req.complaint.clone() else {
                let d = "complaint: required".to_owned();
                return Err(CommandFailure::Permanent { problem: problem(422, d, Some("complaint".into()), None) });
            };
            self.0.act(&id, req, msg.msg_id.clone(), None, now).await
        };
        let reply = reply.map_err(failure)?;
        serde_json::to_vec(&reply.view).map_err(|e| CommandFailure::Transient { reason: e.to_string() })
    }
}
