//! `pack_publishes`: the record of every pack a policy author offered, published or refused
//! (docs/access.md#publishing-packs). Rows are only added.

use super::columns::{bind_publish, Stmt, PUBLISHES};
use super::model::PublishRow;
use super::rows;
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError};

pub(super) static INSERT_PUBLISH: Stmt = Stmt::new(|| PUBLISHES.insert());
static NEWEST: Stmt = Stmt::new(|| format!("{} ORDER BY id DESC LIMIT $1", PUBLISHES.select()));
static OLDER_THAN: Stmt = Stmt::new(|| format!("{} WHERE id < $1 ORDER BY id DESC LIMIT $2", PUBLISHES.select()));

impl Store {
    /// Records one publish.
    pub async fn insert_publish(&self, row: &PublishRow) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            bind_publish!(sqlx::query(INSERT_PUBLISH.as_str()), row).execute(&mut *c).await?;
        });
        tx.commit().await
    }

    /// Up to `limit` publishes, newest first, older than the one with id `before` when given.
    pub async fn publishes(&self, before: Option<&str>, limit: i64) -> Result<Vec<PublishRow>, StoreError> {
        with_reader!(self, c => {
            let rows = match before {
                None => sqlx::query(NEWEST.as_str()).bind(limit).fetch_all(&mut *c).await?,
                Some(id) => {
                    sqlx::query(OLDER_THAN.as_str()).bind(id.to_owned()).bind(limit).fetch_all(&mut *c).await?
                }
            };
            rows.iter().map(rows::publish_row).collect()
        })
    }
}
