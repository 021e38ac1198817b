//! Deadline sweeps as a service function: claim due timers, then sweep the claimed cases in groups, one
//! transaction per group (lock the group's cases in id order, decide each with `aduan_core::sweep`,
//! record each fired rung under its unique (timer, generation, rung) key, write events, state and
//! timers through [`CaseWrite`]). A rung another writer already recorded is a lost race: the whole group
//! rolls back and is retried, so each rung acts once, whatever runs concurrently.

use crate::service::{
    case_of, record_rungs, row_after, timer_rows, CaseWrite, FiredRung, Service, ServiceError, Stamp,
};
use crate::store::{Backend, CaseRow, TimerRow, Tx};
use aduan_core::case::Case;
use aduan_core::pack::Pack;
use aduan_core::sweep::{fired_from_rows, sweep_case, Fired, SweepOutcome};
use aduan_core::time::Timestamp;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// How long a claim lasts before another worker may take the case over.
pub const CLAIM_TTL: Duration = Duration::from_secs(30);
/// Cases claimed per round.
pub const CLAIM_BATCH: i64 = 500;
/// Claimed cases swept per transaction.
pub const SWEEP_GROUP: usize = 50;
/// Groups swept at once on PostgreSQL (one sweep; several replicas add their own).
pub const PG_PARALLEL_GROUPS: usize = 4;
/// Retries of a group rolled back by a transient database error (a deadlock, a dropped connection) or
/// a lost race.
const GROUP_RETRIES: u32 = 5;
/// The `actor` of a sweep's events.
const SWEEP_ACTOR: &str = "system:sweep";

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
    ///
    /// Every sweep is logged at info with its counts (a failed one at warn), and counted in the
    /// metrics unless it is a dry run.
    pub async fn sweep(
        &self,
        now: Timestamp,
        owner: &str,
        claim_ttl: Duration,
        dry_run: bool,
    ) -> Result<SweepCounts, ServiceError> {
        let started = std::time::Instant::now();
        let result = self.sweep_claims(now, owner, claim_ttl, dry_run).await;
        let took = started.elapsed();
        if !dry_run {
            self.metrics().sweep(result.as_ref().ok(), took);
        }
        let ms = took.as_secs_f64() * 1000.0;
        match &result {
            Ok(c) => tracing::info!(
                warned = c.warned,
                escalated = c.escalated,
                closed = c.closed,
                held = c.held,
                dry_run,
                elapsed_ms = ms,
                "sweep"
            ),
            Err(e) => tracing::warn!(error = %e, elapsed_ms = ms, "sweep failed; the next one retries"),
        }
        result
    }

    /// [`Service::sweep`] without its log line and metrics.
    async fn sweep_claims(
        &self,
        now: Timestamp,
        owner: &str,
        claim_ttl: Duration,
        dry_run: bool,
    ) -> Result<SweepCounts, ServiceError> {
        let now = now.utc();
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
            // The groups of one claim batch hold disjoint cases, so on PostgreSQL several run at once
            // (overlapping their round trips); SQLite has one writer, so one at a time.
            let parallel = match self.store().backend() {
                Backend::Postgres => PG_PARALLEL_GROUPS,
                Backend::Sqlite => 1,
            };
            let mut groups = fresh.chunks(SWEEP_GROUP).map(<[String]>::to_vec);
            let mut running = tokio::task::JoinSet::new();
            let mut failed = None;
            loop {
                while failed.is_none() && running.len() < parallel {
                    let Some(group) = groups.next() else { break };
                    let svc = self.clone();
                    running.spawn(async move { svc.sweep_group_retrying(group, now, dry_run).await });
                }
                let Some(done) = running.join_next().await else { break };
                match done.map_err(|e| ServiceError::Internal(e.to_string())).and_then(|r| r) {
                    Ok(counts) => total += counts,
                    Err(e) => failed = failed.or(Some(e)),
                }
            }
            if let Some(e) = failed {
                return Err(e);
            }
        }
        let claimed: Vec<String> = seen.into_iter().collect();
        for o in &owners {
            self.store().release_claims(o, &claimed).await?;
        }
        Ok(total)
    }

    /// [`Service::sweep_group`], retried when a transient error (a PostgreSQL deadlock, a dropped
    /// connection) or a lost race rolled it back. Cases are locked in id order, so two groups that share a case (claims
    /// are per timer) wait on each other instead of deadlocking.
    async fn sweep_group_retrying(
        &self,
        mut group: Vec<String>,
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<SweepCounts, ServiceError> {
        group.sort();
        let mut attempt = 0;
        loop {
            match self.sweep_group(&group, now, dry_run).await {
                Err(e @ (ServiceError::Unavailable(_) | ServiceError::LostRace)) if attempt < GROUP_RETRIES => {
                    attempt += 1;
                    tracing::debug!(error = %e, attempt, "sweep group rolled back; retrying");
                    tokio::time::sleep(Duration::from_millis(20 * u64::from(attempt))).await;
                }
                other => return other,
            }
        }
    }

    /// Sweeps a group of claimed cases in one transaction (group commit: one commit, and one WAL flush
    /// on SQLite, per group rather than per case). It reads the group's cases (locked), timers and fired
    /// rungs in three statements, decides every case in one blocking task, then writes each case that
    /// acted. A case the engine cannot read is logged and skipped, so it never holds up the others. A
    /// transient database error or a lost race rolls the whole group back for the caller to retry.
    ///
    /// Each rung still acts once: it is inserted under its unique key before the case's writes, and
    /// since every writer of a case's rungs holds the case's lock first, the rungs read here are the
    /// whole truth; a unique-key conflict (which would mean a writer skipped the lock) is a lost race.
    async fn sweep_group(
        &self,
        ids: &[String],
        now: DateTime<Utc>,
        dry_run: bool,
    ) -> Result<SweepCounts, ServiceError> {
        let pack = self.pack();
        let mut tx = self.store().begin().await?;
        let work = read_group(&mut tx, ids).await?;
        let p = pack.clone();
        let decided = tokio::task::spawn_blocking(move || {
            work.into_iter()
                .map(|mut w| {
                    let r = sweep_case(&p, &mut w.case, &w.fired, now);
                    (w, r)
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))?;
        let mut total = SweepCounts::default();
        let mut changed_any = false;
        for (swept, result) in decided {
            total += SweepCounts {
                warned: u64::from(result.warned),
                escalated: u64::from(result.escalated),
                closed: u64::from(result.closed),
                held: u64::from(result.held),
            };
            if !dry_run {
                changed_any |= self.write_swept(&mut tx, &pack, swept, result, now).await?;
            }
        }
        if dry_run {
            tx.rollback().await?;
        } else {
            tx.commit().await?;
        }
        if changed_any && !dry_run {
            self.relay_wake().notify_one();
        }
        Ok(total)
    }

    /// Writes one swept case: its fired rungs, and either the decision (events, state, timers) when the
    /// case acted, or only the timers whose `next_action_at` moved (say, a warning held for working
    /// hours). True when the case acted.
    async fn write_swept(
        &self,
        tx: &mut Tx,
        pack: &Pack,
        swept: Swept,
        result: SweepOutcome,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let Swept { row, case, mut fired, timers } = swept;
        let rungs: Vec<FiredRung> = result.fire.clone();
        fired.extend(rungs.iter().cloned());
        if result.changed() {
            let stamp = Stamp { pack, actor: SWEEP_ACTOR, at: now };
            CaseWrite::new(stamp, &case, row_after(&case, pack, &row, now), result.outcome, &fired)?
                .published(self.prefix())
                .with_rungs(rungs)
                .write(tx)
                .await?;
            return Ok(true);
        }
        record_rungs(tx, &row.id, &rungs, now).await?;
        let rows = timer_rows(&case, pack, &fired, now);
        if timers != rows {
            tx.replace_timers(&row.id, &rows).await?;
        }
        Ok(false)
    }
}

/// A claimed case, read for sweeping: its locked row, the case rebuilt, the rungs it has fired and its
/// stored timers.
struct Swept {
    row: CaseRow,
    case: Case,
    fired: Fired,
    timers: Vec<TimerRow>,
}

/// Reads a group's cases (locked, in id order), timers and fired rungs in three statements. A case the
/// engine cannot read is logged and left out; the next sweep retries it.
async fn read_group(tx: &mut Tx, ids: &[String]) -> Result<Vec<Swept>, ServiceError> {
    let rows = tx.lock_cases(ids).await?;
    let mut timers: HashMap<String, Vec<TimerRow>> = HashMap::new();
    for t in tx.timers_of(ids).await? {
        timers.entry(t.complaint_id.clone()).or_default().push(t);
    }
    let mut fired: HashMap<String, Fired> = HashMap::new();
    for (id, clock, generation, rung) in tx.fired_rungs_of(ids).await? {
        fired.entry(id).or_default().extend(fired_from_rows([(clock, generation, rung)]));
    }
    let mut work = Vec::with_capacity(rows.len());
    for row in rows {
        let timers = timers.remove(&row.id).unwrap_or_default();
        match case_of(&row, &timers) {
            Ok(case) => {
                let fired = fired.remove(&row.id).unwrap_or_default();
                work.push(Swept { row, case, fired, timers });
            }
            Err(e) => {
                tracing::error!(complaint = %row.id, error = %e, "cannot sweep this case; it is skipped and retried by the next sweep");
            }
        }
    }
    Ok(work)
}
