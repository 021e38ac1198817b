//! Guards the invariants of ARCHITECTURE.md that are about where code may live (stated as the absence of
//! something): the core does no IO and reads no clock; SQL only in the store; async-nats only in the
//! bus; axum only in the HTTP layer (api, web, and the open311 module the api nests); the tests drive the engine from outside and hold no copy of its layers.
//!
//! The compiler enforces part of this too: `engine/core/clippy.toml` disallows clock reads, file and
//! network IO in the core (`cargo clippy` fails on them); this scan covers what clippy cannot see
//! (dependencies, SQL text, which module imports which crate).

use crate::root;
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// The code of a file without its comment lines.
fn code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n")
}

/// Files under `dir` (excluding `allowed` prefixes) whose code mentions any of `needles`.
fn offenders(dir: &str, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let base = root().join(dir);
    rust_files(&base)
        .into_iter()
        .filter(|p| !allowed.iter().any(|a| p.starts_with(base.join(a))))
        .filter_map(|p| {
            let code = code(&p);
            needles
                .iter()
                .find(|n| code.contains(*n))
                .map(|n| format!("{} mentions {n}", p.strip_prefix(root()).unwrap().display()))
        })
        .collect()
}

/// The dependency section of a manifest (before `[dev-dependencies]`), without comment lines.
fn dependencies(manifest: &str) -> String {
    let text = std::fs::read_to_string(root().join(manifest)).unwrap();
    let deps = text.split("[dev-dependencies]").next().unwrap();
    deps.lines().filter(|l| !l.trim_start().starts_with('#')).collect::<Vec<_>>().join("\n")
}

/// Statements of SQL in string literals (the store's; tests may write SQL to tamper with a database).
const SQL: &[&str] =
    &["\"SELECT ", "\"INSERT INTO", "\"UPDATE ", "\"DELETE FROM", "\"CREATE TABLE", "\"ALTER TABLE", "\"BEGIN"];

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let deps = dependencies("engine/core/Cargo.toml");
    for forbidden in ["tokio", "sqlx", "async-nats", "axum", "reqwest", "aduan-testkit"] {
        assert!(!deps.contains(forbidden), "aduan-core depends on {forbidden}");
    }
    let found = offenders(
        "engine/core/src",
        &["Utc::now", "Local::now", "SystemTime", "Instant::now", "std::fs", "std::net", "std::env", "std::process"],
        &[],
    );
    assert!(found.is_empty(), "{found:#?}");
    let sql = offenders("engine/core/src", SQL, &[]);
    assert!(sql.is_empty(), "SQL in the core: {sql:#?}");
}

#[test]
fn the_compiler_enforces_the_core_purity() {
    let config = std::fs::read_to_string(root().join("engine/core/clippy.toml")).expect("engine/core/clippy.toml");
    for path in
        ["chrono::Utc::now", "std::time::SystemTime::now", "std::time::Instant::now", "std::fs::read", "std::env::var"]
    {
        assert!(config.contains(&format!("\"{path}\"")), "engine/core/clippy.toml disallows {path}");
    }
    for path in ["std::fs::File", "std::net::TcpStream"] {
        assert!(config.contains(&format!("\"{path}\"")), "engine/core/clippy.toml disallows the type {path}");
    }
}

#[test]
fn sql_nats_and_http_stay_in_their_modules() {
    let sql = offenders("engine/service/src", &["sqlx::"], &["store"]);
    assert!(sql.is_empty(), "SQL outside the store: {sql:#?}");
    let sql_text = offenders("engine/service/src", SQL, &["store"]);
    assert!(sql_text.is_empty(), "SQL text outside the store: {sql_text:#?}");
    let nats = offenders("engine/service/src", &["async_nats"], &["bus"]);
    assert!(nats.is_empty(), "async-nats outside the bus: {nats:#?}");
    let http = offenders("engine/service/src", &["axum::"], &["api.rs", "api/", "web/", "open311/"]);
    assert!(http.is_empty(), "axum outside the HTTP layer (api, web, open311): {http:#?}");
    for dir in ["src", "workers/src"] {
        let found = offenders(dir, &["sqlx::", "async_nats", "axum::"], &[]);
        assert!(found.is_empty(), "{found:#?}");
        let sql_text = offenders(dir, SQL, &[]);
        assert!(sql_text.is_empty(), "SQL text outside the store: {sql_text:#?}");
    }
}

/// The testkit is generic support (real servers, a database, an HTTP client): it knows none of the
/// engine's crates, serves no HTTP and speaks no NATS itself; its only SQL creates and drops databases.
#[test]
fn the_testkit_knows_no_engine_layer() {
    let deps = dependencies("engine/testkit/Cargo.toml");
    for forbidden in ["aduan-core", "aduan-service", "aduan-workers", "axum", "async-nats"] {
        assert!(!deps.contains(forbidden), "aduan-testkit depends on {forbidden}");
    }
    let found =
        offenders("engine/testkit/src", &["aduan_core", "aduan_service", "aduan_workers", "axum::", "async_nats"], &[]);
    assert!(found.is_empty(), "{found:#?}");
    let sql = offenders("engine/testkit/src", &["sqlx::"], &["pg.rs"]);
    assert!(sql.is_empty(), "SQL outside the testkit's pg.rs: {sql:#?}");
    let sql_text = offenders("engine/testkit/src", SQL, &[]);
    assert!(sql_text.is_empty(), "the testkit runs no statement but CREATE/DROP DATABASE: {sql_text:#?}");
}

/// The end-to-end suite drives the real binary over HTTP, NATS and the CLI (it may tamper with a
/// database directly): it links none of the engine's crates and starts no in-process router. The
/// service's own suites test the service from outside its modules: no axum there either.
#[test]
fn the_tests_drive_the_engine_from_outside() {
    let e2e = offenders("tests/it", &["aduan_core", "aduan_service", "aduan_workers", "axum::"], &["invariants.rs"]);
    assert!(e2e.is_empty(), "{e2e:#?}");
    // oidc.rs serves a JWKS on loopback, as an identity provider would: a peer, not the engine's router.
    let service = offenders("engine/service/tests", &["axum::"], &["oidc.rs"]);
    assert!(service.is_empty(), "{service:#?}");
    // Every child process and temp dir of the suites goes through the testkit, which makes children die
    // with the test and names temp dirs so that a run's leftovers can be found.
    let needles = [".spawn().unwrap()", ".spawn().expect(", "cmd.spawn()", "command.spawn()"];
    let spawned = offenders("tests/it", &needles, &["invariants.rs"]);
    assert!(spawned.is_empty(), "spawn children with aduan_testkit::process::spawn: {spawned:#?}");
    for dir in ["tests/it", "engine/service/tests"] {
        let statics = offenders(dir, &["static NATS", "OnceLock<Mutex<NatsServer"], &["invariants.rs"]);
        assert!(statics.is_empty(), "a static server is never dropped: {statics:#?}");
    }
}
