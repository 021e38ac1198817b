//! A real NATS cluster for tests: N pinned nats-servers (`ADUAN_NATS_SERVER_BIN`) clustered on
//! loopback, each with JetStream, its own free client, route and monitoring ports and its own store
//! dir, run from a configuration file the caller names: the deployment's own `deploy/nats.conf`,
//! which takes its per-node values from the environment (`NATS_SERVER_NAME`, `NATS_PORT`,
//! `NATS_ROUTES`, …; see the file).
//!
//! Every node is killed, and the store dirs removed, when the [`NatsCluster`] drops (also while a
//! test panics); should the test process die without unwinding, the kernel kills them
//! ([`crate::process::spawn`]). [`NatsCluster::kill`] crashes one node (SIGKILL) and
//! [`NatsCluster::restart`] brings it back on the same ports and store, as a pod of a StatefulSet
//! comes back under its name with its volume.

use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long a cluster may take to elect its JetStream meta leader on every node.
const READY_DEADLINE: Duration = Duration::from_secs(30);

/// One node: its ports, its store, and the process while it runs.
struct Node {
    name: String,
    client_port: u16,
    cluster_port: u16,
    http_port: u16,
    store: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

/// A cluster of nats-server processes, clustered by routes on loopback.
pub struct NatsCluster {
    bin: PathBuf,
    config: PathBuf,
    env: Vec<(String, String)>,
    nodes: Vec<Node>,
    _dir: TempDir,
}

impl NatsCluster {
    /// Starts `size` nodes (`n0`, `n1`, …) of the pinned nats-server from `config`, with `env` besides
    /// the per-node variables, and waits until every node reports JetStream healthy (`/healthz`: the
    /// meta leader elected and the node current with it). Panics, with the end of each log, when the
    /// cluster does not form in time.
    pub fn start(size: usize, config: impl AsRef<Path>, env: &[(&str, &str)]) -> NatsCluster {
        let bin = crate::nats::pinned_bin();
        let config = config.as_ref().to_path_buf();
        assert!(config.is_file(), "nats-server configuration {} does not exist", config.display());
        let dir = crate::process::tempdir("nats-cluster");
        // Free now; a port taken by someone else before the node binds it makes the node exit, and
        // the start below says so with its log.
        let ports: Vec<u16> = free_ports(size * 3);
        let nodes = (0..size)
            .map(|i| {
                let name = format!("n{i}");
                let store = dir.path().join(&name);
                std::fs::create_dir_all(&store).expect("create a node's store dir");
                Node {
                    log: dir.path().join(format!("{name}.log")),
                    name,
                    client_port: ports[3 * i],
                    cluster_port: ports[3 * i + 1],
                    http_port: ports[3 * i + 2],
                    store,
                    child: None,
                }
            })
            .collect();
        let env = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let mut cluster = NatsCluster { bin, config, env, nodes, _dir: dir };
        for i in 0..size {
            cluster.spawn(i);
        }
        cluster.wait_healthy();
        cluster
    }

    /// How many nodes the cluster has (running or not).
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Whether the cluster has no node.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty()
    }

    /// Node `i`'s name (`server_name`), `n{i}`.
    pub fn name(&self, i: usize) -> &str {
        &self.nodes[i].name
    }

    /// Node `i`'s client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self, i: usize) -> String {
        format!("nats://127.0.0.1:{}", self.nodes[i].client_port)
    }

    /// Every node's client URL, comma-separated (the form of `ADUAN_NATS_URL` for a cluster), each
    /// with `credentials` (`USER:PASSWORD`) when given.
    pub fn urls(&self, credentials: Option<&str>) -> String {
        let auth = credentials.map(|c| format!("{c}@")).unwrap_or_default();
        let urls: Vec<String> =
            self.nodes.iter().map(|n| format!("nats://{auth}127.0.0.1:{}", n.client_port)).collect();
        urls.join(",")
    }

    /// Node `i`'s monitoring base URL, `http://127.0.0.1:PORT` (`/healthz`, `/connz`, `/jsz`).
    pub fn monitor(&self, i: usize) -> String {
        format!("http://127.0.0.1:{}", self.nodes[i].http_port)
    }

    /// Node `i`'s log so far.
    pub fn log(&self, i: usize) -> String {
        std::fs::read_to_string(&self.nodes[i].log).unwrap_or_default()
    }

    /// Whether node `i` runs.
    pub fn is_running(&mut self, i: usize) -> bool {
        matches!(self.nodes[i].child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Crashes node `i` (SIGKILL) and waits for it to exit. Its store is kept for [`NatsCluster::restart`].
    pub fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.nodes[i].child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts node `i` again on its ports and store (killing it first if it runs) and waits until
    /// every running node reports JetStream healthy.
    pub fn restart(&mut self, i: usize) {
        self.kill(i);
        self.spawn(i);
        self.wait_healthy();
    }

    /// Spawns node `i` and waits until its client port greets.
    fn spawn(&mut self, i: usize) {
        let routes: Vec<String> = self.nodes.iter().map(|n| format!("nats://127.0.0.1:{}", n.cluster_port)).collect();
        let node = &self.nodes[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&node.log).expect("open the node's log");
        let mut command = Command::new(&self.bin);
        command
            .arg("--config")
            .arg(&self.config)
            .env("NATS_SERVER_NAME", &node.name)
            .env("NATS_HOST", "127.0.0.1")
            .env("NATS_PORT", node.client_port.to_string())
            .env("NATS_CLUSTER_PORT", node.cluster_port.to_string())
            .env("NATS_HTTP_PORT", node.http_port.to_string())
            .env("NATS_ROUTES", format!("[{}]", routes.join(", ")))
            .env("NATS_STORE_DIR", &node.store)
            .env("NATS_MAX_FILE_STORE", "1G")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log);
        let mut child = crate::process::spawn(command).unwrap_or_else(|e| panic!("spawn {}: {e}", self.bin.display()));
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, node.client_port));
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("nats-server {} exited with {status}; log:\n{}", node.name, tail(&self.log(i)));
            }
            if crate::nats::answers(address) {
                break;
            }
            if Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                panic!("nats-server {} did not answer on {address}; log:\n{}", node.name, tail(&self.log(i)));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.nodes[i].child = Some(child);
    }

    /// Waits until every running node answers `/healthz` with 200: JetStream enabled, the meta leader
    /// known and this node current with it.
    pub fn wait_healthy(&mut self) {
        let deadline = Instant::now() + READY_DEADLINE;
        for i in 0..self.nodes.len() {
            if !self.is_running(i) {
                continue;
            }
            let url = format!("{}/healthz", self.monitor(i));
            loop {
                match crate::http::try_request("GET", &url, &[], None) {
                    Ok(r) if r.status == 200 => break,
                    last => {
                        if Instant::now() >= deadline {
                            let last = last.map(|r| r.text()).unwrap_or_else(|e| e);
                            panic!(
                                "node {} not healthy in {READY_DEADLINE:?} ({last}); log:\n{}",
                                self.name(i),
                                tail(&self.log(i))
                            );
                        }
                    }
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Node `i`'s answer to a monitoring endpoint (`/connz`, `/jsz?streams=true`), as JSON.
    pub fn monitoring(&self, i: usize, path: &str) -> serde_json::Value {
        crate::http::get(&format!("{}{path}", self.monitor(i))).json()
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill(i);
        }
    }
}

/// `n` distinct loopback ports nobody listens on right now (all held open until each is known, so
/// none is handed out twice).
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> =
        (0..n).map(|_| TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0")).collect();
    listeners.iter().map(|l| l.local_addr().expect("local address").port()).collect()
}

/// The last 30 lines of a log.
fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(30)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpStream;

    /// deploy/nats.conf, from this crate's directory.
    fn deploy_config() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/nats.conf")
    }

    #[test]
    fn three_nodes_form_a_cluster_and_survive_a_restart() {
        let mut cluster = NatsCluster::start(3, deploy_config(), &[]);
        let routes = |c: &NatsCluster, i: usize| c.monitoring(i, "/routez")["num_routes"].as_u64().unwrap_or(0);
        // Each node routes to both others (a pool of connections each, so at least two).
        for i in 0..3 {
            assert!(routes(&cluster, i) >= 2, "node {i}: {}", cluster.monitoring(i, "/routez"));
            assert_eq!(cluster.monitoring(i, "/varz")["server_name"], cluster.name(i));
        }
        let jsz = cluster.monitoring(0, "/jsz");
        assert_eq!(jsz["meta_cluster"]["cluster_size"], 3, "{jsz}");
        cluster.kill(1);
        assert!(!cluster.is_running(1));
        assert!(TcpStream::connect(("127.0.0.1", cluster.nodes[1].client_port)).is_err());
        cluster.restart(1);
        assert!(cluster.is_running(1));
        assert!(cluster.urls(Some("u:p")).starts_with("nats://u:p@127.0.0.1:"));
        assert_eq!(cluster.urls(None).split(',').count(), 3);
    }
}
