//! `case_signatures`, `case_bands`, `duplicate_candidates`: possible duplicates (docs/duplicates.md).
//! A new case's band keys find the stored cases sharing a band in its kab/kota; the service ranks
//! them by similarity and records the candidates with the case, in the submission's transaction.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use super::columns::{Stmt, CASES};
use super::model::CaseRow;
use super::rows::{self, ms, RowExt};
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError, Tx};

/// A stored case that shares a band key with a new one, with what ranking needs.
#[derive(Debug, Clone, PartialEq)]
pub struct BandMate {
    /// The case.
    pub id: String,
    /// Its category, if set.
    pub category: Option<String>,
    /// Its workflow state.
    pub status: String,
    /// Its encoded signature.
    pub signature: Vec<u8>,
}

/// The candidates recorded for a case, with their rows (for the viewer's reach and the tracking id).
static CANDIDATES_OF: Stmt = Stmt::new(|| {
    let cols = CASES.cols.iter().map(|c| format!("c.{c}")).collect::<Vec<_>>().join(", ");
    format!(
        "SELECT {cols}, d.score FROM duplicate_candidates d JOIN complaints c ON c.id = d.candidate_id \
         WHERE d.complaint_id = $1 ORDER BY d.score DESC, c.id"
    )
});

/// `$from, $from+1, …` for `n` values.
fn placeholders(from: usize, n: usize) -> String {
    (from..from + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

impl Tx {
    /// The cases received since `since` that share one of `keys`, newest first, at most `limit`.
    pub async fn band_mates(
        &mut self,
        keys: &[i64],
        since: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<BandMate>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        // Only placeholders are formatted into the text; every value is bound.
        let sql = format!(
            "SELECT c.id, c.category, c.status, s.signature FROM complaints c \
             JOIN case_signatures s ON s.complaint_id = c.id \
             WHERE c.id IN (SELECT complaint_id FROM case_bands WHERE band_key IN ({})) \
             AND c.created_at >= ${} ORDER BY c.created_at DESC LIMIT ${}",
            placeholders(1, keys.len()),
            keys.len() + 1,
            keys.len() + 2
        );
        with_tx!(self, c => {
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for k in keys {
                q = q.bind(*k);
            }
            let found = q.bind(ms(since)).bind(limit).fetch_all(&mut *c).await?;
            found.iter().map(band_mate).collect()
        })
    }

    /// Stores case `id`'s signature and band keys.
    pub async fn insert_signature(&mut self, id: &str, signature: &[u8], keys: &[i64]) -> Result<(), StoreError> {
        with_tx!(self, c => {
            sqlx::query("INSERT INTO case_signatures (complaint_id, signature) VALUES ($1, $2)")
                .bind(id.to_owned())
                .bind(signature.to_vec())
                .execute(&mut *c)
                .await?;
        });
        if keys.is_empty() {
            return Ok(());
        }
        let values = (0..keys.len()).map(|i| format!("(${}, $1)", i + 2)).collect::<Vec<_>>().join(", ");
        // Only placeholders are formatted into the text; every value is bound.
        let sql = format!("INSERT INTO case_bands (band_key, complaint_id) VALUES {values} ON CONFLICT DO NOTHING");
        with_tx!(self, c => {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(id.to_owned());
            for k in keys {
                q = q.bind(*k);
            }
            q.execute(&mut *c).await?;
        });
        Ok(())
    }

    /// Records the candidates found for case `id`, with their scores.
    pub async fn insert_candidates(&mut self, id: &str, candidates: &[(String, f64)]) -> Result<(), StoreError> {
        for (candidate, score) in candidates {
            with_tx!(self, c => {
                sqlx::query(
                    "INSERT INTO duplicate_candidates (complaint_id, candidate_id, score) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING",
                )
                .bind(id.to_owned())
                .bind(candidate.clone())
                .bind(*score)
                .execute(&mut *c)
                .await?;
            });
        }
        Ok(())
    }
}

impl Store {
    /// The candidates recorded for case `id`, best first, with their rows.
    pub async fn candidates_of(&self, id: &str) -> Result<Vec<(CaseRow, f64)>, StoreError> {
        with_reader!(self, c => {
            let found = sqlx::query(CANDIDATES_OF.as_str()).bind(id.to_owned()).fetch_all(&mut *c).await?;
            found.iter().map(|r| Ok((rows::case_row(r)?, r.float("score")?))).collect()
        })
    }
}

fn band_mate(r: &impl RowExt) -> Result<BandMate, StoreError> {
    Ok(BandMate {
        id: r.text("id")?,
        category: r.opt_text("category")?,
        status: r.text("status")?,
        signature: r.bytes("signature")?,
    })
}
