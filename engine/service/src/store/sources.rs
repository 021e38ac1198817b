//! `sources`: the source systems connected to Aduan (docs/integrations.md).

use super::model::SourceRow;
use super::rows::{self, ms};
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError};

impl Store {
    /// Registers a source. A name already taken, or a token already serving another source, is
    /// [`StoreError::Conflict`].
    pub async fn insert_source(&self, source: &SourceRow) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO sources (name, token_name, webhook_url, webhook_secret, created_at, \
                 whatsapp_app_secret, whatsapp_verify_sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
                .bind(source.name.clone())
                .bind(source.token_name.clone())
                .bind(source.webhook_url.clone())
                .bind(source.webhook_secret.clone())
                .bind(ms(source.created_at))
                .bind(source.whatsapp_app_secret.clone())
                .bind(source.whatsapp_verify_sha256.clone())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// The source named `name`.
    pub async fn source(&self, name: &str) -> Result<Option<SourceRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(
                "SELECT name, token_name, webhook_url, webhook_secret, created_at, whatsapp_app_secret, \
                 whatsapp_verify_sha256 FROM sources WHERE name = $1",
            )
                .bind(name.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            row.as_ref().map(rows::source_row).transpose()
        })
    }

    /// The source whose integration token is `token_name` (a gateway posting with its token).
    pub async fn source_by_token(&self, token_name: &str) -> Result<Option<SourceRow>, StoreError> {
        with_reader!(self, c => {
            let row = sqlx::query(
                "SELECT name, token_name, webhook_url, webhook_secret, created_at, whatsapp_app_secret, \
                 whatsapp_verify_sha256 FROM sources WHERE token_name = $1",
            )
            .bind(token_name.to_owned())
            .fetch_optional(&mut *c)
            .await?;
            row.as_ref().map(rows::source_row).transpose()
        })
    }

    /// Every source, by name.
    pub async fn sources(&self) -> Result<Vec<SourceRow>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(
                "SELECT name, token_name, webhook_url, webhook_secret, created_at, whatsapp_app_secret, \
                 whatsapp_verify_sha256 FROM sources ORDER BY name",
            )
                .fetch_all(&mut *c)
                .await?;
            rows.iter().map(rows::source_row).collect()
        })
    }
}
