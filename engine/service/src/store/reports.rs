//! The reads of a compliance report (docs/reports.md): the cases an agency subtree received in a month,
//! one row each, and their events, in two statements.

use chrono::{DateTime, Utc};

use super::columns::EVENTS;
use super::queries::{in_region, like_any, not_in};
use super::rows::{self, ms};
use super::sql::{dyn_query, Arg, DynSql};
use super::tx::with_reader;
use super::{EventRow, StatsScope, Store, StoreError};
use aduan_core::event::EventType;

/// Which cases a report reads: received in `[from, to)` by an agency of the scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportScope {
    /// The agency subtree and, for a regional government, its region; `None`: every case (kemenpanrb).
    pub subtree: Option<StatsScope>,
    /// The month's first instant.
    pub from: DateTime<Utc>,
    /// The next month's first instant.
    pub to: DateTime<Utc>,
}

/// One case as a report reads it (its events come from [`Store::report_events`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// The case.
    pub id: String,
    /// When it was received.
    pub created_at: DateTime<Utc>,
    /// Kemendagri region code, if given.
    pub region: Option<String>,
    /// First dispatch.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// First follow-up.
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The agency that followed up first.
    pub first_followup_agency: Option<String>,
    /// Open (none of the workflow's final states) with a running clock due at or before `now`.
    pub overdue: bool,
}

impl Store {
    /// The cases of `scope`, by receipt then id. `final_states` are the workflow's; `overdue` is judged
    /// at `now`.
    pub async fn report_cases(
        &self,
        scope: &ReportScope,
        final_states: &[String],
        now: DateTime<Utc>,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let mut sql = DynSql::new("");
        let now_p = sql.arg(Arg::Int(ms(now)));
        let open = not_in(&mut sql, "c.status", final_states);
        let received = received_in(&mut sql, scope);
        sql.push(&format!(
            "SELECT c.id, c.created_at, c.region, c.first_assigned_at, c.first_followup_at, \
             c.first_followup_agency, CASE WHEN {open} AND EXISTS (SELECT 1 FROM timers t \
             WHERE t.complaint_id = c.id AND t.status = 'running' AND t.due_at <= {now_p}) \
             THEN 1 ELSE 0 END AS overdue FROM complaints c WHERE {received} ORDER BY c.created_at, c.id"
        ));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::report_row).collect()
        })
    }

    /// Every event of the cases of `scope`, by case then `seq`.
    pub async fn report_events(&self, scope: &ReportScope) -> Result<Vec<EventRow>, StoreError> {
        let mut sql = DynSql::new("");
        let received = received_in(&mut sql, scope);
        sql.push(&format!(
            "SELECT {} FROM events e JOIN complaints c ON c.id = e.complaint_id WHERE {received} \
             ORDER BY e.complaint_id, e.seq",
            EVENTS.list_as("e")
        ));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::event_row).collect()
        })
    }
}

/// The condition of a [`ReportScope`] over `complaints c`, its values bound: received in the month, and
/// first dispatched to an agency of the subtree (the agency of its `assigned` event), or never
/// dispatched and filed in the region of a regional government. A case counts once whatever it went
/// through; when merged pairs exist, one more condition here leaves the merged-away case out.
fn received_in(sql: &mut DynSql, scope: &ReportScope) -> String {
    let from = sql.arg(Arg::Int(ms(scope.from)));
    let to = sql.arg(Arg::Int(ms(scope.to)));
    let mut cond = format!("c.created_at >= {from} AND c.created_at < {to}");
    let Some(subtree) = &scope.subtree else { return cond };
    let mut either = Vec::new();
    if !subtree.agency_patterns.is_empty() {
        let assigned = sql.arg(Arg::Text(EventType::Assigned.as_str().to_owned()));
        let held = like_any(sql, "a.agency", subtree.agency_patterns.clone());
        either.push(format!(
            "EXISTS (SELECT 1 FROM events a WHERE a.complaint_id = c.id AND a.event_type = {assigned} AND {held})"
        ));
    }
    if let Some(region) = &subtree.region {
        let filed = in_region(sql, "c.region", region);
        either.push(format!("(c.first_assigned_at IS NULL AND {filed})"));
    }
    if either.is_empty() {
        either.push("1 = 0".to_owned());
    }
    cond.push_str(&format!(" AND ({})", either.join(" OR ")));
    cond
}
