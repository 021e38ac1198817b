//! Reads over many cases: the list of `GET /v1/complaints`, the public listing (Open311) and the rows
//! statistics count.

use chrono::{DateTime, Utc};

use super::columns::{Table, CASES, EVENTS, TIMERS};
use super::model::like_literal;
use super::rows::{self, ms};
use super::sql::{dyn_query, Arg, DynSql};
use super::tx::with_reader;
use super::{subtree_patterns, CaseFilter, CaseOrder, CaseRow, EventRow, Store, StoreError, TimerRow};

/// Which cases statistics cover: those an agency subtree has held, plus the undispatched ones of a
/// region (see [`Store::stats_rows`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StatsScope {
    /// LIKE patterns over agency ids, from [`subtree_patterns`].
    pub agency_patterns: Vec<String>,
    /// Kemendagri region code (`"35"`, `"35.78"`): undispatched cases filed in it or below it count.
    pub region: Option<String>,
}

/// The cases `policy replay` walks: received (`created_at`) at or after `since`, and filed in `region`
/// or below it when one is given (`"33"` covers `"33.74"`; a case without a region is then left out).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReceivedScope {
    /// The earliest receipt instant.
    pub since: DateTime<Utc>,
    /// Kemendagri region code.
    pub region: Option<String>,
}

/// The cases of the public listing ([`Store::browse_cases`]; Open311 `GET requests`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrowseFilter {
    /// Received (`created_at`) at or after this instant.
    pub from: DateTime<Utc>,
    /// Received at or before this instant.
    pub to: DateTime<Utc>,
    /// Only cases of these categories (`None`: any, even none).
    pub categories: Option<Vec<String>>,
    /// Only cases in these workflow states (`None`: any).
    pub statuses: Option<Vec<String>>,
    /// Only cases filed in this region code or below it (`"35"` covers `"35.78"`).
    pub region: Option<String>,
    /// At most this many, newest first.
    pub limit: i64,
}

/// One case as statistics see it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatsRow {
    /// Workflow state.
    pub status: String,
    /// An agency in scope handed the case up the hierarchy (escalated away from it).
    pub escalated_in_scope: bool,
    /// Still open with a running clock past its deadline.
    pub overdue: bool,
    /// First dispatch.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// First follow-up.
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The agency that followed up first.
    pub first_followup_agency: Option<String>,
}

impl Store {
    /// One page of `GET /v1/complaints`: newest first by (created_at, id), strictly after the cursor,
    /// filtered by agency subtree, status and overdue clocks. A limit ≤ 0 returns nothing.
    pub async fn list_cases(&self, f: &CaseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = DynSql::new(&format!("{} WHERE 1 = 1", CASES.select()));
        if let Some(patterns) = f.agency.as_deref().and_then(subtree_patterns) {
            let held = like_any(&mut sql, "agency", patterns);
            match &f.region {
                Some(region) => {
                    let filed = in_region(&mut sql, "region", region);
                    sql.push(&format!(" AND ({held} OR (agency IS NULL AND {filed}))"));
                }
                None => sql.push(&format!(" AND {held}")),
            }
        }
        if let Some(status) = &f.status {
            let p = sql.arg(Arg::Text(status.clone()));
            sql.push(&format!(" AND status = {p}"));
        }
        if let Some(at) = f.overdue_at {
            let p = sql.arg(Arg::Int(ms(at)));
            sql.push(&format!(
                " AND EXISTS (SELECT 1 FROM timers t WHERE t.complaint_id = complaints.id \
                 AND t.status = 'running' AND t.due_at <= {p})"
            ));
        }
        if let Some((created_ms, id)) = &f.cursor {
            let pc = sql.arg(Arg::Int(*created_ms));
            let pi = sql.arg(Arg::Text(id.clone()));
            sql.push(&format!(" AND (created_at < {pc} OR (created_at = {pc} AND id < {pi}))"));
        }
        let p = sql.arg(Arg::Int(f.limit.max(0)));
        let order = match f.order {
            CaseOrder::Newest => "created_at DESC, id DESC",
            CaseOrder::SoonestDue => {
                "(SELECT MIN(t.due_at) FROM timers t WHERE t.complaint_id = complaints.id \
                 AND t.status = 'running') ASC NULLS LAST, created_at DESC, id DESC"
            }
        };
        sql.push(&format!(" ORDER BY {order} LIMIT {p}"));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::case_row).collect()
        })
    }

    /// The public listing: cases received in [`from`, `to`], of the categories, states and region asked
    /// for, newest first by (created_at, id), at most `limit` (≤ 0: nothing). Served by the
    /// `complaints_newest` index.
    pub async fn browse_cases(&self, f: &BrowseFilter) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = DynSql::new(&format!("{} WHERE ", CASES.select()));
        let from = sql.arg(Arg::Int(ms(f.from)));
        let to = sql.arg(Arg::Int(ms(f.to)));
        sql.push(&format!("created_at >= {from} AND created_at <= {to}"));
        if let Some(categories) = &f.categories {
            let cond = is_in(&mut sql, "category", categories);
            sql.push(&format!(" AND {cond}"));
        }
        if let Some(statuses) = &f.statuses {
            let cond = is_in(&mut sql, "status", statuses);
            sql.push(&format!(" AND {cond}"));
        }
        if let Some(region) = &f.region {
            let cond = in_region(&mut sql, "region", region);
            sql.push(&format!(" AND {cond}"));
        }
        let p = sql.arg(Arg::Int(f.limit.max(0)));
        sql.push(&format!(" ORDER BY created_at DESC, id DESC LIMIT {p}"));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::case_row).collect()
        })
    }

    /// The cases statistics count, one row each: created in `[from, to)`, and either held at some
    /// point by an agency matching `scope.agency_patterns` or never dispatched and filed in
    /// `scope.region` or below it. `scope` None counts every case. `escalated_in_scope` says a matching
    /// holder escalated the case away (any holder when `scope` is None); `overdue` says the case is
    /// open (its status is none of `final_states`, the workflow's final states) with a running clock
    /// due at or before `now`.
    pub async fn stats_rows(
        &self,
        scope: Option<&StatsScope>,
        final_states: &[String],
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<Vec<StatsRow>, StoreError> {
        let mut sql = DynSql::new("");
        let now_p = sql.arg(Arg::Int(ms(now)));
        let open = not_in(&mut sql, "c.status", final_states);
        // The holder patterns, bound once and used twice.
        let holder_match = match scope {
            Some(s) if !s.agency_patterns.is_empty() => Some(like_any(&mut sql, "h.agency", s.agency_patterns.clone())),
            _ => None,
        };
        let escalated = match (scope, &holder_match) {
            (None, _) => "EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id \
                          AND h.escalated_from = TRUE)"
                .to_owned(),
            (Some(_), Some(m)) => format!(
                "EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id \
                 AND h.escalated_from = TRUE AND {m})"
            ),
            (Some(_), None) => "1 = 0".to_owned(),
        };
        sql.push(&format!(
            "SELECT c.status, c.first_assigned_at, c.first_followup_at, c.first_followup_agency, \
             CASE WHEN {escalated} THEN 1 ELSE 0 END AS escalated_in_scope, \
             CASE WHEN {open} AND EXISTS (SELECT 1 FROM timers t \
             WHERE t.complaint_id = c.id AND t.status = 'running' AND t.due_at <= {now_p}) \
             THEN 1 ELSE 0 END AS overdue \
             FROM complaints c WHERE 1 = 1"
        ));
        if let Some(from) = from {
            let p = sql.arg(Arg::Int(ms(from)));
            sql.push(&format!(" AND c.created_at >= {p}"));
        }
        if let Some(to) = to {
            let p = sql.arg(Arg::Int(ms(to)));
            sql.push(&format!(" AND c.created_at < {p}"));
        }
        if let Some(scope) = scope {
            let mut either = Vec::new();
            if let Some(m) = &holder_match {
                either.push(format!("EXISTS (SELECT 1 FROM case_holders h WHERE h.complaint_id = c.id AND {m})"));
            }
            if let Some(region) = &scope.region {
                let filed = in_region(&mut sql, "c.region", region);
                either.push(format!("(c.first_assigned_at IS NULL AND {filed})"));
            }
            if either.is_empty() {
                either.push("1 = 0".to_owned());
            }
            sql.push(&format!(" AND ({})", either.join(" OR ")));
        }
        sql.push(" ORDER BY c.created_at, c.id");
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::stats_row).collect()
        })
    }
}

impl Store {
    /// How many cases `scope` covers.
    pub async fn count_received(&self, scope: &ReceivedScope) -> Result<i64, StoreError> {
        let mut sql = DynSql::new("SELECT COUNT(*) FROM complaints WHERE ");
        let cond = received(&mut sql, scope, "");
        sql.push(&cond);
        with_reader!(self, c => {
            let row = dyn_query!(sql).fetch_one(&mut *c).await?;
            Ok(sqlx::Row::try_get::<i64, _>(&row, 0)?)
        })
    }

    /// The timers of the cases of `scope` with ids in (`after`, `last`], by case then clock: a page of
    /// [`Store::received_after`] read by its bounds (no list of ids to bind).
    pub async fn received_timers(
        &self,
        scope: &ReceivedScope,
        after: Option<&str>,
        last: &str,
    ) -> Result<Vec<TimerRow>, StoreError> {
        let sql = joined_page(&TIMERS, "t", scope, after, last, "t.complaint_id, t.clock");
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::timer_row).collect()
        })
    }

    /// The events of the cases of `scope` with ids in (`after`, `last`], by case then `seq` (as
    /// [`Store::received_timers`]).
    pub async fn received_events(
        &self,
        scope: &ReceivedScope,
        after: Option<&str>,
        last: &str,
    ) -> Result<Vec<EventRow>, StoreError> {
        let sql = joined_page(&EVENTS, "e", scope, after, last, "e.complaint_id, e.seq");
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::event_row).collect()
        })
    }

    /// Up to `limit` cases of `scope` with ids greater than `after`, by id (the replay's walk, on the
    /// primary key).
    pub async fn received_after(
        &self,
        scope: &ReceivedScope,
        after: Option<&str>,
        limit: i64,
    ) -> Result<Vec<CaseRow>, StoreError> {
        let mut sql = DynSql::new(&format!("{} WHERE ", CASES.select()));
        let cond = received(&mut sql, scope, "");
        let after = sql.arg(Arg::Text(after.unwrap_or("").to_owned()));
        let limit = sql.arg(Arg::Int(limit.max(0)));
        sql.push(&format!("{cond} AND id > {after} ORDER BY id LIMIT {limit}"));
        with_reader!(self, c => {
            let rows = dyn_query!(sql).fetch_all(&mut *c).await?;
            rows.iter().map(rows::case_row).collect()
        })
    }
}

/// The condition of a [`ReceivedScope`] over `complaints` (its columns prefixed by `prefix`, `c.` in a
/// join), its values bound as arguments.
fn received(sql: &mut DynSql, scope: &ReceivedScope, prefix: &str) -> String {
    let since = sql.arg(Arg::Int(ms(scope.since)));
    match &scope.region {
        Some(r) => format!("{prefix}created_at >= {since} AND {}", in_region(sql, &format!("{prefix}region"), r)),
        None => format!("{prefix}created_at >= {since}"),
    }
}

/// The rows of `table` (a table keyed by `complaint_id`, aliased `alias`) that belong to the cases of
/// `scope` with ids in (`after`, `last`], ordered by `order`.
fn joined_page(
    table: &Table,
    alias: &str,
    scope: &ReceivedScope,
    after: Option<&str>,
    last: &str,
    order: &str,
) -> DynSql {
    let mut sql = DynSql::new("");
    let cond = received(&mut sql, scope, "c.");
    let after = sql.arg(Arg::Text(after.unwrap_or("").to_owned()));
    let last = sql.arg(Arg::Text(last.to_owned()));
    sql.push(&format!(
        "SELECT {} FROM {} {alias} JOIN complaints c ON c.id = {alias}.complaint_id \
         WHERE c.id > {after} AND c.id <= {last} AND {cond} ORDER BY {order}",
        table.list_as(alias),
        table.name
    ));
    sql
}

/// `col IN ($a, $b, …)` with the values bound as arguments (always false for no values).
fn is_in(sql: &mut DynSql, col: &str, values: &[String]) -> String {
    if values.is_empty() {
        return "1 = 0".to_owned();
    }
    let list: Vec<String> = values.iter().map(|v| sql.arg(Arg::Text(v.clone()))).collect();
    format!("{col} IN ({})", list.join(", "))
}

/// `col NOT IN ($a, $b, …)` with the values bound as arguments (always true for no values).
pub(super) fn not_in(sql: &mut DynSql, col: &str, values: &[String]) -> String {
    if values.is_empty() {
        return "1 = 1".to_owned();
    }
    let list: Vec<String> = values.iter().map(|v| sql.arg(Arg::Text(v.clone()))).collect();
    format!("{col} NOT IN ({})", list.join(", "))
}

/// `(col = $r OR col LIKE '$r.%')`: a region code column in `region` or below it.
pub(super) fn in_region(sql: &mut DynSql, col: &str, region: &str) -> String {
    let exact = sql.arg(Arg::Text(region.to_owned()));
    let below = sql.arg(Arg::Text(format!("{}.%", like_literal(region))));
    format!("({col} = {exact} OR {col} LIKE {below} ESCAPE '\\')")
}

/// `(col LIKE $a ESCAPE '\' OR …)` with the patterns bound as arguments.
pub(super) fn like_any(sql: &mut DynSql, col: &str, patterns: Vec<String>) -> String {
    if patterns.is_empty() {
        return "1 = 0".to_owned();
    }
    let ors: Vec<String> =
        patterns.into_iter().map(|p| format!("{col} LIKE {} ESCAPE '\\'", sql.arg(Arg::Text(p)))).collect();
    format!("({})", ors.join(" OR "))
}
