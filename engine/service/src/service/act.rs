//! Taking a workflow action on a case: map the request to a core command, decide, write.

use super::auth::Caller;
use super::rows::{case_of, row_after};
use super::write::{fired_rungs, CaseWrite, Stamp};
use super::{Reply, Service, ServiceError, MAX_RETRIES};
use crate::crypto::sha256_hex;
use crate::store::CommandRecord;
use crate::wire::ActionRequest;
use aduan_core::case::{self, Command};
use aduan_core::time::Timestamp;
use chrono::{DateTime, Utc};

impl Service {
    /// Takes a workflow action as `caller` (the case's reporter token makes it the reporter). `id` is
    /// the case id or its tracking id. No credentials: 401; outside role or reach: 403.
    pub async fn act(
        &self,
        id: &str,
        req: ActionRequest,
        key: Option<String>,
        caller: &Caller,
        now: Timestamp,
    ) -> Result<Reply, ServiceError> {
        let started = std::time::Instant::now();
        let action = req.action.clone().unwrap_or_default();
        let result = self.act_inner(id, req, key, caller, now.utc()).await;
        let label = self.action_label(&action);
        self.inner.metrics.command(label, result.as_ref().err().map(ServiceError::status), started.elapsed());
        result
    }

    async fn act_inner(
        &self,
        id: &str,
        mut req: ActionRequest,
        key: Option<String>,
        caller: &Caller,
        now: DateTime<Utc>,
    ) -> Result<Reply, ServiceError> {
        if *caller == Caller::Public {
            return Err(ServiceError::Unauthenticated("an action needs a token (Authorization: Bearer …)".into()));
        }
        let key = key.or_else(|| req.command_id.take());
        req.command_id = None;
        req.complaint = None;
        let cmd = command_of(&req)?;
        let request_hash =
            sha256_hex(serde_json::to_string(&req).map_err(|e| ServiceError::Internal(e.to_string()))?.as_bytes());
        let call = Call { id, cmd: &cmd, key: key.as_deref(), request_hash: &request_hash, caller, now };
        for _ in 0..MAX_RETRIES {
            match self.act_once(&call).await {
                Err(ServiceError::LostRace) => continue,
                other => return other,
            }
        }
        Err(ServiceError::LostRace)
    }

    /// One attempt at a command, in one transaction: [`ServiceError::LostRace`] (rolled back) when
    /// another writer changed the case first.
    async fn act_once(&self, call: &Call<'_>) -> Result<Reply, ServiceError> {
        let (id, now) = (call.id, call.now);
        let pack = self.pack();
        let mut tx = self.inner.store.begin().await?;
        let row = match tx.case_by_id(id).await? {
            Some(r) => r,
            None => match tx.case_by_tracking_id(id).await? {
                Some(r) => r,
                None => {
                    tx.rollback().await?;
                    return Err(ServiceError::NotFound(format!("no complaint `{id}`")));
                }
            },
        };
        let timers = tx.timers(&row.id).await?;
        let case = case_of(&row, &timers)?;
        let actor = match call.caller.actor_on(case.state.reporter_token_sha256.as_deref()) {
            Ok(a) => a,
            Err(e) => {
                tx.rollback().await?;
                return Err(e);
            }
        };
        let scope = format!("{}:{}", row.id, call.cmd.action());
        if let Some(k) = call.key {
            if let Some(rec) = tx.command(&scope, k).await? {
                tx.rollback().await?;
                return self.replay(rec, call.request_hash, now, &actor).await;
            }
        }
        let (p, c, a) = (pack.clone(), call.cmd.clone(), actor.clone());
        let decided = tokio::task::spawn_blocking(move || {
            let mut case = case;
            case::decide(&p, &mut case, &a, &c, now).map(|out| (case, out))
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let (case, outcome) = match decided {
            Ok(x) => x,
            Err(e) => {
                tx.rollback().await?;
                return Err(e.into());
            }
        };
        let command = call.key.map(|k| CommandRecord {
            scope,
            key: k.to_owned(),
            request_hash: call.request_hash.to_owned(),
            status: 200,
            complaint_id: Some(row.id.clone()),
            reporter_token_sealed: None,
            created_at: now,
        });
        let fired = fired_rungs(&mut tx, &case.id).await?;
        let stamp = Stamp { pack: &pack, actor: &actor.label(), at: now };
        let write = CaseWrite::new(stamp, &case, row_after(&case, &pack, &row, now), outcome, &fired)?
            .published(self.prefix())
            .with_command(command);
        match write.write(&mut tx).await {
            Err(ServiceError::LostRace) => {
                tx.rollback().await?;
                return Err(ServiceError::LostRace);
            }
            other => other?,
        }
        tx.commit().await?;
        self.inner.wake.notify_one();
        let view = self.render(&write.row, &write.timers, None, &actor)?;
        Ok(Reply { status: 200, view, replayed: false })
    }
}

/// One command as [`Service::act_once`] takes it.
struct Call<'a> {
    id: &'a str,
    cmd: &'a Command,
    key: Option<&'a str>,
    request_hash: &'a str,
    caller: &'a Caller,
    now: DateTime<Utc>,
}

/// Maps an action request to a core command, naming the first missing or wrong field.
fn command_of(req: &ActionRequest) -> Result<Command, ServiceError> {
    let action = req.action.as_deref().ok_or_else(|| ServiceError::invalid("action", "required"))?;
    let allowed: &[&str] = match action {
        "verify" => &["agency", "category", "investigation"],
        "archive" | "escalate" => &["reason"],
        "forward" => &["agency", "reason"],
        "respond" | "request_info" | "provide_info" | "resolve" | "reopen" => &["message"],
        "rate" => &["score"],
        other => return Err(ServiceError::invalid("action", format!("unknown action `{other}`"))),
    };
    let r = req;
    let set = [
        ("agency", r.agency.is_some()),
        ("category", r.category.is_some()),
        ("investigation", r.investigation.is_some()),
        ("reason", r.reason.is_some()),
        ("message", r.message.is_some()),
        ("score", r.score.is_some()),
    ];
    if let Some((f, _)) = set.iter().find(|(f, present)| *present && !allowed.contains(f)) {
        return Err(ServiceError::invalid(f, format!("not a field of `{action}`")));
    }
    let need = |v: &Option<String>, f: &str| {
        v.clone().ok_or_else(|| ServiceError::invalid(f, format!("required for `{action}`")))
    };
    Ok(match action {
        "verify" => {
            Command::Verify { agency: r.agency.clone(), category: r.category.clone(), investigation: r.investigation }
        }
        "archive" => Command::Archive { reason: need(&r.reason, "reason")? },
        "escalate" => Command::Escalate { reason: need(&r.reason, "reason")? },
        "forward" => Command::Forward { agency: need(&r.agency, "agency")?, reason: need(&r.reason, "reason")? },
        "rate" => {
            Command::Rate { score: r.score.ok_or_else(|| ServiceError::invalid("score", "required for `rate`"))? }
        }
        _ => {
            let message = need(&r.message, "message")?;
            match action {
                "respond" => Command::Respond { message },
                "request_info" => Command::RequestInfo { message },
                "provide_info" => Command::ProvideInfo { message },
                "resolve" => Command::Resolve { message },
                _ => Command::Reopen { message },
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(action: &str) -> ActionRequest {
        ActionRequest { action: Some(action.into()), ..ActionRequest::default() }
    }

    #[test]
    fn commands_name_the_field_at_fault() {
        let field = |r: &ActionRequest| match command_of(r) {
            Err(ServiceError::Invalid { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&ActionRequest { message: Some("x".into()), ..req("verify") }), "message");
        assert_eq!(field(&req("archive")), "reason");
        assert_eq!(field(&ActionRequest { reason: Some("x".into()), ..req("forward") }), "agency");
        assert_eq!(field(&ActionRequest { score: Some(3), ..req("respond") }), "score");
        assert_eq!(field(&req("rate")), "score");
        assert_eq!(field(&req("teleport")), "action");
        assert_eq!(field(&ActionRequest::default()), "action");
        let ok = command_of(&ActionRequest { agency: Some("pln".into()), reason: Some("x".into()), ..req("forward") });
        assert_eq!(ok, Ok(Command::Forward { agency: "pln".into(), reason: "x".into() }));
    }
}
