//! The figures of a run and what they are read from: percentiles, the process's peak RSS, the machine,
//! the git commit; the JSON written to `--out` and the table printed on stdout.

use serde::Serialize;
use std::collections::BTreeMap;

/// One scenario's figures (BENCHMARKS.md describes each).
#[derive(Debug, Serialize)]
pub(super) struct Figures {
    pub scenario: String,
    pub transport: String,
    pub database: String,
    pub concurrency: usize,
    /// Complaints seeded through the bulk path before the run.
    pub seeded: usize,
    pub seed_seconds: f64,
    pub duration_asked_seconds: u64,
    /// From the first command to the last client's end (the in-flight commands after the time was up
    /// included).
    pub seconds: f64,
    pub lifecycles: u64,
    pub commands: u64,
    pub commands_by_action: BTreeMap<&'static str, u64>,
    pub lifecycles_per_second: f64,
    pub commands_per_second: f64,
    /// Every event the relay published on `{prefix}.evt.>` during the run, per second.
    pub events_per_second: f64,
    pub events_arrived: u64,
    pub events_missing: u64,
    pub errors: u64,
    pub first_error: Option<String>,
    /// Officer tokens made during the run: one write each, the first time a case reaches an agency.
    pub officer_tokens_made: u64,
    pub event_latency_ms: Latency,
    pub reply_latency_ms: Latency,
    /// VmHWM of this process (service and load generator together) since the scenario started.
    pub peak_rss_bytes: u64,
    /// After the run, before the floor: SQLite file + WAL, PostgreSQL `pg_database_size`.
    pub database_bytes: u64,
    /// Complaints stored after the run (seeded + submitted).
    pub complaints_stored: u64,
    pub database_bytes_per_million_complaints: f64,
    pub floor: Floor,
}

/// Percentiles of a latency, in milliseconds.
#[derive(Debug, Serialize)]
pub(super) struct Latency {
    pub p50: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Latency {
    pub(super) fn of(mut ms: Vec<f64>) -> Self {
        ms.sort_by(f64::total_cmp);
        Self {
            p50: percentile(&ms, 0.50),
            p99: percentile(&ms, 0.99),
            p999: percentile(&ms, 0.999),
            max: ms.last().copied().unwrap_or(f64::NAN),
        }
    }
}

/// The floors measured on the same database and NATS server right after the run, and our ratio to each.
#[derive(Debug, Serialize)]
pub(super) struct Floor {
    pub seconds_each: f64,
    /// The size of the event payload both floors write (a real `assigned` event's).
    pub event_payload_bytes: usize,
    /// Raw SQL transactions writing a follow-up command's rows, at the run's concurrency.
    pub sql_transactions_per_second: f64,
    pub sql_transaction_ms: Latency,
    /// Our commands/s ÷ the SQL floor's transactions/s.
    pub commands_ratio_to_sql: f64,
    /// Raw JetStream publish + ack of an event's payload, one at a time.
    pub jetstream_one_at_a_time_per_second: f64,
    /// The same with 256 acknowledgements outstanding.
    pub jetstream_256_in_flight_per_second: f64,
    /// Our events/s ÷ the one-at-a-time floor.
    pub events_ratio_to_jetstream_one: f64,
    /// Our events/s ÷ the 256-in-flight floor.
    pub events_ratio_to_jetstream_256: f64,
}

/// The nearest-rank percentile of sorted values (NaN for none).
pub(super) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// `a / b`, or 0 when `b` is not positive.
pub(super) fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else {
        0.0
    }
}

/// A field of `/proc/self/status` in bytes (`VmHWM:  1234 kB`), 0 when unreadable.
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    kib_field(&status, field) * 1024
}

/// The number of kB of `field` in a `/proc` file of `Name:  N kB` lines.
fn kib_field(text: &str, field: &str) -> u64 {
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The process's peak resident set size (VmHWM).
pub(super) fn peak_rss_bytes() -> u64 {
    status_bytes("VmHWM")
}

/// Starts the peak RSS afresh (`5` to `/proc/self/clear_refs`), so each scenario reports its own;
/// where that is refused the peak stays the process's.
pub(super) fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The machine the figures were measured on.
#[derive(Debug, Serialize)]
pub(super) struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub os: String,
}

impl Machine {
    pub(super) fn this() -> Self {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu = cpuinfo
            .lines()
            .find_map(|l| l.strip_prefix("model name")?.split_once(':').map(|(_, v)| v.trim().to_owned()))
            .unwrap_or_else(|| "unknown".to_owned());
        let meminfo = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
        Self {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes: kib_field(&meminfo, "MemTotal") * 1024,
            os: std::env::consts::OS.to_owned(),
        }
    }
}

/// The commit the binary runs from: `ADUAN_GIT_COMMIT`, else `git rev-parse HEAD` in the working
/// directory, else none.
pub(super) fn git_commit() -> Option<String> {
    if let Ok(c) = std::env::var("ADUAN_GIT_COMMIT") {
        return Some(c);
    }
    let out = std::process::Command::new("git").args(["rev-parse", "HEAD"]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The table's header line.
pub(super) const HEADER: &str = "scenario        seeded  lifecycles/s  commands/s  event p50/p99/p999 ms      reply p50/p99 ms  peak RSS  DB MB/1M  SQL floor tx/s (ratio)  JetStream 1 / 256 msg/s (ratio)";

/// One scenario as a line of the table.
pub(super) fn row(f: &Figures) -> String {
    let e = &f.event_latency_ms;
    let fl = &f.floor;
    format!(
        "{:<15} {:>6} {:>13.1} {:>11.0} {:>7.1}/{:>7.1}/{:>7.1} {:>9.1}/{:>7.1} {:>6.0} MB {:>9.0} {:>13.0} ({:>4.2}) {:>9.0} / {:>7.0} ({:.2} / {:.2})",
        f.scenario,
        f.seeded,
        f.lifecycles_per_second,
        f.commands_per_second,
        e.p50,
        e.p99,
        e.p999,
        f.reply_latency_ms.p50,
        f.reply_latency_ms.p99,
        f.peak_rss_bytes as f64 / 1e6,
        f.database_bytes_per_million_complaints / 1e6,
        fl.sql_transactions_per_second,
        fl.commands_ratio_to_sql,
        fl.jetstream_one_at_a_time_per_second,
        fl.jetstream_256_in_flight_per_second,
        fl.events_ratio_to_jetstream_one,
        fl.events_ratio_to_jetstream_256,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_proc_fields() {
        let v: Vec<f64> = (1..=1000).map(f64::from).collect();
        assert_eq!(percentile(&v, 0.5), 501.0);
        assert_eq!(percentile(&v, 0.999), 999.0);
        assert!(percentile(&[], 0.5).is_nan());
        assert_eq!(kib_field("VmPeak:\t 10 kB\nVmHWM:\t  2048 kB\n", "VmHWM"), 2048);
        assert_eq!(kib_field("MemTotal: 5 kB", "VmHWM"), 0);
        assert_eq!(ratio(1.0, 0.0), 0.0);
    }
}
