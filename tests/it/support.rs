//! Harness for end-to-end tests: a real `aduan serve` process per test (its own NATS prefix and
//! database), a nats-server per test, and NATS helpers that read events back from JetStream by
//! sequence. Waits poll with a deadline; nothing sleeps to wait for an effect.
//!
//! Everything a test starts is a guard: the serve process, its nats-server, its database and its temp
//! dir go when the [`Server`] drops, also when the test panics (and the processes also when the test
//! process is killed: see `aduan_testkit::process`).

use aduan_testkit::http::{self, Response};
use aduan_testkit::nats::NatsServer;
use aduan_testkit::party::{party_for, Party};
use aduan_testkit::pg::TestDatabase;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::future::Future;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A runtime for the async parts (NATS client, PostgreSQL database creation).
pub fn block_on<F: Future>(f: F) -> F::Output {
    static RT: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RT.get_or_init(|| tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap())
        .block_on(f)
}

/// A fresh NATS prefix per test, so streams never mix.
pub fn fresh_prefix() -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    format!("t{}x{}", std::process::id(), N.fetch_add(1, Ordering::SeqCst))
}

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// A new, empty database of either kind: a SQLite file in a temp dir, or a PostgreSQL database. Both
/// are removed when the guard drops.
pub enum Database {
    Sqlite {
        url: String,
        _dir: tempfile::TempDir,
    },
    Postgres(TestDatabase),
    /// A database another guard owns (replicas sharing one database): nothing is removed with it.
    Shared(String),
}

impl Database {
    pub fn new(db: Db) -> Database {
        match db {
            Db::Sqlite => {
                let dir = aduan_testkit::process::tempdir("sqlite");
                Database::Sqlite { url: format!("sqlite://{}/aduan.db", dir.path().display()), _dir: dir }
            }
            Db::Postgres => Database::Postgres(TestDatabase::create_blocking()),
        }
    }

    pub fn url(&self) -> &str {
        match self {
            Database::Sqlite { url, .. } => url,
            Database::Postgres(db) => db.url(),
            Database::Shared(url) => url,
        }
    }
}

/// Spawns `cmd` so that it dies with the test process (`aduan_testkit::process::spawn`).
pub fn spawn(cmd: Command) -> Child {
    aduan_testkit::process::spawn(cmd).expect("aduan starts")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A running `aduan serve`. Its fields drop after [`Drop::drop`] has killed the process: the nats-server
/// (when the server started its own), the database, the temp dir.
pub struct Server {
    child: Option<Child>,
    pub base: String,
    pub db_url: String,
    pub nats_url: String,
    pub prefix: String,
    pub dir: tempfile::TempDir,
    port: u16,
    log: PathBuf,
    /// The pack `serve` loads (change it, then `restart`, to publish a new pack).
    pub policy_dir: PathBuf,
    /// Extra arguments of `serve` (`--no-workers`).
    args: Vec<String>,
    /// Extra environment of `serve`, applied last (`RUST_LOG`, `ADUAN_JWKS_FILE`, …).
    env: Vec<(String, String)>,
    /// A national admin's API token (`aduan token create --role admin`), made before `serve` starts.
    pub admin: String,
    /// Tokens made by [`Server::token`], by (role, agency).
    tokens: Mutex<HashMap<(String, String), String>>,
    /// Reporter tokens of the cases submitted through [`Server::submit`] and [`Server::nats`], by id and
    /// tracking id.
    reporters: Mutex<HashMap<String, String>>,
    _database: Database,
    _nats: Option<NatsServer>,
}

pub const DATA_KEY: &str = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=";

impl Server {
    /// Starts serve on a new database of the given kind, with a nats-server of its own.
    pub fn start(db: Db) -> Server {
        Self::start_with(db, &[])
    }

    /// [`Server::start`] with extra arguments of `serve` (`--no-workers` for tests that control time).
    pub fn start_with(db: Db, args: &[&str]) -> Server {
        Self::start_with_env(db, args, &[])
    }

    /// [`Server::start_with`] with extra environment for `serve`, set after the defaults so it wins
    /// (`RUST_LOG=debug`, the JWKS of single sign-on).
    pub fn start_with_env(db: Db, args: &[&str], env: &[(&str, &str)]) -> Server {
        let nats = NatsServer::start();
        let url = nats.url().to_owned();
        Self::launch(Database::new(db), &url, Some(nats), &fresh_prefix(), args, env, None)
    }

    /// Starts serve against a nats-server the test controls (to stop and restart it).
    pub fn start_on(db: Db, nats: &NatsServer) -> Server {
        Self::start_on_with_prefix(db, nats, &fresh_prefix())
    }

    /// [`Server::start_on`] with a NATS prefix the test chose (to prepare its streams or bucket first).
    pub fn start_on_with_prefix(db: Db, nats: &NatsServer, prefix: &str) -> Server {
        Self::launch(Database::new(db), nats.url(), None, prefix, &[], &[], None)
    }

    /// [`Server::start_on`] with extra environment for `serve` (`ADUAN_NATS_DUPLICATE_WINDOW`, …).
    pub fn start_on_with_env(db: Db, nats: &NatsServer, env: &[(&str, &str)]) -> Server {
        Self::launch(Database::new(db), nats.url(), None, &fresh_prefix(), &[], env, None)
    }

    /// One replica of several: serve on a database the test owns (`db_url`) and on `nats_url` (a
    /// cluster's URLs), with `env` for serve. `admin` is the national admin's token another replica
    /// already made on that database; `None` makes it.
    pub fn replica(db_url: &str, nats_url: &str, prefix: &str, env: &[(&str, &str)], admin: Option<&str>) -> Server {
        let database = Database::Shared(db_url.to_owned());
        Self::launch(database, nats_url, None, prefix, &[], env, admin.map(str::to_owned))
    }

    fn launch(
        database: Database,
        nats_url: &str,
        nats: Option<NatsServer>,
        prefix: &str,
        args: &[&str],
        env: &[(&str, &str)],
        admin: Option<String>,
    ) -> Server {
        let dir = aduan_testkit::process::tempdir("serve");
        let port = free_port();
        let log = dir.path().join("serve.log");
        let mut s = Server {
            child: None,
            base: format!("http://127.0.0.1:{port}"),
            db_url: database.url().to_owned(),
            nats_url: nats_url.to_owned(),
            prefix: prefix.to_owned(),
            dir,
            port,
            log,
            policy_dir: crate::root().join("policies/lapor"),
            args: args.iter().map(|a| a.to_string()).collect(),
            env: env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            admin: String::new(),
            tokens: Mutex::default(),
            reporters: Mutex::default(),
            _database: database,
            _nats: nats,
        };
        s.admin = match admin {
            Some(token) => token,
            None => s.token("admin", "kemenpanrb"),
        };
        s.spawn();
        s
    }

    /// The `aduan` command with this server's configuration (database, pack, key, prefix).
    pub fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_aduan"));
        for (k, _) in std::env::vars() {
            if k.starts_with("ADUAN_") {
                cmd.env_remove(k);
            }
        }
        cmd.current_dir(self.dir.path())
            .env("ADUAN_DATABASE_URL", &self.db_url)
            .env("ADUAN_POLICY_DIR", &self.policy_dir)
            .env("ADUAN_DATA_KEY", DATA_KEY)
            .env("ADUAN_NATS_PREFIX", &self.prefix);
        cmd
    }

    /// An API token of `role` reaching `agency`'s subtree, made with `aduan token create` once per
    /// (role, agency).
    pub fn token(&self, role: &str, agency: &str) -> String {
        let key = (role.to_owned(), agency.to_owned());
        if let Some(t) = self.tokens.lock().unwrap().get(&key) {
            return t.clone();
        }
        let name = format!("{role}-{}", agency.replace('/', "-"));
        let args = ["token", "create", "--role", role, "--agency", agency, "--name", &name];
        let out = self.command().args(args).output().unwrap();
        assert!(out.status.success(), "token create: {}", String::from_utf8_lossy(&out.stderr));
        let made: Value = serde_json::from_slice(&out.stdout).unwrap();
        let token = made["token"].as_str().unwrap().to_owned();
        self.tokens.lock().unwrap().insert(key, token.clone());
        token
    }

    /// The credential a test acts with when it names none: the party the national workflow expects
    /// for `action` on case `id` (the admin; the holder's officer; the reporter, whose token the
    /// submission answered), so a suite about something else reads as before.
    pub fn credential_for(&self, action: &str, id: &str) -> Option<String> {
        match party_for(action) {
            Party::Public => None,
            Party::Reporter => self.reporters.lock().unwrap().get(id).cloned(),
            Party::HolderOfficer => {
                let view = self.get(&format!("/v1/complaints/{id}")).json();
                Some(self.token("officer", view["agency"].as_str().unwrap_or("kemenpanrb")))
            }
            Party::Admin => Some(self.admin.clone()),
        }
    }

    fn remember_reporter(&self, view: &Value) {
        if let Some(t) = view["reporter_token"].as_str() {
            let mut map = self.reporters.lock().unwrap();
            for k in ["id", "tracking_id"] {
                if let Some(id) = view[k].as_str() {
                    map.insert(id.to_owned(), t.to_owned());
                }
            }
        }
    }

    fn spawn(&mut self) {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log).unwrap();
        let mut cmd = self.command();
        cmd.arg("serve")
            .args(&self.args)
            .env("ADUAN_NATS_URL", &self.nats_url)
            .env("ADUAN_HTTP_ADDR", format!("127.0.0.1:{}", self.port))
            .env("ADUAN_RATE_LIMIT", "0")
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        self.child = Some(spawn(cmd));
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(r) = http::try_request("GET", &format!("{}/healthz", self.base), &[], None) {
                if r.status == 200 {
                    return;
                }
            }
            if let Some(status) = self.child.as_mut().unwrap().try_wait().unwrap() {
                panic!("serve exited with {status}:\n{}", self.log_text());
            }
            assert!(Instant::now() < deadline, "serve did not answer in 30 s:\n{}", self.log_text());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The process's id while it runs (to read its memory use).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// The process's log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, then wait for a clean exit (status 0).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                if let Some(status) = child.try_wait().unwrap() {
                    assert!(status.success(), "serve exited with {status}:\n{}", self.log_text());
                    return;
                }
                assert!(Instant::now() < deadline, "serve did not stop in 20 s");
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }

    /// Stops and starts again on the same database, port and prefix.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// `kill -9`: the process dies at once, with no shutdown (a crash), and is reaped.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again after [`Server::kill`] (or [`Server::stop`]), on the same database,
    /// port and prefix, and waits until it answers.
    pub fn relaunch(&mut self) {
        assert!(self.child.is_none(), "relaunch of a server that runs");
        self.spawn();
    }

    /// A dashboard page as the session `token` signs in to sees it: its status and text.
    pub fn dashboard(&self, token: &str, path: &str) -> (u16, String) {
        let session = self.dashboard_session(token);
        let r = http::request("GET", &self.url(path), &[("Cookie", &session)], None);
        (r.status, r.text())
    }

    /// Signs in to the dashboard with `token`: the session's `Cookie` value.
    pub fn dashboard_session(&self, token: &str) -> String {
        let login = http::get(&self.url("/dashboard/login"));
        let nonce_cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
        let nonce = nonce_cookie.split_once('=').unwrap().1.to_owned();
        let token: String = form_urlencoded::byte_serialize(token.as_bytes()).collect();
        let body = format!("csrf={nonce}&token={token}");
        let headers = [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", nonce_cookie.as_str())];
        let signed = http::request("POST", &self.url("/dashboard/login"), &headers, Some(body.as_bytes()));
        assert_eq!(signed.status, 303, "sign-in: {}", signed.text());
        signed.header("set-cookie").unwrap().split(';').next().unwrap().to_owned()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Files a complaint (no token unless `headers` give one) and remembers its reporter token.
    pub fn submit(&self, body: &Value, headers: &[(&str, &str)]) -> Response {
        let r = http::post_json(&self.url("/v1/complaints"), body, headers);
        if r.status < 300 {
            self.remember_reporter(&r.json());
        }
        r
    }

    /// Takes an action, with the credential `headers` give, else [`Server::credential_for`] it.
    pub fn act(&self, id: &str, body: &Value, headers: &[(&str, &str)]) -> Response {
        let url = self.url(&format!("/v1/complaints/{id}/actions"));
        if headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("authorization")) {
            return http::post_json(&url, body, headers);
        }
        let bearer =
            self.credential_for(body["action"].as_str().unwrap_or_default(), id).map(|t| format!("Bearer {t}"));
        let mut all = headers.to_vec();
        if let Some(b) = &bearer {
            all.push(("Authorization", b));
        }
        http::post_json(&url, body, &all)
    }

    /// `GET path` as the national admin.
    pub fn get(&self, path: &str) -> Response {
        self.get_as(path, Some(&self.admin))
    }

    /// `GET path` with `bearer` (none: as the public).
    pub fn get_as(&self, path: &str, bearer: Option<&str>) -> Response {
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
        http::request("GET", &self.url(path), &headers, None)
    }

    /// A command over NATS with the credential [`Server::credential_for`] gives it; the answer.
    pub fn nats(&self, action: &str, body: &Value, msg_id: Option<&str>) -> Value {
        let bearer = self.credential_for(action, body["complaint"].as_str().unwrap_or_default());
        let v =
            nats_command(&self.nats_url, &self.prefix, action, body.to_string().as_bytes(), msg_id, bearer.as_deref());
        self.remember_reporter(&v);
        v
    }

    /// The JetStream event stream of this server's prefix.
    pub fn stream(&self, suffix: &str) -> String {
        format!("{}_{suffix}", self.prefix.to_uppercase())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// The body of `POST /v1/packs` for the pack in `dir`: every YAML and rhai file outside `tests/`.
pub fn pack_body(dir: &std::path::Path) -> Value {
    fn walk(root: &std::path::Path, dir: &std::path::Path, out: &mut Vec<Value>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().replace('\\', "/");
            if p.is_dir() {
                if rel != "tests" {
                    walk(root, &p, out);
                }
            } else if [".yaml", ".yml", ".rhai"].iter().any(|x| rel.ends_with(x)) {
                out.push(json!({"path": rel, "content": std::fs::read_to_string(&p).unwrap()}));
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, dir, &mut files);
    json!({ "files": files })
}

/// A submission for tests.
pub fn submission(region: &str, category: &str) -> Value {
    json!({"kind": "pengaduan", "channel": "web", "title": "Jalan berlubang", "body": "Di depan pasar",
           "category": category, "region": region, "privacy": "public",
           "reporter": {"name": "Sri", "contact": "0812"}})
}

/// A stored JetStream message.
#[derive(Debug, Clone)]
pub struct StoredMsg {
    pub subject: String,
    pub msg_id: Option<String>,
    /// The payload parsed as JSON (`Null` when it is not JSON).
    pub payload: Value,
    /// The payload as stored.
    pub raw: Vec<u8>,
    /// Every header, as (name, value).
    pub headers: Vec<(String, String)>,
}

/// Reads every message of a stream, by sequence, once it holds at least `at_least` (polls up to 30 s).
pub fn read_stream(nats_url: &str, stream: &str, at_least: u64) -> Vec<StoredMsg> {
    block_on(async {
        let client = async_nats::connect(nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client);
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut s = loop {
            if let Ok(s) = js.get_stream(stream).await {
                break s;
            }
            assert!(Instant::now() < deadline, "stream {stream} never appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let count = loop {
            let n = s.info().await.unwrap().state.messages;
            if n >= at_least {
                break n;
            }
            assert!(Instant::now() < deadline, "stream {stream} holds {n} messages, expected at least {at_least}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let first = s.info().await.unwrap().state.first_sequence;
        let mut out = Vec::new();
        for seq in first..first + count {
            let m = s.get_raw_message(seq).await.unwrap();
            out.push(StoredMsg {
                subject: m.subject.to_string(),
                msg_id: m.headers.get("Nats-Msg-Id").map(|v| v.to_string()),
                payload: serde_json::from_slice(&m.payload).unwrap_or(Value::Null),
                raw: m.payload.to_vec(),
                headers: header_pairs(&m.headers),
            });
        }
        out
    })
}

fn header_pairs(h: &async_nats::HeaderMap) -> Vec<(String, String)> {
    h.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k.to_string(), v.to_string()))).collect()
}

/// The answer to a command on `Aduan-Reply-To`, as received.
#[derive(Debug, Clone)]
pub struct NatsReply {
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl NatsReply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }

    /// The status HTTP would have answered: a problem's (`Aduan-Error` set), else 200.
    pub fn status(&self) -> u16 {
        match self.headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("Aduan-Error")) {
            true => self.json()["status"].as_u64().unwrap_or(0) as u16,
            false => 200,
        }
    }
}

/// Publishes a command to `{prefix}.cmd.{action}` and waits for the answer on `Aduan-Reply-To`.
pub fn nats_command(
    nats_url: &str,
    prefix: &str,
    action: &str,
    body: &[u8],
    msg_id: Option<&str>,
    bearer: Option<&str>,
) -> Value {
    nats_request(nats_url, prefix, action, body, msg_id, bearer).json()
}

/// [`nats_command`], the answer as received (headers and bytes).
pub fn nats_request(
    nats_url: &str,
    prefix: &str,
    action: &str,
    body: &[u8],
    msg_id: Option<&str>,
    bearer: Option<&str>,
) -> NatsReply {
    block_on(async {
        let client = async_nats::connect(nats_url).await.unwrap();
        let inbox = client.new_inbox();
        let mut sub = client.subscribe(inbox.clone()).await.unwrap();
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("Aduan-Reply-To", inbox.as_str());
        if let Some(id) = msg_id {
            headers.insert("Nats-Msg-Id", id);
        }
        if let Some(t) = bearer {
            headers.insert("Authorization", format!("Bearer {t}").as_str());
        }
        let js = async_nats::jetstream::new(client.clone());
        js.publish_with_headers(format!("{prefix}.cmd.{action}"), headers, body.to_vec().into())
            .await
            .unwrap()
            .await
            .unwrap();
        let next = std::future::poll_fn(|cx| std::pin::Pin::new(&mut sub).poll_next(cx));
        let msg = tokio::time::timeout(Duration::from_secs(30), next)
            .await
            .expect("a reply within 30 s")
            .expect("subscription open");
        NatsReply { headers: msg.headers.as_ref().map(header_pairs).unwrap_or_default(), body: msg.payload.to_vec() }
    })
}

use futures_core::Stream as _;

/// Waits (polling, at most 30 s) until every outbox row of the PostgreSQL database `c` is marked sent.
pub async fn outbox_drained(c: &mut sqlx::PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (unsent,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetch_one(&mut *c).await.unwrap();
        if unsent == 0 {
            return;
        }
        assert!(Instant::now() < deadline, "{unsent} outbox rows still unsent after 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
