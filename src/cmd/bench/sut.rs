//! The service under test: HTTP API, NATS consumer and outbox relay running in this process on a
//! fresh database and a fresh NATS prefix, as `aduan serve` runs them.

use aduan_core::pack::Pack;
use aduan_service::api::{self, ApiState, RateLimiter};
use aduan_service::bus::{run_consumer, run_relay, Bus};
use aduan_service::crypto::{new_token, DataKey};
use aduan_service::metrics::Metrics;
use aduan_service::runtime::{CommandService, StoreOutbox};
use aduan_service::service::Service;
use aduan_service::store::{Store, StoreOptions};
use anyhow::anyhow;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The running service.
pub(super) struct InProcess {
    pub store: Store,
    pub bus: Bus,
    pub prefix: String,
    pub addr: SocketAddr,
    pub service: Service,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl InProcess {
    /// Migrates the database at `db_url` and starts the service on it.
    pub(super) async fn start(db_url: &str, nats_url: &str, pack: Arc<Pack>) -> anyhow::Result<Self> {
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

    /// Stops the API, the consumer and the relay; the store and the bus stay open (for the floors).
    pub(super) async fn stop_serving(&mut self) {
        self.shutdown.cancel();
        let tasks = std::mem::take(&mut self.tasks);
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            for t in tasks {
                let _ = t.await;
            }
        })
        .await;
    }
}
