//! Morning digests: the deadlines due on a local date (a query over `timers` and `complaints`) and
//! `digests`, whose unique (agency, local date) row makes each digest go out once.

use chrono::{DateTime, Utc};

use super::rows::{self, ms};
use super::tx::{with_reader, with_tx};
use super::{DueTimer, Store, StoreError, Tx};

const DUE_BETWEEN: &str = "SELECT t.complaint_id, c.tracking_id, c.agency, c.status, t.clock, t.due_at \
     FROM timers t JOIN complaints c ON c.id = t.complaint_id \
     WHERE t.due_at > $1 AND t.due_at <= $2 AND t.status = 'running' AND c.agency IS NOT NULL \
     ORDER BY t.due_at, t.complaint_id, t.clock";

impl Store {
    /// Running clocks whose deadline falls in `(after, through]`, with their case's tracking id, holder and
    /// status, by `due_at` (then case and clock). The morning digest's query: a deadline on local date D
    /// has `due_at` = the midnight that ends D (an exclusive bound), so D's clocks are those with `due_at`
    /// in (start of D, end of D]. Cases with no holder (not yet dispatched) are left out. Runs on the
    /// index `timers_due`.
    pub async fn due_between(&self, after: DateTime<Utc>, through: DateTime<Utc>) -> Result<Vec<DueTimer>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(DUE_BETWEEN).bind(ms(after)).bind(ms(through)).fetch_all(&mut *c).await?;
            rows.iter().map(rows::due_timer).collect()
        })
    }

    /// The event id of the digest already queued for `agency` on `local_date` (`YYYY-MM-DD`), if any.
    pub async fn digest_sent(&self, agency: &str, local_date: &str) -> Result<Option<String>, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>("SELECT event_id FROM digests WHERE agency = $1 AND local_date = $2")
                .bind(agency.to_owned())
                .bind(local_date.to_owned())
                .fetch_optional(&mut *c)
                .await?)
        })
    }
}

impl Tx {
    /// Records the digest of `agency` for `local_date` (`YYYY-MM-DD` in the agency's zone), in the
    /// transaction that queues its outbox row: the unique (agency, local_date) row is what makes the
    /// digest go out once. [`StoreError::Conflict`] when it was already recorded; the transaction stays
    /// usable (nothing was written).
    pub async fn insert_digest(
        &mut self,
        agency: &str,
        local_date: &str,
        event_id: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            sqlx::query(
                "INSERT INTO digests (agency, local_date, event_id, at) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(agency.to_owned())
            .bind(local_date.to_owned())
            .bind(event_id.to_owned())
            .bind(ms(at))
            .execute(&mut *c)
            .await?
            .rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("the digest of {agency} for {local_date} was already sent")));
        }
        Ok(())
    }
}
