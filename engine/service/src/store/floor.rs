//! The SQL floor of `aduan bench` (BENCHMARKS.md): the transactions a follow-up command (`respond`)
//! commits, written straight through [`Tx`] with no service, core, HTTP or NATS in between, so the
//! bench can say how close a command comes to what the database itself allows.
//!
//! Each transaction is what `Service::act` writes for one command on a case, statement for statement:
//! it reads the case row and its timers, appends one event, queues its outbox row, updates the case row
//! (head-checked), replaces the timers and records the idempotency key. The rows are copies of a real
//! case's, so their sizes match. Each worker first inserts a case of its own (not timed), then commits
//! transactions on it until the time is up.

use std::time::{Duration, Instant};

use super::{CaseRow, CommandRecord, EventRow, Store, StoreError, TimerRow, Tx};

/// The rows one floor transaction copies: a case at its head, the event a command appends to it (its
/// payload is the published JSON), the case's timers and the command's idempotency record.
#[derive(Debug, Clone)]
pub struct FloorRows {
    /// The case row.
    pub case: CaseRow,
    /// An event of the case.
    pub event: EventRow,
    /// The subject its outbox row names.
    pub subject: String,
    /// The timers the command leaves.
    pub timers: Vec<TimerRow>,
    /// The command's idempotency record.
    pub command: CommandRecord,
}

/// What the floor measured.
#[derive(Debug, Clone, Default)]
pub struct FloorRun {
    /// Transactions committed.
    pub transactions: u64,
    /// From the first begin to the last commit.
    pub seconds: f64,
    /// Each transaction's time from begin to commit, in milliseconds.
    pub latencies_ms: Vec<f64>,
}

impl Store {
    /// Commits floor transactions copied from `rows` from `workers` concurrent tasks for `duration`
    /// (each worker on a case of its own, inserted first). Leaves those cases, their events and
    /// outbox rows in the database: run it on a database made for the benchmark, with no relay running.
    pub async fn floor_transactions(
        &self,
        rows: &FloorRows,
        workers: usize,
        duration: Duration,
    ) -> Result<FloorRun, StoreError> {
        let mut cases = Vec::with_capacity(workers);
        for w in 0..workers.max(1) {
            let case = worker_case(&rows.case, w);
            let mut tx = self.begin().await?;
            tx.insert_case(&case).await?;
            tx.commit().await?;
            cases.push(case);
        }
        let started = Instant::now();
        let until = started + duration;
        let tasks: Vec<_> = cases
            .into_iter()
            .map(|case| {
                let (store, rows) = (self.clone(), rows.clone());
                tokio::spawn(async move { store.floor_worker(case, &rows, until).await })
            })
            .collect();
        let mut run = FloorRun::default();
        for t in tasks {
            let latencies = t.await.map_err(|e| StoreError::Other(format!("floor worker: {e}")))??;
            run.transactions += latencies.len() as u64;
            run.latencies_ms.extend(latencies);
        }
        run.seconds = started.elapsed().as_secs_f64();
        Ok(run)
    }

    /// One worker: transactions on `case` until `until`, each timed.
    async fn floor_worker(&self, mut case: CaseRow, rows: &FloorRows, until: Instant) -> Result<Vec<f64>, StoreError> {
        let mut latencies = Vec::new();
        while Instant::now() < until {
            let t0 = Instant::now();
            let mut tx = self.begin().await?;
            floor_transaction(&mut tx, &mut case, rows).await?;
            tx.commit().await?;
            latencies.push(t0.elapsed().as_secs_f64() * 1000.0);
        }
        Ok(latencies)
    }
}

/// The template case under a worker's own id and tracking id, with an empty history.
fn worker_case(template: &CaseRow, worker: usize) -> CaseRow {
    let mut case = template.clone();
    case.id = format!("floor-{worker}-{}", template.id);
    case.tracking_id = format!("FLOOR-{worker:05}-{}", template.tracking_id);
    case.head_seq = 0;
    case.head_hash = String::new();
    case
}

/// One command's reads and writes on `case`, which moves to its new head.
async fn floor_transaction(tx: &mut Tx, case: &mut CaseRow, rows: &FloorRows) -> Result<(), StoreError> {
    let stored = tx.case_by_id(&case.id).await?.ok_or_else(|| StoreError::Other(format!("no case {}", case.id)))?;
    tx.timers(&case.id).await?;
    let seq = stored.head_seq + 1;
    let event = EventRow {
        id: format!("{}-{seq}", case.id),
        complaint_id: case.id.clone(),
        seq,
        prev_hash: stored.head_hash.clone(),
        ..rows.event.clone()
    };
    tx.append_event(&event).await?;
    tx.insert_outbox(&event.id, &rows.subject, &event.payload, event.at).await?;
    case.head_seq = seq;
    case.head_hash = event.hash.clone();
    tx.update_case(case, stored.head_seq).await?;
    let timers: Vec<TimerRow> =
        rows.timers.iter().map(|t| TimerRow { complaint_id: case.id.clone(), ..t.clone() }).collect();
    tx.replace_timers(&case.id, &timers).await?;
    let command = CommandRecord {
        scope: format!("{}:floor", case.id),
        key: seq.to_string(),
        complaint_id: Some(case.id.clone()),
        ..rows.command.clone()
    };
    tx.insert_command(&command).await
}
