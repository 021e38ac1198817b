//! [`StoreError`] and how sqlx errors map onto it. The mapping is what lets the HTTP layer answer 503
//! (retry later) for an unavailable or full database and 409 for a lost race, without knowing SQL.

use sqlx::error::DatabaseError;
use sqlx::migrate::MigrateError;
use sqlx::postgres::PgDatabaseError;
use sqlx::sqlite::SqliteError;

/// What went wrong in the store, sorted by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one the store understands (scheme, path or options). Not retryable.
    #[error("bad database URL: {0}")]
    BadUrl(String),
    /// The database cannot be reached right now: cannot connect, pool timeout, connection reset,
    /// database locked past the busy timeout, server shutting down. Retry later (HTTP 503).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// The disk holding the database is full (SQLITE_FULL, PostgreSQL 53100). Retry later (HTTP 503).
    #[error("database disk full: {0}")]
    DiskFull(String),
    /// A uniqueness or optimistic-concurrency check failed: someone else wrote first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// Anything else (a bug, a corrupt row, a failed migration).
    #[error("database error: {0}")]
    Other(String),
}

impl StoreError {
    /// True when retrying later may succeed without anything else changing: [`StoreError::Unavailable`]
    /// and [`StoreError::DiskFull`].
    pub fn is_transient(&self) -> bool {
        matches!(self, StoreError::Unavailable(_) | StoreError::DiskFull(_))
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => {
                StoreError::Unavailable("timed out waiting for a database connection".to_owned())
            }
            sqlx::Error::PoolClosed => StoreError::Unavailable("the connection pool is closed".to_owned()),
            sqlx::Error::WorkerCrashed => StoreError::Unavailable("the database worker crashed".to_owned()),
            sqlx::Error::Io(err) => StoreError::Unavailable(format!("i/o: {err}")),
            sqlx::Error::Tls(err) => StoreError::Unavailable(format!("tls: {err}")),
            sqlx::Error::Database(db) => from_database(db.as_ref()),
            sqlx::Error::Migrate(m) => match *m {
                MigrateError::Execute(inner) => StoreError::from(inner),
                MigrateError::ExecuteMigration(inner, version) => match StoreError::from(inner) {
                    StoreError::Other(msg) => StoreError::Other(format!("migration {version}: {msg}")),
                    transient => transient,
                },
                other => StoreError::Other(format!("migration: {other}")),
            },
            other => StoreError::Other(other.to_string()),
        }
    }
}

impl From<MigrateError> for StoreError {
    fn from(e: MigrateError) -> Self {
        StoreError::from(sqlx::Error::Migrate(Box::new(e)))
    }
}

/// Sorts a database-reported error by its code.
fn from_database(db: &dyn DatabaseError) -> StoreError {
    let msg = db.message().to_owned();
    if let Some(e) = db.try_downcast_ref::<SqliteError>() {
        let code: i32 = e.code().and_then(|c| c.parse().ok()).unwrap_or(0);
        return match code & 0xff {
            // SQLITE_FULL
            13 => StoreError::DiskFull(msg),
            // SQLITE_BUSY, SQLITE_LOCKED (past busy_timeout), SQLITE_IOERR, SQLITE_CANTOPEN
            5 | 6 | 10 | 14 => StoreError::Unavailable(format!("sqlite {code}: {msg}")),
            // SQLITE_CONSTRAINT_UNIQUE (2067), SQLITE_CONSTRAINT_PRIMARYKEY (1555)
            _ if code == 2067 || code == 1555 => StoreError::Conflict(msg),
            _ => StoreError::Other(format!("sqlite {code}: {msg}")),
        };
    }
    if let Some(e) = db.try_downcast_ref::<PgDatabaseError>() {
        let code = e.code();
        return match code {
            "53100" => StoreError::DiskFull(msg),
            "23505" => StoreError::Conflict(msg),
            // out of memory, too many connections, admin/crash shutdown, cannot connect now,
            // query canceled (statement timeout), lock not available, read-only (standby during
            // failover), serialization failure and deadlock (both: retry the whole command).
            "53200" | "53300" | "57P01" | "57P02" | "57P03" | "57014" | "55P03" | "25006" | "40001" | "40P01" => {
                StoreError::Unavailable(format!("postgres {code}: {msg}"))
            }
            // Class 08: connection exception.
            _ if code.starts_with("08") => StoreError::Unavailable(format!("postgres {code}: {msg}")),
            _ => StoreError::Other(format!("postgres {code}: {msg}")),
        };
    }
    StoreError::Other(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transient_kinds() {
        assert!(StoreError::Unavailable(String::new()).is_transient());
        assert!(StoreError::DiskFull(String::new()).is_transient());
        assert!(!StoreError::Conflict(String::new()).is_transient());
        assert!(!StoreError::BadUrl(String::new()).is_transient());
        assert!(!StoreError::Other(String::new()).is_transient());
    }

    #[test]
    fn pool_errors_are_unavailable() {
        assert!(matches!(StoreError::from(sqlx::Error::PoolTimedOut), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::PoolClosed), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::WorkerCrashed), StoreError::Unavailable(_)));
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        assert!(matches!(StoreError::from(sqlx::Error::Io(reset)), StoreError::Unavailable(_)));
        assert!(matches!(StoreError::from(sqlx::Error::RowNotFound), StoreError::Other(_)));
    }
}
