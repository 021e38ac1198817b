//! `outbox`: events waiting for the relay to publish them, in id order.

use chrono::{DateTime, Utc};

use super::rows::{self, ms};
use super::sql::{dyn_query, Arg, DynSql, MARK_CHUNK};
use super::tx::{with_reader, with_tx};
use super::{OutboxRow, Store, StoreError, Tx};

const OUTBOX_BATCH: &str =
    "SELECT id, event_id, subject, payload, created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT $1";

const OUTBOX_OLDEST: &str = "SELECT created_at FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT 1";

impl Store {
    /// Up to `limit` unsent outbox rows, oldest (lowest id) first.
    pub async fn outbox_batch(&self, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(OUTBOX_BATCH).bind(limit.max(0)).fetch_all(&mut *c).await?;
            rows.iter().map(rows::outbox_row).collect()
        })
    }

    /// Marks outbox rows published at `at` (rows already marked keep their first time).
    pub async fn mark_sent(&self, ids: &[i64], at: DateTime<Utc>) -> Result<(), StoreError> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for chunk in ids.chunks(MARK_CHUNK) {
            let mut sql = DynSql::new("");
            let at_p = sql.arg(Arg::Int(ms(at)));
            let list: Vec<String> = chunk.iter().map(|id| sql.arg(Arg::Int(*id))).collect();
            sql.push(&format!(
                "UPDATE outbox SET sent_at = {at_p} WHERE sent_at IS NULL AND id IN ({})",
                list.join(", ")
            ));
            // One text per chunk size: not worth a slot in the prepared-statement cache.
            with_tx!(tx, c => {
                dyn_query!(sql).persistent(false).execute(&mut *c).await?;
            });
        }
        tx.commit().await
    }

    /// How many outbox rows wait to be published. Counted on the partial index `outbox_unsent`, which
    /// holds the unsent rows only: the cost follows the backlog, not the table.
    pub async fn outbox_backlog(&self) -> Result<i64, StoreError> {
        self.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await
    }

    /// When the oldest unsent outbox row was written (the first entry of `outbox_unsent`), or `None`
    /// when nothing waits.
    pub async fn outbox_oldest(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        let at = with_reader!(self, c => {
            sqlx::query_scalar::<_, i64>(OUTBOX_OLDEST).fetch_optional(&mut *c).await?
        });
        at.map(rows::from_ms).transpose()
    }
}

impl Tx {
    /// Queues an event for the relay to publish on `subject`. [`StoreError::Conflict`] when the event
    /// is already queued.
    pub async fn insert_outbox(
        &mut self,
        event_id: &str,
        subject: &str,
        payload: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO outbox (event_id, subject, payload, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(event_id.to_owned())
            .bind(subject.to_owned())
            .bind(payload.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("event {event_id} is already in the outbox")));
        }
        Ok(())
    }
}
