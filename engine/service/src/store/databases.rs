//! Whole databases, for `aduan bench`: how many bytes a database takes, and the scratch PostgreSQL
//! databases a benchmark makes beside the one it was given (one fresh database per scenario) and drops
//! again.

use sqlx::AssertSqlSafe;

use super::connect::Pools;
use super::{Store, StoreError};

impl Store {
    /// The bytes the database takes on disk: SQLite the database file plus its write-ahead log (what
    /// a checkpoint has not folded in yet); PostgreSQL `pg_database_size`.
    pub async fn database_bytes(&self) -> Result<u64, StoreError> {
        match &self.inner.pools {
            Pools::Sqlite { writer, .. } => {
                let file = writer.connect_options().get_filename().to_owned();
                let mut wal = file.clone().into_os_string();
                wal.push("-wal");
                let size = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
                Ok(size(&file) + size(std::path::Path::new(&wal)))
            }
            Pools::Postgres(pool) => {
                let n: i64 = sqlx::query_scalar("SELECT pg_database_size(current_database())").fetch_one(pool).await?;
                Ok(n.max(0) as u64)
            }
        }
    }

    /// Creates the PostgreSQL database `name` on this store's server (`[a-z0-9_]+`, at most 63
    /// characters). [`StoreError::Other`] on SQLite or for another name.
    pub async fn create_database(&self, name: &str) -> Result<(), StoreError> {
        let pool = self.postgres_for(name)?;
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(pool).await?;
        Ok(())
    }

    /// Drops the PostgreSQL database `name` (which [`Store::create_database`] made), closing its
    /// sessions; nothing when it does not exist.
    pub async fn drop_database(&self, name: &str) -> Result<(), StoreError> {
        let pool = self.postgres_for(name)?;
        sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))).execute(pool).await?;
        Ok(())
    }

    /// The PostgreSQL pool, once `name` is known to be a plain database name.
    fn postgres_for(&self, name: &str) -> Result<&sqlx::PgPool, StoreError> {
        let plain = !name.is_empty()
            && name.len() <= 63
            && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        match &self.inner.pools {
            Pools::Postgres(pool) if plain => Ok(pool),
            Pools::Postgres(_) => Err(StoreError::Other(format!("`{name}` is not a plain database name"))),
            Pools::Sqlite { .. } => Err(StoreError::Other("a SQLite store has no server to make databases on".into())),
        }
    }
}
