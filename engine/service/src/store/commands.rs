//! `processed_commands`: idempotency keys and what they answered.

use super::columns::{bind_command, Stmt, COMMANDS};
use super::rows;
use super::tx::with_tx;
use super::{CommandRecord, StoreError, Tx};

static COMMAND_BY_KEY: Stmt = Stmt::new(|| format!("{} WHERE scope = $1 AND key = $2", COMMANDS.select()));
pub(super) static INSERT_COMMAND: Stmt = Stmt::new(|| format!("{} ON CONFLICT DO NOTHING", COMMANDS.insert()));

impl Tx {
    /// The record of an idempotency key, if this (scope, key) was processed before.
    pub async fn command(&mut self, scope: &str, key: &str) -> Result<Option<CommandRecord>, StoreError> {
        with_tx!(self, c => {
            let row = sqlx::query(COMMAND_BY_KEY.as_str())
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
            bind_command!(sqlx::query(INSERT_COMMAND.as_str()), rec).execute(&mut *c).await?.rows_affected()
        });
        if n == 0 {
            return Err(StoreError::Conflict(format!("command {}/{} was already processed", rec.scope, rec.key)));
        }
        Ok(())
    }
}
