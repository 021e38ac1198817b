//! A fresh PostgreSQL database per test. The server comes from `ADUAN_TEST_PG_URL` (exported by
//! `deploy/pg.sh`; default `postgres://postgres@127.0.0.1:5432/postgres`); each
//! [`TestDatabase::create`] makes a new, uniquely named database on it, so tests never see each
//! other's rows, and drops it again when the guard drops (also while a test panics).
//!
//! Names are `aduan_test_{run}_{pid}_{counter}_{clock}`, where `{run}` is `ADUAN_TEST_RUN` (set per
//! run by `deploy/test.sh`, `local` otherwise): a test process killed before its guards ran leaves
//! databases that the end of that run finds by name and drops.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sqlx::{AssertSqlSafe, Connection, PgConnection};

/// The server used when `ADUAN_TEST_PG_URL` is unset.
pub const DEFAULT_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// How long to wait for the server before declaring it absent.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// The base URL: `ADUAN_TEST_PG_URL`, or [`DEFAULT_URL`] when unset or empty.
pub fn base_url() -> String {
    std::env::var("ADUAN_TEST_PG_URL").ok().filter(|u| !u.trim().is_empty()).unwrap_or_else(|| DEFAULT_URL.to_owned())
}

/// This run's id: `ADUAN_TEST_RUN` reduced to lowercase letters and digits (at most 12), else `local`.
pub fn run_id() -> String {
    let run: String = std::env::var("ADUAN_TEST_RUN")
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(12)
        .collect();
    if run.is_empty() {
        "local".to_owned()
    } else {
        run
    }
}

/// A test database, dropped (with `WITH (FORCE)`, closing sessions still open) when the guard drops.
#[derive(Debug)]
pub struct TestDatabase {
    url: String,
    dropped: bool,
}

impl TestDatabase {
    /// Creates a new database on the base server. Panics, naming the URL, when PostgreSQL does not answer.
    pub async fn create() -> TestDatabase {
        TestDatabase { url: fresh_database().await, dropped: false }
    }

    /// [`TestDatabase::create`] for synchronous tests (on a runtime of its own).
    pub fn create_blocking() -> TestDatabase {
        TestDatabase { url: on_own_runtime(|| async { fresh_database().await }), dropped: false }
    }

    /// The database's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Drops the database now (in async code, rather than blocking a thread in `Drop`).
    pub async fn drop_now(mut self) {
        self.dropped = true;
        drop_database(&self.url).await;
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.dropped {
            return;
        }
        self.dropped = true;
        let url = self.url.clone();
        // A panic here would abort a test that is already unwinding: report, and leave the database to
        // the end-of-run cleanup of `deploy/test.sh`.
        let result = std::thread::spawn(move || on_own_runtime(|| async move { drop_database(&url).await })).join();
        if result.is_err() {
            eprintln!("aduan-testkit: could not drop test database {}", self.url);
        }
    }
}

/// Whether the server at `url` takes a connection now (for [`crate::pg_server::PgServer`]).
pub(crate) fn accepts_connections(url: &str) -> bool {
    on_own_runtime(|| async move {
        match PgConnection::connect(url).await {
            Ok(c) => {
                let _ = c.close().await;
                true
            }
            Err(_) => false,
        }
    })
}

/// Runs `f`'s future to completion on a new current-thread runtime (usable from any thread that is not
/// itself inside a runtime).
fn on_own_runtime<T, F: std::future::Future<Output = T>>(f: impl FnOnce() -> F) -> T {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(f())
}

/// Creates a new database named `aduan_test_{run}_{pid}_{counter}_{clock}` on the base server and
/// returns its URL; the caller drops it ([`drop_database`]). Prefer the [`TestDatabase`] guard. Panics,
/// naming the URL, when PostgreSQL does not answer.
pub async fn fresh_database() -> String {
    let base = base_url();
    // The clock's low 48 bits (hex) tell apart two processes that got the same pid in one run.
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0) & 0xffff_ffff_ffff;
    let counter = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = format!("aduan_test_{}_{}_{counter}_{nanos:x}", run_id(), std::process::id());
    let mut admin = admin_connection(&base).await;
    sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("CREATE DATABASE {name} on {base} failed: {e}"));
    let _ = admin.close().await;
    with_database(&base, &name)
}

/// Drops the database a [`fresh_database`] URL names (closing its other sessions first). Does nothing
/// for a database not named like a test database.
pub async fn drop_database(url: &str) {
    let Some(name) = database_name(url) else { return };
    if !name.starts_with("aduan_test_") || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return;
    }
    let base = base_url();
    let mut admin = admin_connection(&base).await;
    sqlx::raw_sql(AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("DROP DATABASE {name} on {base} failed: {e}"));
    let _ = admin.close().await;
}

async fn admin_connection(base: &str) -> PgConnection {
    let hint = "start one with `eval \"$(deploy/pg.sh)\"` or point ADUAN_TEST_PG_URL at one";
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(base)).await {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!("PostgreSQL at {base} does not answer: {e} ({hint})"),
        Err(_) => panic!("PostgreSQL at {base} did not answer within {CONNECT_TIMEOUT:?} ({hint})"),
    }
}

/// `url` with its database (the path) replaced by `name`, keeping user, host and query options.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (before_query, query) = match rest.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (rest, None),
    };
    let authority = before_query.split_once('/').map_or(before_query, |(a, _)| a);
    let mut out = format!("{scheme}://{authority}/{name}");
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

/// The database (path) part of a postgres URL.
fn database_name(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let before_query = rest.split_once('?').map_or(rest, |(b, _)| b);
    let (_, path) = before_query.split_once('/')?;
    (!path.is_empty()).then_some(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_the_database() {
        assert_eq!(
            with_database("postgres://postgres@127.0.0.1:5432/postgres", "aduan_test_1"),
            "postgres://postgres@127.0.0.1:5432/aduan_test_1"
        );
        assert_eq!(with_database("postgres://u:p@h:1", "d"), "postgres://u:p@h:1/d");
        assert_eq!(with_database("postgresql://h/x?sslmode=disable", "d"), "postgresql://h/d?sslmode=disable");
        assert_eq!(with_database("postgres:///postgres?host=/tmp/s", "d"), "postgres:///d?host=/tmp/s");
    }

    #[test]
    fn names_fit_postgres_identifiers() {
        // A 12-character run id, the largest pid, a million databases in one process, 48 bits of clock.
        let longest = format!("aduan_test_{}_{}_{}_{:x}", "r".repeat(12), u32::MAX, 999_999, 0xffff_ffff_ffffu64);
        assert!(longest.len() <= 63, "{} > 63 bytes", longest.len());
    }

    #[test]
    fn reads_the_database() {
        assert_eq!(database_name("postgres://h:1/aduan_test_1?x=y"), Some("aduan_test_1"));
        assert_eq!(database_name("postgres://h:1"), None);
    }
}
