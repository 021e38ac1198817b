//! `packs`: policy packs, content-addressed, and which one is active.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use chrono::{DateTime, Utc};

use super::rows::ms;
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError};

impl Store {
    /// Stores a pack's files under its hash (content-addressed, so storing it again is a no-op).
    pub async fn store_pack(
        &self,
        hash: &str,
        files: &[(String, Vec<u8>)],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let json: Vec<serde_json::Value> = files
            .iter()
            .map(|(path, bytes)| serde_json::json!({ "path": path, "bytes_base64": STANDARD.encode(bytes) }))
            .collect();
        let files = serde_json::Value::Array(json).to_string();
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO packs (hash, files, created_at, active) VALUES ($1, $2, $3, FALSE) \
                 ON CONFLICT (hash) DO NOTHING",
            )
            .bind(hash.to_owned())
            .bind(files)
            .bind(ms(at))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// A stored pack's files as (path, bytes), in the order they were stored.
    pub async fn pack_files(&self, hash: &str) -> Result<Option<Vec<(String, Vec<u8>)>>, StoreError> {
        let files: Option<String> = with_reader!(self, c => {
            sqlx::query_scalar::<_, String>("SELECT files FROM packs WHERE hash = $1")
                .bind(hash.to_owned())
                .fetch_optional(&mut *c)
                .await?
        });
        let Some(files) = files else { return Ok(None) };
        #[derive(serde::Deserialize)]
        struct PackFile {
            path: String,
            bytes_base64: String,
        }
        let parsed: Vec<PackFile> = serde_json::from_str(&files)
            .map_err(|e| StoreError::Other(format!("pack {hash}: files column is not valid JSON: {e}")))?;
        parsed
            .into_iter()
            .map(|f| match STANDARD.decode(&f.bytes_base64) {
                Ok(bytes) => Ok((f.path, bytes)),
                Err(_) => Err(StoreError::Other(format!("pack {hash}: {}: bad base64", f.path))),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }

    /// Marks the stored pack `hash` as the one every process acts with, and no other.
    pub async fn set_active_pack(&self, hash: &str) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            let known = sqlx::query_scalar::<_, String>("SELECT hash FROM packs WHERE hash = $1")
                .bind(hash.to_owned())
                .fetch_optional(&mut *c)
                .await?;
            if known.is_none() {
                return Err(StoreError::Other(format!("pack {hash} is not stored")));
            }
            // Two statements: the partial unique index allows one active row at any moment.
            sqlx::query("UPDATE packs SET active = FALSE WHERE active = TRUE AND hash <> $1")
                .bind(hash.to_owned())
                .execute(&mut *c)
                .await?;
            sqlx::query("UPDATE packs SET active = TRUE WHERE hash = $1")
                .bind(hash.to_owned())
                .execute(&mut *c)
                .await?;
        });
        tx.commit().await
    }

    /// The hash of the active pack, if one was set.
    pub async fn active_pack(&self) -> Result<Option<String>, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, String>("SELECT hash FROM packs WHERE active = TRUE")
                .fetch_optional(&mut *c)
                .await?)
        })
    }
}
