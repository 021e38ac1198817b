//! A fresh PostgreSQL database per test. The server comes from `ADUAN_TEST_PG_URL` (exported by
//! `deploy/pg.sh`; default `postgres://postgres@127.0.0.1:5432/postgres`); each call to
//! [`fresh_database`] creates a new, uniquely named database on it, so tests never see each other's
//! rows. Databases of failed tests are left behind for inspection; [`drop_database`] removes one.

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

/// Creates a new database named `aduan_test_{pid}_{counter}_{nanos}` on the base server and returns
/// its URL. Panics, naming the URL, when PostgreSQL does not answer.
pub async fn fresh_database() -> String {
    let base = base_url();
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let name = format!("aduan_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos);
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
    fn reads_the_database() {
        assert_eq!(database_name("postgres://h:1/aduan_test_1?x=y"), Some("aduan_test_1"));
        assert_eq!(database_name("postgres://h:1"), None);
    }
}
