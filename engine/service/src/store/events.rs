//! `events`: each case's append-only, hash-chained log. There is no update or delete path.

use super::columns::{bind_event, Stmt, EVENTS};
use super::rows;
use super::tx::{with_reader, with_tx};
use super::{EventRow, Store, StoreError, Tx};

static EVENTS_OF_CASE: Stmt = Stmt::new(|| format!("{} WHERE complaint_id = $1 ORDER BY seq", EVENTS.select()));
pub(super) static INSERT_EVENT: Stmt = Stmt::new(|| format!("{} ON CONFLICT DO NOTHING", EVENTS.insert()));

impl Store {
    /// A case's events, by `seq`.
    pub async fn events(&self, complaint_id: &str) -> Result<Vec<EventRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(EVENTS_OF_CASE.as_str()).bind(complaint_id.to_owned()).fetch_all(&mut *c).await?;
            rows.iter().map(rows::event_row).collect()
        })
    }
}

impl Tx {
    /// Appends an event to its case's chain. [`StoreError::Conflict`] when the (case, seq) slot or the
    /// event id is taken: the chain never forks. The transaction stays usable.
    pub async fn append_event(&mut self, e: &EventRow) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_event!(sqlx::query(INSERT_EVENT.as_str()), e).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "event {} or seq {} of case {} already exists",
                e.id, e.seq, e.complaint_id
            )));
        }
        Ok(())
    }
}
