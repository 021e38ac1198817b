//! `processed_commands`: idempotency keys and what they answered.

use super::columns::bind_command;
use super::rows::{self, command_cols};
use super::tx::with_tx;
use super::{CommandRecord, StoreError, Tx};

pub(super) const COMMAND_BY_KEY: &str =
    concat!("SELECT ", command_cols!(), " FROM processed_commands WHERE scope = $1 AND key = $2");

pub(super) const INSERT_COMMAND: &str = concat!(
    "INSERT INTO processed_commands (",
    command_cols!(),
    ") VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING"
);

impl Tx {
    /// The record of an idempotency key, if this (scope, key) was processed before.
    pub async fn command(&mut self, scope: &str, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(COMMAND_BY_KEY)
                .bind(scope.to_owned())
                .bind(key.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            row.as_ref().map(rows::command_row).transpose()
        })
    }

    /// Records an idempotency key. [`StoreError::Conflict`] when the (scope, key) exists; the
    /// transaction stays usable.
    pub async fn insert_command(&mut self, rec: &CommandRecord) -> Result<(), StoreError> {
        let n = with_tx!(self, c => {
            bind_command!(sqlx::query(INSERT_COMMAND), rec).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("command {}/{} was already processed", rec.scope, rec.key)));
        }
        Ok(())
    }
}
