//! Poison mixed into the command stream: rounds of valid submissions interleaved with every kind of
//! command that can never succeed (not JSON, NUL bytes, bad UTF-8, unknown actions and fields, a body
//! far over the limits, wrong or missing credentials). Each bad one must land in `{PREFIX}_DLQ` with
//! its reason (`Aduan-Error`), answered as a problem, without its token; each valid one is applied.

use super::next_message;
use crate::support::{block_on, read_stream, submission, Db, Server};
use async_nats::HeaderMap;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

const ROUNDS: usize = 8;
const VALID_PER_ROUND: usize = 5;
/// A wrong bearer token; no letter may repeat it.
const WRONG_TOKEN: &str = "not-a-token-0123456789abcdef";

/// One message: subject action, body, bearer, and the status of the problem it must get.
struct Msg {
    action: &'static str,
    body: Vec<u8>,
    bearer: Option<String>,
    status: u16,
}

fn bad_ones(case: &str, admin: &str, officer: &str) -> Vec<(&'static str, Msg)> {
    let json = |v: Value| v.to_string().into_bytes();
    let sub = |f: &dyn Fn(&mut Value)| {
        let mut v = submission("35.78", "infrastruktur");
        f(&mut v);
        json(v)
    };
    let msg =
        |action, body, bearer: Option<&str>, status| Msg { action, body, bearer: bearer.map(str::to_owned), status };
    vec![
        ("not JSON", msg("submit", b"{\"kind\": \"pengaduan\",".to_vec(), None, 400)),
        ("a raw NUL byte", msg("submit", b"{\"kind\": \"peng\0aduan\"}".to_vec(), None, 400)),
        (
            "an escaped NUL in the title",
            msg("submit", sub(&|v: &mut Value| v["title"] = json!("Jalan\u{0}berlubang")), None, 422),
        ),
        ("bad UTF-8", msg("submit", b"{\"kind\": \"\xff\xfe\"}".to_vec(), None, 400)),
        ("an unknown field", msg("submit", sub(&|v: &mut Value| v["oops"] = json!(1)), None, 422)),
        ("a title over 200", msg("submit", sub(&|v: &mut Value| v["title"] = json!("t".repeat(201))), None, 422)),
        ("a 900 KiB body", msg("submit", sub(&|v: &mut Value| v["body"] = json!("x".repeat(900 * 1024))), None, 422)),
        ("a JSON array", msg("submit", b"[1, 2]".to_vec(), None, 422)),
        ("an unknown action", msg("frobnicate", json(json!({"complaint": case})), Some(admin), 422)),
        (
            "an action unlike its subject",
            msg("verify", json(json!({"complaint": case, "action": "archive"})), Some(admin), 422),
        ),
        ("no complaint", msg("verify", json(json!({})), Some(admin), 422)),
        ("a wrong token", msg("verify", json(json!({"complaint": case})), Some(WRONG_TOKEN), 401)),
        ("no token", msg("verify", json(json!({"complaint": case})), None, 401)),
        ("a role not allowed", msg("verify", json(json!({"complaint": case})), Some(officer), 403)),
    ]
}

#[test]
fn fault_poison_and_oversized_commands_are_dead_lettered_and_every_valid_one_applied() {
    let s = Server::start(Db::Sqlite);
    let case = s.nats("submit", &submission("35.78", "infrastruktur"), Some("setup"));
    let case = case["id"].as_str().unwrap().to_owned();
    let officer = s.token("officer", "35.78/dinas-pu");
    // Msg id → (what, message); valid ones are "valid".
    let mut all: BTreeMap<String, (&str, Msg)> = BTreeMap::new();
    let mut order = Vec::new();
    for round in 0..ROUNDS {
        let mut valid = (0..VALID_PER_ROUND).map(|k| {
            let mut v = submission("35.78", "infrastruktur");
            v["title"] = json!(format!("valid {round}.{k}"));
            ("valid", Msg { action: "submit", body: v.to_string().into_bytes(), bearer: None, status: 200 })
        });
        for (k, bad) in bad_ones(&case, &s.admin, &officer).into_iter().enumerate() {
            if k % 3 == 0 {
                if let Some(v) = valid.next() {
                    let id = format!("ok-{round}-{k}");
                    order.push(id.clone());
                    all.insert(id, v);
                }
            }
            let id = format!("bad-{round}-{k}");
            order.push(id.clone());
            all.insert(id, bad);
        }
        for (k, v) in valid.enumerate() {
            let id = format!("ok-{round}-end{k}");
            order.push(id.clone());
            all.insert(id, v);
        }
    }
    let answers = publish_and_collect(&s, &order, &all);

    let bad: BTreeSet<&String> = all.iter().filter(|(_, (what, _))| *what != "valid").map(|(id, _)| id).collect();
    let valid = all.len() - bad.len();
    for (id, (what, m)) in &all {
        let (status, error) = &answers[id];
        assert_eq!(*status, m.status, "{id} ({what}) answered {status} {error:?}");
        if *what != "valid" {
            assert!(error.as_deref().is_some_and(|e| !e.trim().is_empty()), "{id} ({what}): no Aduan-Error");
        }
    }
    let letters = read_stream(&s.nats_url, &s.stream("DLQ"), bad.len() as u64);
    assert_eq!(letters.len(), bad.len(), "one letter per bad command");
    let mut lettered = BTreeSet::new();
    for l in &letters {
        let id = l.payload["msg_id"].as_str().unwrap_or_default().to_owned();
        let (what, m) = &all[&id];
        assert!(bad.contains(&id), "a valid command was dead-lettered: {id} {}", l.payload);
        let reason = l.headers.iter().find(|(k, _)| k == "Aduan-Error").map(|(_, v)| v.as_str());
        assert!(reason.is_some_and(|r| !r.trim().is_empty()), "{id} ({what}): letter without Aduan-Error");
        assert_eq!(l.payload["error"]["status"], m.status, "{id} ({what}): {}", l.payload);
        assert_eq!(l.subject, format!("{}.dlq.{}", s.prefix, m.action), "{id} ({what})");
        assert!(!String::from_utf8_lossy(&l.raw).contains(WRONG_TOKEN), "{id}: the letter keeps the token");
        assert!(!String::from_utf8_lossy(&l.raw).contains(&s.admin), "{id}: the letter keeps the token");
        assert!(l.raw.len() < 100 * 1024, "{id} ({what}): a letter of {} bytes", l.raw.len());
        if *what == "a 900 KiB body" {
            assert!(
                l.payload["body_truncated"]["bytes"].as_u64() > Some(900 * 1024),
                "{}",
                l.payload["body_truncated"]
            );
        }
        lettered.insert(id);
    }
    assert_eq!(lettered.len(), bad.len(), "every bad command lettered once");
    let total = s.get("/v1/stats").json()["total"].as_u64().unwrap() as usize;
    assert_eq!(total, valid + 1, "every valid submission applied once (and the first case)");
    eprintln!("{} commands: {valid} valid applied, {} dead-lettered with their reason", all.len(), bad.len());
}

/// Publishes the messages in `order` through JetStream, each with its msg id and an `Aduan-Reply-To`,
/// and returns each one's answer: its status (200, or the problem's) and `Aduan-Error`.
fn publish_and_collect(
    s: &Server,
    order: &[String],
    all: &BTreeMap<String, (&str, Msg)>,
) -> BTreeMap<String, (u16, Option<String>)> {
    block_on(async {
        let client = async_nats::connect(&s.nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let inbox = client.new_inbox();
        let mut sub = client.subscribe(format!("{inbox}.>")).await.unwrap();
        for id in order {
            let m = &all[id].1;
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", id.as_str());
            headers.insert("Aduan-Reply-To", format!("{inbox}.{id}").as_str());
            if let Some(t) = &m.bearer {
                headers.insert("Authorization", format!("Bearer {t}").as_str());
            }
            let subject = format!("{}.cmd.{}", s.prefix, m.action);
            js.publish_with_headers(subject, headers, m.body.clone().into()).await.unwrap().await.unwrap();
        }
        let mut answers = BTreeMap::new();
        while answers.len() < order.len() {
            let msg = tokio::time::timeout(Duration::from_secs(60), next_message(&mut sub))
                .await
                .unwrap_or_else(|_| panic!("{} of {} commands answered within 60 s", answers.len(), order.len()))
                .unwrap();
            let id = msg.subject.as_str().rsplit('.').next().unwrap().to_owned();
            let error = msg.headers.as_ref().and_then(|h| h.get("Aduan-Error")).map(|v| v.to_string());
            let status = match &error {
                Some(_) => serde_json::from_slice::<Value>(&msg.payload).unwrap()["status"].as_u64().unwrap() as u16,
                None => 200,
            };
            answers.insert(id, (status, error));
        }
        answers
    })
}
