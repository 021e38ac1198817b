//! Deadline sweeps as a service function: claim due timers, then sweep the claimed cases in groups, one
//! transaction per group and a savepoint per case (lock the case, decide with `aduan_core::sweep`, record
//! each fired rung under its unique (timer, generation, rung) key, write events, state and timers). A
//! rung another worker already recorded rolls that case back to its savepoint: each rung acts once,
//! whatever runs concurrently.

use crate::service::{case_of, timer_rows, Service, ServiceError};
use crate::store::{StoreError, Tx};
use aduan_core::sweep::{sweep_case, Fired};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::HashSet;
use std::time::Duration;

/// How long a claim lasts before another worker may take the case over.
pub const CLAIM_TTL: Duration = Duration::from_secs(30);
/// Cases claimed per round.
pub const CLAIM_BATCH: i64 = 500;
/// Claimed cases swept per transaction (each in its own savepoint).
pub const SWEEP_GROUP: usize = 50;
/// Retries of a group rolled back by a transient database error (a deadlock, a dropped connection).
const GROUP_RETRIES: u32 = 5;

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
            for group in fresh.chunks(SWEEP_GROUP) {
                // Cases are locked in id order, so two groups that share a case (claims are per timer)
                // wait on each other instead of deadlocking; a deadlock PostgreSQL still detects
                // (say, with a release of claims) rolls the whole group back, and it is retried.
                let mut group = group.to_vec();
                group.sort();
                let mut attempt = 0;
                let (counts, unfinished) = loop {
                    match self.sweep_group(&group, now, dry_run).await {
                        Err(ServiceError::Unavailable(e)) if attempt < GROUP_RETRIES => {
                            attempt += 1;
                            tracing::debug!(error = %e, attempt, "sweep group rolled back; retrying");
                            tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                        }
                        other => break other?,
                    }
                };
                total += counts;
                if !unfinished.is_empty() && !dry_run {
                    // Left to the worker that acted first: give those claims back at once.
                    self.store().release_claims(owner, &unfinished).await?;
                }
            }
        }
        let claimed: Vec<String> = seen.into_iter().collect();
        for o in &owners {
            self.store().release_claims(o, &claimed).await?;
        }
        Ok(total)
    }

    /// Sweeps a group of claimed cases in one transaction, each inside its own savepoint (group commit:
    /// one commit, and one WAL flush on SQLite, per group rather than per case). A case another worker
    /// already acted on is rolled back to its savepoint alone and returned among the unfinished, as is
    /// a case that cannot be swept (a row the engine cannot read: logged, its claim left to lapse, so it
    /// never holds up the others). A transient database error rolls the whole group back.
    async fn sweep_group(
        &self,
        ids: &[String],
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<(SweepCounts, Vec<String>), ServiceError> {
        const SP: &str = "sweep_case";
        let mut tx = self.store().begin().await?;
        let mut total = SweepCounts::default();
        let mut unfinished = Vec::new();
        let mut changed = false;
        for id in ids {
            tx.savepoint(SP).await?;
            match self.sweep_in(&mut tx, id, now, dry_run).await {
                Ok(Some((counts, c))) => {
                    tx.release(SP).await?;
                    total += counts;
                    changed |= c;
                }
                Ok(None) => {
                    tx.rollback_to(SP).await?;
                    tx.release(SP).await?;
                    unfinished.push(id.clone());
                }
                Err(e @ ServiceError::Unavailable(_)) => {
                    tx.rollback().await.ok();
                    return Err(e);
                }
                Err(e) => {
                    tracing::error!(complaint = %id, error = %e, "cannot sweep this case; it is skipped and retried by the next sweep");
                    tx.rollback_to(SP).await?;
                    tx.release(SP).await?;
                }
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        if changed && !dry_run {
            self.relay_wake().notify_one();
        }
        Ok((total, unfinished))
    }

    /// Sweeps one claimed case inside the group's transaction: `None` when another worker had acted
    /// first (the caller undoes this case's writes), else the counts and whether the case changed.
    async fn sweep_in(
        &self,
        tx: &mut Tx,
        id: &str,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<Option<(SweepCounts, bool)>, ServiceError> {
        let pack = self.pack();
        let Some(row) = tx.lock_case(id).await? else {
            return Ok(Some((SweepCounts::default(), false)));
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
            return Ok(Some((counts, false)));
        }
        let mut fired = done;
        for (clock, generation, rung) in &result.fire {
            match tx.insert_rung(id, clock, *generation as i64, rung, now).await {
                // Another worker acted on this rung first: leave the case to it.
                Err(StoreError::Conflict(_)) => return Ok(None),
                other => other?,
            }
            fired.insert((clock.clone(), *generation, (*rung).to_owned()));
        }
        let changed = result.changed();
        if changed {
            let new_row = crate::service::row_after(&case, &pack, &row, now);
            self.append_with(tx, new_row, row.head_seq, &case, &pack, result.outcome, "system:sweep", now, &fired)
                .await?;
        } else {
            tx.replace_timers(id, &timer_rows(&case, &pack, &fired, now)).await?;
        }
        Ok(Some((counts, changed)))
    }
}
