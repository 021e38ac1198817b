//! Opening the database: the two backends' pools and their settings, the embedded migrations, and
//! the store-wide upkeep (readiness, planner statistics, closing).

use std::sync::Arc;
use std::time::Duration;

use sqlx::migrate::{Migrate, Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlSafeStr;

use super::tx::{with_reader, with_tx};
use super::StoreError;

/// How long any pool waits for a free connection before the caller gets [`StoreError::Unavailable`].
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long SQLite waits on another process's lock before reporting `SQLITE_BUSY`.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The SQLite writer connection's page cache, in KiB (`PRAGMA cache_size = -N`).
const SQLITE_WRITER_CACHE_KIB: u32 = 64 * 1024;

/// Default size of the SQLite read pool.
const SQLITE_READERS: u32 = 4;

/// Default size of the PostgreSQL pool.
const PG_CONNECTIONS: u32 = 10;

/// SQLite migrations, in order: (version, description, SQL). Add a file and a line to add one.
const SQLITE_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/sqlite/0001_initial.sql")),
    (2, "sweeps", include_str!("../../migrations/sqlite/0002_sweeps.sql")),
    (3, "digests", include_str!("../../migrations/sqlite/0003_digests.sql")),
    (4, "recomputes", include_str!("../../migrations/sqlite/0004_recomputes.sql")),
    (5, "tokens", include_str!("../../migrations/sqlite/0005_tokens.sql")),
    (6, "pack publishes", include_str!("../../migrations/sqlite/0006_pack_publishes.sql")),
    (7, "location", include_str!("../../migrations/sqlite/0007_location.sql")),
    (8, "sources", include_str!("../../migrations/sqlite/0008_sources.sql")),
    (9, "webhooks", include_str!("../../migrations/sqlite/0009_webhooks.sql")),
    (10, "duplicates", include_str!("../../migrations/sqlite/0010_duplicates.sql")),
    (11, "whatsapp", include_str!("../../migrations/sqlite/0011_whatsapp.sql")),
];

/// PostgreSQL migrations, in order, with the same versions as [`SQLITE_MIGRATIONS`].
const PG_MIGRATIONS: &[(i64, &str, &str)] = &[
    (1, "initial", include_str!("../../migrations/postgres/0001_initial.sql")),
    (2, "sweeps", include_str!("../../migrations/postgres/0002_sweeps.sql")),
    (3, "digests", include_str!("../../migrations/postgres/0003_digests.sql")),
    (4, "recomputes", include_str!("../../migrations/postgres/0004_recomputes.sql")),
    (5, "tokens", include_str!("../../migrations/postgres/0005_tokens.sql")),
    (6, "pack publishes", include_str!("../../migrations/postgres/0006_pack_publishes.sql")),
    (7, "location", include_str!("../../migrations/postgres/0007_location.sql")),
    (8, "sources", include_str!("../../migrations/postgres/0008_sources.sql")),
    (9, "webhooks", include_str!("../../migrations/postgres/0009_webhooks.sql")),
    (10, "duplicates", include_str!("../../migrations/postgres/0010_duplicates.sql")),
    (11, "whatsapp", include_str!("../../migrations/postgres/0011_whatsapp.sql")),
];

/// The table sqlx keeps its record of applied migrations in (its default).
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// A connection of either backend, for the migration record.
enum AnyConn {
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Tuning knobs for [`Store::connect`]; the defaults suit both tests and production.
#[derive(Clone, Debug, Default)]
pub struct StoreOptions {
    /// SQLite `synchronous=FULL` instead of `NORMAL`: commits survive power loss, at a cost per commit.
    pub sqlite_synchronous_full: bool,
    /// Pool size: the PostgreSQL pool (default 10) or the SQLite read pool (default 4; the SQLite
    /// writer is always one connection).
    pub max_connections: Option<u32>,
    /// Open the database so that nothing can be written through this store (`policy replay`): SQLite
    /// read-only (the file must exist; nothing is created, no journal mode is set), PostgreSQL with
    /// every transaction read-only (`default_transaction_read_only`). Migrations and writes then fail.
    pub read_only: bool,
}

#[derive(Debug)]
pub(super) enum Pools {
    Sqlite { writer: SqlitePool, reader: SqlitePool },
    Postgres(PgPool),
}

#[derive(Debug)]
pub(super) struct Inner {
    pub(super) pools: Pools,
}

/// Aduan's database: a cheap-to-clone handle over the backend's pools.
#[derive(Clone, Debug)]
pub struct Store {
    pub(super) inner: Arc<Inner>,
}

impl Store {
    /// Opens the database at `url`: `sqlite://PATH` (the file and its directory are created when
    /// missing) or `postgres://…` / `postgresql://…`. Opens one connection to prove the database
    /// answers; does not migrate (see [`Store::migrate`]).
    pub async fn connect(url: &str, opts: StoreOptions) -> Result<Store, StoreError> {
        let Some((scheme, _)) = url.split_once(':') else {
            return Err(StoreError::BadUrl("no scheme (expected sqlite://PATH or postgres://…)".to_owned()));
        };
        let pools = match scheme.to_ascii_lowercase().as_str() {
            "sqlite" => connect_sqlite(url, &opts).await?,
            "postgres" | "postgresql" => connect_postgres(url, &opts).await?,
            other => {
                return Err(StoreError::BadUrl(format!(
                    "unsupported scheme '{other}' (expected sqlite://PATH or postgres://…)"
                )))
            }
        };
        Ok(Store { inner: Arc::new(Inner { pools }) })
    }

    /// Which backend this store talks to.
    pub fn backend(&self) -> Backend {
        match self.inner.pools {
            Pools::Sqlite { .. } => Backend::Sqlite,
            Pools::Postgres(_) => Backend::Postgres,
        }
    }

    /// Brings the schema up to date; a no-op when it already is. Safe to run from several processes:
    /// PostgreSQL migrations take an advisory lock, SQLite ones the single writer connection. Returns
    /// the migrations this call found pending and applied (`5 tokens`), oldest first: none when the
    /// schema was up to date.
    pub async fn migrate(&self) -> Result<Vec<String>, StoreError> {
        let before = self.applied_migrations().await?;
        let list = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => {
                migrator(SQLITE_MIGRATIONS).run(writer).await?;
                SQLITE_MIGRATIONS
            }
            Pools::Postgres(pool) => {
                migrator(PG_MIGRATIONS).run(pool).await?;
                PG_MIGRATIONS
            }
        };
        let after = self.applied_migrations().await?;
        Ok(list
            .iter()
            .filter(|(v, _, _)| after.contains(v) && !before.contains(v))
            .map(|(v, description, _)| format!("{v} {description}"))
            .collect())
    }

    /// The versions of the migrations applied so far (none on a new database).
    async fn applied_migrations(&self) -> Result<Vec<i64>, StoreError> {
        let mut conn = match &self.inner.pools {
            Pools::Sqlite { writer, .. } => AnyConn::Sqlite(writer.acquire().await?),
            Pools::Postgres(pool) => AnyConn::Postgres(pool.acquire().await?),
        };
        let applied = match &mut conn {
            AnyConn::Sqlite(c) => {
                c.ensure_migrations_table(MIGRATIONS_TABLE).await?;
                c.list_applied_migrations(MIGRATIONS_TABLE).await?
            }
            AnyConn::Postgres(c) => {
                c.ensure_migrations_table(MIGRATIONS_TABLE).await?;
                c.list_applied_migrations(MIGRATIONS_TABLE).await?
            }
        };
        Ok(applied.into_iter().map(|m| m.version).collect())
    }

    /// Proves the database takes writes (for `/readyz`): a row of its own (the lease `aduan.readyz`,
    /// which no one holds) rewritten and committed. A write that is rolled back never reaches the disk,
    /// so it would not notice a full one. Fails with [`StoreError::Unavailable`] when the database is
    /// down, locked past the busy timeout or a read-only standby, [`StoreError::DiskFull`] when full.
    pub async fn check_writable(&self) -> Result<(), StoreError> {
        let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis());
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(
                "INSERT INTO leases (name, holder, expires_at) VALUES ('aduan.readyz', 'readyz', 0) \
                 ON CONFLICT (name) DO UPDATE SET holder = $1",
            )
            .bind(format!("readyz {stamp}"))
            .execute(&mut *c)
            .await?;
        });
        tx.commit().await
    }

    /// Closes every pool, waiting for connections in use to come back.
    pub async fn close(&self) {
        match &self.inner.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }

    /// Refreshes the planner's statistics (`ANALYZE`; on SQLite with a sampling limit, so it stays
    /// quick on big files). Run it after a large [`Store::bulk_insert`], so the planner knows how the
    /// timers are spread before the first sweep.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        match &self.inner.pools {
            Pools::Sqlite { writer, .. } => {
                let mut conn = writer.acquire().await?;
                sqlx::raw_sql("PRAGMA analysis_limit = 1000; ANALYZE;").execute(&mut *conn).await?;
            }
            Pools::Postgres(pool) => {
                sqlx::raw_sql("ANALYZE").execute(pool).await?;
            }
        }
        Ok(())
    }

    pub(super) async fn count(&self, sql: &'static str) -> Result<i64, StoreError> {
        with_reader!(self, c => {
            Ok(sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut *c).await?)
        })
    }
}

/// An embedded migrator over one backend's migrations.
fn migrator(list: &[(i64, &str, &'static str)]) -> Migrator {
    let migrations = list
        .iter()
        .map(|&(version, description, sql)| {
            Migration::new(version, description.to_owned().into(), MigrationType::Simple, sql.into_sql_str(), false)
        })
        .collect();
    Migrator::with_migrations(migrations)
}

async fn connect_sqlite(url: &str, opts: &StoreOptions) -> Result<Pools, StoreError> {
    let parsed: SqliteConnectOptions = url.parse().map_err(|e| StoreError::BadUrl(format!("{e}")))?;
    let path = parsed.get_filename().to_owned();
    let shown = path.display().to_string();
    if path.as_os_str().is_empty() || shown == ":memory:" || shown.starts_with("file:sqlx-in-memory") {
        return Err(StoreError::BadUrl(
            "SQLite needs a file (sqlite://PATH); in-memory databases are not supported".to_owned(),
        ));
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty() && !opts.read_only) {
        tokio::fs::create_dir_all(dir)
            .await
            .map_err(|e| StoreError::Other(format!("cannot create directory {}: {e}", dir.display())))?;
    }
    let synchronous = if opts.sqlite_synchronous_full { SqliteSynchronous::Full } else { SqliteSynchronous::Normal };
    let common = parsed
        .busy_timeout(SQLITE_BUSY_TIMEOUT)
        .foreign_keys(true)
        .synchronous(synchronous)
        // PostgreSQL's LIKE is case-sensitive; make SQLite's agree (agency subtree filters).
        .pragma("case_sensitive_like", "ON");
    // The writer's page cache: SQLite's default 2 MiB makes index upkeep on big tables (bulk loads,
    // sweeps over a million timers) wait on the disk; 64 MiB more than doubles bulk_insert's rate.
    let writer_opts = if opts.read_only {
        common.clone().read_only(true)
    } else {
        common.clone().create_if_missing(true).journal_mode(SqliteJournalMode::Wal)
    }
    .pragma("cache_size", format!("-{}", SQLITE_WRITER_CACHE_KIB));
    let reader_opts = common.read_only(opts.read_only).pragma("query_only", "ON");
    // The writer opens (and creates) the file first and switches it to WAL, which readers then share.
    let writer = SqlitePoolOptions::new()
        // SQLite may roll a transaction back by itself (SQLITE_FULL, an I/O error); sqlx's ROLLBACK
        // then fails and it goes on counting the transaction open, so every later BEGIN would fail.
        // Such a connection is replaced by a fresh one when next acquired.
        .before_acquire(|conn, _| Box::pin(async move { Ok(!sqlx::Connection::is_in_transaction(conn)) }))
        .max_connections(1)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(writer_opts)
        .await?;
    let reader = SqlitePoolOptions::new()
        .max_connections(opts.max_connections.unwrap_or(SQLITE_READERS).max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(reader_opts)
        .await;
    match reader {
        Ok(reader) => Ok(Pools::Sqlite { writer, reader }),
        Err(e) => {
            writer.close().await;
            Err(e.into())
        }
    }
}

async fn connect_postgres(url: &str, opts: &StoreOptions) -> Result<Pools, StoreError> {
    let mut parsed: PgConnectOptions = url.parse().map_err(|e| StoreError::BadUrl(format!("{e}")))?;
    if opts.read_only {
        parsed = parsed.options([("default_transaction_read_only", "on")]);
    }
    let pool = PgPoolOptions::new()
        .max_connections(opts.max_connections.unwrap_or(PG_CONNECTIONS).max(1))
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect_with(parsed)
        .await?;
    Ok(Pools::Postgres(pool))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SQLITE_FULL (here from `max_page_count`) maps to DiskFull, which is transient.
    #[tokio::test]
    async fn sqlite_full_is_disk_full() {
        use sqlx::{ConnectOptions, Connection};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut conn = SqliteConnectOptions::new()
            .filename(dir.path().join("full.db"))
            .create_if_missing(true)
            .connect()
            .await
            .expect("open");
        sqlx::raw_sql("CREATE TABLE t (v TEXT); PRAGMA max_page_count = 3;").execute(&mut conn).await.expect("setup");
        let mut err = None;
        for _ in 0..100 {
            if let Err(e) = sqlx::query("INSERT INTO t (v) VALUES ($1)").bind("x".repeat(2000)).execute(&mut conn).await
            {
                err = Some(StoreError::from(e));
                break;
            }
        }
        let err = err.expect("the database never filled up");
        assert!(matches!(err, StoreError::DiskFull(_)), "{err:?}");
        assert!(err.is_transient());
        conn.close().await.expect("close");
    }
}
