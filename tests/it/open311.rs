//! Open311 GeoReport v2 at `/open311/v2` (docs/open311.md) against the real binary, on both backends:
//! discovery and services, a request filed and read back in JSON and XML, the filters and the 90-day
//! default, open → closed, what the public may not read (a confidential case's text and location, an
//! anonymous reporter's name, any reporter), the spec's errors and hostile input (never a 5xx), and
//! real Open311 clients from PyPI (tests/it/open311_client.py, run with the venv of
//! deploy/open311-client.sh that `ADUAN_OPEN311_PYTHON` names).

use crate::support::{block_on, submission, Db, Server};
use aduan_testkit::http::{self, Response};
use serde_json::{json, Value};
use sqlx::Connection;

both_backends!(
    discovery_and_services,
    a_request_filed_and_read_in_both_formats,
    filters_and_the_90_day_default,
    open_until_resolved_with_the_latest_public_notes,
    the_public_reads_no_confidential_text_and_no_reporter,
    errors_are_the_spec_error_list,
    real_clients_from_pypi,
);

const BASE: &str = "/open311/v2";
/// A reporter's distinctive name and contact, searched for in every Open311 answer.
const NAME: &str = "Wahyuni Unik4417";
const EMAIL: &str = "unik4417@example.org";

fn get(s: &Server, path: &str) -> Response {
    http::request("GET", &s.url(&format!("{BASE}/{path}")), &[], None)
}

/// `pairs` form-encoded.
fn form(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

fn post_form(s: &Server, path: &str, body: &str) -> Response {
    let headers = [("Content-Type", "application/x-www-form-urlencoded")];
    http::request("POST", &s.url(&format!("{BASE}/{path}")), &headers, Some(body.as_bytes()))
}

/// A complete request's form for `api_key`, in Surabaya.
fn new_request(api_key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", api_key.to_owned()),
        ("jurisdiction_id", "35.78".to_owned()),
        ("service_code", "infrastruktur".to_owned()),
        ("lat", "-7.2575".to_owned()),
        ("long", "112.7521".to_owned()),
        ("address_string", "Jl. Genteng Kali No. 1".to_owned()),
        ("description", "Lampu jalan mati\nSudah tiga malam gelap.".to_owned()),
        ("media_url", "https://example.org/foto/lampu.jpg".to_owned()),
        ("first_name", "Sri".to_owned()),
        ("last_name", NAME.to_owned()),
        ("email", EMAIL.to_owned()),
        ("phone", "0812000111".to_owned()),
    ]
}

fn post_request(s: &Server, ext: &str, pairs: &[(&str, String)]) -> Response {
    let pairs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    post_form(s, &format!("requests.{ext}"), &form(&pairs))
}

/// Files a request through Open311 as an integration token; its tracking id.
fn file(s: &Server) -> String {
    let r = post_request(s, "json", &new_request(&s.token("integration", "kemenpanrb")));
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()[0]["service_request_id"].as_str().unwrap().to_owned()
}

/// The one request `GET requests/{id}.json` answers.
fn read(s: &Server, id: &str) -> Value {
    let r = get(s, &format!("requests/{id}.json"));
    assert_eq!(r.status, 200, "{}", r.text());
    let list = r.json();
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    list[0].clone()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|r| r["service_request_id"].as_str().unwrap().to_owned()).collect()
}

/// The texts of every `tag` element of an XML document, which must be well-formed.
fn xml_texts(doc: &str, tag: &str) -> Vec<String> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(doc);
    let (mut out, mut inside, mut depth) = (Vec::new(), None::<String>, 0usize);
    loop {
        match reader.read_event().unwrap_or_else(|e| panic!("not well-formed XML ({e}): {doc}")) {
            Event::Start(e) => {
                depth += 1;
                if e.name().0 == tag && inside.is_none() {
                    inside = Some(String::new());
                }
            }
            Event::Text(t) => {
                if let Some(s) = inside.as_mut() {
                    s.push_str(&t);
                }
            }
            Event::GeneralRef(r) => {
                if let Some(s) = inside.as_mut() {
                    s.push_str(match &*r {
                        "lt" => "<",
                        "gt" => ">",
                        "amp" => "&",
                        "quot" => "\"",
                        "apos" => "'",
                        other => panic!("entity {other}"),
                    });
                }
            }
            Event::Empty(e) if e.name().0 == tag => out.push(String::new()),
            Event::End(e) => {
                depth -= 1;
                if e.name().0 == tag {
                    out.extend(inside.take());
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(depth, 0, "unbalanced XML: {doc}");
    out
}

/// An error answer in either format: its status, the entry's code and description.
fn error_of(r: &Response) -> (u16, u16, String) {
    if r.header("content-type").is_some_and(|c| c.starts_with("text/xml")) {
        let text = r.text();
        assert!(text.contains("<errors><error>"), "{text}");
        let code: u16 = xml_texts(&text, "code")[0].parse().unwrap();
        (r.status, code, xml_texts(&text, "description")[0].clone())
    } else {
        assert_eq!(r.header("content-type"), Some("application/json"), "{}", r.text());
        let v = r.json();
        (r.status, v[0]["code"].as_u64().unwrap() as u16, v[0]["description"].as_str().unwrap().to_owned())
    }
}

/// `r` is the error list of `status` whose description starts with `starts`.
fn assert_error(r: &Response, status: u16, starts: &str) {
    let (got, code, description) = error_of(r);
    assert_eq!((got, code), (status, status), "{description}");
    assert!(description.starts_with(starts), "`{description}` does not start with `{starts}`");
}

fn discovery_and_services(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let d = get(&s, "discovery.json");
    assert_eq!(d.status, 200, "{}", d.text());
    let d = d.json();
    let endpoint = &d["endpoints"][0];
    assert_eq!(endpoint["specification"], "http://wiki.open311.org/GeoReport_v2");
    assert_eq!(endpoint["url"], s.url(BASE), "the base URL the client used");
    assert_eq!(endpoint["formats"], json!(["text/xml", "application/json"]));
    let x = get(&s, "discovery.xml");
    assert_eq!(x.header("content-type"), Some("text/xml; charset=utf-8"));
    assert_eq!(xml_texts(&x.text(), "format"), ["text/xml", "application/json"]);

    let services = get(&s, "services.json?jurisdiction_id=35.78").json();
    let list = services.as_array().unwrap();
    assert_eq!(list.len(), 23, "every category of the national pack");
    let infra = list.iter().find(|v| v["service_code"] == "infrastruktur").expect("infrastruktur");
    assert_eq!(infra["service_name"], "Infrastruktur");
    assert!(infra["description"].as_str().unwrap().starts_with("Roads, bridges"));
    assert_eq!((&infra["metadata"], &infra["type"]), (&json!(false), &json!("realtime")));
    assert_eq!((&infra["keywords"], &infra["group"]), (&json!("dinas-pu"), &json!("urusan daerah")));
    let pln = list.iter().find(|v| v["service_code"] == "listrik").unwrap();
    assert_eq!((&pln["keywords"], &pln["group"]), (&json!("pln"), &json!("urusan nasional")));
    let xml = get(&s, "services.xml").text();
    assert_eq!(xml_texts(&xml, "service_code").len(), 23);
    assert_eq!(xml_texts(&xml, "metadata")[0], "false");

    let def = get(&s, "services/infrastruktur.json");
    assert_eq!(def.status, 200);
    assert_eq!(def.json(), json!({"service_code": "infrastruktur", "attributes": []}));
    let def = get(&s, "services/infrastruktur.xml").text();
    assert!(def.contains("<service_definition><service_code>infrastruktur</service_code><attributes/>"), "{def}");
    assert_error(&get(&s, "services/jalan_tol.json"), 404, "service_code: no service `jalan_tol`");
    assert_error(&get(&s, "services/jalan_tol.xml"), 404, "service_code");
    assert_error(&get(&s, "services.json?jurisdiction_id=99"), 400, "jurisdiction_id");
}

fn a_request_filed_and_read_in_both_formats(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let key = s.token("integration", "kemenpanrb");
    let r = post_request(&s, "json", &new_request(&key));
    assert_eq!(r.status, 200, "{}", r.text());
    let created = r.json();
    let entry = created[0].as_object().unwrap();
    let keys: Vec<&str> = entry.keys().map(String::as_str).collect();
    assert_eq!(keys, ["account_id", "service_notice", "service_request_id"], "no token is handed out");
    assert_eq!(entry["account_id"], Value::Null);
    assert!(entry["service_notice"].as_str().unwrap().starts_with("Received: to be verified and dispatched by "));
    let id = entry["service_request_id"].as_str().unwrap().to_owned();

    let one = read(&s, &id);
    assert_eq!(one["service_request_id"], id.as_str());
    assert_eq!(one["status"], "open");
    assert_eq!((&one["service_code"], &one["service_name"]), (&json!("infrastruktur"), &json!("Infrastruktur")));
    assert_eq!(one["description"], "Lampu jalan mati\nSudah tiga malam gelap.");
    assert_eq!((&one["lat"], &one["long"]), (&json!(-7.2575), &json!(112.7521)));
    assert_eq!(one["address"], "Jl. Genteng Kali No. 1");
    assert_eq!(one["media_url"], "https://example.org/foto/lampu.jpg");
    assert_eq!((&one["agency_responsible"], &one["expected_datetime"]), (&Value::Null, &Value::Null));
    let at = one["requested_datetime"].as_str().unwrap();
    assert!(at.ends_with("+07:00") && at.len() == 25, "WIB, W3C: {at}");
    assert!(one["updated_datetime"].as_str().unwrap().ends_with("+07:00"));

    // The same case through the JSON API: the integration channel, the reporter as mapped, the location.
    let v = s.get(&format!("/v1/complaints/{id}")).json();
    assert_eq!(
        (&v["channel"], &v["kind"], &v["privacy"]),
        (&json!("integration"), &json!("pengaduan"), &json!("public"))
    );
    assert_eq!(v["title"], "Lampu jalan mati");
    assert_eq!(v["reporter"], json!({"name": format!("Sri {NAME}"), "contact": EMAIL}), "e-mail before phone");
    assert_eq!(v["location"], json!({"lat": -7.2575, "long": 112.7521, "address": "Jl. Genteng Kali No. 1"}));
    assert_eq!(v["media_url"], "https://example.org/foto/lampu.jpg");
    assert_eq!(v["history"][0]["actor"], "integration:integration-kemenpanrb@kemenpanrb", "who filed it");
    let public = s.get_as(&format!("/v1/complaints/{id}"), None).json();
    assert_eq!(public["location"], v["location"], "a public case's location is public");
    assert!(public.get("reporter").is_none());

    // XML, both ways.
    let mut pairs = new_request(&key);
    pairs.retain(|(k, _)| !["lat", "long"].contains(k));
    let r = post_request(&s, "xml", &pairs);
    assert_eq!((r.status, r.header("content-type")), (200, Some("text/xml; charset=utf-8")), "{}", r.text());
    let doc = r.text();
    assert!(doc.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<service_requests><request>"), "{doc}");
    assert_eq!(xml_texts(&doc, "account_id"), [""]);
    let xid = xml_texts(&doc, "service_request_id").remove(0);
    let x = get(&s, &format!("requests/{xid}.xml")).text();
    assert_eq!(xml_texts(&x, "service_request_id"), [xid.as_str()]);
    assert_eq!(xml_texts(&x, "status"), ["open"]);
    assert_eq!(xml_texts(&x, "description"), ["Lampu jalan mati\nSudah tiga malam gelap."]);
    assert_eq!(xml_texts(&x, "lat"), [""], "an address only: no coordinates");
    assert_eq!(xml_texts(&x, "address"), ["Jl. Genteng Kali No. 1"]);
    let x = get(&s, &format!("requests/{id}.xml")).text();
    assert_eq!(
        (xml_texts(&x, "lat"), xml_texts(&x, "long")),
        (vec!["-7.2575".to_owned()], vec!["112.7521".to_owned()])
    );
    for answer in [created.to_string(), one.to_string(), doc, x] {
        assert!(!answer.contains(NAME) && !answer.contains(EMAIL) && !answer.contains("0812000111"), "{answer}");
    }
}

/// Moves a case's receipt `days` back, as if it had been filed then.
fn age(s: &Server, id: &str, days: i64) {
    let shift = days * 86_400_000;
    let url = s.db_url.clone();
    let sql = "UPDATE complaints SET created_at = created_at - $1 WHERE tracking_id = $2";
    block_on(async move {
        let n = if url.starts_with("sqlite:") {
            let mut c = sqlx::SqliteConnection::connect(&url).await.unwrap();
            sqlx::query(sql).bind(shift).bind(id).execute(&mut c).await.unwrap().rows_affected()
        } else {
            let mut c = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sql).bind(shift).bind(id).execute(&mut c).await.unwrap().rows_affected()
        };
        assert_eq!(n, 1);
    });
}

fn filters_and_the_90_day_default(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let surabaya = file(&s);
    let mut bali = submission("51.71", "kesehatan");
    bali["location"] = json!({"address": "Jl. Gajah Mada, Denpasar"});
    let bali = s.submit(&bali, &[]).json()["tracking_id"].as_str().unwrap().to_owned();
    let old = file(&s);
    age(&s, &old, 100);

    let all = get(&s, "requests.json");
    assert_eq!(all.status, 200, "{}", all.text());
    assert_eq!(ids(&all.json()), [bali.clone(), surabaya.clone()], "newest first, the last 90 days only");
    let denpasar = read(&s, &bali);
    assert!(denpasar["requested_datetime"].as_str().unwrap().ends_with("+08:00"), "WITA: {denpasar}");
    assert_eq!(read(&s, &old)["service_request_id"], old.as_str(), "by id, whenever it was filed");

    let q = |query: &str| ids(&get(&s, &format!("requests.json?{query}")).json());
    assert_eq!(q("service_code=kesehatan"), [bali.as_str()]);
    assert_eq!(q("service_code=kesehatan,infrastruktur"), [bali.clone(), surabaya.clone()]);
    assert_eq!(q("jurisdiction_id=35"), [surabaya.as_str()], "a province covers its kab/kota");
    assert_eq!(q("jurisdiction_id=51.71"), [bali.as_str()]);
    assert_eq!(q("status=open"), [bali.clone(), surabaya.clone()]);
    assert!(q("status=closed").is_empty());
    let ago = |days: i64| (chrono::Utc::now() - chrono::Duration::days(days)).to_rfc3339();
    let window = form(&[("start_date", &ago(110)), ("end_date", &ago(80))]);
    assert_eq!(q(&window), [old.as_str()]);
    assert_eq!(q(&form(&[("start_date", &ago(105))])), [old.as_str()], "90 days from start_date");
    assert_eq!(
        q(&format!("service_request_id={old},{surabaya},NOPE0-00000&service_code=kesehatan")),
        [old.clone(), surabaya.clone()],
        "ids override the other filters; unknown ones are left out"
    );
    let xml = get(&s, &format!("requests.xml?service_request_id={bali}")).text();
    assert_eq!(xml_texts(&xml, "service_request_id"), [bali.as_str()]);

    assert_error(&get(&s, "requests.json?start_date=yesterday"), 400, "start_date: ");
    assert_error(&get(&s, "requests.xml?end_date=2026-13-01T00:00:00Z"), 400, "end_date: ");
    assert_error(
        &get(&s, &format!("requests.json?{}", form(&[("start_date", &ago(1)), ("end_date", &ago(2))]))),
        400,
        "end_date: before",
    );
    assert_error(
        &get(&s, &format!("requests.json?{}", form(&[("start_date", &ago(200)), ("end_date", &ago(1))]))),
        400,
        "end_date: more than 90 days",
    );
    assert_error(&get(&s, "requests.json?status=pending"), 400, "status: ");
    assert_error(&get(&s, "requests.json?jurisdiction_id=35.99"), 400, "jurisdiction_id: ");
    assert_error(&get(&s, "requests.json?page=2"), 400, "page: unknown field `page`");
}

fn open_until_resolved_with_the_latest_public_notes(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let id = file(&s);
    assert_eq!(s.act(&id, &json!({"action": "verify"}), &[]).status, 200);
    let assigned = read(&s, &id);
    assert_eq!(assigned["status"], "open");
    assert_eq!(assigned["agency_responsible"], "Dinas Pekerjaan Umum dan Penataan Ruang Kota Surabaya", "{assigned}");
    let expected = assigned["expected_datetime"].as_str().expect("the completion deadline");
    let due = s.get(&format!("/v1/complaints/{id}")).json()["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["clock"] == "complete")
        .unwrap()["due_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let due = chrono::DateTime::parse_from_rfc3339(&due).unwrap();
    assert_eq!(chrono::DateTime::parse_from_rfc3339(expected).unwrap(), due, "{expected}");
    assert!(expected.ends_with("+07:00"));
    assert_eq!(assigned["status_notes"], Value::Null);

    let respond = json!({"action": "respond", "message": "Tim kami meninjau besok."});
    assert_eq!(s.act(&id, &respond, &[]).status, 200);
    assert_eq!(read(&s, &id)["status_notes"], "Tim kami meninjau besok.");
    let resolve = json!({"action": "resolve", "message": "Lampu sudah diganti."});
    assert_eq!(s.act(&id, &resolve, &[]).status, 200);
    let resolved = read(&s, &id);
    assert_eq!((&resolved["status"], &resolved["status_notes"]), (&json!("closed"), &json!("Lampu sudah diganti.")));
    assert_eq!(resolved["expected_datetime"], Value::Null, "the completion clock stopped");
    assert_eq!(ids(&get(&s, "requests.json?status=closed").json()), [id.as_str()]);
    assert!(ids(&get(&s, "requests.json?status=open").json()).is_empty());
    let x = get(&s, &format!("requests/{id}.xml")).text();
    assert_eq!(xml_texts(&x, "status"), ["closed"]);
    assert_eq!(xml_texts(&x, "status_notes"), ["Lampu sudah diganti."]);
}

fn the_public_reads_no_confidential_text_and_no_reporter(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let mut secret = submission("35.78", "infrastruktur");
    secret["privacy"] = json!("confidential");
    secret["body"] = json!("Rahasia Kx42 di gudang");
    secret["location"] = json!({"lat": -7.3, "long": 112.7, "address": "Gudang Kx42"});
    secret["media_url"] = json!("https://example.org/Kx42.jpg");
    let confidential = s.submit(&secret, &[]).json()["tracking_id"].as_str().unwrap().to_owned();
    assert_eq!(s.act(&confidential, &json!({"action": "verify"}), &[]).status, 200);
    let respond = json!({"action": "respond", "message": "Kx42 sedang diperiksa"});
    assert_eq!(s.act(&confidential, &respond, &[]).status, 200);
    let mut anon = submission("35.78", "kesehatan");
    anon["privacy"] = json!("anonymous");
    anon["reporter"] = json!({"name": NAME, "contact": EMAIL});
    let anonymous = s.submit(&anon, &[]).json()["tracking_id"].as_str().unwrap().to_owned();
    let mine = file(&s);

    let c = read(&s, &confidential);
    for field in ["description", "address", "lat", "long", "media_url", "status_notes"] {
        assert_eq!(c[field], Value::Null, "{field} of a confidential case: {c}");
    }
    assert_eq!((&c["status"], &c["service_code"]), (&json!("open"), &json!("infrastruktur")));
    let v = s.get_as(&format!("/v1/complaints/{confidential}"), None).json();
    assert!(v.get("location").is_none() && v.get("media_url").is_none() && v.get("body").is_none(), "{v}");
    let admin = s.get(&format!("/v1/complaints/{confidential}")).json();
    assert_eq!(admin["location"]["address"], "Gudang Kx42", "an admin sees it");
    assert_eq!(read(&s, &anonymous)["description"], "Di depan pasar", "an anonymous case's text is public");

    let mut answers = Vec::new();
    for path in [
        "requests.json".to_owned(),
        "requests.xml".to_owned(),
        format!("requests.json?service_request_id={confidential},{anonymous},{mine}"),
        format!("requests/{confidential}.json"),
        format!("requests/{confidential}.xml"),
        format!("requests/{anonymous}.json"),
        format!("requests/{anonymous}.xml"),
        format!("requests/{mine}.xml"),
    ] {
        let r = get(&s, &path);
        assert_eq!(r.status, 200, "{path}: {}", r.text());
        answers.push((path, r.text()));
    }
    assert!(answers[0].1.contains(&anonymous) && answers[0].1.contains(&confidential), "both are listed");
    for (path, text) in &answers {
        for mark in ["Kx42", "Unik4417", "unik4417", "Sri", "0812"] {
            assert!(!text.contains(mark), "{path} carries {mark}: {text}");
        }
    }
}

fn errors_are_the_spec_error_list(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let key = s.token("integration", "kemenpanrb");
    // The complete request with `k` replaced by `v` (left out when `v` is empty).
    let with = |k: &'static str, v: &str| {
        let mut p = new_request(&key);
        p.retain(|(name, _)| *name != k);
        if !v.is_empty() {
            p.push((k, v.to_owned()));
        }
        p
    };
    for ext in ["json", "xml"] {
        assert_error(
            &post_request(&s, ext, &with("service_code", "jalan_tol")),
            400,
            "service_code: no service `jalan_tol`",
        );
        assert_error(&post_request(&s, ext, &with("service_code", "")), 400, "service_code: required");
        assert_error(&post_request(&s, ext, &with("jurisdiction_id", "")), 400, "jurisdiction_id: required");
        assert_error(&post_request(&s, ext, &with("jurisdiction_id", "99")), 400, "jurisdiction_id: `99` is no region");
        assert_error(&post_request(&s, ext, &with("jurisdiction_id", "Surabaya")), 400, "jurisdiction_id: ");
        assert_error(&post_request(&s, ext, &with("api_key", "")), 403, "api_key: required");
        assert_error(&post_request(&s, ext, &with("api_key", "adn.not-a-token")), 403, "api_key: unknown or revoked");
        assert_error(&post_request(&s, ext, &with("api_key", "junk")), 403, "api_key: not an API token");
        assert_error(&get(&s, &format!("requests/NOPE0-00000.{ext}")), 404, "service_request_id: no service request");
        assert_error(&get(&s, &format!("requests/not-a-tracking-id.{ext}")), 404, "service_request_id");
    }
    // A reporter token is no API key, and a revoked token stops at once.
    let reporter =
        s.submit(&submission("35.78", "infrastruktur"), &[]).json()["reporter_token"].as_str().unwrap().to_owned();
    assert_error(&post_request(&s, "json", &with("api_key", &reporter)), 403, "api_key: not an API token");
    let made = s.command().args(["token", "create", "--role", "integration", "--name", "gone"]).output().unwrap();
    let gone = serde_json::from_slice::<Value>(&made.stdout).unwrap()["token"].as_str().unwrap().to_owned();
    assert_eq!(post_request(&s, "json", &with("api_key", &gone)).status, 200);
    assert!(s.command().args(["token", "revoke", "gone"]).status().unwrap().success());
    assert_error(&post_request(&s, "json", &with("api_key", &gone)), 403, "api_key: unknown or revoked");

    // Locations, links and reporters.
    assert_error(&post_request(&s, "json", &with("lat", "91")), 400, "lat: ");
    assert_error(&post_request(&s, "json", &with("long", "east")), 400, "long: ");
    let mut nowhere = new_request(&key);
    nowhere.retain(|(k, _)| !["lat", "long", "address_string"].contains(k));
    assert_error(&post_request(&s, "json", &nowhere), 400, "lat: a location is required");
    let mut half = nowhere.clone();
    half.push(("lat", "-7.2".into()));
    assert_error(&post_request(&s, "json", &half), 400, "long: required with lat");
    assert_error(&post_request(&s, "json", &with("media_url", "javascript:alert(1)")), 400, "media_url: ");
    assert_error(&post_request(&s, "json", &with("media_url", "ftp://example.org/x.jpg")), 400, "media_url: ");
    assert_error(
        &post_request(&s, "json", &with("attribute[jenis]", "lampu")),
        400,
        "attribute[jenis]: no service takes attributes",
    );

    // Hostile input: NUL bytes, huge fields, a huge body, the wrong content type, odd paths and methods.
    let r = post_request(&s, "json", &with("description", "ada\0nol"));
    assert_error(&r, 400, "description: contains a NUL character");
    let r = post_request(&s, "xml", &with("first_name", &format!("{NAME}\0")));
    assert_error(&r, 400, "first_name: contains a NUL character");
    assert!(!r.text().contains("Unik4417"), "a refused identity is not repeated");
    assert_error(
        &post_request(&s, "json", &with("description", &"x".repeat(4_001))),
        400,
        "description: at most 4,000 characters",
    );
    assert_error(
        &post_request(&s, "json", &with("last_name", &"x".repeat(201))),
        400,
        "last_name: at most 200 characters",
    );
    assert_error(
        &post_request(&s, "json", &with("address_string", &"x".repeat(2_001))),
        400,
        "address_string: at most 2,000",
    );
    let big = format!("description={}", "x".repeat(1_100_000));
    assert_error(&post_form(&s, "requests.json", &big), 413, "the body is over");
    let json_body = json!({"service_code": "infrastruktur"}).to_string();
    for (ct, ext) in [("application/json", "json"), ("text/xml", "xml"), ("multipart/form-data; boundary=x", "json")] {
        let url = s.url(&format!("{BASE}/requests.{ext}"));
        let r = http::request("POST", &url, &[("Content-Type", ct)], Some(json_body.as_bytes()));
        assert_error(&r, 415, "the body must be application/x-www-form-urlencoded");
    }
    let r = http::request(
        "POST",
        &s.url(&format!("{BASE}/requests.json")),
        &[("Content-Type", "application/x-www-form-urlencoded")],
        Some(b"\xff\xfe=1"),
    );
    assert_error(&r, 400, "the body is not UTF-8");
    assert_error(&get(&s, "requests.json?service_code=%00"), 400, "service_code: contains a NUL");
    assert_error(
        &get(&s, &format!("requests.json?service_request_id={}", "A".repeat(20_001))),
        400,
        "service_request_id: at most",
    );
    assert_error(&get(&s, "nothing.json"), 404, "no such Open311 endpoint");
    assert_error(&get(&s, "requests/ABCDE-12345.yaml"), 404, "no such Open311 endpoint");
    assert_error(&get(&s, "services/infrastruktur"), 404, "no such Open311 endpoint");
    let r = http::request("DELETE", &s.url(&format!("{BASE}/requests.xml")), &[], None);
    assert_error(&r, 405, "DELETE is not allowed");
    let r = http::request("PUT", &s.url(&format!("{BASE}/services.json")), &[], None);
    assert_error(&r, 405, "PUT is not allowed");
    let text = "Rusak\u{1}\u{1b} <b>&amp;</b>";
    let mut odd = submission("35.78", "infrastruktur");
    odd["body"] = json!(text);
    let odd = s.submit(&odd, &[]).json()["tracking_id"].as_str().unwrap().to_owned();
    let x = get(&s, &format!("requests/{odd}.xml")).text();
    assert_eq!(xml_texts(&x, "description"), ["Rusak\u{fffd}\u{fffd} <b>&amp;</b>"], "escaped, and well-formed");
    assert!(!s.log_text().contains("panicked"), "{}", s.log_text());
}

/// georeport (reads) and civicbot (filing) against the server, in JSON and XML.
fn real_clients_from_pypi(db: Db) {
    let Ok(python) = std::env::var("ADUAN_OPEN311_PYTHON") else {
        eprintln!(
            "ADUAN_OPEN311_PYTHON unset: not running the PyPI clients (eval \"$(bash deploy/open311-client.sh)\")"
        );
        return;
    };
    let s = Server::start_with(db, &["--no-workers"]);
    let key = s.token("integration", "kemenpanrb");
    let script = crate::root().join("tests/it/open311_client.py");
    for format in ["json", "xml"] {
        let out = std::process::Command::new(&python)
            .arg(&script)
            .args([&s.url(BASE), &key, format])
            .output()
            .unwrap_or_else(|e| panic!("run {python}: {e}"));
        let (stdout, stderr) = (crate::stdout(&out), crate::stderr(&out));
        assert!(out.status.success(), "{format}: {stderr}\n{stdout}");
        let got: Value = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{e}: {stdout}"));
        assert_eq!(got["format"], format);
        assert!(got["service_codes"].as_array().unwrap().contains(&json!("infrastruktur")), "{got}");
        assert_eq!(got["metadata"], json!(["false"]));
        assert_eq!(got["definition"], json!({"service_code": "infrastruktur", "attributes": []}));
        assert_eq!(got["created_keys"], json!(["account_id", "service_notice", "service_request_id"]));
        assert_eq!(got["created"]["account_id"], Value::Null);
        let id = got["created"]["service_request_id"].as_str().unwrap();
        let req = &got["request"];
        assert_eq!(req["service_request_id"], id);
        assert_eq!(
            (&req["status"], &req["service_code"], &req["service_name"]),
            (&json!("open"), &json!("infrastruktur"), &json!("Infrastruktur"))
        );
        assert_eq!(req["description"], format!("Lampu jalan mati ({format})\nSudah tiga malam gelap."));
        assert_eq!((&req["lat"], &req["long"]), (&json!(-7.2575), &json!(112.7521)));
        assert_eq!(req["address"], "Jl. Genteng Kali No. 1, Surabaya");
        assert_eq!(req["media_url"], "https://example.org/foto/lampu.jpg");
        assert!(req["requested_datetime"].as_str().unwrap().ends_with("+07:00"), "{req}");
        assert_eq!(got["by_id"], json!([id]));
        assert!(got["listed"].as_array().unwrap().contains(&json!(id)), "{got}");
        assert!(!stdout.contains("Wahyuni") && !stdout.contains("warga@example.org"), "{stdout}");
        let v = s.get(&format!("/v1/complaints/{id}")).json();
        assert_eq!(v["reporter"], json!({"name": "Sri Wahyuni", "contact": "warga@example.org"}));
    }
}
