//! Region-scoped publishing (docs/access.md#publishing-packs): a policy author of Kota Semarang (33.74)
//! publishes Semarang's SLA overlay and its own routing rule over `POST /v1/packs`, and nothing else;
//! Jawa Tengah's author (33) reaches Semarang's files too; the national author (kemenpanrb) reaches
//! everything. Each publish, refused or not, is recorded for the national admin
//! (`GET /v1/packs/publishes`). The CLI publishes the same way (`policy publish DIR --server`), and a
//! replica without NATS publishes alone and gives the bucket the pack when it connects.

use crate::support::{block_on, pack_body, submission, Db, Server};
use crate::{pack_copy, stderr, stdout};
use aduan_testkit::http::{self, Response};
use aduan_testkit::nats::NatsServer;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

both_backends!(a_regional_author_publishes_its_own_scope_and_the_national_admin_reads_the_record);

const SEMARANG_SLA: &str = "sla/33.74-kota-semarang.yaml";
const SEMARANG_RULE: &str = "rules/33.74/route.rhai";

fn publish(s: &Server, dir: &Path, token: Option<&str>) -> Response {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.iter().map(|a| ("Authorization", a.as_str())).collect();
    http::post_json(&s.url("/v1/packs"), &pack_body(dir), &headers)
}

fn active(s: &Server) -> String {
    s.get("/readyz").json()["pack"]["active"].as_str().unwrap().to_owned()
}

fn write(dir: &Path, path: &str, text: &str) {
    let p = dir.join(path);
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(p, text).unwrap();
}

/// Semarang's own changes: its SLA overlay (respond 6 instead of 7) and a routing rule of its own.
fn semarang_changes(dir: &Path) {
    let sla = std::fs::read_to_string(dir.join(SEMARANG_SLA)).unwrap();
    write(dir, SEMARANG_SLA, &sla.replace("{working_days: 7}", "{working_days: 6}"));
    write(dir, SEMARANG_RULE, "// Semarang defers to the national rules.\nfn route(complaint, now) {\n  defer()\n}\n");
}

fn append(dir: &Path, path: &str, line: &str) {
    let text = std::fs::read_to_string(dir.join(path)).unwrap();
    write(dir, path, &format!("{text}{line}\n"));
}

fn a_regional_author_publishes_its_own_scope_and_the_national_admin_reads_the_record(db: Db) {
    let s = Server::start_with(db, &["--pack-poll", "0", "--no-workers"]);
    let first = active(&s);
    let semarang = s.token("policy_author", "33.74");

    // In scope: Semarang's SLA overlay and a new rule under rules/33.74/.
    let mine = pack_copy();
    semarang_changes(mine.path());
    let r = publish(&s, mine.path(), Some(&semarang));
    assert_eq!(r.status, 200, "{}", r.text());
    let rec = r.json();
    assert_eq!(rec["outcome"], "published");
    assert_eq!(rec["actor"], "policy_author-33.74");
    assert_eq!(
        (rec["role"].as_str(), rec["agency"].as_str(), rec["scope"].as_str()),
        (Some("policy_author"), Some("33.74"), Some("33.74"))
    );
    assert_eq!(rec["hash_before"], first.as_str());
    assert_ne!(rec["hash_after"], first.as_str());
    assert_eq!(rec["hash_after"], rec["candidate"]);
    assert_eq!(
        rec["files"],
        json!([
            {"path": SEMARANG_RULE, "change": "added", "scope": "region 33.74"},
            {"path": SEMARANG_SLA, "change": "modified", "scope": "region 33.74"}
        ])
    );
    assert!(rec["bucket_revision"].as_u64().is_some(), "written to the bucket: {rec}");
    let second = rec["hash_after"].as_str().unwrap().to_owned();
    assert_eq!(active(&s), second, "live at once on the replica that took it");
    let case = s.submit(&submission("33.74", "infrastruktur"), &[]).json();
    assert_eq!(case["pack"], second.as_str(), "new cases are decided by the published pack");

    // Out of scope: the national SLA, Jakarta's rule. Refused naming the file; nothing changes.
    for (path, scope) in [("sla/national.yaml", "national"), ("rules/31/route.rhai", "region 31")] {
        let theirs = pack_copy();
        semarang_changes(theirs.path());
        append(theirs.path(), path, "# edited in Semarang");
        let r = publish(&s, theirs.path(), Some(&semarang));
        assert_eq!(r.status, 403, "{path}: {}", r.text());
        let detail = r.json()["detail"].as_str().unwrap().to_owned();
        assert!(detail.contains(&format!("{path} ({scope})")), "{detail}");
        assert!(!detail.contains(SEMARANG_SLA), "only the files out of scope are named: {detail}");
        assert_eq!(active(&s), second, "a refused publish changes nothing");
    }

    // A broken candidate in scope: 422 with the problem, the active pack stays.
    let broken = pack_copy();
    semarang_changes(broken.path());
    write(broken.path(), SEMARANG_RULE, "fn route(complaint, now) {\n  let x = ;\n}\n");
    let r = publish(&s, broken.path(), Some(&semarang));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.json()["detail"].as_str().unwrap().contains("rules/33.74/route.rhai:2:"), "{}", r.text());
    assert_eq!(active(&s), second);

    // Jawa Tengah's author reaches its kab/kota: Semarang's overlay back to 7 days, its rule kept.
    let province = s.token("policy_author", "33");
    let back = pack_copy();
    semarang_changes(back.path());
    std::fs::copy(crate::root().join("policies/lapor").join(SEMARANG_SLA), back.path().join(SEMARANG_SLA)).unwrap();
    let r = publish(&s, back.path(), Some(&province));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["files"], json!([{"path": SEMARANG_SLA, "change": "modified", "scope": "region 33.74"}]));
    let third = active(&s);

    // The national author reaches everything; the same pack again changes nothing.
    let national = s.token("policy_author", "kemenpanrb");
    append(back.path(), "sla/national.yaml", "# reviewed nationally");
    append(back.path(), "rules/31/route.rhai", "// reviewed nationally");
    let r = publish(&s, back.path(), Some(&national));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["scope"], "national");
    assert_eq!(r.json()["files"].as_array().unwrap().len(), 2);
    let fourth = active(&s);
    assert_ne!(fourth, third);
    let r = publish(&s, back.path(), Some(&national));
    assert_eq!((r.status, r.json()["outcome"].as_str()), (200, Some("unchanged")), "{}", r.text());

    // Only policy authors publish.
    for (role, agency) in [("admin", "kemenpanrb"), ("officer", "33.74"), ("supervisor", "kemenpanrb")] {
        let r = publish(&s, back.path(), Some(&s.token(role, agency)));
        assert_eq!(r.status, 403, "{role}: {}", r.text());
    }
    let r = publish(&s, back.path(), None);
    assert_eq!(r.status, 401, "{}", r.text());
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(active(&s), fourth);

    // The record, for the national admin only.
    let list = s.get("/v1/packs/publishes");
    assert_eq!(list.status, 200, "{}", list.text());
    let items = list.json()["items"].as_array().unwrap().clone();
    let outcomes: Vec<&str> = items.iter().map(|i| i["outcome"].as_str().unwrap()).collect();
    assert_eq!(
        outcomes,
        ["unchanged", "published", "published", "invalid", "out_of_scope", "out_of_scope", "published"]
    );
    let (last, oldest) = (&items[0], &items[6]);
    assert_eq!(
        (last["hash_before"].as_str(), last["hash_after"].as_str()),
        (Some(fourth.as_str()), Some(fourth.as_str()))
    );
    assert_eq!(oldest, &rec, "the record is what the publish answered");
    let refused = &items[4];
    assert_eq!(
        (refused["actor"].as_str(), refused["hash_after"].as_str()),
        (Some("policy_author-33.74"), Some(second.as_str()))
    );
    assert!(refused["detail"].as_str().unwrap().contains("rules/31/route.rhai (region 31)"), "{refused}");
    assert_eq!(items[1]["scope"], "national");
    assert_eq!(items[2]["actor"], "policy_author-33");
    let page = s.get("/v1/packs/publishes?limit=4").json();
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let rest = s.get(&format!("/v1/packs/publishes?limit=4&cursor={cursor}")).json();
    assert_eq!(rest["items"].as_array().unwrap(), &items[4..].to_vec());
    assert_eq!(rest["next_cursor"], Value::Null);
    for (role, agency) in
        [("admin", "33.74"), ("admin", "33"), ("policy_author", "kemenpanrb"), ("supervisor", "kemenpanrb")]
    {
        let r = s.get_as("/v1/packs/publishes", Some(&s.token(role, agency)));
        assert_eq!(r.status, 403, "{role}@{agency}: {}", r.text());
    }
    assert_eq!(s.get_as("/v1/packs/publishes", None).status, 401);
    assert_eq!(s.get("/v1/packs/publishes?limit=0").status, 422);
}

/// `policy publish DIR --server URL` publishes over HTTP and prints the record; a refusal exits 1
/// naming the file.
#[test]
fn the_cli_publishes_over_http_and_names_a_refused_file() {
    let s = Server::start_with(Db::Sqlite, &["--pack-poll", "0", "--no-workers"]);
    let first = active(&s);
    let token = s.token("policy_author", "33.74");
    let cli = |dir: &Path, token_env: bool| {
        let mut cmd = s.command();
        cmd.args(["policy", "publish", dir.to_str().unwrap(), "--server", &s.base]);
        if token_env {
            cmd.env("ADUAN_TOKEN", &token);
        } else {
            cmd.args(["--token", &token]);
        }
        cmd.output().unwrap()
    };

    let mine = pack_copy();
    semarang_changes(mine.path());
    let o = cli(mine.path(), true);
    assert!(o.status.success(), "{}{}", stdout(&o), stderr(&o));
    let out = stdout(&o);
    let now = active(&s);
    assert_ne!(now, first);
    assert!(out.contains(&format!("published: pack {now} (was {first}), scope 33.74, 2 files changed")), "{out}");
    assert!(out.contains(&format!("added    {SEMARANG_RULE} (region 33.74)")), "{out}");
    assert!(out.contains("bucket revision "), "{out}");

    append(mine.path(), "sla/national.yaml", "# edited in Semarang");
    let o = cli(mine.path(), false);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(stderr(&o).contains("not published (403 forbidden)"), "{}", stderr(&o));
    assert!(stderr(&o).contains("sla/national.yaml (national)"), "{}", stderr(&o));
    assert_eq!(active(&s), now);

    let o =
        s.command().args(["policy", "publish", mine.path().to_str().unwrap(), "--server", &s.base]).output().unwrap();
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("--server needs a policy author's token"), "{}", stderr(&o));
}

/// A replica that has not reached NATS publishes on its own (no bucket revision) and, once it
/// connects, writes the pack to the bucket instead of taking the older one the bucket held.
#[test]
fn a_replica_without_nats_publishes_alone_and_gives_the_bucket_the_pack_on_connecting() {
    use base64::Engine as _;
    let mut nats = NatsServer::start();
    let prefix = crate::support::fresh_prefix();
    let bucket = format!("{}_PACKS", prefix.to_uppercase());
    // The bucket holds an older pack (the national one with a Denpasar overlay), as after a publish
    // this replica missed.
    let older = pack_copy();
    write(older.path(), "sla/51.71-kota-denpasar.yaml", "region: \"51.71\"\nclocks:\n  respond: {working_days: 4}\n");
    let files: Vec<Value> = pack_body(older.path())["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let bytes = f["content"].as_str().unwrap().as_bytes();
            json!({"path": f["path"], "base64": base64::engine::general_purpose::STANDARD.encode(bytes)})
        })
        .collect();
    block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.unwrap());
        let config = async_nats::jetstream::kv::Config {
            bucket: bucket.clone(),
            description: "Aduan policy packs".into(),
            history: 5,
            ..Default::default()
        };
        let kv = js.create_or_update_key_value(config).await.unwrap();
        kv.put("active", serde_json::to_vec(&json!({"files": files})).unwrap().into()).await.unwrap();
    });
    nats.stop();

    let s = Server::start_on_with_prefix(Db::Sqlite, &nats, &prefix);
    let first = active(&s);
    let mine = pack_copy();
    semarang_changes(mine.path());
    let r = publish(&s, mine.path(), Some(&s.token("policy_author", "33.74")));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["bucket_revision"], Value::Null, "no NATS: not in the bucket yet");
    let published = r.json()["hash_after"].as_str().unwrap().to_owned();
    assert_ne!(published, first);
    assert_eq!(active(&s), published);

    nats.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let latest = block_on(async {
            let js = async_nats::jetstream::new(async_nats::connect(nats.url()).await.ok()?);
            let kv = js.get_key_value(&bucket).await.ok()?;
            kv.get("active").await.ok().flatten()
        });
        let latest: Value = latest.map(|v| serde_json::from_slice(&v).unwrap()).unwrap_or_default();
        let paths: Vec<&str> =
            latest["files"].as_array().into_iter().flatten().filter_map(|f| f["path"].as_str()).collect();
        if paths.contains(&SEMARANG_RULE) {
            break;
        }
        assert!(Instant::now() < deadline, "the bucket never got the published pack:\n{}", s.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(active(&s), published, "the replica kept its pack over the bucket's older one");

    // Connected now: the next publish goes through the bucket.
    let national = s.token("policy_author", "kemenpanrb");
    append(mine.path(), "sla/national.yaml", "# reviewed nationally");
    let r = publish(&s, mine.path(), Some(&national));
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.json()["bucket_revision"].as_u64().is_some(), "{}", r.text());
    let last = r.json()["hash_after"].as_str().unwrap().to_owned();
    assert_eq!(active(&s), last);
    // Every activation was a publish's own: the watch never took the bucket's older pack.
    let activated: Vec<Value> = crate::support::read_stream(nats.url(), &s.stream("EVT"), 2)
        .into_iter()
        .filter(|m| m.payload["type"] == "pack_activated")
        .map(|m| m.payload["data"]["source"].clone())
        .collect();
    assert_eq!(
        activated,
        [
            json!("published by policy_author:policy_author-33.74@33.74"),
            json!("published by policy_author:policy_author-kemenpanrb@kemenpanrb")
        ]
    );
}

/// What `POST /v1/packs` refuses before comparing anything: no token (401) and a role that may not
/// publish (403) before the body is read; then the body's type, size and shape, and files the engine
/// may not read, each named.
#[test]
fn a_bad_upload_is_refused_naming_what() {
    let s = Server::start_with(Db::Sqlite, &["--pack-poll", "0", "--no-workers"]);
    let author = format!("Bearer {}", s.token("policy_author", "33.74"));
    let admin = format!("Bearer {}", s.admin);
    let post = |auth: Option<&str>, ct: &str, body: &[u8]| {
        let mut headers = vec![("Content-Type", ct)];
        headers.extend(auth.map(|a| ("Authorization", a)));
        http::request("POST", &s.url("/v1/packs"), &headers, Some(body))
    };
    let json = "application/json";
    assert_eq!(post(None, json, b"junk").status, 401);
    assert_eq!(post(Some(&admin), json, b"junk").status, 403, "the role is asked before the body is read");
    assert_eq!(post(Some(&author), "text/plain", b"{}").status, 415);
    assert_eq!(post(Some(&author), json, b"{\"files\": [").status, 400);
    let big = vec![b' '; 40 * 1024 * 1024 + 1];
    assert_eq!(post(Some(&author), json, &big).status, 413);
    let cases = [
        (json!({"files": [], "extra": 1}), "extra"),
        (json!({"files": [{"path": "pack.yaml"}]}), "files[0].content"),
        (json!({"files": [{"path": "../pack.yaml", "content": ""}]}), "files[0].path"),
        (json!({"files": [{"path": "README.md", "content": ""}]}), "files[0].path"),
        (
            json!({"files": [{"path": "pack.yaml", "content": ""}, {"path": "pack.yaml", "content": ""}]}),
            "files[1].path",
        ),
    ];
    for (body, field) in cases {
        let r = post(Some(&author), json, body.to_string().as_bytes());
        assert_eq!(r.status, 422, "{body}: {}", r.text());
        assert_eq!(r.json()["field"], field, "{body}: {}", r.text());
    }
    assert!(s.get("/v1/packs/publishes").json()["items"].as_array().unwrap().is_empty(), "nothing was offered");
}
