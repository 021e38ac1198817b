//! Prometheus metrics (`GET /metrics`, docs/operations.md#metrics): HTTP requests by route template
//! and status with a latency histogram; commands by action and outcome with a latency histogram per
//! action; sweeps and digests; dead letters and command redeliveries; the relay's lag; gauges read
//! from the store at scrape time (outbox backlog and its oldest row's age, open timers); pack reloads
//! by outcome and whether a refused candidate stands; and the process metrics (`process.rs`).
//!
//! Rendered in the Prometheus text format 0.0.4 or in OpenMetrics, as the scraper's `Accept` asks
//! ([`Format::negotiate`]); both come from the one registry of `prometheus-client`.

mod process;

use crate::digest::DigestCounts;
use crate::sweeper::SweepCounts;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CommandLabels {
    action: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ActionLabel {
    action: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ResultLabel {
    result: &'static str,
}

/// How `/metrics` is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4 (`text/plain; version=0.0.4`): the default.
    Prometheus,
    /// OpenMetrics 1.0 (`application/openmetrics-text; version=1.0.0`).
    OpenMetrics,
}

impl Format {
    /// The format an `Accept` header asks for: OpenMetrics when it names `application/openmetrics-text`
    /// with a quality at least that of every other range it accepts, else the Prometheus text format
    /// (also with no header, or one that names neither).
    pub fn negotiate(accept: Option<&str>) -> Format {
        let mut open = None::<f32>;
        let mut other = 0.0f32;
        for range in accept.unwrap_or_default().split(',') {
            let mut parts = range.split(';');
            let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").and_then(|v| v.trim().parse::<f32>().ok()))
                .next()
                .unwrap_or(1.0);
            if essence == "application/openmetrics-text" {
                open = Some(open.map_or(q, |o| o.max(q)));
            } else if !essence.is_empty() {
                other = other.max(q);
            }
        }
        match open {
            Some(q) if q > 0.0 && q >= other => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    /// The `Content-Type` of an answer in this format.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::CONTENT_TYPE,
            Format::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// What the store says at scrape time, for the gauges.
#[derive(Clone, Copy, Debug, Default)]
pub struct Readings {
    /// Outbox rows not yet published (-1: the store did not answer).
    pub outbox_backlog: i64,
    /// Seconds since the oldest unsent outbox row was written (0 when none waits, -1: the store did
    /// not answer).
    pub outbox_oldest_age: f64,
    /// Running and paused SLA clocks (-1: the store did not answer); `None` keeps the last count (it
    /// is taken at most once per [`OPEN_TIMERS_EVERY`]: see [`Metrics::open_timers_due`]).
    pub open_timers: Option<i64>,
    /// Whether a refused candidate pack stands.
    pub pack_rejected: bool,
}

/// The metrics of one process.
pub struct Metrics {
    registry: Mutex<Registry>,
    requests: Family<RequestLabels, Counter>,
    request_latency: Family<RouteLabels, Histogram, fn() -> Histogram>,
    commands: Family<CommandLabels, Counter>,
    latency: Family<ActionLabel, Histogram, fn() -> Histogram>,
    sweeps: Family<OutcomeLabel, Counter>,
    sweep_latency: Histogram,
    sweep_rungs: Family<ResultLabel, Counter>,
    digests: Family<OutcomeLabel, Counter>,
    digest_agencies: Family<ResultLabel, Counter>,
    dead_letters: Family<ActionLabel, Counter>,
    redeliveries: Counter,
    relay_lag: Histogram,
    outbox_backlog: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
    open_timers: Gauge,
    /// When the open timers were last counted.
    open_timers_counted: Mutex<Option<Instant>>,
    pack_reloads: Family<OutcomeLabel, Counter>,
    webhooks: Family<OutcomeLabel, Counter>,
    pack_rejected: Gauge,
}

/// How often a scrape counts the open timers: a count over every timer of the store (millions, on a
/// national deployment), too costly for every scrape.
pub const OPEN_TIMERS_EVERY: Duration = Duration::from_secs(60);

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

/// Buckets of request and command latencies, in seconds.
fn latency_histogram() -> Histogram {
    Histogram::new([0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5])
}

/// Buckets of sweep durations and relay lag, in seconds: from milliseconds to minutes.
fn slow_histogram() -> Histogram {
    Histogram::new([0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0])
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// The HTTP method as a label: one of the methods the API knows, else `other` (a label never holds
/// what a client made up).
pub fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    KNOWN.into_iter().find(|m| *m == method).unwrap_or("other")
}

impl Metrics {
    /// A fresh registry with every metric registered.
    pub fn new() -> Self {
        let mut root = Registry::default();
        root.register_collector(Box::new(process::ProcessCollector));
        let registry = root.sub_registry_with_prefix("aduan");
        let m = Self {
            registry: Mutex::new(Registry::default()),
            requests: Family::default(),
            request_latency: Family::new_with_constructor(latency_histogram),
            commands: Family::default(),
            latency: Family::new_with_constructor(latency_histogram),
            sweeps: Family::default(),
            sweep_latency: slow_histogram(),
            sweep_rungs: Family::default(),
            digests: Family::default(),
            digest_agencies: Family::default(),
            dead_letters: Family::default(),
            redeliveries: Counter::default(),
            relay_lag: slow_histogram(),
            outbox_backlog: Gauge::default(),
            outbox_oldest_age: Gauge::default(),
            open_timers: Gauge::default(),
            open_timers_counted: Mutex::new(None),
            pack_reloads: Family::default(),
            webhooks: Family::default(),
            pack_rejected: Gauge::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests answered, by method, route template and status",
            m.requests.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by method and route template",
            m.request_latency.clone(),
        );
        registry.register(
            "commands",
            "Commands handled (HTTP and NATS), by action and outcome: applied, refused (a 4xx answer) or failed",
            m.commands.clone(),
        );
        registry.register("command_duration_seconds", "Time to decide and commit a command", m.latency.clone());
        registry.register("sweeps", "Deadline sweeps run in this process, by outcome (ok or failed)", m.sweeps.clone());
        registry.register("sweep_duration_seconds", "Time a sweep took", m.sweep_latency.clone());
        registry.register(
            "sweep_rungs",
            "What sweeps did: warned, escalated, closed, or held (due but not acted on)",
            m.sweep_rungs.clone(),
        );
        registry.register(
            "digests",
            "Morning digest runs in this process, by outcome (ok or failed)",
            m.digests.clone(),
        );
        registry.register(
            "digest_agencies",
            "Agencies seen by digest runs: sent, held (outside working hours) or already (sent today)",
            m.digest_agencies.clone(),
        );
        registry.register(
            "dead_letters",
            "Commands written to the dead-letter stream, by action (`other` for a subject naming none the pack knows)",
            m.dead_letters.clone(),
        );
        registry.register(
            "command_redeliveries",
            "NATS commands delivered again (a retry after a nak, or after the ack wait)",
            m.redeliveries.clone(),
        );
        registry.register(
            "relay_lag_seconds",
            "Time from an event's commit to JetStream's acknowledgement of its publish",
            m.relay_lag.clone(),
        );
        registry.register("outbox_backlog", "Events written but not yet published to NATS", m.outbox_backlog.clone());
        registry.register(
            "outbox_oldest_age_seconds",
            "Age of the oldest event not yet published (0 when none waits)",
            m.outbox_oldest_age.clone(),
        );
        registry.register("open_timers", "Running and paused SLA clocks", m.open_timers.clone());
        registry.register(
            "webhook_attempts",
            "Webhook posts to source systems, by outcome: delivered, retried (failed, tried again later) or dead (failed for the last time)",
            m.webhooks.clone(),
        );
        registry.register(
            "pack_reloads",
            "Candidate policy packs offered to this replica, by outcome (activated or rejected)",
            m.pack_reloads.clone(),
        );
        registry.register(
            "pack_rejected",
            "1 while the last candidate pack was refused and the replica runs on the one before",
            m.pack_rejected.clone(),
        );
        *m.registry.lock().unwrap_or_else(|e| e.into_inner()) = root;
        m
    }

    /// Records one HTTP answer: `route` is the matched route template (`/v1/complaints/{id}`), never
    /// the path as sent.
    pub fn http(&self, method: &str, route: &str, status: u16, took: Duration) {
        let method = method_label(method);
        let route = route.to_owned();
        self.requests.get_or_create(&RequestLabels { method, route: route.clone(), status }).inc();
        self.request_latency.get_or_create(&RouteLabels { method, route }).observe(took.as_secs_f64());
    }

    /// Records one command's outcome and duration: `failed_with` is `None` when it was applied, else the
    /// HTTP status of its error (4xx: refused; anything else: failed). `action` is a name the pack
    /// knows, or `other`.
    pub fn command(&self, action: &str, failed_with: Option<u16>, took: Duration) {
        let outcome = match failed_with {
            None => "applied",
            Some(400..=499) => "refused",
            Some(_) => "failed",
        };
        let action = if action.is_empty() { "other" } else { action };
        self.commands.get_or_create(&CommandLabels { action: action.into(), outcome }).inc();
        self.latency.get_or_create(&ActionLabel { action: action.into() }).observe(took.as_secs_f64());
    }

    /// Records one sweep: what it did (`None`: it failed) and how long it took.
    pub fn sweep(&self, counts: Option<&SweepCounts>, took: Duration) {
        let outcome = if counts.is_some() { "ok" } else { "failed" };
        self.sweeps.get_or_create(&OutcomeLabel { outcome }).inc();
        self.sweep_latency.observe(took.as_secs_f64());
        if let Some(c) = counts {
            for (result, n) in
                [("warned", c.warned), ("escalated", c.escalated), ("closed", c.closed), ("held", c.held)]
            {
                self.sweep_rungs.get_or_create(&ResultLabel { result }).inc_by(n);
            }
        }
    }

    /// Records one digest run (`None`: it failed).
    pub fn digest(&self, counts: Option<&DigestCounts>) {
        let outcome = if counts.is_some() { "ok" } else { "failed" };
        self.digests.get_or_create(&OutcomeLabel { outcome }).inc();
        if let Some(c) = counts {
            for (result, n) in [("sent", c.sent), ("held", c.held), ("already", c.already)] {
                self.digest_agencies.get_or_create(&ResultLabel { result }).inc_by(n);
            }
        }
    }

    /// Counts one dead letter written for `action` (a name the pack knows, or `other`).
    pub fn dead_letter(&self, action: &str) {
        self.dead_letters.get_or_create(&ActionLabel { action: action.into() }).inc();
    }

    /// Counts one webhook post: `delivered`, `retried` or `dead`.
    pub fn webhook(&self, outcome: &'static str) {
        self.webhooks.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Counts one redelivered NATS command.
    pub fn redelivery(&self) {
        self.redeliveries.inc();
    }

    /// Records the lag of one published event: from its commit to the publish acknowledgement.
    pub fn relay_lag(&self, lag: Duration) {
        self.relay_lag.observe(lag.as_secs_f64());
    }

    /// Counts one candidate pack: taken into use, or refused.
    pub fn pack_reload(&self, activated: bool) {
        let outcome = if activated { "activated" } else { "rejected" };
        self.pack_reloads.get_or_create(&OutcomeLabel { outcome }).inc();
    }

    /// Whether this scrape should count the open timers: true at the first, then once per
    /// [`OPEN_TIMERS_EVERY`] (the scrapes between keep the last count).
    pub fn open_timers_due(&self) -> bool {
        let mut counted = self.open_timers_counted.lock().unwrap_or_else(|e| e.into_inner());
        let due = counted.is_none_or(|at| at.elapsed() >= OPEN_TIMERS_EVERY);
        if due {
            *counted = Some(Instant::now());
        }
        due
    }

    /// Renders every metric in `format`, with the gauges set to the store's `readings`.
    pub fn render(&self, format: Format, readings: Readings) -> String {
        self.outbox_backlog.set(readings.outbox_backlog);
        self.outbox_oldest_age.set(readings.outbox_oldest_age);
        if let Some(open) = readings.open_timers {
            self.open_timers.set(open);
        }
        self.pack_rejected.set(i64::from(readings.pack_rejected));
        let mut out = String::new();
        let registry = self.registry.lock().unwrap_or_else(|e| e.into_inner());
        let _ = match format {
            Format::Prometheus => prometheus_client::encoding::prometheus_text::encode(&mut out, &registry),
            Format::OpenMetrics => prometheus_client::encoding::text::encode(&mut out, &registry),
        };
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_open_timers_are_counted_at_the_first_scrape_then_kept_between_counts() {
        let m = Metrics::new();
        assert!(m.open_timers_due(), "the first scrape counts");
        assert!(!m.open_timers_due(), "the next one, within a minute, keeps the count");
        let text = m.render(Format::Prometheus, Readings { open_timers: Some(7), ..Readings::default() });
        assert!(text.contains("aduan_open_timers 7"), "{text}");
        let text = m.render(Format::Prometheus, Readings { open_timers: None, ..Readings::default() });
        assert!(text.contains("aduan_open_timers 7"), "the last count stands: {text}");
        *m.open_timers_counted.lock().unwrap() = Some(Instant::now() - OPEN_TIMERS_EVERY);
        assert!(m.open_timers_due(), "a minute later it counts again");
    }

    #[test]
    fn accept_picks_the_format() {
        assert_eq!(Format::negotiate(None), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("text/plain")), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("*/*")), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("application/openmetrics-text")), Format::OpenMetrics);
        // What Prometheus 2.x sends: OpenMetrics first.
        let prom = "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,\
                    text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
        assert_eq!(Format::negotiate(Some(prom)), Format::OpenMetrics);
        assert_eq!(Format::negotiate(Some("text/plain;q=1, application/openmetrics-text;q=0.5")), Format::Prometheus);
        assert_eq!(Format::negotiate(Some("application/openmetrics-text;q=0")), Format::Prometheus);
    }

    #[test]
    fn both_formats_keep_the_counter_type() {
        let m = Metrics::new();
        m.command("verify", None, Duration::from_millis(3));
        m.command("verify", Some(409), Duration::from_millis(3));
        m.command("verify", Some(503), Duration::from_millis(3));
        m.http("GET", "/v1/complaints/{id}", 200, Duration::from_millis(2));
        m.http("BREW", "unmatched", 404, Duration::from_millis(2));
        let classic = m.render(Format::Prometheus, Readings::default());
        assert!(classic.contains("# TYPE aduan_commands_total counter"), "{classic}");
        for outcome in ["applied", "refused", "failed"] {
            assert!(classic.contains(&format!("aduan_commands_total{{action=\"verify\",outcome=\"{outcome}\"}} 1")));
        }
        assert!(classic.contains(
            "aduan_http_request_duration_seconds_bucket{le=\"0.0025\",method=\"GET\",route=\"/v1/complaints/{id}\"} 1"
        ) || classic.contains("aduan_http_request_duration_seconds_bucket{method=\"GET\",route=\"/v1/complaints/{id}\",le=\"0.0025\"} 1"), "{classic}");
        assert!(classic.contains("method=\"other\",route=\"unmatched\",status=\"404\""), "{classic}");
        assert!(!classic.contains("# EOF"));
        let open = m.render(Format::OpenMetrics, Readings::default());
        assert!(open.contains("# TYPE aduan_commands counter"), "{open}");
        assert!(open.ends_with("# EOF\n"));
    }
}
