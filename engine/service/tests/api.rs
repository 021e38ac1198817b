//! The HTTP API in process (SQLite in a temp dir, no NATS): every bad input names its field, hostile
//! input (NUL bytes, huge fields, LIKE wildcards, wrong content types) on SQLite and PostgreSQL, the
//! problems and their headers, the rate limit, and the OpenAPI document (validated by
//! openapi-spec-validator when `ADUAN_OPENAPI_VALIDATOR` names it; `deploy/openapi-check.sh` installs it).

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, RwLock};

use aduan_service::api::{self, ApiState, RateKey, RateLimiter};
use aduan_service::crypto::DataKey;
use aduan_service::metrics::Metrics;
use aduan_service::service::Service;
use aduan_service::store::{Store, StoreOptions};
use aduan_testkit::http::{request, Response};
use aduan_testkit::party::{party_for, Party};
use aduan_testkit::pg::TestDatabase;
use chrono::Utc;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use tokio_util::sync::CancellationToken;

/// The repository root. The package's directory is read when the test runs (cargo and nextest set
/// it), so a test binary built from another checkout sharing the target dir still finds this one.
fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
        .join("../..")
}

/// A server on a free loopback port, stopped (and its database removed) on drop.
struct Api {
    base: String,
    service: Service,
    /// A national admin's token: reads and admin actions go with it unless a test names a credential.
    admin: String,
    /// Officer tokens by agency, made when first needed.
    officers: Mutex<HashMap<String, String>>,
    /// Reporter tokens of the cases submitted through the harness, by id.
    reporters: Mutex<HashMap<String, String>>,
    shutdown: CancellationToken,
    _dir: tempfile::TempDir,
    _pg: Option<TestDatabase>,
}

impl Drop for Api {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

impl Api {
    async fn start(rate_limit: u32) -> Api {
        Api::start_on(false, rate_limit).await
    }

    /// On a fresh PostgreSQL database when `postgres`, else on SQLite in a temp dir.
    async fn start_on(postgres: bool, rate_limit: u32) -> Api {
        let dir = tempfile::tempdir().expect("tempdir");
        let pg = if postgres { Some(TestDatabase::create().await) } else { None };
        let url = match &pg {
            Some(db) => db.url().to_owned(),
            None => format!("sqlite://{}", dir.path().join("aduan.db").display()),
        };
        let store = Store::connect(&url, StoreOptions::default()).await.expect("connect");
        store.migrate().await.expect("migrate");
        let pack = aduan_service::packs::load_pack(&root().join("policies/lapor")).expect("pack");
        let key = DataKey::from_base64(&DataKey::generate_base64()).expect("key");
        let service = Service::new(store, Arc::new(pack), key, "aduan", Arc::new(Metrics::new()));
        let admin = service.create_token("admin", None, Some("test-admin"), Utc::now()).await.expect("token").token;
        let state = ApiState {
            service: service.clone(),
            bus: Arc::new(RwLock::new(None)),
            rate: Arc::new(RateLimiter::new(rate_limit)),
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr: SocketAddr = listener.local_addr().expect("addr");
        let shutdown = CancellationToken::new();
        tokio::spawn(api::serve(listener, state, shutdown.clone()));
        Api {
            base: format!("http://{addr}"),
            service,
            admin,
            officers: Mutex::default(),
            reporters: Mutex::default(),
            shutdown,
            _dir: dir,
            _pg: pg,
        }
    }

    /// A call as the party the workflow expects (`aduan_testkit::party`): submissions as the public,
    /// actions as the admin, the holder's officer or the reporter, reads as the national admin.
    async fn call(&self, method: &'static str, path: &str, body: Option<Vec<u8>>) -> Response {
        let bearer = self.credential_for(method, path, body.as_deref()).await;
        let auth = bearer.map(|t| format!("Bearer {t}"));
        let mut headers = vec![];
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        if let Some(a) = &auth {
            headers.push(("authorization", a.as_str()));
        }
        self.call_with(method, path, &headers, body).await
    }

    async fn credential_for(&self, method: &str, path: &str, body: Option<&[u8]>) -> Option<String> {
        if method == "GET" {
            return Some(self.admin.clone());
        }
        let body = body.and_then(|b| serde_json::from_slice::<Value>(b).ok()).unwrap_or(Value::Null);
        let Some(id) = path.strip_prefix("/v1/complaints/").and_then(|p| p.strip_suffix("/actions")) else {
            // Complaints typed in by an admin may be back-dated; the rest come from the public.
            return body.get("received_at").map(|_| self.admin.clone());
        };
        let action = body.get("action").and_then(Value::as_str).map(str::to_owned);
        match party_for(action.as_deref().unwrap_or_default()) {
            Party::Public => None,
            Party::Admin => Some(self.admin.clone()),
            Party::Reporter => self.reporters.lock().expect("lock").get(id).cloned(),
            Party::HolderOfficer => Some(self.officer_of_holder(id).await),
        }
    }

    /// An officer token of the agency holding case `id` (the root's when it has no holder).
    async fn officer_of_holder(&self, id: &str) -> String {
        let caller = self.service.authenticate(Some(&self.admin)).await.expect("admin");
        let holder = match self.service.get(id, &caller).await {
            Ok(v) => v.agency.unwrap_or_else(|| "kemenpanrb".into()),
            Err(_) => "kemenpanrb".into(),
        };
        if let Some(t) = self.officers.lock().expect("lock").get(&holder) {
            return t.clone();
        }
        let made = self.service.create_token("officer", Some(&holder), None, Utc::now()).await.expect("token");
        self.officers.lock().expect("lock").insert(holder, made.token.clone());
        made.token
    }

    async fn call_with(&self, method: &str, path: &str, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Response {
        let url = format!("{}{path}", self.base);
        let method = method.to_owned();
        let headers: Vec<(String, String)> = headers.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        tokio::task::spawn_blocking(move || {
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
            request(&method, &url, &headers, body.as_deref())
        })
        .await
        .expect("request task")
    }

    async fn post(&self, path: &str, body: &Value) -> Value {
        let r = self.call("POST", path, Some(body.to_string().into_bytes())).await;
        assert!(r.status < 300, "POST {path} {body}: {} {}", r.status, r.text());
        let v = r.json();
        if let (Some(id), Some(t)) = (v["id"].as_str(), v["reporter_token"].as_str()) {
            self.reporters.lock().expect("lock").insert(id.to_owned(), t.to_owned());
        }
        v
    }

    /// A new case, and its id.
    async fn case(&self) -> String {
        self.post("/v1/complaints", &submission()).await["id"].as_str().expect("id").to_owned()
    }

    async fn act(&self, id: &str, body: Value) {
        self.post(&format!("/v1/complaints/{id}/actions"), &body).await;
    }
}

fn submission() -> Value {
    json!({"kind": "pengaduan", "channel": "web", "title": "Jalan berlubang", "body": "Di depan pasar",
        "category": "infrastruktur", "region": "35.78", "privacy": "public",
        "reporter": {"name": "Budi", "contact": "0812"}})
}

/// A bad input: the body (or its raw text) and the status and field expected.
struct Case {
    what: String,
    body: Vec<u8>,
    status: u16,
    field: Option<&'static str>,
}

fn case(what: impl Into<String>, body: &Value, status: u16, field: Option<&'static str>) -> Case {
    Case { what: what.into(), body: body.to_string().into_bytes(), status, field }
}

/// `base` with `key` set to `value` (`None`: removed); `key` may be `reporter.name`.
fn with(base: &Value, key: &str, value: Option<Value>) -> Value {
    let mut v = base.clone();
    let (obj, key) = match key.split_once('.') {
        Some((outer, inner)) => (&mut v[outer], inner),
        None => (&mut v, key),
    };
    let obj = obj.as_object_mut().expect("object");
    match value {
        Some(value) => obj.insert(key.to_owned(), value),
        None => obj.remove(key),
    };
    v
}

/// The bad submissions: every field wrong in type, null, missing, out of range or too long, unknown
/// variants, extra fields, and bodies that are not JSON.
fn bad_submissions() -> Vec<Case> {
    let base = submission();
    let mut cases = Vec::new();
    let strings = ["kind", "channel", "title", "body", "category", "region", "privacy", "command_id", "received_at"];
    for f in strings.iter().copied().chain(["reporter.name", "reporter.contact"]) {
        let field: &'static str = f;
        cases.push(case(format!("{f}: a number"), &with(&base, f, Some(json!(5))), 422, Some(field)));
        cases.push(case(format!("{f}: an array"), &with(&base, f, Some(json!(["x"]))), 422, Some(field)));
        cases.push(case(format!("{f}: an object"), &with(&base, f, Some(json!({"a": 1}))), 422, Some(field)));
    }
    cases.push(case("reporter: a string", &with(&base, "reporter", Some(json!("Budi"))), 422, Some("reporter")));
    cases.push(case("reporter: a number", &with(&base, "reporter", Some(json!(1))), 422, Some("reporter")));
    for f in ["kind", "channel", "title", "body"] {
        cases.push(case(format!("{f}: null"), &with(&base, f, Some(Value::Null)), 422, Some(f)));
        cases.push(case(format!("{f}: missing"), &with(&base, f, None), 422, Some(f)));
    }
    for (f, v) in [("kind", "keluhan"), ("channel", "fax"), ("privacy", "secret"), ("kind", "Pengaduan")] {
        cases.push(case(format!("{f}: unknown `{v}`"), &with(&base, f, Some(json!(v))), 422, Some(f)));
    }
    let long = |n: usize| Some(json!("x".repeat(n)));
    cases.push(case("title: 201 characters", &with(&base, "title", long(201)), 422, Some("title")));
    cases.push(case("body: 20,001 characters", &with(&base, "body", long(20_001)), 422, Some("body")));
    cases.push(case("title: blank", &with(&base, "title", Some(json!("  "))), 422, Some("title")));
    for (v, what) in [("35-78", "dash"), ("3578", "no dot"), ("35.7", "short"), ("", "empty")] {
        cases.push(case(format!("region: {what}"), &with(&base, "region", Some(json!(v))), 422, Some("region")));
    }
    cases.push(case("category: unknown", &with(&base, "category", Some(json!("nope"))), 422, Some("category")));
    let offline = with(&base, "channel", Some(json!("counter")));
    let at = |days: i64| Some(json!((chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()));
    for (what, v) in [("in the future", at(1)), ("31 days back", at(-31)), ("not a time", Some(json!("kemarin")))] {
        cases.push(case(format!("received_at: {what}"), &with(&offline, "received_at", v), 422, Some("received_at")));
    }
    cases.push(case("received_at: on the web", &with(&base, "received_at", at(-1)), 422, Some("received_at")));
    cases.push(case("an extra field", &with(&base, "oops", Some(json!(1))), 422, Some("oops")));
    // An unknown member of `reporter` is not named: its name may be the identity (problem.rs).
    cases.push(case("an extra reporter field", &with(&base, "reporter.nme", Some(json!("B"))), 422, Some("reporter")));
    cases.push(case("not an object", &json!(["pengaduan"]), 422, None));
    for text in ["{\"kind\":", "", "{\"kind\": 'x'}", "{} {}", "{\"a\":1,}"] {
        cases.push(Case { what: format!("not JSON: {text:?}"), body: text.into(), status: 400, field: None });
    }
    cases
}

/// The bad actions, each on a case in a state that allows the action (so the field, not the state, is
/// at fault): per action, each of its fields wrong in type, null, missing, out of range, plus fields of
/// other actions, unknown actions and extra fields.
fn bad_actions() -> Vec<(&'static str, Case)> {
    let mut cases = Vec::new();
    let mut push = |state: &'static str, what: String, body: Value, field: &'static str| {
        cases.push((state, case(what, &body, 422, Some(field))));
    };
    let actions: [(&str, &str, Value); 10] = [
        (
            "submitted",
            "verify",
            json!({"agency": "35.78/dinas-pu", "category": "infrastruktur", "investigation": false}),
        ),
        ("submitted", "archive", json!({"reason": "duplikat"})),
        ("assigned", "forward", json!({"agency": "35.78/dinkes", "reason": "salah alamat"})),
        ("assigned", "respond", json!({"message": "ditangani"})),
        ("assigned", "request_info", json!({"message": "alamat?"})),
        ("awaiting", "provide_info", json!({"message": "Jl. Pasar"})),
        ("assigned", "resolve", json!({"message": "selesai"})),
        ("resolved", "reopen", json!({"message": "belum"})),
        ("resolved", "rate", json!({"score": 4})),
        ("assigned", "escalate", json!({"reason": "lambat"})),
    ];
    for (state, action, fields) in actions {
        let base = with(&fields, "action", Some(json!(action)));
        for (f, v) in fields.as_object().expect("object") {
            let field: &'static str = ["agency", "category", "investigation", "reason", "message", "score"]
                .into_iter()
                .find(|k| k == f)
                .expect("known field");
            let wrong = if v.is_string() { json!(7) } else { json!("7") };
            push(state, format!("{action}.{f}: wrong type"), with(&base, f, Some(wrong)), field);
            push(state, format!("{action}.{f}: an array"), with(&base, f, Some(json!([v]))), field);
            if v.is_string() && action != "verify" {
                push(state, format!("{action}.{f}: null"), with(&base, f, Some(Value::Null)), field);
                push(state, format!("{action}.{f}: missing"), with(&base, f, None), field);
                push(state, format!("{action}.{f}: blank"), with(&base, f, Some(json!(" "))), field);
            }
        }
        let foreign = if action == "rate" { ("message", json!("x")) } else { ("score", json!(3)) };
        push(state, format!("{action}: a field of another action"), with(&base, foreign.0, Some(foreign.1)), foreign.0);
        push(state, format!("{action}: an extra field"), with(&base, "mesage", Some(json!("x"))), "mesage");
        push(
            state,
            format!("{action}: complaint of the wrong type"),
            with(&base, "complaint", Some(json!(1))),
            "complaint",
        );
        push(state, format!("{action}: another complaint"), with(&base, "complaint", Some(json!("x"))), "complaint");
        push(
            state,
            format!("{action}: command_id of the wrong type"),
            with(&base, "command_id", Some(json!(1))),
            "command_id",
        );
    }
    let rate = json!({"action": "rate"});
    for (what, score) in
        [("0", json!(0)), ("6", json!(6)), ("-1", json!(-1)), ("1.5", json!(1.5)), ("2^70", json!(1e21))]
    {
        push("resolved", format!("rate.score: {what}"), with(&rate, "score", Some(score)), "score");
    }
    push("resolved", "rate.score: missing".into(), rate.clone(), "score");
    push(
        "assigned",
        "forward to the holder".into(),
        json!({"action": "forward", "agency": "35.78/dinas-pu", "reason": "x"}),
        "agency",
    );
    push(
        "assigned",
        "forward to an unknown agency".into(),
        json!({"action": "forward", "agency": "nope", "reason": "x"}),
        "agency",
    );
    push("submitted", "verify to an unknown agency".into(), json!({"action": "verify", "agency": "nope"}), "agency");
    push("submitted", "verify an unknown category".into(), json!({"action": "verify", "category": "nope"}), "category");
    push(
        "submitted",
        "verify, investigation a string".into(),
        json!({"action": "verify", "investigation": "yes"}),
        "investigation",
    );
    for (what, body) in [
        ("action: missing", json!({"message": "x"})),
        ("action: null", json!({"action": null})),
        ("action: unknown", json!({"action": "fly"})),
        ("action: a number", json!({"action": 1})),
        ("action: an object", json!({"action": {"verify": true}})),
    ] {
        push("submitted", what.into(), body, "action");
    }
    for text in ["{\"action\":", "verify", "{\"action\":\"verify\"} x"] {
        cases.push((
            "submitted",
            Case { what: format!("not JSON: {text:?}"), body: text.into(), status: 400, field: None },
        ));
    }
    cases
}

/// Checks one answer against its case; `None` when it matches, else what went wrong.
fn mismatch(c: &Case, r: &Response) -> Option<String> {
    let ct = r.header("content-type").unwrap_or_default().to_owned();
    let body: Value = serde_json::from_slice(&r.body).unwrap_or(Value::Null);
    let field = body["field"].as_str();
    if r.status == c.status && field == c.field && ct == "application/problem+json" {
        return None;
    }
    Some(format!("{}: expected {} {:?}, got {} {:?} ({ct}) {}", c.what, c.status, c.field, r.status, field, r.text()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_names_its_field() {
    let api = Api::start(0).await;
    let submitted = api.case().await;
    let assigned = api.case().await;
    api.act(&assigned, json!({"action": "verify", "agency": "35.78/dinas-pu"})).await;
    let awaiting = api.case().await;
    api.act(&awaiting, json!({"action": "verify", "agency": "35.78/dinas-pu"})).await;
    api.act(&awaiting, json!({"action": "request_info", "message": "alamat?"})).await;
    let resolved = api.case().await;
    api.act(&resolved, json!({"action": "verify", "agency": "35.78/dinas-pu"})).await;
    api.act(&resolved, json!({"action": "resolve", "message": "selesai"})).await;

    let mut wrong = Vec::new();
    let mut total = 0;
    for c in bad_submissions() {
        total += 1;
        let r = api.call("POST", "/v1/complaints", Some(c.body.clone())).await;
        wrong.extend(mismatch(&c, &r));
    }
    for (state, c) in bad_actions() {
        total += 1;
        let id = match state {
            "submitted" => &submitted,
            "assigned" => &assigned,
            "awaiting" => &awaiting,
            _ => &resolved,
        };
        let r = api.call("POST", &format!("/v1/complaints/{id}/actions"), Some(c.body.clone())).await;
        wrong.extend(mismatch(&c, &r));
    }
    for (query, field) in [
        ("limit=abc", Some("limit")),
        ("limit=0", Some("limit")),
        ("limit=201", Some("limit")),
        ("overdue=maybe", Some("overdue")),
        ("cursor=zz", Some("cursor")),
        ("agensi=35", Some("agensi")),
    ] {
        total += 1;
        let c = Case { what: format!("GET /v1/complaints?{query}"), body: vec![], status: 422, field };
        wrong.extend(mismatch(&c, &api.call("GET", &format!("/v1/complaints?{query}"), None).await));
    }
    for (query, field) in [("from=yesterday", "from"), ("to=1", "to"), ("agency=35&x=1", "x")] {
        total += 1;
        let c = Case { what: format!("GET /v1/stats?{query}"), body: vec![], status: 422, field: Some(field) };
        wrong.extend(mismatch(&c, &api.call("GET", &format!("/v1/stats?{query}"), None).await));
    }
    eprintln!("{} of {total} bad inputs answered wrongly", wrong.len());
    assert!(wrong.is_empty(), "{} of {total} bad inputs answered wrongly:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn problems_carry_their_status_title_and_headers() {
    let api = Api::start(2).await;
    let id = api.case().await;
    let r = api
        .call("POST", &format!("/v1/complaints/{id}/actions"), Some(br#"{"action":"escalate","reason":"x"}"#.to_vec()))
        .await;
    assert_eq!((r.status, r.header("content-type")), (409, Some("application/problem+json")));
    assert_eq!(
        r.json(),
        json!({"title": "conflict", "status": 409, "allowed": ["archive", "verify"],
        "detail": "`escalate` is not allowed while the case is submitted"})
    );
    let r = api.call("GET", "/v1/complaints/no-such-id", None).await;
    assert_eq!(r.json(), json!({"title": "not found", "status": 404, "detail": "no complaint `no-such-id`"}));
    let r = api.call("GET", "/nowhere", None).await;
    assert_eq!((r.status, r.json()["title"].clone()), (404, json!("not found")));
    let big = vec![b' '; api::BODY_LIMIT + 1];
    let r = api.call("POST", "/v1/complaints", Some(big)).await;
    assert_eq!((r.status, r.json()["title"].clone()), (413, json!("payload too large")));

    // The limit is per client IP: two submissions (one made above), then 429 with Retry-After.
    api.post("/v1/complaints", &submission()).await;
    let r = api.call("POST", "/v1/complaints", Some(submission().to_string().into_bytes())).await;
    assert_eq!((r.status, r.json()["title"].clone()), (429, json!("too many requests")));
    let retry: u64 = r.header("retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=60).contains(&retry), "Retry-After {retry}");
    // Reads by id are not limited; reads by tracking id are.
    assert_eq!(api.call("GET", &format!("/v1/complaints/{id}"), None).await.status, 200);
    assert_eq!(api.call_with("GET", "/v1/complaints/ABCDE-FGHJK", &[], None).await.status, 429, "the public, by IP");
}

#[test]
fn the_rate_limiter_allows_its_quota_per_ip_or_token_then_names_the_wait() {
    let limiter = RateLimiter::new(3);
    let (a, b) = (RateKey::Ip("10.0.0.1".parse().unwrap()), RateKey::Ip("10.0.0.2".parse().unwrap()));
    assert!((0..3).all(|_| limiter.check(&a).is_ok()));
    let wait = limiter.check(&a).expect_err("over the quota");
    assert!((1..=20).contains(&wait), "one request back every 20 s: {wait}");
    assert!(limiter.check(&b).is_ok(), "another IP has its own quota");
    assert!(limiter.check(&RateKey::Token("gateway".into())).is_ok(), "so has each token");
    let off = RateLimiter::new(0);
    assert!((0..1000).all(|_| off.check(&a).is_ok()));
}

/// Runs openapi-spec-validator on `doc` when `ADUAN_OPENAPI_VALIDATOR` names it: `Err(its report)` when
/// the document is invalid.
fn validate(doc: &Value) -> Result<(), String> {
    let Ok(validator) = std::env::var("ADUAN_OPENAPI_VALIDATOR") else {
        eprintln!("ADUAN_OPENAPI_VALIDATOR unset: not validating (eval \"$(bash deploy/openapi-check.sh)\")");
        return Ok(());
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("openapi.json");
    std::fs::write(&file, serde_json::to_vec_pretty(doc).expect("json")).expect("write");
    let out = std::process::Command::new(&validator)
        .args(["--validation-errors", "all"])
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("run {validator}: {e}"));
    let report = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    if out.status.success() {
        Ok(())
    } else {
        Err(report)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_is_valid() {
    let api = Api::start(0).await;
    let r = api.call("GET", "/openapi.json", None).await;
    assert_eq!(r.status, 200);
    let doc = r.json();
    if let Err(report) = validate(&doc) {
        panic!("openapi-spec-validator rejects the document:\n{report}");
    }
    for path in [
        "/v1/complaints",
        "/v1/complaints/{id}",
        "/v1/complaints/{id}/actions",
        "/v1/stats",
        "/v1/packs",
        "/v1/packs/publishes",
        "/healthz",
        "/readyz",
        "/metrics",
        "/open311/v2/discovery.{format}",
        "/open311/v2/services.{format}",
        "/open311/v2/services/{service_code}.{format}",
        "/open311/v2/requests.{format}",
        "/open311/v2/requests/{service_request_id}.{format}",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} is documented");
    }
    let schemas = &doc["components"]["schemas"];
    assert_eq!(schemas["Channel"]["enum"], json!(aduan_service::service::CHANNELS));
    assert_eq!(schemas["ReportKind"]["enum"], json!(["pengaduan", "aspirasi", "permintaan_informasi"]));
    assert_eq!(schemas["Privacy"]["enum"], json!(["public", "anonymous", "confidential"]));
    assert_eq!(schemas["PublishOutcome"]["enum"], json!(["published", "unchanged", "out_of_scope", "invalid"]));
    let pack = aduan_service::packs::load_pack(&root().join("policies/lapor")).expect("pack");
    let mut actions: Vec<String> = pack.workflow.states().iter().flat_map(|s| pack.workflow.allowed_from(s)).collect();
    let mut documented: Vec<String> = serde_json::from_value(schemas["Action"]["enum"].clone()).expect("enum");
    actions.sort();
    actions.dedup();
    documented.sort();
    assert_eq!(documented, actions, "the Action enum lists the workflow's actions");
    // The documented lengths are the ones decoding enforces (wire::text).
    use aduan_service::wire::{LONG, REASON, SHORT};
    let max = |schema: &str, field: &str| schemas[schema]["properties"][field]["maxLength"].as_u64();
    for (schema, field, limit) in [
        ("Submission", "title", SHORT),
        ("Submission", "body", LONG),
        ("Submission", "command_id", SHORT),
        ("Reporter", "name", SHORT),
        ("ActionRequest", "message", LONG),
        ("ActionRequest", "reason", REASON),
        ("ActionRequest", "agency", SHORT),
    ] {
        assert_eq!(max(schema, field), Some(limit as u64), "{schema}.{field}");
    }
    for (path, method, status) in [("/v1/complaints", "post", "422"), ("/v1/complaints/{id}/actions", "post", "409")] {
        let problem = &doc["paths"][path][method]["responses"][status]["content"]["application/problem+json"];
        assert_eq!(problem["schema"]["$ref"], "#/components/schemas/Problem", "{method} {path} {status}");
    }
}

/// What an attacker sends, and the status and field each must get: NUL bytes in every string field, a
/// path id and the query; fields far past their limits; a body that is not JSON by its content type.
fn hostile_inputs() -> Vec<(&'static str, Case)> {
    let base = submission();
    let nul = Some(json!("ab\u{0}cd"));
    let mut cases = Vec::new();
    let fields = ["kind", "channel", "title", "body", "category", "region", "privacy", "command_id"];
    for f in fields.into_iter().chain(["reporter.name", "reporter.contact"]) {
        cases.push(("submit", case(format!("{f}: a NUL byte"), &with(&base, f, nul.clone()), 422, Some(f))));
    }
    let huge = Some(json!("x".repeat(900_000)));
    for f in ["reporter.name", "reporter.contact", "command_id", "title", "body"] {
        cases.push(("submit", case(format!("{f}: 900 KB"), &with(&base, f, huge.clone()), 422, Some(f))));
    }
    let respond = json!({"action": "respond", "message": "ok"});
    for f in ["message", "command_id"] {
        cases.push((
            "assigned",
            case(format!("respond {f}: a NUL byte"), &with(&respond, f, nul.clone()), 422, Some(f)),
        ));
        cases.push(("assigned", case(format!("respond {f}: 900 KB"), &with(&respond, f, huge.clone()), 422, Some(f))));
    }
    let forward = json!({"action": "forward", "agency": "35.78/dinkes", "reason": "bukan kewenangan"});
    for f in ["agency", "reason"] {
        cases.push((
            "assigned",
            case(format!("forward {f}: a NUL byte"), &with(&forward, f, nul.clone()), 422, Some(f)),
        ));
    }
    cases.push((
        "assigned",
        case("reason: 2,001 characters", &with(&forward, "reason", Some(json!("x".repeat(2001)))), 422, Some("reason")),
    ));
    cases.push(("assigned", case("action: a NUL byte", &with(&respond, "action", nul.clone()), 422, Some("action"))));
    let mb = json!({"action": "respond", "message": "x".repeat(1 << 20)});
    cases.push(("assigned", case("respond message: 1 MiB (over the body limit)", &mb, 413, None)));
    cases
}

/// Every answer is a problem (never a 5xx) whose text names no database; the status and field match.
fn hostile_mismatch(c: &Case, r: &Response) -> Option<String> {
    if let Some(leak) = database_word(&r.text()) {
        return Some(format!("{}: the answer quotes `{leak}`: {}", c.what, r.text()));
    }
    mismatch(c, r)
}

/// A word of a database error that an answer carries, if any.
fn database_word(text: &str) -> Option<&'static str> {
    let text = text.to_lowercase();
    ["postgres", "sqlite", "sqlx", "22021", "database error", "syntax error"].into_iter().find(|w| text.contains(w))
}

async fn hostile_input_is_turned_away(postgres: bool) {
    let api = Api::start_on(postgres, 0).await;
    let assigned = api.case().await;
    api.act(&assigned, json!({"action": "verify", "agency": "35.78/dinas-pu"})).await;
    let before = api.call("GET", "/v1/complaints?limit=200", None).await.json();
    let mut wrong = Vec::new();
    for (target, c) in hostile_inputs() {
        let path = match target {
            "submit" => "/v1/complaints".to_owned(),
            _ => format!("/v1/complaints/{assigned}/actions"),
        };
        wrong.extend(hostile_mismatch(&c, &api.call("POST", &path, Some(c.body.clone())).await));
    }
    let gets = [
        ("/v1/complaints/ab%00cd", "id"),
        ("/v1/complaints?status=ab%00cd", "status"),
        ("/v1/complaints?agency=ab%00cd", "agency"),
        ("/v1/complaints?cursor=ab%00cd", "cursor"),
        ("/v1/stats?agency=ab%00cd", "agency"),
    ];
    for (path, field) in gets {
        let c = Case { what: format!("GET {path}"), body: vec![], status: 422, field: Some(field) };
        wrong.extend(hostile_mismatch(&c, &api.call("GET", path, None).await));
    }
    let id_path = format!("/v1/complaints/{}/actions", "x".repeat(300));
    let c = case("a 300-character path id", &json!({"action": "verify"}), 422, Some("id"));
    wrong.extend(hostile_mismatch(&c, &api.call("POST", &id_path, Some(c.body.clone())).await));
    let key = "k".repeat(300);
    let body = submission().to_string().into_bytes();
    let headers = [("content-type", "application/json"), ("idempotency-key", key.as_str())];
    let c = Case {
        what: "a 300-character Idempotency-Key".into(),
        body: body.clone(),
        status: 422,
        field: Some("Idempotency-Key"),
    };
    wrong.extend(hostile_mismatch(&c, &api.call_with("POST", "/v1/complaints", &headers, Some(body.clone())).await));
    for ct in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let c = Case { what: format!("Content-Type {ct}"), body: body.clone(), status: 415, field: None };
        let r = api.call_with("POST", "/v1/complaints", &[("content-type", ct)], Some(body.clone())).await;
        wrong.extend(hostile_mismatch(&c, &r));
    }
    assert!(wrong.is_empty(), "{} hostile inputs answered wrongly:\n{}", wrong.len(), wrong.join("\n"));

    // Nothing already accepted was lost or changed, and nothing hostile was taken.
    let after = api.call("GET", "/v1/complaints?limit=200", None).await.json();
    assert_eq!(before, after, "the hostile inputs changed what is stored");
    // `application/…+json` and no Content-Type at all are taken as JSON.
    for headers in [&[("content-type", "application/merge-patch+json; charset=utf-8")][..], &[]] {
        let r = api.call_with("POST", "/v1/complaints", headers, Some(body.clone())).await;
        assert_eq!(r.status, 201, "{headers:?}: {}", r.text());
    }
    // Filter values are matched literally: LIKE's wildcards name no agency (404), and find nothing.
    for agency in ["%", "_", "35.78%", "35.78/%", "3_.78"] {
        let q = format!("/v1/complaints?agency={}", agency.replace('%', "%25"));
        let r = api.call("GET", &q, None).await;
        assert_eq!(r.status, 404, "{q} matched as a pattern: {}", r.text());
    }
    let r = api.call("GET", "/v1/complaints?agency=35.78/dinas-pu", None).await.json();
    assert_eq!(r["items"].as_array().map(Vec::len), Some(1), "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_turned_away_on_sqlite() {
    hostile_input_is_turned_away(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_input_is_turned_away_on_postgres() {
    hostile_input_is_turned_away(true).await;
}

/// Lists and statistics by scope: a regional government's queue holds the cases awaiting verification
/// filed in its region, its units count only what they hold or held, an unknown agency is a 404.
async fn scope_of_lists_and_statistics(postgres: bool) {
    let api = Api::start_on(postgres, 0).await;
    for _ in 0..3 {
        api.case().await; // awaiting verification in 35.78
    }
    for agency in ["35.78/dinkes", "35.78/dinkes", "35.78/dinas-pu"] {
        let id = api.case().await;
        api.act(&id, json!({"action": "verify", "agency": agency})).await;
    }
    let elsewhere = with(&submission(), "region", Some(json!("33.74")));
    api.post("/v1/complaints", &elsewhere).await;
    let api = &api;
    let count = |path: String| async move {
        let r = api.call("GET", &path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        r.json()["items"].as_array().map(Vec::len).unwrap_or_default()
    };
    assert_eq!(count("/v1/complaints?status=submitted&agency=35.78".into()).await, 3, "the city's queue");
    assert_eq!(count("/v1/complaints?status=submitted&agency=35".into()).await, 3, "the province's queue");
    assert_eq!(count("/v1/complaints?status=submitted&agency=33".into()).await, 1);
    assert_eq!(count("/v1/complaints?agency=35.78".into()).await, 6, "queue and units");
    assert_eq!(count("/v1/complaints?agency=35.78/dinkes".into()).await, 2, "a unit lists what it holds");
    assert_eq!(count("/v1/complaints?status=submitted&agency=35.78/dinkes".into()).await, 0);
    assert_eq!(count("/v1/complaints?status=submitted".into()).await, 4);

    let stats = |agency: &str| {
        let path = format!("/v1/stats?agency={agency}");
        async move { api.call("GET", &path, None).await }
    };
    let unit = stats("35.78/dinkes").await.json();
    assert_eq!(unit["total"], 2, "a unit counts only what it holds or held: {unit}");
    let city = stats("35.78").await.json();
    assert_eq!(city["total"], 6, "{city}");
    let r = stats("35.99/nope").await;
    assert_eq!((r.status, r.json()["title"].clone()), (404, json!("not found")), "{}", r.text());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_of_lists_and_statistics_on_sqlite() {
    scope_of_lists_and_statistics(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scope_of_lists_and_statistics_on_postgres() {
    scope_of_lists_and_statistics(true).await;
}

/// A sweep of generated bodies (common/inputs.rs) through the whole HTTP surface, submissions and actions
/// on a live case: every answer is below 500, a problem is problem+json, and none quotes the database.
async fn generated_bodies_never_break_the_service(postgres: bool) {
    use proptest::strategy::{Strategy, ValueTree};
    use proptest::test_runner::TestRunner;
    let api = Api::start_on(postgres, 0).await;
    let id = api.case().await;
    api.act(&id, json!({"action": "verify", "agency": "35.78/dinas-pu"})).await;
    let mut runner = TestRunner::deterministic();
    let mut draw = |fields: &'static [&'static str]| {
        common::inputs::object(fields).new_tree(&mut runner).expect("a body").current()
    };
    let mut wrong = Vec::new();
    for n in 0..300 {
        let (path, body) = if n % 2 == 0 {
            ("/v1/complaints".to_owned(), draw(&common::inputs::SUBMISSION_FIELDS))
        } else {
            (format!("/v1/complaints/{id}/actions"), draw(&common::inputs::ACTION_FIELDS))
        };
        let r = api.call("POST", &path, Some(body.to_string().into_bytes())).await;
        if r.status >= 500 {
            wrong.push(format!("POST {path} {body}: {} {}", r.status, r.text()));
        } else if r.status >= 400 {
            if r.header("content-type") != Some("application/problem+json") {
                wrong.push(format!("POST {path} {body}: {} is not problem+json", r.status));
            }
            if let Some(leak) = database_word(&r.text()) {
                wrong.push(format!("POST {path} {body}: the answer quotes `{leak}`: {}", r.text()));
            }
        }
    }
    assert!(wrong.is_empty(), "{} generated bodies answered wrongly:\n{}", wrong.len(), wrong.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_never_break_the_service_on_sqlite() {
    generated_bodies_never_break_the_service(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_bodies_never_break_the_service_on_postgres() {
    generated_bodies_never_break_the_service(true).await;
}
