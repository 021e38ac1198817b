//! `aduan sweep [--now RFC3339] [--dry-run]` and `aduan seed --complaints N …`: the operator's deadline
//! tools. Both need only the database; they act with the pack the database marks active (the one
//! `serve` validated), else the configured pack directory. The seed's bulk path itself is `seed.rs`,
//! shared with `aduan bench --seed`.

use super::seed::{every_kabkota, SeedPlan};
use crate::Config;
use aduan_core::pack::{Pack, PackFile};
use aduan_core::region::RegionCode;
use aduan_core::time::Timestamp;
use aduan_service::crypto::DataKey;
use aduan_service::metrics::Metrics;
use aduan_service::packs::{read_pack_dir, validate};
use aduan_service::service::Service;
use aduan_service::store::{Store, StoreError, StoreOptions};
use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `sweep`.
#[derive(Args, Debug, Clone)]
pub struct SweepArgs {
    /// Sweep as of this instant (default: now).
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// Print what the sweep would do and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// How long this sweep's claims last (`30s`, `500ms`), judged on the sweep's clock (`--now`).
    #[arg(long, default_value = "30s", value_parser = parse_duration)]
    pub claim_ttl: std::time::Duration,
}

fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let (n, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: u64 = n.parse().map_err(|_| format!("`{s}` is not a duration like 30s or 500ms"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("`{s}`: use ms, s or m")),
    }
}

/// Arguments of `seed`.
#[derive(Args, Debug, Clone)]
pub struct SeedArgs {
    /// How many cases.
    #[arg(long)]
    pub complaints: usize,
    /// Region of every case (default: spread over all kab/kota of the directory).
    #[arg(long)]
    pub region: Option<String>,
    /// The workflow's state awaiting dispatch (`submitted`), or the state `verify` enters (`assigned`,
    /// verified and dispatched: the default).
    #[arg(long)]
    pub status: Option<String>,
    /// Start the clocks early enough that `respond` (and `verify`) are due before this instant.
    #[arg(long)]
    pub due_before: Option<DateTime<Utc>>,
    /// Start the clocks at this instant (default: now).
    #[arg(long)]
    pub at: Option<DateTime<Utc>>,
}

/// A multi-threaded runtime for one operator command.
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// The files of the pack stored under `hash` (`serve` stores every pack it starts with), if stored.
pub(crate) async fn stored_pack_files(store: &Store, hash: &str) -> Result<Option<Vec<PackFile>>, StoreError> {
    let files = store.pack_files(hash).await?;
    Ok(files.map(|f| f.into_iter().map(|(path, bytes)| PackFile { path, bytes }).collect()))
}

/// The pack the database marks active, else the configured directory's.
pub(crate) async fn active_pack(store: &Store, config: &Config) -> anyhow::Result<Arc<Pack>> {
    let files: Vec<PackFile> = match store.active_pack().await? {
        Some(hash) => {
            stored_pack_files(store, &hash).await?.ok_or_else(|| anyhow!("the active pack {hash} is not stored"))?
        }
        None => read_pack_dir(&config.policy_dir).map_err(|e| anyhow!("{e}"))?,
    };
    Ok(Arc::new(validate(&files).map_err(|e| anyhow!("the active pack is invalid:\n{e}"))?))
}

/// The service over the configured database (migrated) and the active pack, for operator commands
/// that never open a sealed value (sweeps, seeds, tokens): any data key will do.
pub(crate) async fn service(config: &Config) -> anyhow::Result<Service> {
    service_keyed(config, false).await
}

/// [`service`] with the configured data key, as `serve` finds it, for commands that seal what `serve`
/// opens (`aduan source create`'s webhook secret).
pub(crate) async fn service_keyed(config: &Config, keyed: bool) -> anyhow::Result<Service> {
    let store =
        Store::connect(&config.database_url, StoreOptions::default()).await.context("connecting to the database")?;
    super::serve::log_migrations(&store.migrate().await.context("applying migrations")?, &config.database_url);
    let pack = active_pack(&store, config).await?;
    let key = if keyed {
        super::serve::data_key(config, store.backend())?
    } else {
        DataKey::from_base64(&DataKey::generate_base64()).map_err(|e| anyhow!(e))?
    };
    Ok(Service::new(store, pack, key, &config.nats_prefix, Arc::new(Metrics::new())))
}

/// `aduan sweep`.
pub fn sweep(args: SweepArgs, config: &Config) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let svc = service(config).await?;
        let now = args.now.map_or_else(aduan_service::clock::now, Timestamp::new);
        let owner = format!("sweep-{}-{}", std::process::id(), &aduan_service::crypto::new_token()[..8]);
        // The service logs the sweep with its own time (`elapsed_ms`), without process start and pack
        // loading (BENCHMARKS.md).
        let counts = svc.sweep(now, &owner, args.claim_ttl, args.dry_run).await.map_err(|e| anyhow!(e))?;
        println!("{}", serde_json::to_string(&counts)?);
        svc.store().close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Whether `seed --status` asks for dispatched cases: the state `verify` enters (the default), or the
/// workflow's state awaiting dispatch for cases left as submitted.
fn seeds_dispatched(pack: &Pack, status: Option<&str>) -> anyhow::Result<bool> {
    let waiting = pack.workflow.meaning().awaiting_dispatch.as_str();
    let dispatched = pack.workflow.action("verify").map(|a| a.to.as_str());
    match status {
        None if dispatched.is_some() => Ok(true),
        Some(s) if Some(s) == dispatched => Ok(true),
        Some(s) if s == waiting => Ok(false),
        s => bail!("--status: `{}` is not {waiting} or {}", s.unwrap_or_default(), dispatched.unwrap_or("(no verify)")),
    }
}

/// `aduan seed`.
pub fn seed(args: SeedArgs, config: &Config) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let svc = service(config).await?;
        let pack = svc.pack();
        let regions = match &args.region {
            Some(r) => vec![RegionCode::parse(r).map_err(|e| anyhow!("--region: {e}"))?],
            None => every_kabkota(&pack),
        };
        let at = match (args.due_before, args.at) {
            (Some(t), _) => t - Duration::days(30),
            (None, Some(a)) => a,
            (None, None) => Utc::now(),
        };
        let dispatched = seeds_dispatched(&pack, args.status.as_deref())?;
        let plan = SeedPlan { complaints: args.complaints, regions, dispatched, at: Timestamp::new(at).utc() };
        super::seed::seed(&svc, &plan).await?;
        svc.store().close().await;
        Ok(ExitCode::SUCCESS)
    })
}
