//! Filing a complaint: validate the submission, decide with the core, write it; and answering a replayed
//! idempotency key with the original status and the current view.

use super::auth::{denied, Caller};
use super::duplicates;
use super::rows::case_row;
use super::write::{CaseWrite, Stamp};
use super::{new_id, Reply, Service, ServiceError, CHANNELS, MAX_RETRIES, OFFLINE_CHANNELS, TOKEN_REPLAY_WINDOW};
use crate::crypto::{new_token, new_tracking_id, sha256_hex};
use crate::store::{CommandRecord, StoreError};
use crate::wire::{geo, text, Location, Reporter, Submission};
use aduan_core::access::{self, Operation};
use aduan_core::case::{self, Actor, NewCase, Privacy};
use aduan_core::domain::Kind;
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::sweep::Fired;
use aduan_core::time::Timestamp;
use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

/// How far back `received_at` may lie on a submission (an import has no limit).
const BACK_DATE_LIMIT: Duration = Duration::days(30);
/// The scope of a submission's idempotency key.
const SUBMIT_SCOPE: &str = "submit";
/// The scope of a source system's reference, which is the key of its submissions
/// (docs/integrations.md): a key of its own, so no other caller's key can take a source's reference.
const SOURCE_SCOPE: &str = "source";

impl Service {
    /// Files a complaint. A replay of the same idempotency key answers with the original status and the
    /// current view (and, within 24 h, the same reporter token).
    /// Anyone may submit; `received_at` (back-dating) needs an admin, officer or integration token.
    pub async fn submit(
        &self,
        sub: Submission,
        key: Option<String>,
        caller: &Caller,
        now: Timestamp,
    ) -> Result<Reply, ServiceError> {
        let started = std::time::Instant::now();
        let result = self.submit_inner(sub, key, caller, now.utc(), Some(BACK_DATE_LIMIT)).await;
        self.inner.metrics.command("submit", result.as_ref().err().map(ServiceError::status), started.elapsed());
        result
    }

    /// Files one complaint of a source system's existing ones (`aduan import`, docs/integrations.md#import):
    /// as [`Service::submit`], from the source's own caller and with its reference, but `received_at`
    /// may lie any time in the past: the case's clocks count from its original date.
    pub async fn import(&self, sub: Submission, caller: &Caller, now: Timestamp) -> Result<Reply, ServiceError> {
        if sub.source.is_none() {
            return Err(ServiceError::invalid("source", "an imported complaint carries its source reference"));
        }
        self.submit_inner(sub, None, caller, now.utc(), None).await
    }

    async fn submit_inner(
        &self,
        mut sub: Submission,
        key: Option<String>,
        caller: &Caller,
        now: DateTime<Utc>,
        back_date_limit: Option<Duration>,
    ) -> Result<Reply, ServiceError> {
        let actor = caller.actor()?;
        let pack = self.pack();
        let op = if sub.received_at.is_some() { Operation::BackDate } else { Operation::Submit };
        access::check(&pack.directory, &actor, op, None).map_err(|d| {
            denied(d, |_| {
                ServiceError::Forbidden(
                    "`received_at` (back-dating) needs an admin, officer or integration token".into(),
                )
            })
        })?;
        let key = key.or_else(|| sub.command_id.take());
        sub.command_id = None;
        // A source's reference is the key of its submission, whatever key came with it.
        let (scope, key) = match &sub.source {
            Some(src) => {
                self.check_source(src, &actor).await?;
                (SOURCE_SCOPE, Some(format!("{}/{}", src.system, src.id)))
            }
            None => (SUBMIT_SCOPE, key),
        };
        let request_hash =
            sha256_hex(serde_json::to_string(&sub).map_err(|e| ServiceError::Internal(e.to_string()))?.as_bytes());
        let (new, reporter) = validate_submission(&pack, &sub, now, back_date_limit)?;
        let fingerprint = duplicates::fingerprint(&sub);
        for _ in 0..MAX_RETRIES {
            let mut tx = self.inner.store.begin().await?;
            if let Some(k) = &key {
                if let Some(rec) = tx.command(scope, k).await? {
                    tx.rollback().await?;
                    return self.replay(rec, &request_hash, now, &Actor::reporter()).await.map_err(|e| match e {
                        ServiceError::IdempotencyReused if scope == SOURCE_SCOPE => ServiceError::Conflict {
                            detail: format!("source reference {k} was filed already, with a different submission"),
                            allowed: Vec::new(),
                        },
                        other => other,
                    });
                }
            }
            let token = new_token();
            let mut new = new.clone();
            new.id = new_id();
            new.tracking_id = new_tracking_id();
            let p = pack.clone();
            let (mut case, outcome) = tokio::task::spawn_blocking(move || case::submit(&p, new, now))
                .await
                .map_err(|e| ServiceError::Internal(e.to_string()))?;
            case.state.reporter_token_sha256 = Some(sha256_hex(token.as_bytes()));
            let reporter_stored = reporter.as_ref().map(|r| {
                let json = serde_json::to_string(r).unwrap_or_default();
                if case.privacy == Privacy::Anonymous {
                    self.inner.key.seal(&json)
                } else {
                    json
                }
            });
            let mut row = case_row(&case, &pack, &sub.body, reporter_stored, now);
            if let Some(at) = &sub.location {
                (row.location_lat, row.location_long, row.location_address) = (at.lat, at.long, at.address.clone());
            }
            row.media_url = sub.media_url.clone();
            if let Some(src) = &sub.source {
                (row.source_system, row.source_ref) = (Some(src.system.clone()), Some(src.id.clone()));
                row.source_url = src.url.clone();
            }
            match tx.insert_case(&row).await {
                Err(StoreError::Conflict(_)) => {
                    tx.rollback().await?;
                    // A tracking-id collision (draw again), or a resend of the same source reference
                    // that committed meanwhile (found on the next round, and answered as a replay).
                    continue;
                }
                other => other?,
            }
            if let Some(fp) = &fingerprint {
                self.record_duplicates(&mut tx, &case.id, fp, now).await?;
            }
            let command = key.as_ref().map(|k| CommandRecord {
                scope: scope.into(),
                key: k.clone(),
                request_hash: request_hash.clone(),
                status: 201,
                complaint_id: Some(case.id.clone()),
                reporter_token_sealed: Some(self.inner.key.seal(&token)),
                created_at: now,
            });
            let label = actor.label();
            let stamp = Stamp { pack: &pack, actor: &label, at: now };
            let write = CaseWrite::new(stamp, &case, row, outcome, &Fired::new())?
                .published(self.prefix())
                .with_command(command);
            match write.write(&mut tx).await {
                Err(ServiceError::LostRace) => {
                    tx.rollback().await?;
                    continue; // a concurrent replay won: answer as a replay on the next round
                }
                other => other?,
            }
            tx.commit().await?;
            self.inner.wake.notify_one();
            let mut view = self.render(&write.row, &write.timers, None, &Actor::reporter())?;
            view.reporter_token = Some(token);
            return Ok(Reply { status: 201, view, replayed: false });
        }
        Err(ServiceError::Unavailable("could not commit the submission; retry".into()))
    }

    pub(super) async fn replay(
        &self,
        rec: CommandRecord,
        request_hash: &str,
        now: DateTime<Utc>,
        viewer: &Actor,
    ) -> Result<Reply, ServiceError> {
        if rec.request_hash != request_hash {
            return Err(ServiceError::IdempotencyReused);
        }
        let id = rec
            .complaint_id
            .clone()
            .ok_or_else(|| ServiceError::Internal("a replayed command names no case".into()))?;
        let row =
            self.inner.store.case_by_id(&id).await?.ok_or_else(|| ServiceError::NotFound(format!("complaint {id}")))?;
        let mut view = self.view_of(&row, false, viewer).await?;
        if [SUBMIT_SCOPE, SOURCE_SCOPE].contains(&rec.scope.as_str()) && now - rec.created_at < TOKEN_REPLAY_WINDOW {
            view.reporter_token = rec.reporter_token_sealed.as_deref().and_then(|s| self.inner.key.open(s).ok());
        }
        Ok(Reply { status: rec.status as u16, view, replayed: true })
    }
}

/// Validates a submission into a new case (ids are drawn at commit) and the reporter identity.
/// `back_date_limit`: how far back `received_at` may lie (none for an import).
fn validate_submission(
    pack: &Pack,
    sub: &Submission,
    now: DateTime<Utc>,
    back_date_limit: Option<Duration>,
) -> Result<(NewCase, Option<Reporter>), ServiceError> {
    let kind: Kind = serde_json::from_value(Value::String(sub.kind.clone())).map_err(|_| {
        ServiceError::invalid("kind", format!("`{}` is not pengaduan, aspirasi or permintaan_informasi", sub.kind))
    })?;
    if !CHANNELS.contains(&sub.channel.as_str()) {
        return Err(ServiceError::invalid(
            "channel",
            format!("`{}` is not one of {}", sub.channel, CHANNELS.join(", ")),
        ));
    }
    if sub.title.trim().is_empty() {
        return Err(ServiceError::invalid("title", "required"));
    }
    // Decoding refuses these already; a `Submission` built in code is held to the same limits.
    for (field, text, max) in [("title", &sub.title, text::SHORT), ("body", &sub.body, text::LONG)] {
        if let Some(why) = text::refusal(text, max) {
            return Err(ServiceError::invalid(field, why));
        }
    }
    if let Some(at) = &sub.location {
        validate_location(at)?;
    }
    if let Some(why) = sub.media_url.as_deref().and_then(text::url_refusal) {
        return Err(ServiceError::invalid("media_url", why));
    }
    let region = match &sub.region {
        None => None,
        Some(r) => Some(RegionCode::parse(r).map_err(|e| ServiceError::invalid("region", e.to_string()))?),
    };
    if let Some(c) = &sub.category {
        if !pack.directory.is_empty() && pack.directory.category(c).is_none() {
            return Err(ServiceError::invalid("category", format!("unknown category `{c}`")));
        }
    }
    let privacy = sub.privacy.as_deref().unwrap_or("public");
    let privacy = Privacy::from_wire(privacy).ok_or_else(|| {
        ServiceError::invalid("privacy", format!("`{privacy}` is not public, anonymous or confidential"))
    })?;
    let received_at = match sub.received_at {
        None => now,
        Some(at) => {
            if !OFFLINE_CHANNELS.contains(&sub.channel.as_str()) {
                return Err(ServiceError::invalid(
                    "received_at",
                    format!("only for channels {}", OFFLINE_CHANNELS.join(", ")),
                ));
            }
            if at > now {
                return Err(ServiceError::invalid("received_at", "is in the future"));
            }
            if back_date_limit.is_some_and(|limit| now - at > limit) {
                return Err(ServiceError::invalid("received_at", "is more than 30 days back"));
            }
            at
        }
    };
    let new = NewCase {
        id: String::new(),
        tracking_id: String::new(),
        kind,
        channel: sub.channel.clone(),
        category: sub.category.clone(),
        region,
        privacy,
        title: sub.title.clone(),
        received_at,
    };
    Ok((new, sub.reporter.clone()))
}

/// A location holds `lat` and `long` together (each within range), an address, or both. Decoding
/// checks the ranges already; a `Location` built in code is held to the same limits.
fn validate_location(at: &Location) -> Result<(), ServiceError> {
    match (at.lat, at.long) {
        (Some(_), None) => return Err(ServiceError::invalid("location.long", "required with `lat`")),
        (None, Some(_)) => return Err(ServiceError::invalid("location.lat", "required with `long`")),
        (None, None) if at.address.is_none() => {
            return Err(ServiceError::invalid("location", "needs `lat` and `long`, an `address`, or both"))
        }
        _ => {}
    }
    for (field, v, max) in [("location.lat", at.lat, 90.0), ("location.long", at.long, 180.0)] {
        if let Some(why) = v.and_then(|v| geo::refusal(v, max)) {
            return Err(ServiceError::invalid(field, why));
        }
    }
    if let Some(why) = at.address.as_deref().and_then(|a| text::refusal(a, text::REASON)) {
        return Err(ServiceError::invalid("location.address", why));
    }
    if at.address.as_deref().is_some_and(|a| a.trim().is_empty()) {
        return Err(ServiceError::invalid("location.address", "empty"));
    }
    Ok(())
}
