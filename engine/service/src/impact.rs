//! `policy replay` as a service function: the stored cases of a scope, each read with its timers and
//! events, and what a candidate pack would decide differently about it ([`aduan_core::impact`]).
//!
//! It only reads: no lock, no transaction, no write, so it runs beside a live `serve` and on a store
//! opened read-only ([`crate::store::StoreOptions::read_only`]). Cases are walked in id order, a page at
//! a time; each page is read in three statements (cases, timers, events) and judged in one blocking
//! task. A case whose rows the engine cannot read is logged and counted apart, like the sweep skips one.

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
    /// each page.
    pub async fn run(
        &self,
        store: &Store,
        scope: &ReceivedScope,
        progress: &(dyn Fn(u64) + Sync),
    ) -> Result<Impact, ServiceError> {
        let mut impact = Impact::default();
        let mut after: Option<String> = None;
        loop {
            let rows = store.received_after(scope, after.as_deref(), REPLAY_PAGE).await?;
            let Some(last) = rows.last().map(|r| r.id.clone()) else { break };
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let timers = group(store.timers_of(&ids).await?, |t: &TimerRow| t.complaint_id.clone());
            let events = group(store.events_of(&ids).await?, |e: &EventRow| e.complaint_id.clone());
            let me = self.clone();
            let page = tokio::task::spawn_blocking(move || me.judge_page(&rows, &timers, &events))
                .await
                .map_err(|e| ServiceError::Internal(format!("the replay task failed: {e}")))?;
            impact.cases_examined += page.cases_examined;
            impact.cases_differing += page.cases_differing;
            impact.cases_unreadable += page.cases_unreadable;
            impact.differences.extend(page.differences);
            progress(impact.cases_examined + impact.cases_unreadable);
            after = Some(last);
        }
        Ok(impact)
    }

    /// Judges one page of cases.
    fn judge_page(
        &self,
        rows: &[CaseRow],
        timers: &HashMap<String, Vec<TimerRow>>,
        events: &HashMap<String, Vec<EventRow>>,
    ) -> Impact {
        let mut page = Impact::default();
        let none = Vec::new();
        for row in rows {
            let timers = timers.get(&row.id).unwrap_or(&none);
            let events = events.get(&row.id).map_or(&[][..], Vec::as_slice);
            match self.judge(row, timers, events) {
                Ok(found) => {
                    page.cases_examined += 1;
                    page.cases_differing += u64::from(!found.is_empty());
                    page.differences.extend(found);
                }
                Err(why) => {
                    tracing::warn!(case = %row.id, error = %why, "replay: case skipped, its rows are unreadable");
                    page.cases_unreadable += 1;
                }
            }
        }
        page
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

/// `items` by key, keeping their order.
fn group<T>(items: Vec<T>, key: impl Fn(&T) -> String) -> HashMap<String, Vec<T>> {
    let mut map: HashMap<String, Vec<T>> = HashMap::new();
    for item in items {
        map.entry(key(&item)).or_default().push(item);
    }
    map
}
