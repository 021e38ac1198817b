//! An anonymous reporter's identity never leaves the engine (docs/access.md#what-each-viewer-sees): a
//! distinctive name and contact, filed anonymously over HTTP and NATS, driven through a whole life
//! (verify, a breach escalation by `aduan sweep`, respond, request and provide info, resolve, reopen),
//! with refused submissions that carry it (HTTP 422s, NATS dead letters), is then searched for, as bytes,
//! in every HTTP answer to every caller but the national admin, every message of the event, queue and
//! dead-letter streams, every `Aduan-Reply-To` answer, every line of the serve log at `RUST_LOG=debug`
//! and of `aduan sweep`, and the database at rest (SQLite: the files; PostgreSQL: every row of every
//! table as text). A confidential case's text stays out of the public view. Positive controls show
//! each search can find what it looks for: the national admin reads the identity, and a public case's
//! reporter is found in the database.

use crate::support::{block_on, nats_request, read_stream, submission, Db, Server};
use aduan_testkit::http::{self, Response};
use serde_json::{json, Value};
use sqlx::{AssertSqlSafe, Connection, PgConnection, Row};

both_backends!(an_anonymous_reporter_never_leaves_the_engine);

const NAME: &str = "Siti Rahayu Unik7731";
const CONTACT: &str = "+62811777331";
/// The distinctive parts searched for: a copy may be cut, escaped or re-encoded around them.
const IDENTITY: [&str; 2] = ["Unik7731", "811777331"];
/// The text of the confidential case (title, body, messages), and its reporter.
const SECRET: &str = "Kx42rahasia";
const CONFIDENTIAL_REPORTER: &str = "Rina Cf58";
/// The reporter of a public case: stored in plaintext, the database search's positive control.
const PUBLIC_REPORTER: &str = "Budi Terbuka Pz19";
/// Long after every budget of a case filed and verified today: the sweep escalates on a breach.
const LATER: &str = "2027-06-01T03:00:00Z";

/// Everything that left the engine to someone other than the national admin, by what it was.
#[derive(Default)]
struct Seen(Vec<(String, Vec<u8>)>);

impl Seen {
    fn bytes(&mut self, what: impl Into<String>, bytes: &[u8]) {
        self.0.push((what.into(), bytes.to_vec()));
    }

    /// Records an HTTP answer (headers and body) and hands it back.
    fn http(&mut self, what: impl Into<String>, r: Response) -> Response {
        let mut all: Vec<u8> = r.headers.iter().flat_map(|(k, v)| format!("{k}: {v}\n").into_bytes()).collect();
        all.extend_from_slice(&r.body);
        self.bytes(what, &all);
        r
    }

    /// Every answer recorded carries `mark` (the reporter's own answers, which may).
    fn assert_each_has(&self, mark: &str) {
        let missing: Vec<&str> = self
            .0
            .iter()
            .filter(|(_, b)| !String::from_utf8_lossy(b).contains(mark))
            .map(|(w, _)| w.as_str())
            .collect();
        assert!(missing.is_empty(), "{mark:?} missing from: {missing:?}");
    }

    fn assert_free_of(&self, marks: &[&str]) {
        let mut found = Vec::new();
        for (what, bytes) in &self.0 {
            let text = String::from_utf8_lossy(bytes);
            for m in marks {
                if let Some(at) = text.find(m) {
                    let around: String = text[at.saturating_sub(60)..].chars().take(120 + m.len()).collect();
                    found.push(format!("{m:?} in {what}: …{around}…"));
                }
            }
        }
        assert!(found.is_empty(), "{} leak(s):\n{}", found.len(), found.join("\n---\n"));
    }
}

fn anonymous() -> Value {
    let mut s = submission("35.78", "infrastruktur");
    s["privacy"] = json!("anonymous");
    s["reporter"] = json!({"name": NAME, "contact": CONTACT});
    s
}

/// Submissions that are refused and carry the identity somewhere, as bytes: each is a 422 (or a 400)
/// over HTTP and a dead letter over NATS.
fn refused_submissions() -> Vec<(&'static str, Vec<u8>)> {
    let with = |k: &str, v: Value| {
        let mut s = anonymous();
        s[k] = v;
        serde_json::to_vec(&s).unwrap()
    };
    let whole = serde_json::to_string(&anonymous()).unwrap();
    vec![
        ("an unknown category", with("category", json!("tidak-ada"))),
        ("a reporter that is a string", with("reporter", json!(format!("{NAME} {CONTACT}")))),
        ("a reporter whose member is named by the identity", with("reporter", json!({NAME: CONTACT}))),
        ("a reporter name too long", with("reporter", json!({"name": format!("{NAME}{}", "x".repeat(200))}))),
        ("a contact of the wrong type", with("reporter", json!({"name": NAME, "contact": [CONTACT]}))),
        ("a body that is not JSON", whole.as_bytes()[..whole.len() - 1].to_vec()),
    ]
}

fn id_of(v: &Value) -> String {
    v["id"].as_str().unwrap_or_else(|| panic!("no id: {v}")).to_owned()
}

fn an_anonymous_reporter_never_leaves_the_engine(db: Db) {
    let mut s = Server::start_with_env(db, &[], &[("RUST_LOG", "debug")]);
    let mut seen = Seen::default();
    let mut public_view = Seen::default();
    // What the reporter's own token is answered: CONTRACT's visibility table shows it the reporter.
    let mut own = Seen::default();

    // Filed anonymously over HTTP, replayed by its idempotency key, and over NATS.
    let mut body = anonymous();
    body["command_id"] = json!("anon-1");
    let filed = own.http("the answer to the anonymous submission", s.submit(&body, &[]));
    assert_eq!(filed.status, 201, "{}", filed.text());
    let anon = filed.json();
    let (a, a_tracking) = (id_of(&anon), anon["tracking_id"].as_str().unwrap().to_owned());
    let a_reporter = anon["reporter_token"].as_str().unwrap().to_owned();
    let replay = own.http("the replay of the anonymous submission", s.submit(&body, &[]));
    assert_eq!((replay.status, replay.json()["reporter_token"].as_str()), (201, Some(a_reporter.as_str())));
    let by_nats = nats_request(&s.nats_url, &s.prefix, "submit", anonymous().to_string().as_bytes(), None, None);
    own.bytes("the Aduan-Reply-To answer to an anonymous submission", &reply_bytes(&by_nats));
    assert_eq!(by_nats.status(), 200, "{}", String::from_utf8_lossy(&by_nats.body));

    // The confidential case, and a public one (the database search's control).
    let mut conf = submission("35.78", "infrastruktur");
    conf["privacy"] = json!("confidential");
    conf["title"] = json!(format!("Judul {SECRET}"));
    conf["body"] = json!(format!("Isi {SECRET}"));
    conf["reporter"] = json!({"name": CONFIDENTIAL_REPORTER, "contact": "0812"});
    let c = id_of(&s.submit(&conf, &[]).json());
    let mut public = submission("35.78", "infrastruktur");
    public["reporter"] = json!({"name": PUBLIC_REPORTER});
    let p = id_of(&s.submit(&public, &[]).json());

    // Refused submissions carrying the identity, on both doors.
    let refused = refused_submissions();
    for (what, bytes) in &refused {
        let r = http::request("POST", &s.url("/v1/complaints"), &[("Content-Type", "application/json")], Some(bytes));
        let r = seen.http(format!("the HTTP answer to {what}"), r);
        assert!(r.status == 400 || r.status == 422, "{what}: {} {}", r.status, r.text());
        let reply = nats_request(&s.nats_url, &s.prefix, "submit", bytes, None, None);
        assert!(matches!(reply.status(), 400 | 422), "{what}: {}", String::from_utf8_lossy(&reply.body));
        seen.bytes(format!("the Aduan-Reply-To answer to {what}"), &reply_bytes(&reply));
    }

    // A whole life: verify, a breach escalation by the sweep, then the workflow's parties in turn.
    let act = |seen: &mut Seen, id: &str, body: Value| {
        let r = seen.http(format!("the answer to {body} on {id}"), s.act(id, &body, &[]));
        assert_eq!(r.status, 200, "{body}: {}", r.text());
    };
    // Verified by the region's admin (the national admin may read the identity; its answers are not searched).
    let region_admin = format!("Bearer {}", s.token("admin", "35.78"));
    let verify = |seen: &mut Seen, id: &str| {
        let r = s.act(id, &json!({"action": "verify"}), &[("Authorization", &region_admin)]);
        assert_eq!(seen.http(format!("the answer to verify on {id}"), r).status, 200);
    };
    verify(&mut seen, &a);
    let sweep = s.command().args(["sweep", "--now", LATER]).env("RUST_LOG", "debug").output().unwrap();
    assert!(sweep.status.success(), "sweep: {}", String::from_utf8_lossy(&sweep.stderr));
    seen.bytes("aduan sweep's output", &[sweep.stdout, sweep.stderr].concat());
    let history = s.get(&format!("/v1/complaints/{a}")).json()["history"].clone();
    assert!(history.as_array().unwrap().iter().any(|e| e["type"] == "escalated"), "the sweep escalated: {history}");
    for (action, message) in [
        ("respond", "Kami tangani"),
        ("request_info", "Mohon foto"),
        ("provide_info", "Foto terlampir"),
        ("resolve", "Sudah diperbaiki"),
        ("reopen", "Belum beres"),
    ] {
        let to = if matches!(action, "provide_info" | "reopen") { &mut own } else { &mut seen };
        act(to, &a, json!({"action": action, "message": message}));
    }
    verify(&mut seen, &c);
    act(&mut seen, &c, json!({"action": "respond", "message": format!("Pesan {SECRET}")}));
    let via_nats = json!({"complaint": c, "message": format!("Lagi {SECRET}")});
    let bearer = s.credential_for("respond", &c);
    let reply =
        nats_request(&s.nats_url, &s.prefix, "respond", via_nats.to_string().as_bytes(), None, bearer.as_deref());
    assert_eq!(reply.status(), 200, "{}", String::from_utf8_lossy(&reply.body));
    seen.bytes("the Aduan-Reply-To answer to respond", &reply_bytes(&reply));

    // Every caller but the national admin reads the cases, lists and statistics.
    let holder = s.get(&format!("/v1/complaints/{a}")).json()["agency"].as_str().unwrap().to_owned();
    let c_holder = s.get(&format!("/v1/complaints/{c}")).json()["agency"].as_str().unwrap().to_owned();
    let c_tracking = s.get(&format!("/v1/complaints/{c}")).json()["tracking_id"].as_str().unwrap().to_owned();
    let mut viewers: Vec<(String, Option<String>)> = vec![("the public".into(), None)];
    for (role, agency) in [
        ("officer", holder.as_str()),
        ("officer", c_holder.as_str()),
        ("officer", "35.78/dinkes"),
        ("supervisor", "kemenpanrb"),
        ("supervisor", "35.78"),
        ("admin", "35.78"),
        ("admin", "35"),
        ("integration", "kemenpanrb"),
        ("policy_author", "kemenpanrb"),
    ] {
        viewers.push((format!("{role} of {agency}"), Some(s.token(role, agency))));
    }
    for (who, bearer) in &viewers {
        for path in [
            format!("/v1/complaints/{a_tracking}"),
            format!("/v1/complaints/{a}"),
            "/v1/complaints".to_owned(),
            "/v1/complaints?agency=35.78".to_owned(),
            "/v1/stats".to_owned(),
            "/metrics".to_owned(),
        ] {
            seen.http(format!("GET {path} as {who}"), s.get_as(&path, bearer.as_deref()));
        }
    }
    let public_c = public_view
        .http("the public view of the confidential case", s.get_as(&format!("/v1/complaints/{c_tracking}"), None));
    assert_eq!(public_c.status, 200, "{}", public_c.text());
    let v = public_c.json();
    assert!(v.get("title").is_none() && v.get("body").is_none(), "{v}");
    for e in v["history"].as_array().unwrap() {
        assert!(e["data"].get("message").is_none() && e["data"].get("title").is_none(), "{e}");
    }
    public_view.assert_free_of(&[SECRET, "Cf58"]);
    let officer = s.get_as(&format!("/v1/complaints/{c}"), Some(&s.token("officer", &c_holder))).text();
    assert!(officer.contains(SECRET) && officer.contains("Cf58"), "the holder's officer reads it all: {officer}");

    // Control: the national admin reads the identity, so the marks are what a leak would carry.
    let national = s.get(&format!("/v1/complaints/{a}")).json();
    assert_eq!(national["reporter"], json!({"name": NAME, "contact": CONTACT}));
    seen.assert_free_of(&IDENTITY);
    own.http("the reporter's own view", s.get_as(&format!("/v1/complaints/{a_tracking}"), Some(&a_reporter)));
    own.assert_each_has(NAME);

    // The streams, once every event is out: each case's history as the national admin counts it.
    let ids = [a.clone(), c.clone(), p, id_of(&by_nats.json())];
    let events: u64 = ids.iter().map(|id| history_len(&s, id)).sum();
    let mut streams = Seen::default();
    for (stream, at_least) in [("EVT", events), ("QUEUE", 4), ("DLQ", refused.len() as u64)] {
        for m in read_stream(&s.nats_url, &s.stream(stream), at_least) {
            let headers: String = m.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
            streams.bytes(format!("{stream} {}", m.subject), &[headers.as_bytes(), &m.raw].concat());
        }
    }
    streams.assert_free_of(&IDENTITY);

    // The log at debug level, then the database at rest.
    let log = s.log_text();
    assert!(log.contains("DEBUG"), "serve logs at debug level: {log}");
    let mut logs = Seen::default();
    for line in log.lines() {
        logs.bytes("the serve log", line.as_bytes());
    }
    s.stop();
    logs.assert_free_of(&IDENTITY);
    let at_rest = database_text(&s.db_url);
    assert!(at_rest.contains("Pz19"), "the search finds a public reporter's name in plaintext");
    for mark in IDENTITY {
        assert!(!at_rest.contains(mark), "{mark:?} is stored in plaintext");
    }
}

fn history_len(s: &Server, id: &str) -> u64 {
    s.get(&format!("/v1/complaints/{id}")).json()["history"].as_array().unwrap().len() as u64
}

fn reply_bytes(r: &crate::support::NatsReply) -> Vec<u8> {
    let headers: String = r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect();
    [headers.as_bytes(), &r.body].concat()
}

/// The database as text: on SQLite every file of the database (with its WAL), on PostgreSQL every row
/// of every table of the public schema, cast to text.
fn database_text(url: &str) -> String {
    if let Some(path) = url.strip_prefix("sqlite://") {
        let dir = std::path::Path::new(path).parent().unwrap();
        let mut all = Vec::new();
        for e in std::fs::read_dir(dir).unwrap() {
            all.extend(std::fs::read(e.unwrap().path()).unwrap());
        }
        return String::from_utf8_lossy(&all).into_owned();
    }
    block_on(async {
        let mut c = PgConnection::connect(url).await.unwrap();
        let tables: Vec<String> =
            sqlx::query_scalar("SELECT tablename::text FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")
                .fetch_all(&mut c)
                .await
                .unwrap();
        assert!(tables.iter().any(|t| t == "complaints"), "{tables:?}");
        let mut all = String::new();
        for t in tables {
            let rows =
                sqlx::query(AssertSqlSafe(format!("SELECT t::text FROM \"{t}\" t"))).fetch_all(&mut c).await.unwrap();
            for r in rows {
                all.push_str(&r.get::<String, _>(0));
                all.push('\n');
            }
        }
        c.close().await.unwrap();
        all
    })
}
