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
            let mut new_row = crate::service::case_row(&case, &pack, &row.body, row.reporter.clone(), now);
            new_row.created_at = row.created_at;
            new_row.title = row.title.clone();
            new_row.head_hash = row.head_hash.clone();
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
