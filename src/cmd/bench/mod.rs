//! `aduan bench`: the load generator and benchmark suite (BENCHMARKS.md).
//!
//! One scenario per (transport, database): the service runs in this process (`sut.rs`) on a fresh
//! database, optionally seeded first with `--seed N` complaints through the bulk path (`cmd::seed`),
//! and a fresh NATS prefix; `--concurrency` clients (`load.rs`, sending through `transport.rs`, waiting
//! for each command's event through `events.rs`, with the tokens of `tokens.rs`) run lifecycles of the
//! national workflow's mix for `--duration` seconds. Then, on the same database and NATS server, the
//! floors (`floor.rs`). `figures.rs` turns it all into the table on stdout and the JSON of `--out`.

mod events;
mod figures;
mod floor;
mod load;
mod sut;
mod tokens;
mod transport;

use crate::cmd::seed::{every_kabkota, seed, SeedPlan};
use crate::Config;
use aduan_core::pack::Pack;
use aduan_service::crypto::new_token;
use aduan_service::packs::load_pack;
use aduan_service::store::{Store, StoreOptions};
use anyhow::{anyhow, bail, Context};
use clap::{Args, ValueEnum};
use figures::{Figures, Latency, Machine};
use load::{Shared, Tally};
use serde::Serialize;
use serde_json::json;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};
use sut::InProcess;

/// Arguments of `bench`.
#[derive(Args, Debug, Clone, Serialize)]
pub struct BenchArgs {
    /// A short run for CI: 5 s per scenario and no seeded complaints, unless given.
    #[arg(long)]
    pub quick: bool,
    /// How long each scenario's load runs, in seconds (default 60; 5 with --quick).
    #[arg(long, value_name = "SECS")]
    pub duration: Option<u64>,
    /// Complaints seeded through the bulk path into each scenario's fresh database before its run
    /// (default 0; e.g. 1000000).
    #[arg(long, value_name = "N")]
    pub seed: Option<usize>,
    /// Concurrent clients (and the SQL floor's concurrent transactions).
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// A PostgreSQL database the bench may make databases beside (`{name}_{transport}`, one per
    /// scenario, dropped after it).
    #[arg(long, env = "ADUAN_BENCH_PG_URL")]
    #[serde(skip)]
    pub postgres: Option<String>,
    /// Transports to run.
    #[arg(long, value_delimiter = ',', default_value = "http,nats")]
    pub transports: Vec<TransportKind>,
    /// Databases to run on (PostgreSQL needs --postgres).
    #[arg(long, value_delimiter = ',', default_value = "sqlite,postgres")]
    pub databases: Vec<DatabaseKind>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench-results.json")]
    pub out: PathBuf,
}

/// How the clients send their commands.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TransportKind {
    /// The HTTP API.
    Http,
    /// NATS commands with `Aduan-Reply-To`.
    Nats,
}

/// The database of a scenario.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DatabaseKind {
    /// A SQLite file in a temp dir.
    Sqlite,
    /// A database made beside `--postgres`.
    Postgres,
}

impl TransportKind {
    fn name(self) -> &'static str {
        match self {
            TransportKind::Http => "http",
            TransportKind::Nats => "nats",
        }
    }
}

impl DatabaseKind {
    fn name(self) -> &'static str {
        match self {
            DatabaseKind::Sqlite => "sqlite",
            DatabaseKind::Postgres => "postgres",
        }
    }
}

/// The settings every scenario of a run shares.
struct Plan {
    pack: Arc<Pack>,
    nats_url: String,
    duration: Duration,
    floor: Duration,
    seed: usize,
    concurrency: usize,
}

/// How long each floor runs: 1 s with `--quick` (so that a quick run of every scenario stays under a
/// minute), else 5 s, never longer than the load.
fn floor_duration(quick: bool, load: Duration) -> Duration {
    let each = if quick { Duration::from_secs(1) } else { Duration::from_secs(5) };
    load.min(each)
}

/// Runs the suite.
pub fn run(args: BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let duration = Duration::from_secs(args.duration.unwrap_or(if args.quick { 5 } else { 60 }));
        let plan = Plan {
            pack: Arc::new(load_pack(&config.policy_dir).map_err(|e| anyhow!("{e}"))?),
            nats_url: config.nats_url.clone(),
            duration,
            floor: floor_duration(args.quick, duration),
            seed: args.seed.unwrap_or(0),
            concurrency: args.concurrency.max(1),
        };
        let dir = std::env::temp_dir().join(format!("aduan-bench-{}-{}", std::process::id(), &new_token()[..6]));
        std::fs::create_dir_all(&dir)?;
        let outcome = scenarios(&args, &plan, &dir).await;
        let _ = std::fs::remove_dir_all(&dir);
        let results = outcome?;
        let report = json!({
            "machine": Machine::this(),
            "git_commit": figures::git_commit(),
            "arguments": &args,
            "duration_seconds": plan.duration.as_secs(),
            "seed": plan.seed,
            "results": results,
        });
        std::fs::write(&args.out, serde_json::to_string_pretty(&report)?)
            .with_context(|| format!("writing {}", args.out.display()))?;
        eprintln!("wrote {}", args.out.display());
        Ok(ExitCode::SUCCESS)
    })
}

/// Every scenario asked for, one after another, each on its own fresh database.
async fn scenarios(args: &BenchArgs, plan: &Plan, dir: &Path) -> anyhow::Result<Vec<Figures>> {
    let postgres = match (&args.postgres, args.databases.contains(&DatabaseKind::Postgres)) {
        (Some(url), true) => Some(Postgres::connect(url).await?),
        (None, true) => {
            eprintln!("note: no --postgres URL (or ADUAN_BENCH_PG_URL): PostgreSQL scenarios skipped");
            None
        }
        _ => None,
    };
    let mut results = Vec::new();
    println!("{}", figures::HEADER);
    for &database in &args.databases {
        for &transport in &args.transports {
            let name = format!("{}/{}", transport.name(), database.name());
            let url = match (database, &postgres) {
                (DatabaseKind::Sqlite, _) => format!("sqlite://{}/{}.db", dir.display(), transport.name()),
                (DatabaseKind::Postgres, Some(pg)) => pg.fresh(transport.name()).await?,
                (DatabaseKind::Postgres, None) => continue,
            };
            eprintln!(
                "running {name}: {} s, {} clients, {} seeded …",
                plan.duration.as_secs(),
                plan.concurrency,
                plan.seed
            );
            let outcome = scenario(&name, transport, database, &url, plan).await;
            match (database, &postgres) {
                (DatabaseKind::Postgres, Some(pg)) => pg.remove(transport.name()).await?,
                _ => remove_sqlite(dir, transport.name()),
            }
            let f = outcome.with_context(|| format!("scenario {name}"))?;
            println!("{}", figures::row(&f));
            results.push(f);
        }
    }
    if let Some(pg) = postgres {
        pg.admin.close().await;
    }
    Ok(results)
}

/// Removes a scenario's SQLite database with its WAL and shared-memory files.
fn remove_sqlite(dir: &Path, name: &str) {
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.join(format!("{name}.db{suffix}")));
    }
}

/// The PostgreSQL server of `--postgres`, where each scenario gets a database of its own beside the
/// one given.
struct Postgres {
    admin: Store,
    url: String,
    base: String,
}

impl Postgres {
    async fn connect(url: &str) -> anyhow::Result<Self> {
        let admin = Store::connect(url, StoreOptions { max_connections: Some(1), ..StoreOptions::default() })
            .await
            .context("connecting to --postgres")?;
        let base = database_name(url).ok_or_else(|| anyhow!("--postgres: no database name in {url}"))?;
        Ok(Self { admin, url: url.to_owned(), base })
    }

    fn name(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.base)
    }

    /// A new database for a scenario, and its URL.
    async fn fresh(&self, suffix: &str) -> anyhow::Result<String> {
        let name = self.name(suffix);
        self.admin.drop_database(&name).await?;
        self.admin.create_database(&name).await.with_context(|| format!("creating the database {name}"))?;
        Ok(with_database(&self.url, &name))
    }

    async fn remove(&self, suffix: &str) -> anyhow::Result<()> {
        Ok(self.admin.drop_database(&self.name(suffix)).await?)
    }
}

/// The database name of a `postgres://…/NAME?…` URL.
fn database_name(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let path = rest.split_once('/')?.1;
    let name = path.split(['?', '#']).next()?;
    (!name.is_empty()).then(|| name.to_owned())
}

/// The URL with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("postgres", url));
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let query = path.find(['?', '#']).map_or("", |i| &path[i..]);
    format!("{scheme}://{host}/{name}{query}")
}

/// One scenario: seed, load, measure, floors.
async fn scenario(
    name: &str,
    transport: TransportKind,
    database: DatabaseKind,
    url: &str,
    plan: &Plan,
) -> anyhow::Result<Figures> {
    figures::reset_peak_rss();
    let mut sut = InProcess::start(url, &plan.nats_url, plan.pack.clone()).await?;
    let seeded_at = Instant::now();
    if plan.seed > 0 {
        let seeding = SeedPlan {
            complaints: plan.seed,
            regions: every_kabkota(&plan.pack),
            dispatched: true,
            at: aduan_service::clock::now().utc(),
        };
        seed(&sut.service, &seeding).await.context("seeding")?;
    }
    let seed_seconds = seeded_at.elapsed().as_secs_f64();
    let (tally, seconds, events_arrived) = drive(&sut, transport, plan).await?;
    sut.stop_serving().await;
    let peak_rss_bytes = figures::peak_rss_bytes();
    let database_bytes = sut.store.database_bytes().await?;
    let commands = tally.total_commands();
    let commands_per_second = figures::ratio(commands as f64, seconds);
    let events_per_second = figures::ratio(events_arrived as f64, seconds);
    let ours = floor::Ours { commands_per_second, events_per_second };
    let floor = floor::measure(&sut, plan.concurrency, plan.floor, ours).await?;
    sut.store.close().await;
    let complaints_stored = plan.seed as u64 + tally.commands.get("submit").copied().unwrap_or(0);
    Ok(Figures {
        scenario: name.to_owned(),
        transport: transport.name().to_owned(),
        database: database.name().to_owned(),
        concurrency: plan.concurrency,
        seeded: plan.seed,
        seed_seconds,
        duration_asked_seconds: plan.duration.as_secs(),
        seconds,
        lifecycles: tally.lifecycles,
        commands,
        lifecycles_per_second: figures::ratio(tally.lifecycles as f64, seconds),
        commands_per_second,
        events_per_second,
        events_arrived,
        events_missing: tally.missing_events,
        errors: tally.errors,
        officer_tokens_made: tally.officer_tokens,
        first_error: tally.first_error,
        event_latency_ms: Latency::of(tally.event_ms),
        reply_latency_ms: Latency::of(tally.reply_ms),
        commands_by_action: tally.commands,
        peak_rss_bytes,
        database_bytes,
        complaints_stored,
        database_bytes_per_million_complaints: figures::ratio(database_bytes as f64 * 1e6, complaints_stored as f64),
        floor,
    })
}

/// The load: every client until the time is up. Returns what they measured, the seconds from the
/// first command to the last client's end, and how many events arrived meanwhile.
async fn drive(sut: &InProcess, transport: TransportKind, plan: &Plan) -> anyhow::Result<(Tally, f64, u64)> {
    let events = events::Events::start(&sut.bus, &sut.prefix).await?;
    let tokens = tokens::Tokens::new(sut.service.clone()).await?;
    let mut transports = Vec::with_capacity(plan.concurrency);
    for _ in 0..plan.concurrency {
        transports.push(transport::Transport::new(transport, sut.addr, &sut.bus).await?);
    }
    let start = Instant::now();
    let shared = Arc::new(Shared::new(plan.pack.clone(), tokens, events, start + plan.duration));
    let clients: Vec<_> =
        transports.into_iter().zip(0u64..).map(|(t, n)| tokio::spawn(load::client(n, t, shared.clone()))).collect();
    let mut tally = Tally::default();
    for c in clients {
        tally.merge(c.await?);
    }
    let seconds = start.elapsed().as_secs_f64();
    let arrived = shared.events.seen();
    tally.officer_tokens = shared.tokens.officers() as u64;
    if tally.total_commands() == 0 {
        bail!("no command was answered: {}", tally.first_error.unwrap_or_default());
    }
    Ok((tally, seconds, arrived))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenario_databases_sit_beside_the_given_one() {
        let url = "postgres://postgres@127.0.0.1:5432/aduan_bench_1?sslmode=disable";
        assert_eq!(database_name(url).as_deref(), Some("aduan_bench_1"));
        assert_eq!(
            with_database(url, "aduan_bench_1_http"),
            "postgres://postgres@127.0.0.1:5432/aduan_bench_1_http?sslmode=disable"
        );
        assert_eq!(with_database("postgres://h/db", "x"), "postgres://h/x");
        assert_eq!(database_name("postgres://h"), None);
    }
}
