//! Recomputing open deadlines when the active pack changes (ARCHITECTURE.md invariant 5): a holiday added
//! mid-year, a region's new day off, a changed SLA. Runs in the background in batches of cases, walking
//! cases with open clocks in id order; its progress is stored (`recomputes`), so a process that stops
//! midway is resumed by the next one that starts on the same pack. Intake is never blocked: each case
//! is looked at without a lock, and only a case whose deadlines move is locked, for its own short
//! transaction that journals one `deadline_changed` event.

use crate::service::{case_of, fired_rungs, row_after, timer_rows, CaseWrite, Service, ServiceError, Stamp};
use crate::store::TimerRow;
use aduan_core::case::{recompute_deadlines, Case, NewEvent, Outcome};
use aduan_core::event::EventType;
use aduan_core::pack::Pack;
use aduan_core::time::Timestamp;
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

/// Where a long-running walk reads "now" from: the wall clock in `serve`, a fixed instant in tests.
pub type Clock = dyn Fn() -> Timestamp + Send + Sync;

/// Cases looked at per batch (progress is stored after each).
pub const RECOMPUTE_BATCH: i64 = 500;
/// The `actor` of a recompute's `deadline_changed` events.
const RECOMPUTE_ACTOR: &str = "system:recompute";

fn old_due(timers: &[TimerRow]) -> BTreeMap<aduan_core::clock::Clock, Option<DateTime<Utc>>> {
    timers.iter().map(|t| (t.clock.as_str().into(), t.due_at)).collect()
}

fn recomputed(pack: &Pack, case: &mut Case, timers: &[TimerRow]) -> aduan_core::case::Recomputed {
    recompute_deadlines(pack, case, &old_due(timers))
}

impl Service {
    /// Starts or resumes the recompute the database records for the active pack
    /// ([`crate::store::Store::start_recompute`]); returns how many cases this run changed, `None` when
    /// none is pending. Stops early, unfinished, if the service's pack is swapped meanwhile (hot reload,
    /// a later issue; today a service keeps its pack for life): the new pack's own recompute covers
    /// every case again. `clock` gives the instant of each case's change (the walk may take minutes, and
    /// an event is never stamped earlier than the one before it); tests pass a fixed one.
    pub async fn recompute_open_deadlines(&self, batch: i64, clock: &Clock) -> Result<Option<u64>, ServiceError> {
        let pack = self.pack();
        let Some((mut after, mut changed)) = self.store().pending_recompute(&pack.hash).await? else {
            return Ok(None);
        };
        let mut this_run = 0u64;
        loop {
            if self.pack().hash != pack.hash {
                return Ok(Some(this_run));
            }
            let ids = self.store().timer_case_ids_after(after.as_deref(), batch).await?;
            let Some(last) = ids.last().cloned() else { break };
            for id in &ids {
                if self.recompute_one(&pack, id, clock()).await? {
                    changed += 1;
                    this_run += 1;
                }
            }
            after = Some(last);
            self.store().advance_recompute(&pack.hash, after.as_deref(), changed, None).await?;
        }
        self.store().advance_recompute(&pack.hash, after.as_deref(), changed, Some(clock().utc())).await?;
        Ok(Some(this_run))
    }

    /// Recomputes one case on `pack`; true when its deadlines moved (journaled) or a budget changed.
    async fn recompute_one(&self, pack: &Pack, id: &str, now: Timestamp) -> Result<bool, ServiceError> {
        // A look without a lock first: most cases do not move, and need no write.
        let Some(row) = self.store().case_by_id(id).await? else { return Ok(false) };
        let timers = self.store().timers(id).await?;
        let r = recomputed(pack, &mut case_of(&row, &timers)?, &timers);
        if r.changes.is_empty() && !r.budgets_changed {
            return Ok(false);
        }
        let now = now.utc();
        let mut tx = self.store().begin().await?;
        let Some(row) = tx.lock_case(id).await? else {
            tx.rollback().await?;
            return Ok(false);
        };
        let timers = tx.timers(id).await?;
        let mut case = case_of(&row, &timers)?;
        let r = recomputed(pack, &mut case, &timers);
        if r.changes.is_empty() && !r.budgets_changed {
            tx.rollback().await?;
            return Ok(false);
        }
        let fired = fired_rungs(&mut tx, id).await?;
        let journaled = !r.changes.is_empty();
        if journaled {
            let outcome = Outcome {
                events: vec![NewEvent {
                    event_type: EventType::DeadlineChanged.into(),
                    data: serde_json::json!({ "changes": r.changes }),
                }],
                ..Default::default()
            };
            let stamp = Stamp { pack, actor: RECOMPUTE_ACTOR, at: now };
            CaseWrite::new(stamp, &case, row_after(&case, pack, &row, now), outcome, &fired)?
                .published(self.prefix())
                .write(&mut tx)
                .await?;
        } else {
            // Only a warning point or a budget that lands on the same deadline: no event to journal.
            tx.replace_timers(id, &timer_rows(&case, pack, &fired, now)).await?;
        }
        tx.commit().await?;
        if journaled {
            self.relay_wake().notify_one();
        }
        Ok(true)
    }
}
