//! `recomputes`: the progress of recomputing open deadlines on a new pack, so a walk that stops midway
//! resumes from the last case it finished.

use chrono::{DateTime, Utc};
use sqlx::Row as _;

use super::rows::ms;
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError};

impl Store {
    /// Records that open deadlines must be recomputed on `pack` (once per pack: a second call keeps the
    /// first row and its progress) and marks every other unfinished recompute superseded.
    pub async fn start_recompute(&self, pack: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE recomputes SET finished_at = $1 WHERE finished_at IS NULL AND pack <> $2")
                .bind(ms(at))
                .bind(pack.to_owned())
                .execute(&mut *c)
                .await?;
            sqlx::query(
                "INSERT INTO recomputes (pack, after_id, changed, started_at) VALUES ($1, NULL, 0, $2) \
                 ON CONFLICT (pack) DO NOTHING",
            )
            .bind(pack.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// The unfinished recompute of `pack`, if any: (last case id done, cases changed so far).
    pub async fn pending_recompute(&self, pack: &str) -> Result<Option<(Option<String>, i64)>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query("SELECT after_id, changed FROM recomputes WHERE pack = $1 AND finished_at IS NULL")
                .bind(pack.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            Ok(row.map(|r| (r.get::<Option<String>, _>(0), r.get::<i64, _>(1))))
        })
    }

    /// Records a recompute's progress: every case up to `after_id` is done, `changed` cases so far;
    /// `finished` ends it.
    pub async fn advance_recompute(
        &self,
        pack: &str,
        after_id: Option<&str>,
        changed: i64,
        finished: Option<DateTime<Utc>>,
    ) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query("UPDATE recomputes SET after_id = $1, changed = $2, finished_at = $3 WHERE pack = $4")
                .bind(after_id.map(str::to_owned))
                .bind(changed)
                .bind(finished.map(ms))
                .bind(pack.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }
}
