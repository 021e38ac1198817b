//! A real nats-server for tests: the pinned 2.15.1 (`ADUAN_NATS_SERVER_BIN`, printed by
//! `deploy/tools.sh`), with JetStream on, on a free loopback port and a private store dir.
//!
//! The server is killed, and its store dir removed, when the [`NatsServer`] drops (also while a test
//! panics); should the test process die without unwinding, the kernel kills it
//! ([`crate::process::spawn`]). There is no shared server: each test owns the one it starts. [`NatsServer::stop`] and [`NatsServer::restart`]
//! simulate an outage: the restart reuses the same port and store dir, so streams, consumers and stored
//! messages survive it, as they would a real server restart.

use std::fs::File;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// Where `deploy/tools.sh` installs the pinned server by default.
const DEFAULT_BIN: &str = ".cache/aduan/tools/nats-server-2.15.1/venv/bin/nats-server";
/// How long a server may take to answer on its port.
const START_DEADLINE: Duration = Duration::from_secs(20);

/// A nats-server child process with JetStream, its port and its store dir (removed on drop).
pub struct NatsServer {
    url: String,
    port: u16,
    bin: PathBuf,
    child: Option<Child>,
    _dir: TempDir,
}

impl NatsServer {
    /// Starts the pinned nats-server: `ADUAN_NATS_SERVER_BIN`, else the default install path of
    /// `deploy/tools.sh`. Panics (telling how to install it) when neither exists.
    pub fn start() -> NatsServer {
        NatsServer::start_with_bin(pinned_bin())
    }

    /// Starts the nats-server at `path` (e.g. an old one, to test that Aduan refuses it).
    pub fn start_with_bin(path: impl AsRef<Path>) -> NatsServer {
        let bin = path.as_ref().to_path_buf();
        assert!(bin.is_file(), "nats-server binary {} does not exist", bin.display());
        let dir = crate::process::tempdir("nats");
        // The port is free when we pick it but another process may take it before the server binds it:
        // try a few ports before giving up.
        let mut last_error = String::new();
        for _ in 0..5 {
            let port = free_port();
            match spawn(&bin, port, dir.path()) {
                Ok(child) => {
                    return NatsServer {
                        url: format!("nats://127.0.0.1:{port}"),
                        port,
                        bin,
                        child: Some(child),
                        _dir: dir,
                    };
                }
                Err(error) => last_error = error,
            }
        }
        panic!("nats-server {} did not start: {last_error}", bin.display());
    }

    /// The client URL, `nats://127.0.0.1:PORT`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The client port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the server (SIGKILL, like a crash) and waits for it to exit. Its store dir is kept, so
    /// [`NatsServer::restart`] brings back the same JetStream state. Does nothing when already stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and store dir (stopping it first if it runs) and waits
    /// until it answers.
    pub fn restart(&mut self) {
        self.stop();
        // The port was ours a moment ago; if the kernel still holds it, retry until the deadline.
        let deadline = Instant::now() + START_DEADLINE;
        loop {
            match spawn(&self.bin, self.port, self._dir.path()) {
                Ok(child) => {
                    self.child = Some(child);
                    return;
                }
                Err(error) if Instant::now() >= deadline => {
                    panic!("nats-server did not restart on port {}: {error}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(50)),
            }
        }
    }

    /// Whether the server process is running (not stopped and not exited).
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The pinned server's path, or a panic saying how to install it.
pub(crate) fn pinned_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("ADUAN_NATS_SERVER_BIN").filter(|b| !b.is_empty()) {
        return PathBuf::from(bin);
    }
    if let Some(home) = std::env::var_os("HOME") {
        let bin = Path::new(&home).join(DEFAULT_BIN);
        if bin.is_file() {
            return bin;
        }
    }
    panic!(
        "ADUAN_NATS_SERVER_BIN is not set and the pinned nats-server 2.15.1 is not installed: \
         run `eval \"$(deploy/tools.sh)\"` from the repository root first"
    );
}

/// A loopback port nobody listens on right now.
fn free_port() -> u16 {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

/// Spawns the server and waits until its client port accepts a connection. Err (with the end of the
/// server's log) when it exits or does not answer in time.
fn spawn(bin: &Path, port: u16, dir: &Path) -> Result<Child, String> {
    let store = dir.join("jetstream");
    let log_path = dir.join(format!("nats-server-{port}.log"));
    let log = File::create(&log_path).map_err(|e| format!("create {}: {e}", log_path.display()))?;
    let log_err = log.try_clone().map_err(|e| format!("clone log handle: {e}"))?;
    let mut command = Command::new(bin);
    command
        .arg("-js")
        .args(["-a", "127.0.0.1"])
        .args(["-p", &port.to_string()])
        .arg("-sd")
        .arg(&store)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err);
    let mut child = crate::process::spawn(command).map_err(|e| format!("spawn {}: {e}", bin.display()))?;
    let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + START_DEADLINE;
    loop {
        if let Ok(Some(status)) = child.try_wait() {
            return Err(format!("exited with {status}; log:\n{}", log_tail(&log_path)));
        }
        if answers(address) {
            return Ok(child);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Err(format!("no answer on {address} within {START_DEADLINE:?}; log:\n{}", log_tail(&log_path)));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether a NATS server answers on `address`: it accepts the connection and greets with `INFO`.
pub(crate) fn answers(address: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&address, Duration::from_millis(200)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut greeting = [0u8; 4];
    stream.read_exact(&mut greeting).is_ok() && &greeting == b"INFO"
}

/// The last lines of a server log, for failure messages.
fn log_tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn starts_stops_and_restarts_on_the_same_port() {
        let mut server = NatsServer::start();
        assert!(server.url().ends_with(&format!(":{}", server.port())));
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, server.port()));
        assert!(TcpStream::connect(address).is_ok());
        server.stop();
        assert!(!server.is_running());
        assert!(TcpStream::connect(address).is_err(), "nothing listens after stop");
        server.restart();
        assert!(server.is_running());
        assert!(TcpStream::connect(address).is_ok());
    }
}
