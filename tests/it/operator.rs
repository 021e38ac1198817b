//! What an operator sees (docs/operations.md): `/metrics` in both exposition formats, the serve log
//! (plain text off a terminal, one access line per request, a quiet stop), the migration notice, and
//! the `--config` file under the variables and flags (docs/configuration.md#config-file).

use crate::support::{nats_command, submission, Db, Server, DATA_KEY};
use crate::{aduan_in, stderr};
use aduan_testkit::http;
use aduan_testkit::nats::NatsServer;
use serde_json::json;
use std::collections::BTreeMap;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

both_backends!(metrics_in_both_formats, migrate_notes_only_what_it_applied);

/// One sample of the Prometheus text format: name, labels, value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text (0.0.4) or OpenMetrics exposition, comments left out.
fn samples(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let (series, value) = line.rsplit_once(' ').unwrap_or_else(|| panic!("not a sample: {line}"));
        let (name, labels) = match series.split_once('{') {
            None => (series.to_owned(), BTreeMap::new()),
            Some((name, rest)) => {
                let body = rest.strip_suffix('}').unwrap_or_else(|| panic!("unclosed labels: {line}"));
                let mut labels = BTreeMap::new();
                // Label values here hold no `",` (route templates, outcomes, numbers).
                for pair in body.split("\",").filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once("=\"").unwrap_or_else(|| panic!("bad label {pair}: {line}"));
                    labels.insert(k.to_owned(), v.trim_end_matches('"').to_owned());
                }
                (name.to_owned(), labels)
            }
        };
        let value = value.parse().unwrap_or_else(|_| panic!("bad value: {line}"));
        out.push(Sample { name, labels, value });
    }
    out
}

/// The value of the sample `name` whose labels include `labels`, if there is one.
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    samples(text)
        .into_iter()
        .find(|s| s.name == name && labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
        .map(|s| s.value)
}

/// `GET /metrics`, with `accept` when given.
fn scrape(s: &Server, accept: Option<&str>) -> http::Response {
    let headers: Vec<(&str, &str)> = accept.iter().map(|a| ("Accept", *a)).collect();
    let r = http::request("GET", &s.url("/metrics"), &headers, None);
    assert_eq!(r.status, 200, "{}", r.text());
    r
}

/// Scrapes (classic format) until `ok` holds for the text, for up to 30 s.
fn scrape_until(s: &Server, what: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let text = scrape(s, None).text();
        if ok(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what} never showed in /metrics:\n{text}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A server whose in-process sweeper fires every second (the pack's `schedules.yaml` changed).
fn server_sweeping_each_second(db: Db) -> (Server, tempfile::TempDir) {
    let mut s = Server::start(db);
    let pack = crate::pack_copy();
    let file = pack.path().join("schedules.yaml");
    let text = std::fs::read_to_string(&file).unwrap().replace("sweep: \"0 * * * * *\"", "sweep: \"* * * * * *\"");
    std::fs::write(&file, text).unwrap();
    s.policy_dir = pack.path().to_owned();
    s.restart();
    (s, pack)
}

fn metrics_in_both_formats(db: Db) {
    let (s, _pack) = server_sweeping_each_second(db);
    let sub = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(sub.status, 201, "{}", sub.text());
    let id = sub.json()["id"].as_str().unwrap().to_owned();
    assert_eq!(s.act(&id, &json!({"action": "verify"}), &[]).status, 200);
    assert_eq!(s.act(&id, &json!({"action": "verify"}), &[]).status, 409, "a second verify is refused");
    for _ in 0..3 {
        assert_eq!(s.get(&format!("/v1/complaints/{id}")).status, 200);
    }
    let poison = nats_command(&s.nats_url, &s.prefix, "submit", b"{\"kind\": \"pengaduan\", \"oops\": 1}", None, None);
    assert_eq!(poison["status"], 422, "{poison}");
    let made_up = nats_command(&s.nats_url, &s.prefix, "no-such-action", b"{}", None, None);
    assert!(made_up["status"].as_u64().unwrap() >= 400, "{made_up}");

    // The classic format: the default, and what `text/plain` gets.
    let classic = scrape(&s, Some("text/plain"));
    assert_eq!(classic.header("content-type"), Some("text/plain; version=0.0.4; charset=utf-8"));
    let text = scrape_until(&s, "the relay catching up and a sweep", |t| {
        value(t, "aduan_outbox_backlog", &[]) == Some(0.0)
            && value(t, "aduan_sweeps_total", &[("outcome", "ok")]).is_some_and(|n| n >= 1.0)
            && value(t, "aduan_dead_letters_total", &[("action", "other")]).is_some()
    });
    assert_eq!(scrape(&s, None).header("content-type"), classic.header("content-type"));
    for kind in ["# TYPE aduan_commands_total counter", "# TYPE aduan_http_requests_total counter"] {
        assert!(text.contains(kind), "{kind} survives the classic format:\n{text}");
    }
    assert!(!text.contains("# EOF"), "no OpenMetrics trailer in the classic format");
    let applied = |action| value(&text, "aduan_commands_total", &[("action", action), ("outcome", "applied")]);
    assert_eq!(applied("submit"), Some(1.0), "{text}");
    assert_eq!(applied("verify"), Some(1.0), "{text}");
    assert_eq!(value(&text, "aduan_commands_total", &[("action", "verify"), ("outcome", "refused")]), Some(1.0));
    let route = [("method", "GET"), ("route", "/v1/complaints/{id}")];
    assert_eq!(value(&text, "aduan_http_request_duration_seconds_count", &route), Some(3.0), "{text}");
    let inf = [("method", "GET"), ("route", "/v1/complaints/{id}"), ("le", "+Inf")];
    assert_eq!(value(&text, "aduan_http_request_duration_seconds_bucket", &inf), Some(3.0), "{text}");
    let ok = [("method", "GET"), ("route", "/v1/complaints/{id}"), ("status", "200")];
    assert_eq!(value(&text, "aduan_http_requests_total", &ok), Some(3.0));
    assert!(!text.contains(&id), "a case id never becomes a label");
    assert_eq!(value(&text, "aduan_dead_letters_total", &[("action", "submit")]), Some(1.0), "{text}");
    assert_eq!(value(&text, "aduan_dead_letters_total", &[("action", "other")]), Some(1.0), "{text}");
    assert!(!text.contains("no-such-action"), "a made-up action never becomes a label");
    assert_eq!(value(&text, "aduan_outbox_oldest_age_seconds", &[]), Some(0.0));
    assert!(value(&text, "aduan_relay_lag_seconds_count", &[]).is_some_and(|n| n >= 3.0), "{text}");
    for result in ["warned", "escalated", "closed", "held"] {
        assert!(value(&text, "aduan_sweep_rungs_total", &[("result", result)]).is_some(), "{result}: {text}");
    }
    assert!(value(&text, "aduan_sweep_duration_seconds_count", &[]).is_some_and(|n| n >= 1.0));
    if cfg!(target_os = "linux") {
        assert!(value(&text, "process_resident_memory_bytes", &[]).is_some_and(|v| v > 0.0), "{text}");
        assert!(value(&text, "process_open_fds", &[]).is_some_and(|v| v > 0.0));
        assert!(value(&text, "process_start_time_seconds", &[]).is_some_and(|v| v > 1.7e9));
        assert!(text.contains("# TYPE process_cpu_seconds_total counter"));
    }

    // OpenMetrics when asked for.
    let open = scrape(&s, Some("application/openmetrics-text; version=1.0.0"));
    assert_eq!(open.header("content-type"), Some("application/openmetrics-text; version=1.0.0; charset=utf-8"));
    let open = open.text();
    assert!(open.contains("# TYPE aduan_commands counter"), "{open}");
    assert!(open.ends_with("# EOF\n"));
    assert_eq!(value(&open, "aduan_commands_total", &[("action", "submit"), ("outcome", "applied")]), Some(1.0));
}

/// A plain log off a terminal, one access line per request (route template, no query string, no
/// token), and a SIGTERM that logs nothing above info.
#[test]
fn the_serve_log_is_plain_and_a_stop_is_quiet() {
    let mut s = Server::start(Db::Sqlite);
    let sub = s.submit(&submission("35.78", "infrastruktur"), &[]);
    let id = sub.json()["id"].as_str().unwrap().to_owned();
    for _ in 0..3 {
        assert_eq!(s.get("/v1/stats?agency=35.78").status, 200);
    }
    assert_eq!(s.get(&format!("/v1/complaints/{id}")).status, 200);
    assert_eq!(http::get(&s.url("/no/such/thing")).status, 404);
    s.stop();
    let log = s.log_text();
    assert!(!log.contains('\u{1b}'), "no ANSI escapes in a log that is not a terminal:\n{log}");
    let access: Vec<&str> = log.lines().filter(|l| l.contains("aduan::access")).collect();
    let count = |route: &str| access.iter().filter(|l| l.contains(&format!("route={route} "))).count();
    assert_eq!(count("/v1/stats"), 3, "{log}");
    assert_eq!(count("/v1/complaints/{id}"), 1, "{log}");
    assert_eq!(count("/v1/complaints"), 1, "{log}");
    assert_eq!(count("unmatched"), 1, "{log}");
    for line in &access {
        assert!(line.contains("status=") && line.contains("elapsed_ms="), "{line}");
        for secret in [id.as_str(), "agency=35.78", "no/such", &s.admin, "Sri"] {
            assert!(!line.contains(secret), "`{secret}` in an access line: {line}");
        }
    }
    let stop = log.find("shutting down").unwrap_or_else(|| panic!("no shutdown line:\n{log}"));
    let after = &log[stop..];
    assert!(!after.contains(" WARN ") && !after.contains(" ERROR "), "a clean stop warns of nothing:\n{after}");
}

fn migrate_notes_only_what_it_applied(db: Db) {
    let database = crate::support::Database::new(db);
    let dir = aduan_testkit::process::tempdir("migrate");
    let run = || {
        let o = aduan_in(dir.path(), &["migrate", "--database-url", database.url()]);
        assert!(o.status.success(), "{}", stderr(&o));
        stderr(&o)
    };
    let first = run();
    assert!(first.contains("migrations applied") && first.contains("1 initial"), "{first}");
    let second = run();
    assert!(!second.contains("migrations applied"), "nothing to apply, nothing said:\n{second}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The example file of docs/configuration.md: the first ```yaml block after "## Config file".
fn documented_example() -> String {
    let doc = std::fs::read_to_string(crate::root().join("docs/configuration.md")).unwrap();
    let section = &doc[doc.find("## Config file").expect("a Config file section")..];
    let start = section.find("```yaml\n").expect("an example") + "```yaml\n".len();
    section[start..start + section[start..].find("```").unwrap()].to_owned()
}

/// The documented example parses, and names every key the table documents.
#[test]
fn the_documented_example_config_loads() {
    let dir = aduan_testkit::process::tempdir("config");
    let example = documented_example();
    let file = dir.path().join("aduan.yaml");
    std::fs::write(&file, &example).unwrap();
    // `policy check` reads the configuration (the pack directory among it) and touches nothing else.
    let o = aduan_in(&crate::root(), &["--config", file.to_str().unwrap(), "policy", "check"]);
    assert!(o.status.success(), "the example loads: {}\n{example}", stderr(&o));
    let doc = std::fs::read_to_string(crate::root().join("docs/configuration.md")).unwrap();
    let table = &doc[doc.find("## Variables and flags").unwrap()..doc.find("## Config file").unwrap()];
    let keys: Vec<&str> = table
        .lines()
        .filter_map(|l| l.split('|').nth(3))
        .filter_map(|cell| cell.trim().strip_prefix('`').and_then(|k| k.strip_suffix('`')))
        .collect();
    assert!(keys.len() >= 17, "the table has a file key column: {keys:?}");
    for key in keys {
        assert!(example.contains(&format!("{key}:")), "the example shows `{key}`");
    }
}

/// Flags over variables over the file over the defaults, seen from outside: the port that answers,
/// the database written, the rate limit applied.
#[test]
fn the_config_file_sits_under_variables_and_flags() {
    let nats = NatsServer::start();
    let dir = aduan_testkit::process::tempdir("config");
    let (file_port, env_port) = (free_port(), free_port());
    let db = dir.path().join("from-file.db");
    let file = dir.path().join("aduan.yaml");
    let config = format!(
        "# written by the test\ndatabase_url: \"sqlite://{}\"\nhttp_addr: \"127.0.0.1:{file_port}\"\nnats_url: \"{}\"\n\
         policy_dir: \"{}\"\nnats_prefix: \"{}\"\ndata_key: \"{DATA_KEY}\"\nrate_limit: 1\npack_poll: 0\n",
        db.display(),
        nats.url(),
        crate::root().join("policies/lapor").display(),
        crate::support::fresh_prefix(),
    );
    std::fs::write(&file, config).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aduan"));
    for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("ADUAN_")) {
        cmd.env_remove(k);
    }
    let log = dir.path().join("serve.log");
    let out = std::fs::File::create(&log).unwrap();
    cmd.current_dir(dir.path())
        .args(["--config", file.to_str().unwrap(), "serve", "--no-workers", "--rate-limit", "0"])
        .env("ADUAN_HTTP_ADDR", format!("127.0.0.1:{env_port}"))
        .env("ADUAN_RATE_LIMIT", "1")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    let mut child = crate::support::spawn(cmd);
    let base = format!("http://127.0.0.1:{env_port}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while http::try_request("GET", &format!("{base}/healthz"), &[], None).map(|r| r.status) != Ok(200) {
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        assert!(child.try_wait().unwrap().is_none(), "serve exited:\n{log}");
        assert!(Instant::now() < deadline, "the variable's port never answered:\n{log}");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        http::try_request("GET", &format!("http://127.0.0.1:{file_port}/healthz"), &[], None).is_err(),
        "the variable wins over the file's port"
    );
    assert_eq!(http::get(&format!("{base}/readyz")).json()["database"], "ok");
    assert!(db.exists(), "the file's database, under no flag or variable, is the one opened");
    // The flag's rate limit (0: off) wins over the variable's and the file's (1 a minute).
    for _ in 0..3 {
        let r = http::post_json(&format!("{base}/v1/complaints"), &submission("35.78", "infrastruktur"), &[]);
        assert_eq!(r.status, 201, "{}", r.text());
    }
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A bad file stops every command with exit 2 and a line naming the file, line and key.
#[test]
fn a_bad_config_file_is_a_clear_error() {
    let dir = aduan_testkit::process::tempdir("config");
    let check = |name: &str, text: Option<&str>, wants: &[&str]| {
        let file = dir.path().join(name);
        if let Some(text) = text {
            std::fs::write(&file, text).unwrap();
        }
        let o = aduan_in(dir.path(), &["--config", file.to_str().unwrap(), "policy", "check"]);
        assert_eq!(o.status.code(), Some(2), "{name}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.starts_with("error: ") && err.lines().count() == 1, "{name}: one line: {err}");
        for w in wants {
            assert!(err.contains(w), "{name}: `{w}` in {err}");
        }
    };
    let unknown = "http_addr: \"127.0.0.1:1\"\ndatabse_url: \"sqlite://x.db\"\n";
    check("unknown.yaml", Some(unknown), &["unknown.yaml:2:", "databse_url"]);
    check("type.yaml", Some("nats_url: \"nats://x\"\nrate_limit: lots\n"), &["type.yaml:2:", "rate_limit"]);
    check("twice.yaml", Some("nats_prefix: a\nnats_prefix: b\n"), &["twice.yaml:2:", "nats_prefix"]);
    check("missing.yaml", None, &["missing.yaml", "cannot read"]);
}
