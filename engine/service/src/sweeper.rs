//! Deadline sweeps as a service function: claim due timers, then sweep each claimed case in its own
//! transaction (lock the case, decide with `aduan_core::sweep`, record each fired rung under its unique
//! (timer, generation, rung) key, write events, state and timers). A rung another worker already
//! recorded makes the transaction roll back: each rung acts once, whatever runs concurrently.

use crate::service::{case_of, timer_rows, Service, ServiceError};
use crate::store::StoreError;
use aduan_core::sweep::{sweep_case, Fired};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

/// How long a claim lasts before another worker may take the case over.
pub const CLAIM_TTL: Duration = Duration::from_secs(30);
/// Cases claimed per round.
pub const CLAIM_BATCH: i64 = 500;

/// What a sweep did (`aduan sweep` prints it as JSON).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SweepCounts {
    /// Warnings sent.
    pub warned: u64,
    /// Escalations.
    pub escalated: u64,
    /// Cases closed because `close` ran out.
    pub closed: u64,
    /// Due rungs not acted on.
    pub held: u64,
}

impl std::ops::AddAssign for SweepCounts {
    fn add_assign(&mut self, o: Self) {
        self.warned += o.warned;
        self.escalated += o.escalated;
        self.closed += o.closed;
        self.held += o.held;
    }
}

impl Service {
    /// One sweep as of `now`: claims due timers in batches (as `owner`, for `claim_ttl`) and sweeps each
    /// case once, until nothing due is left to claim. `dry_run` decides but writes nothing.
    ///
    /// Claims are judged on the same clock as due-ness: a claim taken at `now` is live until
    /// `now + claim_ttl`, so a worker that died holding claims is taken over by the first sweep at a later
    /// instant (the workers sweep on the wall clock; `aduan sweep --now` controls it).
    pub async fn sweep(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        claim_ttl: Duration,
        dry_run: bool,
    ) -> Result<SweepCounts, ServiceError> {
        let mut total = SweepCounts::default();
        let mut seen: HashSet<String> = HashSet::new();
        let mut owners = vec![owner.to_owned()];
        loop {
            // A dry run changes nothing, so its claims stay due: each round claims under a fresh owner
            // (skipping the earlier rounds' live claims), and every claim is released at the end.
            if dry_run && !seen.is_empty() {
                owners.push(format!("{owner}-{}", owners.len()));
            }
            let round_owner = owners.last().expect("one owner").clone();
            let ids = self.store().claim_due(&round_owner, now, claim_ttl, CLAIM_BATCH).await?;
            let fresh: Vec<String> = ids.into_iter().filter(|id| seen.insert(id.clone())).collect();
            if fresh.is_empty() {
                break;
            }
            for id in &fresh {
                let (counts, finished) = self.sweep_one(id, now, dry_run).await?;
                total += counts;
                if !finished && !dry_run {
                    // Left to the worker that acted first: give the claim back at once.
                    self.store().release_claims(owner, std::slice::from_ref(id)).await?;
                }
            }
        }
        let claimed: Vec<String> = seen.into_iter().collect();
        for o in &owners {
            self.store().release_claims(o, &claimed).await?;
        }
        Ok(total)
    }

    /// Sweeps one claimed case in its own transaction; `false` when another worker had acted first.
    async fn sweep_one(
        &self,
        id: &str,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<(SweepCounts, bool), ServiceError> {
        let pack = self.pack();
        let mut tx = self.store().begin().await?;
        let Some(row) = tx.lock_case(id).await? else {
            tx.rollback().await?;
            return Ok((SweepCounts::default(), true));
        };
        let timers = tx.timers(id).await?;
        let done: Fired = tx.fired_rungs(id).await?.into_iter().map(|(c, g, r)| (c, g as u64, r)).collect();
        let case = case_of(&row, &timers)?;
        let p = pack.clone();
        let d = done.clone();
        let (case, result) = tokio::task::spawn_blocking(move || {
            let mut case = case;
            let r = sweep_case(&p, &mut case, &d, now);
            (case, r)
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let counts = SweepCounts {
            warned: u64::from(result.warned),
            escalated: u64::from(result.escalated),
            closed: u64::from(result.closed),
            held: u64::from(result.held),
        };
        if dry_run {
            tx.rollback().await?;
            return Ok((counts, true));
        }
        let mut fired = done;
        for (clock, generation, rung) in &result.fire {
            match tx.insert_rung(id, clock, *generation as i64, rung, now).await {
                Err(StoreError::Conflict(_)) => {
                    // Another worker acted on this rung first: leave the case to it.
                    tx.rollback().await?;
                    return Ok((SweepCounts::default(), false));
                }
                other => other?,
            }
            fired.insert((clock.clone(), *generation, (*rung).to_owned()));
        }
        let changed = result.changed();
        if changed {
            let new_row = crate::service::row_after(&case, &pack, &row, now);
            self.append_with(&mut tx, new_row, row.head_seq, &case, &pack, result.outcome, "system:sweep", now, &fired)
                .await?;
        } else {
            tx.replace_timers(id, &timer_rows(&case, &pack, &fired, now)).await?;
        }
        tx.commit().await?;
        if changed {
            self.relay_wake().notify_one();
        }
        Ok((counts, true))
    }
}

impl Service {
    /// Recomputes every open timer on the active pack after its calendars changed (a holiday added
    /// mid-year, a region's new day off): for each case whose deadlines moved, one `deadline_changed`
    /// event with the old and new `due_at` of each clock, in its own transaction. Runs in the background
    /// in batches; intake is never blocked (each case is locked only for its own short transaction).
    /// Returns how many cases changed.
    pub async fn recompute_open_deadlines(&self, reason_pack: &str, batch: i64) -> Result<u64, ServiceError> {
        let mut after: Option<String> = None;
        let mut changed = 0u64;
        loop {
            let ids = self.store().case_ids_after(after.as_deref(), batch).await?;
            let Some(last) = ids.last().cloned() else { break };
            for id in &ids {
                if self.store().timers(id).await?.is_empty() {
                    continue;
                }
                if self.recompute_one(id, reason_pack).await? {
                    changed += 1;
                }
            }
            after = Some(last);
        }
        Ok(changed)
    }

    async fn recompute_one(&self, id: &str, reason_pack: &str) -> Result<bool, ServiceError> {
        let pack = self.pack();
        let now = Utc::now();
        let now = DateTime::from_timestamp_millis(now.timestamp_millis()).unwrap_or(now);
        let mut tx = self.store().begin().await?;
        let Some(row) = tx.lock_case(id).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let timers = tx.timers(id).await?;
        let case = case_of(&row, &timers)?;
        let mut changes = Vec::new();
        for t in &timers {
            let Some(ct) = case.timers.get(&t.clock) else { continue };
            let new = ct.timer.schedule(&pack.calendar_for(&ct.timer.calendar)).due_at();
            if new != t.due_at {
                changes.push(aduan_core::timer::DeadlineChange {
                    clock: t.clock.clone(),
                    old_due_at: t.due_at,
                    new_due_at: new,
                    reason: aduan_core::timer::ChangeReason::CalendarChanged { pack: reason_pack.to_owned() },
                });
            }
        }
        if changes.is_empty() {
            tx.rollback().await?;
            return Ok(false);
        }
        let fired: Fired = tx.fired_rungs(id).await?.into_iter().map(|(c, g, r)| (c, g as u64, r)).collect();
        let outcome = aduan_core::case::Outcome {
            events: vec![aduan_core::case::NewEvent {
                event_type: "deadline_changed".into(),
                data: serde_json::json!({ "changes": changes }),
            }],
            ..Default::default()
        };
        let new_row = crate::service::row_after(&case, &pack, &row, now);
        self.append_with(&mut tx, new_row, row.head_seq, &case, &pack, outcome, "system:recompute", now, &fired)
            .await?;
        tx.commit().await?;
        self.relay_wake().notify_one();
        Ok(true)
    }
}
