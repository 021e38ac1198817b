//! `policy replay` as a service function: the stored cases of a scope, each read with its timers and
//! events, and what a candidate pack would decide differently about it ([`aduan_core::impact`]).
//!
//! It only reads: no lock, no transaction, no write, so it runs beside a live `serve` and on a store
//! opened read-only ([`crate::store::StoreOptions::read_only`]). Cases are walked in id order, a page at
//! a time; each page is read in three statements (cases, then their timers and events by the page's
//! bounds) and judged in one blocking
//! task while the next page is read. A case whose rows the engine cannot read is logged and counted
//! apart, as the sweep skips one.

use crate::service::{case_of, ServiceError};
use crate::store::{CaseRow, EventRow, ReceivedScope, Store, TimerRow};
use crate::wire::EventMessage;
use aduan_core::impact::{differences, Difference, Packs};
use aduan_core::pack::Pack;
use aduan_core::time::Timestamp;
use std::collections::HashMap;
use std::sync::Arc;

/// Cases read and judged per page.
pub const REPLAY_PAGE: i64 = 500;

/// What a replay found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Impact {
    /// Cases of the scope looked at.
    pub cases_examined: u64,
    /// Of those, cases with at least one difference.
    pub cases_differing: u64,
    /// Cases whose stored rows could not be read (logged by id, left out of the rest).
    pub cases_unreadable: u64,
    /// Every difference, by case id then as [`differences`] orders them.
    pub differences: Vec<Difference>,
}

/// The packs a replay compares, and the instant open clocks are judged at.
#[derive(Clone)]
pub struct Replay {
    /// The pack the database marks active.
    pub active: Arc<Pack>,
    /// The author's candidate (validated by the caller).
    pub candidate: Arc<Pack>,
    /// When "would it escalate now" is judged.
    pub at: Timestamp,
}

impl Replay {
    /// Walks the cases of `scope` in `store`, calling `progress` with the number judged so far after
    /// each page. The next page is read while the last one is judged.
    pub async fn run(
        &self,
        store: &Store,
        scope: &ReceivedScope,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Impact, ServiceError> {
        let mut impact = Impact::default();
        let mut after: Option<String> = None;
        let mut judging: Option<tokio::task::JoinHandle<Impact>> = None;
        loop {
            let page = read_page(store, scope, after.as_deref()).await?;
            if let Some(task) = judging.take() {
                let judged = task.await.map_err(|e| ServiceError::Internal(format!("the replay task failed: {e}")))?;
                impact.cases_examined += judged.cases_examined;
                impact.cases_differing += judged.cases_differing;
                impact.cases_unreadable += judged.cases_unreadable;
                impact.differences.extend(judged.differences);
                progress(impact.cases_examined + impact.cases_unreadable);
            }
            let Some(page) = page else { return Ok(impact) };
            after = page.rows.last().map(|r| r.id.clone());
            let me = self.clone();
            judging = Some(tokio::task::spawn_blocking(move || me.judge_page(&page)));
        }
    }

    /// Judges one page of cases.
    fn judge_page(&self, page: &Page) -> Impact {
        let mut judged = Impact::default();
        for row in &page.rows {
            let timers = page.timers.get(&row.id).map_or(&[][..], Vec::as_slice);
            let events = page.events.get(&row.id).map_or(&[][..], Vec::as_slice);
            match self.judge(row, timers, events) {
                Ok(found) => {
                    judged.cases_examined += 1;
                    judged.cases_differing += u64::from(!found.is_empty());
                    judged.differences.extend(found);
                }
                Err(why) => {
                    tracing::warn!(case = %row.id, error = %why, "replay: case skipped, its rows are unreadable");
                    judged.cases_unreadable += 1;
                }
            }
        }
        judged
    }

    /// The differences the candidate makes to one case.
    fn judge(&self, row: &CaseRow, timers: &[TimerRow], events: &[EventRow]) -> Result<Vec<Difference>, String> {
        let case = case_of(row, timers).map_err(|e| e.to_string())?;
        let messages: Vec<EventMessage> = events
            .iter()
            .map(|e| serde_json::from_str(&e.payload).map_err(|err| format!("event {}: {err}", e.seq)))
            .collect::<Result<_, _>>()?;
        let history: Vec<_> = events.iter().zip(&messages).map(|(e, m)| m.as_replayed(e.seq)).collect();
        let packs = Packs { active: &self.active, candidate: &self.candidate };
        Ok(differences(packs, &case, &history, self.at.utc()))
    }
}

/// One page of cases with their timers and events, by case id.
struct Page {
    rows: Vec<CaseRow>,
    timers: HashMap<String, Vec<TimerRow>>,
    events: HashMap<String, Vec<EventRow>>,
}

/// The next page of `scope` after the case id `after`, in three reads; `None` past the last case.
async fn read_page(store: &Store, scope: &ReceivedScope, after: Option<&str>) -> Result<Option<Page>, ServiceError> {
    let rows = store.received_after(scope, after, REPLAY_PAGE).await?;
    let Some(last) = rows.last().map(|r| r.id.clone()) else { return Ok(None) };
    let timers = group(store.received_timers(scope, after, &last).await?, |t: &TimerRow| t.complaint_id.clone());
    let events = group(store.received_events(scope, after, &last).await?, |e: &EventRow| e.complaint_id.clone());
    Ok(Some(Page { rows, timers, events }))
}

/// `items` by key, keeping their order.
fn group<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut map: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        map.entry(key(&item)).or_default().push(item);
    }
    map
}
