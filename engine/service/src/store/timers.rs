//! `timers`: one row per running or paused clock of a case.

use super::columns::{bind_timer, Stmt, TIMERS};
use super::rows;
use super::sql::{dyn_query, DynSql, MARK_CHUNK};
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError, TimerRow, Tx};

static TIMERS_OF_CASE: Stmt = Stmt::new(|| format!("{} WHERE complaint_id = $1 ORDER BY clock", TIMERS.select()));
pub(super) static INSERT_TIMER: Stmt = Stmt::new(|| TIMERS.insert());

impl Store {
    /// A case's timers, by clock name.
    pub async fn timers(&self, complaint_id: &str) -> Result<Vec<TimerRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(TIMERS_OF_CASE.as_str()).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::timer_row).collect()
        })
    }

    /// How many clocks are open (running or paused) across all cases.
    pub async fn open_timer_count(&self) -> Result<i64, StoreError> {
        self.count("SELECT COUNT(*) FROM timers").await
    }

    /// Up to `limit` ids of cases with open clocks greater than `after`, ascending (the recompute's walk;
    /// runs on the timers primary key).
    pub async fn timer_case_ids_after(&self, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let limit = limit.max(0);
        let after = after.unwrap_or("").to_owned();
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>(
                "SELECT DISTINCT complaint_id FROM timers WHERE complaint_id > $1 ORDER BY complaint_id LIMIT $2",
            )
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *c)
            .await?)
        })
    }
}

impl Tx {
    /// A case's timers by clock name, as this transaction sees them.
    pub async fn timers(&mut self, complaint_id: &str) -> Result<Vec<TimerRow>, StoreError> {
        with_tx!(self, c => {
            let rows = sqlx::query(TIMERS_OF_CASE.as_str()).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::timer_row).collect()
        })
    }

    /// The timers of several cases, ordered by case then clock, in one statement per chunk.
    pub async fn timers_of(&mut self, ids: &[String]) -> Result<Vec<TimerRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MARK_CHUNK) {
            let sql = timers_in(chunk);
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push(rows::timer_row(r)?);
                }
            });
        }
        Ok(out)
    }

    /// Makes the case's timers exactly `rows` (each must belong to `complaint_id`). The new rows are
    /// unclaimed: a sweep's action ends its claim on the case by rewriting its timers.
    pub async fn replace_timers(&mut self, complaint_id: &str, rows: &[TimerRow]) -> Result<(), StoreError> {
        if let Some(stray) = rows.iter().find(|t| t.complaint_id != complaint_id) {
            return Err(StoreError::Other(format!(
                "timer {} belongs to case {}, not {complaint_id}",
                stray.clock, stray.complaint_id
            )));
        }
        with_tx!(self, c => {
            sqlx::query("DELETE FROM timers WHERE complaint_id = $1")
                .bind(complaint_id.to_owned())
                .execute(&mut *c)
                .await?;
            for t in rows {
                bind_timer!(sqlx::query(INSERT_TIMER.as_str()), t).execute(&mut *c).await?;
            }
        });
        Ok(())
    }
}

/// `SELECT` of the timers of the cases `ids`, by case then clock.
fn timers_in(ids: &[String]) -> DynSql {
    DynSql::select_in(&TIMERS.select(), "complaint_id", ids, "ORDER BY complaint_id, clock")
}
