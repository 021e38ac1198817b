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
use aduan_service::bus::{run_consumer, run_relay, Bus};
use aduan_service::crypto::{new_token, DataKey};
use aduan_service::metrics::Metrics;
use aduan_service::packs::load_pack;
use aduan_service::runtime::{CommandService, StoreOutbox};
use aduan_service::service::Service;
use aduan_service::store::{Store, StoreOptions};
use anyhow::{anyhow, bail, Context};
use clap::Args;
use serde::Serialize;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
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

/// A minimal HTTP/1.1 keep-alive client (one connection per load client).
struct Http {
    io: BufReader<TcpStream>,
}

impl Http {
    async fn connect(addr: std::net::SocketAddr) -> anyhow::Result<Self> {
        let s = TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(Self { io: BufReader::new(s) })
    }

    async fn post(&mut self, path: &str, body: &[u8]) -> anyhow::Result<(u16, Value)> {
        let head = format!(
            "POST {path} HTTP/1.1\r\nHost: bench\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let s = self.io.get_mut();
        s.write_all(head.as_bytes()).await?;
        s.write_all(body).await?;
        let mut line = String::new();
        self.io.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| anyhow!("bad status line {line:?}"))?;
        let mut len = 0usize;
        loop {
            line.clear();
            self.io.read_line(&mut line).await?;
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse()?;
                }
            }
        }
        let mut buf = vec![0; len];
        self.io.read_exact(&mut buf).await?;
        Ok((status, serde_json::from_slice(&buf)?))
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

#[allow(clippy::too_many_arguments)]
async fn scenario(
    name: &str,
    db_url: &str,
    nats_url: &str,
    transport: &str,
    lifecycles: usize,
    concurrency: usize,
    pack: Arc<Pack>,
) -> anyhow::Result<Figures> {
    let store = Store::connect(db_url, StoreOptions::default()).await?;
    store.migrate().await?;
    let key = DataKey::from_base64(&DataKey::generate_base64()).map_err(|e| anyhow!(e))?;
    let prefix = format!("bench{}", new_token()[..8].replace(['-', '_'], "x").to_lowercase());
    let service = Service::new(store.clone(), pack, key, &prefix, Arc::new(Metrics::new()));
    let bus = Bus::connect(nats_url, &prefix).await.map_err(|e| anyhow!("NATS at {nats_url}: {e}"))?;
    let shutdown = CancellationToken::new();
    let relay = tokio::spawn(run_relay(
        StoreOutbox(store.clone()),
        bus.clone(),
        service.relay_wake(),
        shutdown.clone(),
        "bench".into(),
    ));
    let consumer = tokio::spawn(run_consumer(bus.clone(), Arc::new(CommandService(service.clone())), shutdown.clone()));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let state =
        ApiState { service, bus: Arc::new(RwLock::new(Some(bus.clone()))), rate: Arc::new(RateLimiter::new(0)) };
    let http = tokio::spawn(api::serve(listener, state, shutdown.clone()));

    // Collect every event's arrival.
    let expected = lifecycles * 4;
    let arrivals: Arc<Mutex<HashMap<Key, Instant>>> = Arc::default();
    let mut sub = bus.subscribe(&format!("{prefix}.evt.>")).await?;
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<Instant>();
    let arr = arrivals.clone();
    let collector = tokio::spawn(async move {
        let mut n = 0;
        let mut done = Some(done_tx);
        while let Some((subject, payload)) = sub.next().await {
            let t = Instant::now();
            let Ok(v) = serde_json::from_slice::<Value>(&payload) else { continue };
            let ty: &'static str = match subject.rsplit('.').next() {
                Some("submitted") => "submitted",
                Some("assigned") => "assigned",
                Some("responded") => "responded",
                Some("resolved") => "resolved",
                _ => continue,
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

    let sends: Arc<Mutex<HashMap<Key, Instant>>> = Arc::default();
    let replies: Arc<Mutex<Vec<f64>>> = Arc::default();
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let (sends, replies, next, bus) = (sends.clone(), replies.clone(), next.clone(), bus.clone());
        let transport = transport.to_owned();
        workers.push(tokio::spawn(async move {
            let mut http = if transport == "http" { Some(Http::connect(addr).await?) } else { None };
            let inbox = bus.new_inbox();
            let mut replies_sub = bus.subscribe(&inbox).await?;
            let regions = ["35.78", "33.74", "51.71", "73.71", "61.71", "91.71", "31.71", "32.73"];
            while next.fetch_add(1, Ordering::SeqCst) < lifecycles {
                let region = regions[w % regions.len()];
                let submission = json!({"kind": "pengaduan", "channel": "app", "title": "Lampu jalan mati", "body": "Sudah seminggu",
                    "category": "infrastruktur", "region": region, "privacy": "public", "reporter": {"name": "Budi", "contact": "0813"}});
                let mut id = String::new();
                for (action, ty) in [("submit", "submitted"), ("verify", "assigned"), ("respond", "responded"), ("resolve", "resolved")] {
                    let body = match action {
                        "submit" => submission.clone(),
                        "verify" => json!({"action": "verify", "complaint": id}),
                        _ => json!({"action": action, "complaint": id, "message": "Ditindaklanjuti"}),
                    };
                    let t0 = Instant::now();
                    let view = match &mut http {
                        Some(h) => {
                            let path = if action == "submit" { "/v1/complaints".to_owned() } else { format!("/v1/complaints/{id}/actions") };
                            let mut b = body.clone();
                            if let Some(o) = b.as_object_mut() {
                                o.remove("complaint");
                            }
                            let (status, v) = h.post(&path, &serde_json::to_vec(&b)?).await?;
                            if status >= 300 {
                                bail!("{action}: HTTP {status}: {v}");
                            }
                            v
                        }
                        None => {
                            let mut b = body.clone();
                            if let Some(o) = b.as_object_mut() {
                                o.remove("action");
                            }
                            bus.send_command(action, serde_json::to_vec(&b)?, None, Some(&inbox)).await?;
                            let (_, payload) = tokio::time::timeout(Duration::from_secs(60), replies_sub.next())
                                .await
                                .map_err(|_| anyhow!("{action}: no reply in 60 s"))?
                                .ok_or_else(|| anyhow!("reply subscription closed"))?;
                            let v: Value = serde_json::from_slice(&payload)?;
                            if v["status"].is_number() {
                                bail!("{action}: {v}");
                            }
                            v
                        }
                    };
                    replies.lock().unwrap().push(t0.elapsed().as_secs_f64() * 1000.0);
                    if action == "submit" {
                        id = view["id"].as_str().unwrap_or_default().to_owned();
                    }
                    sends.lock().unwrap().insert((id.clone(), ty), t0);
                }
            }
            anyhow::Ok(())
        }));
    }
    for w in workers {
        w.await??;
    }
    let end = tokio::time::timeout(Duration::from_secs(120), done_rx)
        .await
        .map_err(|_| anyhow!("not every event arrived on NATS within 120 s"))?
        .map_err(|_| anyhow!("event collector stopped"))?;
    let seconds = end.duration_since(start).as_secs_f64();
    let arrivals = arrivals.lock().unwrap().clone();
    let mut lat: Vec<f64> = sends
        .lock()
        .unwrap()
        .iter()
        .filter_map(|(k, t0)| arrivals.get(k).map(|t| t.saturating_duration_since(*t0).as_secs_f64() * 1000.0))
        .collect();
    lat.sort_by(|a, b| a.total_cmp(b));
    let mut rep = replies.lock().unwrap().clone();
    rep.sort_by(|a, b| a.total_cmp(b));
    shutdown.cancel();
    collector.abort();
    let _ = tokio::time::timeout(Duration::from_secs(10), async {
        let _ = relay.await;
        let _ = consumer.await;
        let _ = http.await;
    })
    .await;
    store.close().await;
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
