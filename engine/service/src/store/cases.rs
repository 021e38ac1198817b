//! `complaints` (a case's current state) and `case_holders` (every agency that held it).

use super::columns::{bind_case, Stmt, CASES};
use super::rows;
use super::sql::{dyn_query, DynSql, MARK_CHUNK};
use super::tx::{with_reader, with_tx, TxInner};
use super::{CaseRow, Store, StoreError, Tx};

pub(super) static CASE_BY_ID: Stmt = Stmt::new(|| format!("{} WHERE id = $1", CASES.select()));
pub(super) static CASE_BY_TRACKING_ID: Stmt = Stmt::new(|| format!("{} WHERE tracking_id = $1", CASES.select()));
static LOCK_CASE_PG: Stmt = Stmt::new(|| format!("{} WHERE id = $1 FOR UPDATE", CASES.select()));
pub(super) static INSERT_CASE: Stmt = Stmt::new(|| format!("{} ON CONFLICT DO NOTHING", CASES.insert()));
/// `$31`: the head this command read (the number after the 30 columns of [`CASES`]).
pub(super) static UPDATE_CASE: Stmt = Stmt::new(|| format!("{} WHERE id = $1 AND head_seq = $31", CASES.update()));

impl Store {
    /// A case by its id.
    pub async fn case_by_id(&self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(CASE_BY_ID.as_str()).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case by its tracking id (`XXXXX-XXXXX`).
    pub async fn case_by_tracking_id(&self, tracking_id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(CASE_BY_TRACKING_ID.as_str()).bind(tracking_id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// Up to `limit` case ids greater than `after`, ascending (for walks over every case, such as
    /// `audit verify`).
    pub async fn case_ids_after(&self, after: Option<&str>, limit: i64) -> Result<Vec<String>, StoreError> {
        let limit = limit.max(0);
        with_reader!(self, c => {
            let ids = match after {
                Some(after) => {
                    sqlx::query_scalar::<_, String>("SELECT id FROM complaints WHERE id > $1 ORDER BY id LIMIT $2")
                        .bind(after.to_owned())
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?
                }
                None => {
                    sqlx::query_scalar::<_, String>("SELECT id FROM complaints ORDER BY id LIMIT $1")
                        .bind(limit)
                        .fetch_all(&mut *c)
                        .await?
                }
            };
            Ok(ids)
        })
    }
}

impl Tx {
    /// A case by id, as this transaction sees it.
    pub async fn case_by_id(&mut self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(CASE_BY_ID.as_str()).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case by tracking id, as this transaction sees it.
    pub async fn case_by_tracking_id(&mut self, tid: &str) -> Result<Option<CaseRow>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(CASE_BY_TRACKING_ID.as_str()).bind(tid.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// A case by id, locked for the rest of this transaction: PostgreSQL `SELECT … FOR UPDATE`, which
    /// waits for another transaction holding the case (a recompute and a sweep acting on the same case
    /// take turns; a command takes no lock, its [`Tx::update_case`] head check catches a lost race); on
    /// SQLite a plain read, the writer transaction being exclusive already.
    pub async fn lock_case(&mut self, id: &str) -> Result<Option<CaseRow>, StoreError> {
        let sql = match self.inner {
            TxInner::Sqlite(_) => CASE_BY_ID.as_str(),
            TxInner::Postgres(_) => LOCK_CASE_PG.as_str(),
        };
        with_tx!(self, c => {
            let row = sqlx::query(sql).bind(id.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::case_row).transpose()
        })
    }

    /// Several cases by id, locked for the rest of this transaction in id order (PostgreSQL
    /// `SELECT … ORDER BY id FOR UPDATE`; SQLite a plain read, as [`Tx::lock_case`]), returned in id
    /// order; ids with no case are left out. A sweep group's read, in one statement.
    pub async fn lock_cases(&mut self, ids: &[String]) -> Result<Vec<CaseRow>, StoreError> {
        let lock = matches!(self.inner, TxInner::Postgres(_));
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(MARK_CHUNK) {
            let rest = if lock { "ORDER BY id FOR UPDATE" } else { "ORDER BY id" };
            let sql = DynSql::select_in(&CASES.select(), "id", chunk, rest);
            with_tx!(self, c => {
                let rows = dyn_query!(sql).persistent(false).fetch_all(&mut *c).await?;
                for r in &rows {
                    out.push(rows::case_row(r)?);
                }
            });
        }
        Ok(out)
    }

    /// Inserts a new case. [`StoreError::Conflict`] when its id or tracking id exists; the transaction
    /// stays usable (nothing was written).
    pub async fn insert_case(&mut self, row: &CaseRow) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_case!(sqlx::query(INSERT_CASE.as_str()), row).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "case {} or tracking id {} already exists",
                row.id, row.tracking_id
            )));
        }
        Ok(())
    }

    /// Replaces a case's state, provided its head is still `expected_head_seq` (optimistic check: the
    /// head this command read). [`StoreError::Conflict`] when another command moved it first.
    pub async fn update_case(&mut self, row: &CaseRow, expected_head_seq: i64) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_case!(sqlx::query(UPDATE_CASE.as_str()), row).bind(expected_head_seq).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("case {} is no longer at seq {expected_head_seq}", row.id)));
        }
        Ok(())
    }

    /// Records that `agency` holds (or held) the case; keeps an existing row as it is.
    pub async fn add_holder(&mut self, complaint_id: &str, agency: &str) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO case_holders (complaint_id, agency, escalated_from) VALUES ($1, $2, FALSE) \
                 ON CONFLICT (complaint_id, agency) DO NOTHING",
            )
            .bind(complaint_id.to_owned())
            .bind(agency.to_owned())
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }

    /// Records that the case was escalated away from `agency` (adding the holder row if missing).
    pub async fn mark_escalated_from(&mut self, complaint_id: &str, agency: &str) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO case_holders (complaint_id, agency, escalated_from) VALUES ($1, $2, TRUE) \
                 ON CONFLICT (complaint_id, agency) DO UPDATE SET escalated_from = TRUE",
            )
            .bind(complaint_id.to_owned())
            .bind(agency.to_owned())
            .execute(&mut *c)
            .await?;
        });
        Ok(())
    }
}
