//! `aduan bench --quick` (BENCHMARKS.md): a two-second run of every scenario (HTTP and NATS, on SQLite
//! and on PostgreSQL) writes every figure to its JSON, answers commands, and sees every command's event
//! arrive on NATS. No figure is held to a threshold; the scenarios' databases are gone afterwards.

use aduan_testkit::nats::NatsServer;
use aduan_testkit::pg::TestDatabase;
use serde_json::Value;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

/// The figures every scenario reports, as JSON pointers.
const FIGURES: [&str; 22] = [
    "/seconds",
    "/lifecycles",
    "/commands",
    "/lifecycles_per_second",
    "/commands_per_second",
    "/events_per_second",
    "/events_arrived",
    "/event_latency_ms/p50",
    "/event_latency_ms/p99",
    "/event_latency_ms/p999",
    "/reply_latency_ms/p50",
    "/reply_latency_ms/p99",
    "/peak_rss_bytes",
    "/database_bytes",
    "/database_bytes_per_million_complaints",
    "/floor/sql_transactions_per_second",
    "/floor/sql_transaction_ms/p99",
    "/floor/commands_ratio_to_sql",
    "/floor/jetstream_one_at_a_time_per_second",
    "/floor/jetstream_256_in_flight_per_second",
    "/floor/events_ratio_to_jetstream_one",
    "/floor/events_ratio_to_jetstream_256",
];

#[test]
fn load_bench_quick_reports_every_figure_of_every_scenario() {
    let nats = NatsServer::start();
    let pg = TestDatabase::create_blocking();
    let dir = aduan_testkit::process::tempdir("bench");
    let out = dir.path().join("bench.json");
    let args = [
        "bench",
        "--quick",
        "--duration",
        "2",
        "--concurrency",
        "8",
        "--nats-url",
        nats.url(),
        "--postgres",
        pg.url(),
        "--out",
        out.to_str().unwrap(),
    ];
    let (ok, text, log) = bench(&args, dir.path(), Duration::from_secs(240));
    assert!(ok, "bench failed:\n{text}\n{log}");
    let report: Value = serde_json::from_slice(&std::fs::read(&out).expect("the JSON is written")).unwrap();
    assert!(report["machine"]["cores"].as_u64().unwrap() >= 1, "{report}");
    assert!(report["machine"]["memory_bytes"].as_u64().unwrap() > 0, "{report}");
    assert_eq!(report["arguments"]["quick"], true);
    let results = report["results"].as_array().unwrap();
    let names: Vec<&str> = results.iter().map(|r| r["scenario"].as_str().unwrap()).collect();
    assert_eq!(names, ["http/sqlite", "nats/sqlite", "http/postgres", "nats/postgres"]);
    for r in results {
        for f in FIGURES {
            let v = r.pointer(f).and_then(Value::as_f64);
            assert!(v.is_some_and(f64::is_finite), "{} has no figure {f}: {r:#}", r["scenario"]);
        }
        assert!(r["commands"].as_u64().unwrap() > 0, "{r:#}");
        assert_eq!(r["errors"], 0, "{r:#}");
        assert_eq!(r["events_missing"], 0, "a command's event did not arrive: {r:#}");
        assert!(r["commands_by_action"]["submit"].as_u64().unwrap() > 0, "{r:#}");
        assert_eq!(r["seeded"], 0, "{r:#}");
    }
    assert!(text.lines().count() >= 5 && text.contains("http/sqlite") && text.contains("nats/postgres"), "{text}");
    assert_eq!(scenario_databases_left(pg.url()), Vec::<String>::new());
}

/// Runs `aduan bench` with the service's logs at `warn`, its output into files of `dir` (the in-process
/// service logs every request at `info`: more than a pipe holds), killing it past `bound`. Whether it
/// exited 0, its stdout and its stderr.
fn bench(args: &[&str], dir: &Path, bound: Duration) -> (bool, String, String) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let mut cmd = crate::command_in(&crate::root(), args);
    cmd.env("RUST_LOG", "warn")
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()));
    let mut child = aduan_testkit::process::spawn(cmd).expect("aduan runs");
    let deadline = std::time::Instant::now() + bound;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waits") {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aduan {args:?} ran past {bound:?}:\n{}", std::fs::read_to_string(&err).unwrap_or_default());
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (status.success(), read(&out), read(&err))
}

/// Databases named beside the test's own (`{name}_…`) that still exist.
fn scenario_databases_left(url: &str) -> Vec<String> {
    use sqlx::Connection;
    let name = url.rsplit('/').next().unwrap().split('?').next().unwrap().to_owned();
    crate::support::block_on(async move {
        let mut c = sqlx::PgConnection::connect(url).await.unwrap();
        let rows: Vec<String> = sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE $1")
            .bind(format!("{name}\\_%"))
            .fetch_all(&mut c)
            .await
            .unwrap();
        let _ = c.close().await;
        rows
    })
}
