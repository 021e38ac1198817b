//! `aduan bench [--quick]`: the load generator and benchmark suite (BENCHMARKS.md).
//!
//! Each scenario runs the service in this process (HTTP API, NATS consumer, outbox relay) on a fresh
//! database and NATS prefix, then drives complete lifecycles (submit → verify → respond → resolve) from
//! `--concurrency` clients over HTTP or over NATS. A command's latency runs from sending it to its own
//! event arriving on NATS (submit → `submitted`, verify → `assigned`, …); throughput is commands per
//! second from the first send to the last event. Results print as a table and are written as JSON.

use crate::Config;
use aduan_core::pack::Pack;
use aduan_service::api::{self, ApiState, RateLimiter};
use aduan_service::bus::{run_consumer, run_relay, Bus, Subscription};
use aduan_service::crypto::{new_token, DataKey};
use aduan_service::metrics::Metrics;
use aduan_service::packs::load_pack;
use aduan_service::runtime::{CommandService, StoreOutbox};
use aduan_service::service::Service;
use aduan_service::store::{Store, StoreOptions};
use anyhow::{anyhow, bail, Context};
use chrono::Utc;
use clap::Args;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::Request;
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Arguments of `bench`.
#[derive(Args, Debug, Clone)]
pub struct BenchArgs {
    /// A short run (a smoke test of the harness).
    #[arg(long)]
    pub quick: bool,
    /// Lifecycles per scenario (4 commands each); default 2,000 (200 with --quick).
    #[arg(long)]
    pub lifecycles: Option<usize>,
    /// Concurrent clients.
    #[arg(long, default_value_t = 32)]
    pub concurrency: usize,
    /// A PostgreSQL database for the PostgreSQL scenarios (its tables are created; use a fresh one).
    #[arg(long, env = "ADUAN_BENCH_PG_URL")]
    pub postgres: Option<String>,
    /// Transports to run.
    #[arg(long, value_delimiter = ',', default_value = "http,nats")]
    pub transports: Vec<String>,
    /// Where to write the results as JSON.
    #[arg(long, default_value = "bench-results.json")]
    pub out: PathBuf,
}

/// One scenario's figures.
#[derive(Debug, Serialize)]
struct Figures {
    scenario: String,
    lifecycles: usize,
    commands: usize,
    concurrency: usize,
    seconds: f64,
    commands_per_second: f64,
    event_latency_ms_p50: f64,
    event_latency_ms_p99: f64,
    reply_latency_ms_p50: f64,
    reply_latency_ms_p99: f64,
}

/// Runs the suite.
pub fn run(args: BenchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    rt.block_on(async {
        let pack = Arc::new(load_pack(&config.policy_dir).map_err(|e| anyhow!("{e}"))?);
        let lifecycles = args.lifecycles.unwrap_or(if args.quick { 200 } else { 2000 });
        let dir = tempfile_dir()?;
        let mut dbs = vec![("sqlite".to_owned(), format!("sqlite://{}/bench.db", dir.display()))];
        match &args.postgres {
            Some(url) => dbs.push(("postgres".into(), url.clone())),
            None => eprintln!("note: no --postgres URL (or ADUAN_BENCH_PG_URL): PostgreSQL scenarios skipped"),
        }
        let mut results = Vec::new();
        for (db_name, url) in &dbs {
            for transport in &args.transports {
                let name = format!("{transport}/{db_name}");
                eprintln!("running {name}: {lifecycles} lifecycles, {} clients …", args.concurrency);
                let f = scenario(&name, url, &config.nats_url, transport, lifecycles, args.concurrency, pack.clone())
                    .await
                    .with_context(|| format!("scenario {name}"))?;
                println!(
                    "{:<16} {:>6} commands in {:>6.2} s = {:>7.0} commands/s; to own event on NATS p50 {:>7.2} ms, p99 {:>7.2} ms; reply p50 {:>6.2} ms, p99 {:>6.2} ms",
                    f.scenario, f.commands, f.seconds, f.commands_per_second, f.event_latency_ms_p50, f.event_latency_ms_p99, f.reply_latency_ms_p50, f.reply_latency_ms_p99
                );
                results.push(f);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::write(&args.out, serde_json::to_string_pretty(&json!({"results": results}))?)?;
        eprintln!("wrote {}", args.out.display());
        Ok(ExitCode::SUCCESS)
    })
}

fn tempfile_dir() -> anyhow::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!("aduan-bench-{}-{}", std::process::id(), &new_token()[..6]));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

type Key = (String, &'static str);

/// The commands of one lifecycle, each with the event type it must produce.
const STEPS: [(&str, &str); 4] =
    [("submit", "submitted"), ("verify", "assigned"), ("respond", "responded"), ("resolve", "resolved")];

/// The regions the clients file in, one per client in turn (several calendars and zones).
const REGIONS: [&str; 8] = ["35.78", "33.74", "51.71", "73.71", "61.71", "91.71", "31.71", "32.73"];

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The service under test, running in this process on a fresh NATS prefix.
struct InProcess {
    store: Store,
    bus: Bus,
    prefix: String,
    addr: SocketAddr,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    service: Service,
}

impl InProcess {
    async fn start(db_url: &str, nats_url: &str, pack: Arc<Pack>) -> anyhow::Result<Self> {
        let store = Store::connect(db_url, StoreOptions::default()).await?;
        store.migrate().await?;
        let key = DataKey::from_base64(&DataKey::generate_base64()).map_err(|e| anyhow!(e))?;
        let prefix = format!("bench{}", new_token()[..8].replace(['-', '_'], "x").to_lowercase());
        let service = Service::new(store.clone(), pack, key, &prefix, Arc::new(Metrics::new()));
        let bus = Bus::connect(nats_url, &prefix).await.map_err(|e| anyhow!("NATS at {nats_url}: {e}"))?;
        let shutdown = CancellationToken::new();
        let outbox = StoreOutbox(service.clone());
        let handler = Arc::new(CommandService(service.clone()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let slot = Arc::new(RwLock::new(Some(bus.clone())));
        let state = ApiState { service: service.clone(), bus: slot, rate: Arc::new(RateLimiter::new(0)) };
        let stop = shutdown.clone();
        let tasks = vec![
            tokio::spawn(run_relay(outbox, bus.clone(), service.relay_wake(), shutdown.clone(), "bench".into())),
            tokio::spawn(run_consumer(bus.clone(), handler, shutdown.clone())),
            tokio::spawn(async move {
                let _ = api::serve(listener, state, stop).await;
            }),
        ];
        Ok(Self { store, service, bus, prefix, addr, shutdown, tasks })
    }

    async fn stop(self) {
        self.shutdown.cancel();
        let _ = tokio::time::timeout(Duration::from_secs(10), join_all(self.tasks)).await;
        self.store.close().await;
    }
}

async fn join_all(tasks: Vec<JoinHandle<()>>) {
    for t in tasks {
        let _ = t.await;
    }
}

/// When each event arrived on NATS, by complaint and event type.
type Arrivals = Arc<Mutex<HashMap<Key, Instant>>>;

/// Subscribes to every event of the prefix and records its arrival; the receiver fires with the
/// arrival time of the `expected`-th.
async fn collect_events(
    bus: &Bus,
    prefix: &str,
    expected: usize,
) -> anyhow::Result<(Arrivals, oneshot::Receiver<Instant>, JoinHandle<()>)> {
    let arrivals: Arrivals = Arc::default();
    let mut sub = bus.subscribe(&format!("{prefix}.evt.>")).await?;
    let (done_tx, done_rx) = oneshot::channel::<Instant>();
    let arr = arrivals.clone();
    let collector = tokio::spawn(async move {
        let mut n = 0;
        let mut done = Some(done_tx);
        while let Some((subject, payload)) = sub.next().await {
            let t = Instant::now();
            let Ok(v) = serde_json::from_slice::<Value>(&payload) else { continue };
            let Some(&(_, ty)) = STEPS.iter().find(|(_, ty)| subject.rsplit('.').next() == Some(ty)) else {
                continue;
            };
            let cid = v["complaint_id"].as_str().unwrap_or_default().to_owned();
            arr.lock().unwrap().insert((cid, ty), t);
            n += 1;
            if n >= expected {
                if let Some(d) = done.take() {
                    let _ = d.send(t);
                }
            }
        }
    });
    Ok((arrivals, done_rx, collector))
}

/// What the clients share: the lifecycles left to run and what they measured.
struct Load {
    lifecycles: usize,
    next: AtomicUsize,
    sends: Mutex<HashMap<Key, Instant>>,
    replies: Mutex<Vec<f64>>,
    tokens: Tokens,
}

/// The bench's API tokens, as a deployment would hand them out: one national admin verifies; each
/// agency's officer (a token made the first time a case reaches it, before its command is timed)
/// responds and resolves.
struct Tokens {
    service: Service,
    admin: String,
    officers: tokio::sync::Mutex<HashMap<String, String>>,
}

impl Tokens {
    async fn new(service: Service) -> anyhow::Result<Self> {
        let admin = service.create_token("admin", None, None, Utc::now()).await.map_err(|e| anyhow!("{e}"))?.token;
        Ok(Self { service, admin, officers: tokio::sync::Mutex::default() })
    }

    async fn officer_of(&self, agency: &str) -> anyhow::Result<String> {
        let mut officers = self.officers.lock().await;
        if let Some(t) = officers.get(agency) {
            return Ok(t.clone());
        }
        let made = self.service.create_token("officer", Some(agency), None, Utc::now()).await;
        let token = made.map_err(|e| anyhow!("an officer token for {agency}: {e}"))?.token;
        officers.insert(agency.to_owned(), token.clone());
        Ok(token)
    }
}

/// How a client sends its commands.
// One value per load client (32 by default): the variants' sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Transport {
    Http { sender: SendRequest<Full<Bytes>> },
    Nats { bus: Bus, inbox: String, replies: Subscription },
}

impl Transport {
    async fn new(name: &str, addr: SocketAddr, bus: &Bus) -> anyhow::Result<Self> {
        Ok(if name == "http" {
            let stream = TcpStream::connect(addr).await?;
            stream.set_nodelay(true)?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            Transport::Http { sender }
        } else {
            let inbox = bus.new_inbox();
            let replies = bus.subscribe(&inbox).await?;
            Transport::Nats { bus: bus.clone(), inbox, replies }
        })
    }

    /// Sends one command (`complaint` is empty for submit) and returns the view it answered.
    async fn send(
        &mut self,
        action: &str,
        complaint: &str,
        bearer: Option<&str>,
        mut body: Value,
    ) -> anyhow::Result<Value> {
        match self {
            Transport::Http { sender } => {
                let path = match action {
                    "submit" => "/v1/complaints".to_owned(),
                    _ => format!("/v1/complaints/{complaint}/actions"),
                };
                let mut request =
                    Request::post(path).header("host", "bench").header("content-type", "application/json");
                if let Some(t) = bearer {
                    request = request.header("authorization", format!("Bearer {t}"));
                }
                let request = request.body(Full::new(Bytes::from(serde_json::to_vec(&body)?)))?;
                sender.ready().await?;
                let response = sender.send_request(request).await?;
                let status = response.status();
                let v: Value = serde_json::from_slice(&response.into_body().collect().await?.to_bytes())?;
                if !status.is_success() {
                    bail!("{action}: HTTP {status}: {v}");
                }
                Ok(v)
            }
            Transport::Nats { bus, inbox, replies } => {
                if let Some(o) = body.as_object_mut() {
                    o.remove("action");
                    if action != "submit" {
                        o.insert("complaint".into(), complaint.into());
                    }
                }
                bus.send_command(action, serde_json::to_vec(&body)?, None, Some(inbox), bearer).await?;
                let (_, payload) = tokio::time::timeout(Duration::from_secs(60), replies.next())
                    .await
                    .map_err(|_| anyhow!("{action}: no reply in 60 s"))?
                    .ok_or_else(|| anyhow!("reply subscription closed"))?;
                let v: Value = serde_json::from_slice(&payload)?;
                if v["status"].is_number() {
                    bail!("{action}: {v}");
                }
                Ok(v)
            }
        }
    }
}

/// The body of one step of a lifecycle (the complaint's id travels in the path or is added for NATS).
fn command_body(action: &str, region: &str) -> Value {
    match action {
        "submit" => {
            json!({"kind": "pengaduan", "channel": "app", "title": "Lampu jalan mati", "body": "Sudah seminggu",
            "category": "infrastruktur", "region": region, "privacy": "public", "reporter": {"name": "Budi", "contact": "0813"}})
        }
        "verify" => json!({"action": "verify"}),
        _ => json!({"action": action, "message": "Ditindaklanjuti"}),
    }
}

/// One client: runs whole lifecycles until none are left, timing each command.
async fn client(region: &'static str, mut transport: Transport, load: Arc<Load>) -> anyhow::Result<()> {
    while load.next.fetch_add(1, Ordering::SeqCst) < load.lifecycles {
        let (mut id, mut holder) = (String::new(), String::new());
        for (action, ty) in STEPS {
            let bearer = match action {
                "submit" => None,
                "verify" => Some(load.tokens.admin.clone()),
                _ => Some(load.tokens.officer_of(&holder).await?),
            };
            let t0 = Instant::now();
            let view = transport.send(action, &id, bearer.as_deref(), command_body(action, region)).await?;
            load.replies.lock().unwrap().push(t0.elapsed().as_secs_f64() * 1000.0);
            if action == "submit" {
                id = view["id"].as_str().unwrap_or_default().to_owned();
            }
            if let Some(a) = view["agency"].as_str() {
                holder = a.to_owned();
            }
            load.sends.lock().unwrap().insert((id.clone(), ty), t0);
        }
    }
    Ok(())
}

async fn scenario(
    name: &str,
    db_url: &str,
    nats_url: &str,
    transport: &str,
    lifecycles: usize,
    concurrency: usize,
    pack: Arc<Pack>,
) -> anyhow::Result<Figures> {
    let sut = InProcess::start(db_url, nats_url, pack).await?;
    let expected = lifecycles * STEPS.len();
    let (arrivals, done, collector) = collect_events(&sut.bus, &sut.prefix, expected).await?;
    let tokens = Tokens::new(sut.service.clone()).await?;
    let load = Arc::new(Load {
        lifecycles,
        next: AtomicUsize::new(0),
        sends: Mutex::default(),
        replies: Mutex::default(),
        tokens,
    });
    let start = Instant::now();
    let mut clients = Vec::new();
    for w in 0..concurrency {
        let t = Transport::new(transport, sut.addr, &sut.bus).await?;
        clients.push(tokio::spawn(client(REGIONS[w % REGIONS.len()], t, load.clone())));
    }
    for c in clients {
        c.await??;
    }
    let end = tokio::time::timeout(Duration::from_secs(120), done)
        .await
        .map_err(|_| anyhow!("not every event arrived on NATS within 120 s"))?
        .map_err(|_| anyhow!("event collector stopped"))?;
    collector.abort();
    sut.stop().await;
    let seconds = end.duration_since(start).as_secs_f64();
    let arrivals = arrivals.lock().unwrap().clone();
    let mut lat: Vec<f64> = (load.sends.lock().unwrap().iter())
        .filter_map(|(k, t0)| arrivals.get(k).map(|t| t.saturating_duration_since(*t0).as_secs_f64() * 1000.0))
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let mut rep = load.replies.lock().unwrap().clone();
    rep.sort_by(|a, b| a.total_cmp(b));
    Ok(Figures {
        scenario: name.to_owned(),
        lifecycles,
        commands: expected,
        concurrency,
        seconds,
        commands_per_second: expected as f64 / seconds,
        event_latency_ms_p50: percentile(&lat, 0.50),
        event_latency_ms_p99: percentile(&lat, 0.99),
        reply_latency_ms_p50: percentile(&rep, 0.50),
        reply_latency_ms_p99: percentile(&rep, 0.99),
    })
}
