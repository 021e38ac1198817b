//! `api_tokens`: API tokens by name, kept as the SHA-256 of the secret (docs/access.md#tokens).

use chrono::{DateTime, Utc};

use super::model::TokenRow;
use super::rows::{self, ms};
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError};

impl Store {
    /// Stores a new token. A name already taken (also by a revoked token) is [`StoreError::Conflict`].
    pub async fn insert_token(&self, token: &TokenRow, sha256: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO api_tokens (name, role, agency, sha256, created_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(token.name.clone())
            .bind(token.role.clone())
            .bind(token.agency.clone())
            .bind(sha256.to_owned())
            .bind(ms(token.created_at))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// The live (not revoked) token whose secret hashes to `sha256`.
    pub async fn token_by_hash(&self, sha256: &str) -> Result<Option<TokenRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(
                "SELECT name, role, agency, created_at, revoked_at FROM api_tokens \
                 WHERE sha256 = $1 AND revoked_at IS NULL",
            ).bind(sha256.to_owned()).fetch_optional(&mut *c).await?;
            row.as_ref().map(rows::token_row).transpose()
        })
    }

    /// The token named `name`, revoked or not.
    pub async fn token_by_name(&self, name: &str) -> Result<Option<TokenRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query("SELECT name, role, agency, created_at, revoked_at FROM api_tokens WHERE name = $1")
                .bind(name.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            row.as_ref().map(rows::token_row).transpose()
        })
    }

    /// Every token, revoked ones included, by name.
    pub async fn tokens(&self) -> Result<Vec<TokenRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query("SELECT name, role, agency, created_at, revoked_at FROM api_tokens ORDER BY name").fetch_all(&mut *c).await?;
            rows.iter().map(rows::token_row).collect()
        })
    }

    /// Revokes the live token `name`; false when there is none of that name (or it is revoked already).
    pub async fn revoke_token(&self, name: &str, at: DateTime<Utc>) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        let done = with_tx!(tx, c => {
            sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE name = $2 AND revoked_at IS NULL")
                .bind(ms(at))
                .bind(name.to_owned())
                .execute(&mut *c)
                .await?
                .rows_affected()
                == 1
        });
        tx.commit().await?;
        Ok(done)
    }
}
