//! Prometheus metrics (`GET /metrics`): commands by action and outcome, a latency histogram per action,
//! and gauges read from the store at scrape time (outbox backlog, open timers); pack reloads by outcome
//! and whether a refused candidate stands.

use prometheus_client::encoding::text::encode;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::Mutex;
use std::time::Duration;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    action: String,
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

/// The metrics of one process.
pub struct Metrics {
    registry: Mutex<Registry>,
    commands: Family<CommandLabels, Counter>,
    latency: Family<ActionLabel, Histogram, fn() -> Histogram>,
    outbox_backlog: Gauge,
    open_timers: Gauge,
    pack_reloads: Family<OutcomeLabel, Counter>,
    pack_rejected: Gauge,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("aduan");
        let commands = Family::<CommandLabels, Counter>::default();
        let latency = Family::<ActionLabel, Histogram, fn() -> Histogram>::new_with_constructor(latency_histogram);
        let outbox_backlog = Gauge::default();
        let open_timers = Gauge::default();
        registry.register(
            "commands",
            "Commands handled, by action and outcome (ok or the HTTP status)",
            commands.clone(),
        );
        registry.register("command_duration_seconds", "Time to decide and commit a command", latency.clone());
        registry.register("outbox_backlog", "Events written but not yet published to NATS", outbox_backlog.clone());
        registry.register("open_timers", "Running and paused SLA clocks", open_timers.clone());
        let pack_reloads = Family::<OutcomeLabel, Counter>::default();
        let pack_rejected = Gauge::default();
        registry.register(
            "pack_reloads",
            "Candidate policy packs offered to this replica, by outcome (activated or rejected)",
            pack_reloads.clone(),
        );
        registry.register(
            "pack_rejected",
            "1 while the last candidate pack was refused and the replica runs on the one before",
            pack_rejected.clone(),
        );
        Self {
            registry: Mutex::new(registry),
            commands,
            latency,
            outbox_backlog,
            open_timers,
            pack_reloads,
            pack_rejected,
        }
    }

    /// Records one command's outcome and duration: `failed_with` is `None` when it succeeded, else the
    /// HTTP status of its error (the `outcome` label: `ok` or the status).
    pub fn command(&self, action: &str, failed_with: Option<u16>, took: Duration) {
        let outcome = match failed_with {
            None => "ok".to_owned(),
            Some(status) => status.to_string(),
        };
        let action = if action.is_empty() { "unknown" } else { action };
        self.commands.get_or_create(&CommandLabels { action: action.into(), outcome }).inc();
        self.latency.get_or_create(&ActionLabel { action: action.into() }).observe(took.as_secs_f64());
    }

    /// Counts one candidate pack: taken into use, or refused.
    pub fn pack_reload(&self, activated: bool) {
        let outcome = if activated { "activated" } else { "rejected" };
        self.pack_reloads.get_or_create(&OutcomeLabel { outcome: outcome.into() }).inc();
    }

    /// Renders the text exposition format, with the gauges set to the given readings.
    pub fn render(&self, outbox_backlog: i64, open_timers: i64, pack_rejected: bool) -> String {
        self.outbox_backlog.set(outbox_backlog);
        self.open_timers.set(open_timers);
        self.pack_rejected.set(i64::from(pack_rejected));
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = encode(&mut out, &registry);
        out
    }
}
