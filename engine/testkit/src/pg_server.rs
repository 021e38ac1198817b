//! A private PostgreSQL server for a test that stops and starts it (DESIGN: a test that restarts
//! PostgreSQL always runs its own cluster): `initdb` into a temp dir, `postgres` on a free loopback port
//! with its socket in that dir, without fsync (the server is stopped in these tests, not the machine)
//! but with `synchronous_commit` on, so every acknowledged commit survives an immediate stop. The binaries are found as
//! `deploy/pg.sh` finds them: `ADUAN_PG_BINDIR`, else the highest `/usr/lib/postgresql/*/bin`, else
//! `initdb` on `PATH`. As root, the server runs as the `postgres` user.
//!
//! `postgres` is a direct child ([`crate::process::spawn`]), so it dies with the test process; the
//! guard stops it and removes its dir on drop.

use std::fs::File;
use std::net::{Ipv4Addr, TcpListener};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

/// How long the server may take to accept connections (start-up, or crash recovery after a stop).
const READY_DEADLINE: Duration = Duration::from_secs(60);

/// A running (or stopped) private PostgreSQL server.
pub struct PgServer {
    bindir: PathBuf,
    dir: TempDir,
    port: u16,
    /// The `postgres` user's uid and gid, when running as root.
    user: Option<(u32, u32)>,
    child: Option<Child>,
}

impl PgServer {
    /// `initdb` and start. Panics, saying what is missing, when no PostgreSQL binaries are found.
    pub fn start() -> PgServer {
        let bindir = bindir().unwrap_or_else(|| {
            panic!("no PostgreSQL binaries (initdb, postgres): install PostgreSQL or set ADUAN_PG_BINDIR")
        });
        // SAFETY: geteuid has no preconditions.
        let root = unsafe { libc::geteuid() } == 0;
        let user = root.then(|| postgres_user().expect("running as root, but there is no `postgres` user"));
        // As root the `postgres` user must reach the dir: under /tmp, not under a private TMPDIR.
        let prefix = format!("{}pg-", crate::process::TEMP_PREFIX);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        let dir = if root { builder.tempdir_in("/tmp") } else { builder.tempdir() }.expect("a temp dir for PostgreSQL");
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(dir.path(), Some(uid), Some(gid)).expect("chown the PostgreSQL dir");
        }
        let mut server = PgServer { bindir, dir, port: 0, user, child: None };
        let mut initdb = server.command("initdb");
        initdb.arg("-D").arg(server.data()).args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-locale"]);
        let out = initdb.arg("--no-sync").output().expect("initdb runs");
        assert!(
            out.status.success(),
            "initdb failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..5 {
            server.port = free_port();
            if server.spawn().is_ok() {
                return server;
            }
        }
        panic!("PostgreSQL did not start; log:\n{}", server.log_tail());
    }

    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Stops the server as `pg_ctl stop -m immediate` does (SIGQUIT: no checkpoint, crash recovery at
    /// the next start) and waits for it to exit. Does nothing when stopped.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill has no memory preconditions; the pid is our child's, not yet reaped.
            unsafe { libc::kill(child.id() as i32, libc::SIGQUIT) };
            let deadline = Instant::now() + Duration::from_secs(20);
            while child.try_wait().ok().flatten().is_none() {
                if Instant::now() > deadline {
                    let _ = child.kill();
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }

    /// Starts the stopped server again on the same dir and port, and waits until it takes connections.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "start_again on a running server");
        self.spawn().unwrap_or_else(|e| panic!("PostgreSQL did not start again: {e}; log:\n{}", self.log_tail()));
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// A command running `bin` of the bindir as the server's user, from its dir.
    fn command(&self, bin: &str) -> Command {
        let mut cmd = Command::new(self.bindir.join(bin));
        cmd.current_dir(self.dir.path()).stdin(Stdio::null());
        if let Some((uid, gid)) = self.user {
            cmd.uid(uid).gid(gid);
        }
        cmd
    }

    fn spawn(&mut self) -> Result<(), String> {
        let log = File::options().create(true).append(true).open(self.dir.path().join("postgres.log")).unwrap();
        let mut cmd = self.command("postgres");
        cmd.arg("-D").arg(self.data()).args(["-p", self.port.to_string().as_str(), "-k"]).arg(self.dir.path());
        for setting in [
            "listen_addresses=127.0.0.1",
            // No fsync: the machine does not crash, the server does (a stop as `-m immediate`), and
            // what it wrote is in the kernel's cache. But commits wait for their WAL write
            // (`synchronous_commit` stays on): an acknowledged commit must survive the stop.
            "fsync=off",
            "full_page_writes=off",
            "max_connections=100",
        ] {
            cmd.args(["-c", setting]);
        }
        cmd.stdout(log.try_clone().unwrap()).stderr(log);
        let mut child = crate::process::spawn(cmd).map_err(|e| format!("spawn postgres: {e}"))?;
        let deadline = Instant::now() + READY_DEADLINE;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("postgres exited with {status}"));
            }
            if crate::pg::accepts_connections(&self.url()) {
                self.child = Some(child);
                return Ok(());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("no connection within {READY_DEADLINE:?}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The directory holding `initdb` and `postgres`.
fn bindir() -> Option<PathBuf> {
    let has = |d: &Path| d.join("initdb").is_file() && d.join("postgres").is_file();
    if let Some(d) = std::env::var_os("ADUAN_PG_BINDIR").map(PathBuf::from).filter(|d| has(d)) {
        return Some(d);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| Some((e.file_name().to_str()?.parse().ok()?, e.path().join("bin"))))
        .filter(|(_, d)| has(d))
        .collect();
    versions.sort();
    if let Some((_, d)) = versions.pop() {
        return Some(d);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| has(d))
}

/// The uid and gid of the `postgres` user, from `/etc/passwd`.
fn postgres_user() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let line = passwd.lines().find(|l| l.starts_with("postgres:"))?;
    let fields: Vec<&str> = line.split(':').collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind 127.0.0.1:0").local_addr().unwrap().port()
}
