//! Webhooks to source systems (docs/integrations.md#webhooks), with a real receiver on loopback
//! (`webhook_receiver.py`: checks each signature and timestamp as a receiver should, and prints what
//! it accepted): every event of a source's case arrives once, in order, also when the receiver
//! fails at first and across a `kill -9` of `aduan`; after the last attempt a delivery is
//! dead-lettered, listed on the admin's dashboard page, and the case's later events go on.

use crate::support::{submission, Db, Server};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The receiver: what it accepted, in arrival order; stopped when dropped.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Value>>>,
    child: Child,
    stdin: Option<ChildStdin>,
}

impl Receiver {
    /// Starts a receiver that answers its first `fail_first` well-signed posts with 500, and each
    /// accepted one after `delay_ms`.
    fn start(fail_first: u32, delay_ms: u32) -> Receiver {
        let mut cmd = Command::new("python3");
        cmd.arg(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/webhook_receiver.py"))
            .args([fail_first.to_string(), delay_ms.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped());
        let mut child = aduan_testkit::process::spawn(cmd).expect("python3 starts");
        let stdin = child.stdin.take();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let port = lines.next().and_then(Result::ok).expect("the receiver prints its port");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&seen);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                sink.lock().unwrap().push(serde_json::from_str(&line).unwrap_or(Value::Null));
            }
        });
        Receiver { url: format!("http://127.0.0.1:{port}/aduan/hook"), seen, child, stdin }
    }

    /// Tells the receiver the secret to check signatures with.
    fn trust(&mut self, secret: &str) {
        writeln!(self.stdin.as_mut().unwrap(), "{secret}").expect("the receiver reads");
    }

    fn accepted(&self) -> Vec<Value> {
        self.seen.lock().unwrap().clone()
    }

    /// Polls until `n` posts were accepted (or 30 s pass); what was accepted.
    fn wait_for(&self, n: usize) -> Vec<Value> {
        self.wait_until(|seen| seen.len() >= n)
    }

    /// Polls until what was accepted satisfies `done` (or 30 s pass); what was accepted.
    fn wait_until(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let until = Instant::now() + Duration::from_secs(30);
        while !done(&self.accepted()) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(20));
        }
        self.accepted()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A server whose webhooks back off for 50 ms, doubling, with `attempts` tries.
fn server(db: Db, attempts: &str) -> Server {
    Server::start_with_env(db, &[], &[("ADUAN_WEBHOOK_BACKOFF_MS", "50"), ("ADUAN_WEBHOOK_ATTEMPTS", attempts)])
}

/// Registers `lapor-hendi` with the receiver's URL: its bearer header value and webhook secret.
fn source(s: &Server, url: &str) -> (String, String) {
    let out = s
        .command()
        .args(["source", "create", "lapor-hendi", "--agency", "33.74", "--webhook-url", url])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    (format!("Bearer {}", made["token"].as_str().unwrap()), made["webhook_secret"].as_str().unwrap().to_owned())
}

fn file(s: &Server, auth: &str, reference: &str) -> String {
    let mut body = submission("33.74", "infrastruktur");
    body["channel"] = "app".into();
    body["source"] = json!({"system": "lapor-hendi", "id": reference});
    let r = s.submit(&body, &[("Authorization", auth)]);
    assert_eq!(r.status, 201, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The event types of a case's history, in order.
fn history(s: &Server, id: &str) -> Vec<String> {
    let view = s.get(&format!("/v1/complaints/{id}")).json();
    view["history"].as_array().unwrap().iter().map(|e| e["type"].as_str().unwrap().to_owned()).collect()
}

/// What the receiver accepted for case `id`: event types in arrival order, and whether every event id
/// came once.
fn received(accepted: &[Value], id: &str) -> (Vec<String>, bool) {
    let mine: Vec<&Value> = accepted.iter().filter(|v| v["complaint_id"] == id).collect();
    let mut ids: Vec<&str> = mine.iter().map(|v| v["event_id"].as_str().unwrap()).collect();
    let types = mine.iter().map(|v| v["event_type"].as_str().unwrap().to_owned()).collect();
    let n = ids.len();
    ids.sort_unstable();
    ids.dedup();
    (types, ids.len() == n)
}

/// A receiver failing its first `fail_first` posts (answering each accepted one after `delay_ms`),
/// and `lapor-hendi` registered with its URL: the receiver and the source's bearer header value.
fn receiver_for(s: &Server, fail_first: u32, delay_ms: u32) -> (Receiver, String) {
    let mut receiver = Receiver::start(fail_first, delay_ms);
    let (auth, secret) = source(s, &receiver.url);
    receiver.trust(&secret);
    (receiver, auth)
}

fn events_arrive_once_in_order_through_retries(db: Db) {
    let s = server(db, "8");
    let (receiver, auth) = receiver_for(&s, 2, 0);
    let id = file(&s, &auth, "LH-1");
    let r = s.act(&id, &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let r = s.act(&id, &json!({"action": "respond", "message": "Petugas menuju lokasi"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let want = history(&s, &id);
    assert!(want.len() >= 3, "{want:?}");
    let accepted = receiver.wait_for(want.len());
    let (types, once) = received(&accepted, &id);
    assert_eq!(types, want, "every event, in the case's order: {accepted:?}\n{}", s.log_text());
    assert!(once, "each event once: {accepted:?}");
    assert!(accepted.iter().all(|v| v["source"] == "lapor-hendi" && v.get("refused").is_none()), "{accepted:?}");
    // A case not from a source is posted nowhere.
    let other = s.submit(&submission("33.74", "infrastruktur"), &[]).json();
    s.act(other["id"].as_str().unwrap(), &json!({"action": "verify"}), &[]);
    let file_again = file(&s, &auth, "LH-2");
    let accepted = receiver.wait_for(want.len() + 1);
    assert!(accepted.iter().all(|v| v["complaint_id"] != other["id"]), "{accepted:?}");
    assert!(accepted.iter().any(|v| v["complaint_id"] == file_again.as_str()));
}

fn a_dead_letter_is_listed_and_later_events_go_on(db: Db) {
    let s = server(db, "2");
    // The receiver refuses the first two posts: the submission's event is dead-lettered after its
    // two attempts; the verification's event, behind it, is delivered.
    let (receiver, auth) = receiver_for(&s, 2, 0);
    let id = file(&s, &auth, "LH-9");
    let r = s.act(&id, &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    let accepted = receiver.wait_for(1);
    let (types, _) = received(&accepted, &id);
    assert_eq!(types, ["assigned"], "{accepted:?}");
    // The operator sees it in the metrics.
    let metrics = s.get("/metrics").text();
    assert!(metrics.contains("aduan_webhook_attempts_total{outcome=\"dead\"} 1"), "{metrics}");
    assert!(metrics.contains("aduan_webhook_attempts_total{outcome=\"delivered\"} 1"), "{metrics}");
    // The admin's dashboard lists the dead letter, with the case and the reason.
    let (status, page) = s.dashboard(&s.admin, "/dashboard/webhooks");
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("data-testid=\"failed-webhook\""), "{page}");
    assert!(page.contains("lapor-hendi") && page.contains("HTTP 500"), "{page}");
    let officer = s.token("officer", "33.74/dinas-pu");
    let (refused, _) = s.dashboard(&officer, "/dashboard/webhooks");
    assert_eq!(refused, 403, "an officer does not see the failed webhooks");
}

fn kill_9_loses_no_webhook(db: Db) {
    let mut s = server(db, "8");
    // A slow receiver (30 ms a post), so that the 40 deliveries are still under way at the kill.
    let (receiver, auth) = receiver_for(&s, 0, 30);
    let ids: Vec<String> = (0..20).map(|n| file(&s, &auth, &format!("LH-K{n}"))).collect();
    for id in &ids {
        s.act(id, &json!({"action": "verify"}), &[]);
    }
    let before = receiver.wait_for(5).len();
    s.kill();
    assert!(before < ids.len() * 2, "the kill came after every delivery ({before}): make the receiver slower");
    s.relaunch();
    let distinct = |seen: &[Value]| {
        let mut ids: Vec<&str> = seen.iter().filter_map(|v| v["event_id"].as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    };
    let accepted = receiver.wait_until(|seen| distinct(seen) >= ids.len() * 2);
    for id in &ids {
        let (types, _) = received(&accepted, id);
        let mut unique = types.clone();
        unique.dedup();
        assert_eq!(
            unique,
            ["submitted", "assigned"],
            "{id}: every event, in order (killed after {before}): {accepted:?}"
        );
    }
    let mut event_ids: Vec<&str> = accepted.iter().filter_map(|v| v["event_id"].as_str()).collect();
    let n = event_ids.len();
    event_ids.sort_unstable();
    event_ids.dedup();
    // At least once: only the post in flight at the kill may come twice.
    assert!(n - event_ids.len() <= 1, "{} duplicates after a kill -9 at {before}", n - event_ids.len());
}

both_backends!(
    events_arrive_once_in_order_through_retries,
    a_dead_letter_is_listed_and_later_events_go_on,
    kill_9_loses_no_webhook
);
