//! Sweeps: the claims on due timers (`timers.claim_owner`, `claim_until`) and `timer_actions`, the
//! rungs already acted on, whose unique rows make each action happen once (invariant 6).

use std::time::Duration;

use chrono::{DateTime, Utc};
use sqlx::{AssertSqlSafe, Row as _};

use super::connect::Pools;
use super::rows::ms;
use super::sql::{dyn_query, Arg, DynSql, MARK_CHUNK};
use super::tx::{with_reader, with_tx};
use super::{Backend, Store, StoreError, Tx};

/// The claim of [`Store::claim_due`], with `$lock` after the candidate select (PostgreSQL:
/// `FOR UPDATE SKIP LOCKED`; SQLite needs none, its writer transaction being exclusive). `$1` owner,
/// `$2` claim_until, `$3` now, `$4` limit. `next_action_at IS NOT NULL` restates the partial index's
/// predicate so both planners use `timers_next_action` for the range and the order.
macro_rules! claim_sql {
    ($lock:literal) => {
        concat!(
            "UPDATE timers SET claim_owner = $1, claim_until = $2 WHERE (complaint_id, clock) IN (\
             SELECT complaint_id, clock FROM timers \
             WHERE next_action_at IS NOT NULL AND next_action_at <= $3 \
             AND (claim_until IS NULL OR claim_until <= $3 OR claim_owner = $1) \
             ORDER BY next_action_at LIMIT $4",
            $lock,
            ") RETURNING complaint_id"
        )
    };
}

const CLAIM_DUE_SQLITE: &str = claim_sql!("");

const CLAIM_DUE_PG: &str = claim_sql!(" FOR UPDATE SKIP LOCKED");

const DUE_COUNT: &str = "SELECT COUNT(*) FROM timers WHERE next_action_at IS NOT NULL AND next_action_at <= $1";

const FIRED_RUNGS: &str =
    "SELECT clock, generation, rung FROM timer_actions WHERE complaint_id = $1 ORDER BY clock, generation, rung";

const INSERT_RUNG: &str = "INSERT INTO timer_actions (complaint_id, clock, generation, rung, at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING";

impl Store {
    /// Claims due work for `owner`: up to `limit` timers with `next_action_at <= now` whose claim is
    /// free (never claimed, or lapsed: `claim_until <= now`) or already `owner`'s, earliest
    /// `next_action_at` first, each marked `claim_owner = owner, claim_until = now + ttl`. Returns the
    /// distinct cases of the claimed timers (a case may have several due timers; claiming any of them is
    /// a claim on the case), at most `limit`.
    ///
    /// The claim is atomic. PostgreSQL picks the timers with `FOR UPDATE SKIP LOCKED`, so concurrent
    /// sweepers take disjoint sets without waiting on each other; SQLite runs it in the writer's
    /// `BEGIN IMMEDIATE` transaction. A worker that dies leaves its claims to lapse at `claim_until`,
    /// after which another worker takes them. Claims only share out work: the action's exactly-once
    /// comes from [`Tx::insert_rung`] (invariant 6), and the action ends the claim by rewriting the
    /// case's timers ([`Tx::replace_timers`]) or with [`Store::release_claims`]. Claims are per timer,
    /// so two due timers of one case can go to two owners; locking the case ([`Tx::lock_cases`])
    /// serializes their actions.
    /// Runs on the partial index `timers_next_action` (see [`Store::explain_claim`]).
    pub async fn claim_due(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        ttl: Duration,
        limit: i64,
    ) -> Result<Vec<String>, StoreError> {
        if limit <= 0 {
            return Ok(Vec::new());
        }
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let until = ms(now).saturating_add(ttl_ms);
        let sql = match self.backend() {
            Backend::Sqlite => CLAIM_DUE_SQLITE,
            Backend::Postgres => CLAIM_DUE_PG,
        };
        let mut tx = self.begin().await?;
        let claimed: Vec<String> = with_tx!(tx, c => {
            sqlx::query_scalar::<_, String>(sql)
                .bind(owner.to_owned())
                .bind(until)
                .bind(ms(now))
                .bind(limit)
                .fetch_all(&mut *c)
                .await?
        });
        tx.commit().await?;
        let mut seen = std::collections::HashSet::with_capacity(claimed.len());
        Ok(claimed.into_iter().filter(|id| seen.insert(id.clone())).collect())
    }

    /// Gives up `owner`'s claims on the timers of `complaint_ids` (for a sweep that stops early or
    /// found nothing to do). Claims held by another owner, and timers of other cases, stay as they are.
    pub async fn release_claims(&self, owner: &str, complaint_ids: &[String]) -> Result<(), StoreError> {
        if complaint_ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in complaint_ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let owner_p = sql.arg(Arg::Text(owner.to_owned()));
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "UPDATE timers SET claim_owner = NULL, claim_until = NULL \
                 WHERE claim_owner = {owner_p} AND complaint_id IN ({})",
                list.join(", ")
            ));
            with_tx!(tx, c => {
                dyn_query!(sql).persistent(false).execute(&mut *c).await?;
            });
        }
        tx.commit().await
    }

    /// How many timers are due at `now` (`next_action_at <= now`), claimed or not (dry runs, tests).
    pub async fn due_count(&self, now: DateTime<Utc>) -> Result<i64, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, i64>(DUE_COUNT).bind(ms(now)).fetch_one(&mut *c).await?)
        })
    }

    /// The plans the database chooses right now for [`Store::claim_due`] and [`Store::due_count`] at
    /// `now` (SQLite `EXPLAIN QUERY PLAN`, PostgreSQL `EXPLAIN`), one plan line per line; nothing is
    /// executed. For tests and operators checking that sweeps run on the index `timers_next_action`
    /// rather than a scan of `timers`.
    pub async fn explain_claim(&self, now: DateTime<Utc>) -> Result<String, StoreError> {
        let until = ms(now).saturating_add(30_000);
        let mut lines = Vec::new();
        match &self.inner.pools {
            Pools::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await?;
                for (name, sql) in [("claim_due", CLAIM_DUE_SQLITE), ("due_count", DUE_COUNT)] {
                    lines.push(format!("-- {name}"));
                    let text = format!("EXPLAIN QUERY PLAN {sql}");
                    let mut q = sqlx::query(AssertSqlSafe(text)).persistent(false);
                    q = if name == "claim_due" {
                        q.bind("explain".to_owned()).bind(until).bind(ms(now)).bind(100_i64)
                    } else {
                        q.bind(ms(now))
                    };
                    for row in q.fetch_all(&mut *conn).await? {
                        let id: i64 = sqlx::Row::try_get(&row, "id")?;
                        let parent: i64 = sqlx::Row::try_get(&row, "parent")?;
                        let detail: String = sqlx::Row::try_get(&row, "detail")?;
                        lines.push(format!("{id}|{parent}|{detail}"));
                    }
                }
            }
            Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                for (name, sql) in [("claim_due", CLAIM_DUE_PG), ("due_count", DUE_COUNT)] {
                    lines.push(format!("-- {name}"));
                    let text = format!("EXPLAIN {sql}");
                    let mut q = sqlx::query_scalar::<_, String>(AssertSqlSafe(text)).persistent(false);
                    q = if name == "claim_due" {
                        q.bind("explain".to_owned()).bind(until).bind(ms(now)).bind(100_i64)
                    } else {
                        q.bind(ms(now))
                    };
                    lines.extend(q.fetch_all(&mut *conn).await?);
                }
            }
        }
        Ok(lines.join("\n"))
    }
}

impl Tx {
    /// The sweeper rungs already acted on for several cases, as (case, clock, generation, rung).
    pub async fn fired_rungs_of(&mut self, ids: &[String]) -> Result<Vec<(String, String, i64, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Text(id.clone()))).collect();
            sql.push(&format!(
                "SELECT complaint_id, clock, generation, rung FROM timer_actions WHERE complaint_id IN ({}) \
                 ORDER BY complaint_id, clock, generation, rung",
                list.join(", ")
            ));
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push((r.try_get(0)?, r.try_get(1)?, r.try_get(2)?, r.try_get(3)?));
                }
            });
        }
        Ok(out)
    }

    /// The sweeper rungs already acted on for the case, as (clock, generation, rung), ordered.
    pub async fn fired_rungs(&mut self, complaint_id: &str) -> Result<Vec<(String, i64, String)>, StoreError> {
        with_tx!(self, c => {
            Ok(sqlx::query_as::<_, (String, i64, String)>(FIRED_RUNGS)
                .bind(complaint_id.to_owned())
                .fetch_all(&mut *c)
                .await?)
        })
    }

    /// Records that the sweeper acted on `rung` of the case's `clock` at `generation`, in the action's
    /// own transaction: the unique row is what makes the action happen once (invariant 6).
    /// [`StoreError::Conflict`] when it was already recorded; the transaction stays usable (nothing
    /// was written).
    pub async fn insert_rung(
        &mut self,
        complaint_id: &str,
        clock: &str,
        generation: i64,
        rung: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(INSERT_RUNG)
                .bind(complaint_id.to_owned())
                .bind(clock.to_owned())
                .bind(generation)
                .bind(rung.to_owned())
                .bind(ms(at))
                .execute(&mut *c)
                .await?
                .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "rung {rung} of clock {clock} (generation {generation}) of case {complaint_id} already fired"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn claim_locks_only_on_postgres() {
        assert!(CLAIM_DUE_PG.ends_with("LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING complaint_id"));
        assert!(CLAIM_DUE_SQLITE.ends_with("LIMIT $4) RETURNING complaint_id"));
    }
}
