//! The write transaction [`Tx`] and the two macros that run one body on either backend's connection.

use sqlx::postgres::Postgres;
use sqlx::sqlite::Sqlite;
use sqlx::Transaction;

use super::connect::Pools;
use super::{Store, StoreError};

/// An open write transaction. Dropping it without [`Tx::commit`] rolls it back.
#[derive(Debug)]
pub struct Tx {
    pub(super) inner: TxInner,
}

#[derive(Debug)]
pub(super) enum TxInner {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

/// Runs `$body` with `$c` bound to a read connection (`&mut SqliteConnection` from the SQLite read
/// pool, or `&mut PgConnection`). The body is compiled once per backend.
macro_rules! with_reader {
    ($store:expr, $c:ident => $body:block) => {
        match &$store.inner.pools {
            $crate::store::connect::Pools::Sqlite { reader, .. } => {
                let mut conn = reader.acquire().await?;
                let $c: &mut sqlx::SqliteConnection = &mut *conn;
                $body
            }
            $crate::store::connect::Pools::Postgres(pool) => {
                let mut conn = pool.acquire().await?;
                let $c: &mut sqlx::PgConnection = &mut *conn;
                $body
            }
        }
    };
}

/// Runs `$body` with `$c` bound to the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $c:ident => $body:block) => {
        match &mut $tx.inner {
            $crate::store::tx::TxInner::Sqlite(t) => {
                let $c: &mut sqlx::SqliteConnection = &mut *t;
                $body
            }
            $crate::store::tx::TxInner::Postgres(t) => {
                let $c: &mut sqlx::PgConnection = &mut *t;
                $body
            }
        }
    };
}

pub(super) use {with_reader, with_tx};

impl Store {
    /// Starts a write transaction (SQLite: `BEGIN IMMEDIATE` on the writer connection, so it waits for
    /// other writers up front instead of failing when it first writes).
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        let inner = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => TxInner::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => TxInner::Postgres(pool.begin().await?),
        };
        Ok(Tx { inner })
    }
}

impl Tx {
    /// Commits every write of the transaction at once.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    /// Discards every write of the transaction.
    pub async fn rollback(self) -> Result<(), StoreError> {
        match self.inner {
            TxInner::Sqlite(t) => t.rollback().await?,
            TxInner::Postgres(t) => t.rollback().await?,
        }
        Ok(())
    }
}
