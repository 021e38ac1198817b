//! Guards the invariants of ARCHITECTURE.md that are about where code may live (stated as the absence of
//! something): the core does no IO and reads no clock; SQL only in the store; async-nats only in the
//! bus; axum only in the api.

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

/// Files under `dir` (excluding `allowed` prefixes) whose code mentions any of `needles`.
fn offenders(dir: &str, needles: &[&str], allowed: &[&str]) -> Vec<String> {
    let base = root().join(dir);
    rust_files(&base)
        .into_iter()
        .filter(|p| !allowed.iter().any(|a| p.starts_with(base.join(a))))
        .filter_map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            let code: String =
                text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
            needles
                .iter()
                .find(|n| code.contains(*n))
                .map(|n| format!("{} mentions {n}", p.strip_prefix(root()).unwrap().display()))
        })
        .collect()
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let manifest = std::fs::read_to_string(root().join("engine/core/Cargo.toml")).unwrap();
    let deps = manifest.split("[dev-dependencies]").next().unwrap();
    for forbidden in ["tokio", "sqlx", "async-nats", "axum"] {
        assert!(!deps.contains(forbidden), "aduan-core depends on {forbidden}");
    }
    let found = offenders(
        "engine/core/src",
        &["Utc::now", "Local::now", "SystemTime", "Instant::now", "std::fs", "std::net", "std::env"],
        &[],
    );
    assert!(found.is_empty(), "{found:#?}");
}

#[test]
fn sql_nats_and_http_stay_in_their_modules() {
    let sql = offenders("engine/service/src", &["sqlx::"], &["store"]);
    assert!(sql.is_empty(), "SQL outside the store: {sql:#?}");
    let nats = offenders("engine/service/src", &["async_nats"], &["bus"]);
    assert!(nats.is_empty(), "async-nats outside the bus: {nats:#?}");
    let http = offenders("engine/service/src", &["axum::"], &["api.rs"]);
    assert!(http.is_empty(), "axum outside the api: {http:#?}");
    for dir in ["src", "workers/src"] {
        let found = offenders(dir, &["sqlx::", "async_nats", "axum::"], &[]);
        assert!(found.is_empty(), "{found:#?}");
    }
}
