//! `aduan serve` (HTTP API, NATS command consumer, outbox relay, workers) and `aduan migrate`.

use super::sweep::stored_pack_files;
use crate::Config;
use aduan_core::pack::{pack_hash, Pack};
use aduan_service::api::{self, ApiState, RateLimiter};
use aduan_service::bus::{run_consumer, run_relay, watch_packs, Bus, BusError};
use aduan_service::crypto::DataKey;
use aduan_service::metrics::Metrics;
use aduan_service::packs::{read_pack_dir, validate, LoadError};
use aduan_service::reload::{record_active, watch_dir};
use aduan_service::runtime::{CommandService, StoreOutbox};
use aduan_service::service::Service;
use aduan_service::store::{Backend, Store, StoreOptions};
use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use clap::Args;
use std::path::Path;
use std::process::ExitCode;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Which parts `serve` runs.
#[derive(Args, Debug, Clone, Default)]
pub struct ServeArgs {
    /// Do not serve HTTP.
    #[arg(long)]
    pub no_api: bool,
    /// Do not consume NATS commands.
    #[arg(long)]
    pub no_consumer: bool,
    /// Do not run the cron workers.
    #[arg(long)]
    pub no_workers: bool,
    /// Do not apply pending migrations at start.
    #[arg(long)]
    pub no_migrate: bool,
    /// Seconds between looks at the pack directory for changes, which are reloaded (0: never).
    #[arg(long, env = "ADUAN_PACK_POLL", default_value_t = 2)]
    pub pack_poll: u64,
    /// Replicas of every JetStream stream and of the packs bucket: 1 on a single NATS server, 3 on a
    /// three-node cluster (docs/deployment.md).
    #[arg(long, env = "ADUAN_NATS_REPLICAS", default_value_t = 1,
          value_parser = clap::value_parser!(u8).range(1..=aduan_service::bus::MAX_REPLICAS as i64))]
    pub nats_replicas: u8,
    /// Seconds of the event streams' duplicate window: JetStream drops a second event with the same
    /// `Nats-Msg-Id` inside it (the relay does not rely on it; docs/nats.md#exactly-once).
    #[arg(long, env = "ADUAN_NATS_DUPLICATE_WINDOW",
          default_value_t = aduan_service::bus::EVT_DUPLICATE_WINDOW.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..))]
    pub nats_duplicate_window: u64,
    /// Attempts at a source system's webhook before it is dead-lettered (docs/integrations.md#webhooks).
    #[arg(long, env = "ADUAN_WEBHOOK_ATTEMPTS", default_value_t = 8,
          value_parser = clap::value_parser!(u32).range(1..=100))]
    pub webhook_attempts: u32,
    /// Milliseconds to wait after a webhook's first failed attempt; the wait doubles after each.
    #[arg(long, env = "ADUAN_WEBHOOK_BACKOFF_MS", default_value_t = 10_000,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub webhook_backoff_ms: u64,
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")
}

/// `aduan migrate`.
pub fn migrate(config: &Config) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let store = Store::connect(&config.database_url, StoreOptions::default())
            .await
            .context("connecting to the database")?;
        log_migrations(&store.migrate().await.context("applying migrations")?, &config.database_url);
        store.close().await;
        Ok(ExitCode::SUCCESS)
    })
}

/// Logs the migrations a command applied, at info; nothing when the schema was up to date.
pub(crate) fn log_migrations(applied: &[String], database_url: &str) {
    if !applied.is_empty() {
        tracing::info!(database = %redact(database_url), migrations = %applied.join(", "), "migrations applied");
    }
}

/// The URL without its password, for logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            let user = creds.split(':').next().unwrap_or("");
            format!("{}{}@{}", &url[..s + 3], user, &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// A comma-separated list of URLs (a NATS cluster's) without their passwords, for logs.
fn redact_urls(urls: &str) -> String {
    urls.split(',').map(|u| redact(u.trim())).collect::<Vec<_>>().join(",")
}

/// The data key: `ADUAN_DATA_KEY`, or on SQLite `data/aduan.key` (made on first use).
pub(crate) fn data_key(config: &Config, backend: Backend) -> anyhow::Result<DataKey> {
    if let Some(k) = &config.data_key {
        return DataKey::from_base64(k).map_err(|e| anyhow!(e));
    }
    if backend == Backend::Postgres {
        bail!(
            "ADUAN_DATA_KEY is not set: on PostgreSQL, serve needs it (32 bytes, base64) to seal anonymous identities"
        );
    }
    let path = Path::new("data/aduan.key");
    if !path.exists() {
        std::fs::create_dir_all("data").context("creating data/")?;
        std::fs::write(path, DataKey::generate_base64()).context("writing data/aduan.key")?;
        tracing::info!("generated a data key into data/aduan.key");
    }
    let text = std::fs::read_to_string(path).context("reading data/aduan.key")?;
    DataKey::from_base64(&text).map_err(|e| anyhow!("data/aduan.key: {e}"))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// `aduan serve`.
pub fn run(args: ServeArgs, config: &Config) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(serve(args, config.clone()))
}

async fn serve(args: ServeArgs, config: Config) -> anyhow::Result<ExitCode> {
    if args.nats_duplicate_window == 0 {
        bail!("nats_duplicate_window: at least 1 second");
    }
    let (store, service) = start_service(&args, &config).await?;
    let shutdown = CancellationToken::new();
    let bus_slot: Arc<RwLock<Option<Bus>>> = Arc::new(RwLock::new(None));
    // NATS: a server too old, or one that cannot keep the replicas asked, is fatal; one that is away
    // is retried in the background.
    let nats = NatsSettings {
        replicas: usize::from(args.nats_replicas),
        duplicate_window: Duration::from_secs(args.nats_duplicate_window),
    };
    let first = nats.connect(&config).await;
    match &first {
        Err(BusError::ServerTooOld { version }) => {
            bail!("nats-server {version} at {} is too old: Aduan needs 2.10 or newer", redact_urls(&config.nats_url))
        }
        Err(BusError::Misconfigured(why)) => bail!("{why}"),
        _ => {}
    }
    let mut tasks = vec![tokio::spawn(run_bus(
        first,
        service.clone(),
        config.clone(),
        nats,
        bus_slot.clone(),
        !args.no_consumer,
        shutdown.clone(),
    ))];
    if args.pack_poll > 0 {
        let every = Duration::from_secs(args.pack_poll);
        let watch = watch_dir(service.clone(), config.policy_dir.clone(), every, shutdown.clone());
        tasks.push(tokio::spawn(watch));
    }
    if !args.no_workers {
        let schedule = aduan_workers::sweep_schedule(&service)?;
        tasks.push(tokio::spawn(aduan_workers::run(service.clone(), schedule, shutdown.clone())));
        let hooks = aduan_service::webhooks::WebhookConfig {
            attempts: args.webhook_attempts,
            backoff: Duration::from_millis(args.webhook_backoff_ms),
        };
        let holder = format!("webhooks-{}", uuid_like());
        tasks.push(tokio::spawn(aduan_service::webhooks::run_webhooks(
            service.clone(),
            hooks,
            shutdown.clone(),
            holder,
        )));
    }
    if args.no_api {
        tracing::info!("serving without HTTP (--no-api)");
        shutdown_signal().await;
    } else {
        serve_http(&config, service, bus_slot, shutdown.clone()).await?;
    }
    tracing::info!("shutting down: finishing work in hand");
    shutdown.cancel();
    for t in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(10), t).await;
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Connects and migrates the store, loads and activates the pack, and starts the recompute of open
/// deadlines in the background. A directory whose pack is refused falls back to the pack the database
/// marks active, when that one is still good: the replica runs, and reports the rejection.
async fn start_service(args: &ServeArgs, config: &Config) -> anyhow::Result<(Store, Service)> {
    let dir = config.policy_dir.display().to_string();
    let files = read_pack_dir(&config.policy_dir);
    let dir_hash = files.as_ref().map(|f| pack_hash(f)).unwrap_or_default();
    let candidate = files
        .map_err(|e| e.to_string())
        .and_then(|files| validate(&files).map(|p| (files, p)).map_err(|e| LoadError::Invalid(e).to_string()));
    let store =
        Store::connect(&config.database_url, StoreOptions::default()).await.context("connecting to the database")?;
    if !args.no_migrate {
        log_migrations(&store.migrate().await.context("applying migrations")?, &config.database_url);
    }
    let key = data_key(config, store.backend())?;
    let previous = store.active_pack().await.context("reading the active pack")?;
    let (pack, rejected) = match candidate {
        Ok((files, pack)) => {
            record_active(&store, &pack, &files, Utc::now()).await.context("storing the pack")?;
            (pack, None)
        }
        Err(problems) => match stored_pack(&store, previous.as_deref()).await {
            Some(pack) => (pack, Some((dir_hash, problems))),
            None => bail!("the pack in {dir} is invalid, and no valid pack is stored to fall back on:\n{problems}"),
        },
    };
    let pack = Arc::new(pack);
    tracing::info!(pack = %pack.hash, %dir, "policy pack active");

    let service = Service::new(store.clone(), pack.clone(), key, &config.nats_prefix, Arc::new(Metrics::new()));
    let service = with_oidc(service, &config.oidc).await?;
    if let Some((hash, problems)) = rejected {
        service.reject(&hash, &format!("directory {dir}"), &problems).await.context("recording the rejected pack")?;
    }
    // A new pack: its calendars or SLAs may have changed, so open deadlines are recomputed in the
    // background. The walk's progress is stored: a recompute this process or another left unfinished
    // on this pack resumes here.
    if previous.as_deref().is_some_and(|p| p != pack.hash) {
        store.start_recompute(&pack.hash, Utc::now()).await.context("recording the recompute")?;
    }
    service.spawn_recompute();
    Ok((store, service))
}

/// The pack the database marks active, if it is stored and still valid.
async fn stored_pack(store: &Store, active: Option<&str>) -> Option<Pack> {
    let files = stored_pack_files(store, active?).await.ok()??;
    validate(&files).ok()
}

/// How `serve` sets up the streams: `--nats-replicas` and `--nats-duplicate-window`.
#[derive(Debug, Clone, Copy)]
struct NatsSettings {
    replicas: usize,
    duplicate_window: Duration,
}

impl NatsSettings {
    async fn connect(&self, config: &Config) -> Result<Bus, BusError> {
        Bus::connect_with_window(&config.nats_url, &config.nats_prefix, self.replicas, self.duplicate_window).await
    }
}

/// Connects to NATS (retrying each second while it is away), then runs the outbox relay and, unless
/// disabled, the command consumer until shutdown.
async fn run_bus(
    first: Result<Bus, BusError>,
    service: Service,
    config: Config,
    nats: NatsSettings,
    slot: Arc<RwLock<Option<Bus>>>,
    consume: bool,
    shutdown: CancellationToken,
) {
    let mut attempt = first;
    // What was last logged (NATS away, or misconfigured): each is logged once, when it starts.
    let mut logged: Option<bool> = None;
    let bus = loop {
        match attempt {
            Ok(bus) => break bus,
            Err(e) => {
                let misconfigured = matches!(e, BusError::Misconfigured(_));
                if logged != Some(misconfigured) {
                    let url = redact_urls(&config.nats_url);
                    if let BusError::Misconfigured(why) = &e {
                        // Met after start-up (a server that came up standalone): it will not go away
                        // by itself.
                        tracing::error!(error = %why, %url, "NATS cannot be used as configured; events wait in the outbox");
                    } else {
                        tracing::warn!(error = %e, %url, "NATS unavailable; events wait in the outbox and commands over HTTP still work");
                    }
                    logged = Some(misconfigured);
                }
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
                attempt = nats.connect(&config).await;
            }
        }
    };
    tracing::info!(url = %redact_urls(&config.nats_url), replicas = bus.replicas(), "connected to NATS; streams ready");
    *slot.write().unwrap_or_else(|e| e.into_inner()) = Some(bus.clone());
    let holder = format!("relay-{}", uuid_like());
    let outbox = StoreOutbox(service.clone());
    let relay = tokio::spawn(run_relay(outbox, bus.clone(), service.relay_wake(), shutdown.clone(), holder));
    let packs = tokio::spawn(watch_packs(bus.clone(), service.clone(), shutdown.clone()));
    if consume {
        run_consumer(bus, Arc::new(CommandService(service)), shutdown.clone()).await;
    }
    let _ = relay.await;
    let _ = packs.await;
}

/// Serves the HTTP API until a signal asks to stop.
async fn serve_http(
    config: &Config,
    service: Service,
    bus: Arc<RwLock<Option<Bus>>>,
    shutdown: CancellationToken,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.http_addr)
        .await
        .with_context(|| format!("binding {}", config.http_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, "listening on http://{addr}");
    let state = ApiState { service, bus, rate: Arc::new(RateLimiter::new(config.rate_limit)) };
    let stop = shutdown.clone();
    tokio::spawn(async move {
        shutdown_signal().await;
        stop.cancel();
    });
    api::serve(listener, state, shutdown).await.context("serving HTTP")
}

/// A short random id for this process's relay lease.
fn uuid_like() -> String {
    aduan_service::crypto::new_token()[..12].to_owned()
}

/// The service, also accepting JWTs when a JWKS is configured (docs/access.md#single-sign-on).
#[cfg(feature = "oidc")]
async fn with_oidc(service: Service, args: &crate::OidcArgs) -> anyhow::Result<Service> {
    use aduan_service::oidc::{JwksSource, LoginConfig, OidcConfig, OidcLogin, OidcVerifier};
    let jwks = match (&args.jwks_file, &args.jwks_url) {
        (Some(f), _) => JwksSource::File(f.clone()),
        (None, Some(u)) => JwksSource::Url(u.clone()),
        (None, None) if args.oidc_client_id.is_some() => {
            return Err(anyhow!(
                "ADUAN_OIDC_CLIENT_ID needs the identity provider's keys: set ADUAN_JWKS_FILE or ADUAN_JWKS_URL"
            ))
        }
        (None, None) => return Ok(service),
    };
    let need = |v: &Option<String>, name: &str| v.clone().ok_or_else(|| anyhow!("{name} is required with a JWKS"));
    let config = OidcConfig {
        jwks,
        issuer: need(&args.jwt_issuer, "ADUAN_JWT_ISSUER")?,
        audience: need(&args.jwt_audience, "ADUAN_JWT_AUDIENCE")?,
        role_claim: args.jwt_role_claim.clone(),
        agency_claim: args.jwt_agency_claim.clone(),
        name_claim: args.jwt_name_claim.clone(),
    };
    let issuer = config.issuer.clone();
    let verifier = OidcVerifier::new(config).await.context("loading the JWKS")?;
    tracing::info!("JWT bearer tokens accepted (OIDC)");
    let service = service.with_oidc(verifier);
    let Some(client_id) = args.oidc_client_id.clone() else { return Ok(service) };
    let login = LoginConfig { issuer, client_id, client_secret: args.oidc_client_secret.clone() };
    let login = OidcLogin::new(login).context("ADUAN_OIDC_CLIENT_ID")?;
    tracing::info!("dashboard sign-in by redirect to the identity provider (OIDC)");
    Ok(service.with_sso(login))
}

/// Without the `oidc` feature a configured JWKS is an error, not silently ignored.
#[cfg(not(feature = "oidc"))]
async fn with_oidc(service: Service, args: &crate::OidcArgs) -> anyhow::Result<Service> {
    match (&args.jwks_file, &args.jwks_url, &args.oidc_client_id) {
        (None, None, None) => Ok(service),
        _ => Err(anyhow!("this build has no OIDC support (the `oidc` feature); unset ADUAN_JWKS_FILE/ADUAN_JWKS_URL/ADUAN_OIDC_CLIENT_ID")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_keep_no_password() {
        assert_eq!(redact("postgres://aduan:secret@db:5432/aduan"), "postgres://aduan@db:5432/aduan");
        assert_eq!(
            redact_urls("nats://aduan_engine:pw@nats-0:4222, nats://aduan_engine:pw@nats-1:4222,nats://nats-2:4222"),
            "nats://aduan_engine@nats-0:4222,nats://aduan_engine@nats-1:4222,nats://nats-2:4222"
        );
    }
}
