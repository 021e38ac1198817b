//! PostgreSQL stopped (as `pg_ctl stop -m immediate`) and started again under load: a private server,
//! `aduan serve` on it, one client submitting over HTTP (each submission with its `Idempotency-Key`,
//! retried on 503 as a client would) and one publishing submissions over NATS. During the outage HTTP
//! writes answer 503 with `Retry-After`; afterwards every accepted HTTP submission and every published
//! NATS one is stored exactly once, and every event is in `{PREFIX}_EVT` once.

use super::{next_message, wait_until};
use crate::support::{block_on, fresh_prefix, read_stream, submission, Server};
use aduan_testkit::http;
use aduan_testkit::nats::NatsServer;
use aduan_testkit::pg_server::PgServer;
use async_nats::HeaderMap;
use sqlx::{Connection, PgConnection};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// HTTP submissions accepted before the stop, and after the start.
const BEFORE: usize = 100;
const AFTER: usize = 100;

#[test]
fn fault_postgres_restarted_under_load_loses_nothing_and_applies_nothing_twice() {
    let started = Instant::now();
    let mut pg = PgServer::start();
    let nats = NatsServer::start();
    let s = Server::replica(&pg.url(), nats.url(), &fresh_prefix(), &[], None);
    eprintln!("private PostgreSQL and serve up in {:?}", started.elapsed());
    let accepted = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    // HTTP: key → case id; the 503s met, with whether they carried Retry-After, and their detail.
    let http_ids: Mutex<BTreeMap<String, String>> = Mutex::default();
    let refusals: Mutex<Vec<(bool, String)>> = Mutex::default();
    let (nats_published, nats_ids) = std::thread::scope(|scope| {
        scope.spawn(|| {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let key = format!("http-{n}");
                let id = submit_until_accepted(&s, &key, &refusals);
                http_ids.lock().unwrap().insert(key, id);
                accepted.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        });
        let nats = scope.spawn(|| publish_until(&s, &stop));
        wait_until(Duration::from_secs(60), "HTTP submissions before the stop", || {
            accepted.load(Ordering::SeqCst) >= BEFORE
        });
        pg.stop();
        let stopped = Instant::now();
        wait_until(Duration::from_secs(30), "a 503 while PostgreSQL is down", || !refusals.lock().unwrap().is_empty());
        let ready = http::request("GET", &s.url("/readyz"), &[], None);
        assert_eq!(ready.status, 503, "/readyz with PostgreSQL down: {}", ready.text());
        pg.start_again();
        eprintln!("PostgreSQL down for {:?}", stopped.elapsed());
        let at = accepted.load(Ordering::SeqCst);
        wait_until(Duration::from_secs(60), "HTTP submissions after the start", || {
            accepted.load(Ordering::SeqCst) >= at + AFTER
        });
        stop.store(true, Ordering::SeqCst);
        nats.join().unwrap()
    });
    let refusals = refusals.into_inner().unwrap();
    for (retry_after, detail) in &refusals {
        assert!(retry_after, "a 503 without Retry-After: {detail}");
        for quoted in ["postgres", "57P01", "terminating", "connection refused", "database error"] {
            assert!(!detail.contains(quoted), "the problem quotes the database: {detail}");
        }
    }
    let http_ids = http_ids.into_inner().unwrap();
    let mut want: BTreeSet<String> = http_ids.values().cloned().collect();
    assert_eq!(want.len(), http_ids.len(), "one case per Idempotency-Key");
    assert_eq!(nats_ids.len(), nats_published, "every NATS submission answered");
    want.extend(nats_ids.values().cloned());
    assert_eq!(want.len(), http_ids.len() + nats_published, "one case per Nats-Msg-Id");

    let (stored, events) = stored_and_sent(&pg.url());
    let extra: Vec<_> = stored.iter().filter(|(id, _)| !want.contains(*id)).map(|(_, key)| key).collect();
    let missing: Vec<_> = want.iter().filter(|id| !stored.contains_key(*id)).collect();
    assert!(
        extra.is_empty() && missing.is_empty(),
        "the database holds {} cases for {} accepted: cases of no answer {extra:?}; answered, not stored {missing:?}",
        stored.len(),
        want.len()
    );
    let msgs = read_stream(&s.nats_url, &s.stream("EVT"), events.len() as u64);
    let mut by_id: BTreeMap<String, usize> = BTreeMap::new();
    for m in &msgs {
        *by_id.entry(m.msg_id.clone().unwrap_or_default()).or_default() += 1;
    }
    let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events stored more than once: {twice:?}");
    let missing: Vec<_> = events.iter().filter(|e| !by_id.contains_key(*e)).collect();
    assert!(missing.is_empty(), "events not in the stream: {missing:?}");
    eprintln!(
        "{} HTTP and {nats_published} NATS submissions stored once each ({} 503s met during the outage), {} events \
         once each, in {:?}",
        http_ids.len(),
        refusals.len(),
        msgs.len(),
        started.elapsed()
    );
}

/// A submission titled with its idempotency key (so a stray case names the key it came from).
fn titled(key: &str) -> serde_json::Value {
    let mut body = submission("35.78", "infrastruktur");
    body["title"] = serde_json::json!(key);
    body
}

/// Submits over HTTP with `key` until accepted, noting each 503; any other answer fails the test.
fn submit_until_accepted(s: &Server, key: &str, refusals: &Mutex<Vec<(bool, String)>>) -> String {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let r = s.submit(&titled(key), &[("Idempotency-Key", key)]);
        match r.status {
            201 => return r.json()["id"].as_str().unwrap().to_owned(),
            503 => {
                let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
                refusals.lock().unwrap().push((r.header("retry-after").is_some(), detail));
            }
            other => panic!("submission {key} answered {other}: {}", r.text()),
        }
        assert!(Instant::now() < deadline, "submission {key} refused for 90 s");
        // A client's pause before its retry (the answer said Retry-After: 1; a short one keeps the
        // test quick).
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Publishes submissions over NATS (one every 20 ms) until `stop`, then waits for every answer.
/// Returns how many were published and each one's case id by msg id.
fn publish_until(s: &Server, stop: &AtomicBool) -> (usize, BTreeMap<String, String>) {
    block_on(async {
        let client = async_nats::connect(&s.nats_url).await.unwrap();
        let js = async_nats::jetstream::new(client.clone());
        let inbox = client.new_inbox();
        let mut sub = client.subscribe(format!("{inbox}.>")).await.unwrap();
        let mut ids = BTreeMap::new();
        let mut published = 0;
        let take = |msg: async_nats::Message, ids: &mut BTreeMap<String, String>| {
            let key = msg.subject.as_str().rsplit('.').next().unwrap().to_owned();
            let view: serde_json::Value = serde_json::from_slice(&msg.payload).unwrap();
            let id = view["id"].as_str().unwrap_or_else(|| panic!("NATS submission {key} answered {view}"));
            ids.insert(key, id.to_owned());
        };
        while !stop.load(Ordering::SeqCst) {
            let key = format!("nats-{published}");
            let mut headers = HeaderMap::new();
            headers.insert("Nats-Msg-Id", key.as_str());
            headers.insert("Aduan-Reply-To", format!("{inbox}.{key}").as_str());
            let body = titled(&key).to_string();
            let subject = format!("{}.cmd.submit", s.prefix);
            js.publish_with_headers(subject, headers, body.into()).await.unwrap().await.unwrap();
            published += 1;
            while let Ok(Some(msg)) = tokio::time::timeout(Duration::from_millis(20), next_message(&mut sub)).await {
                take(msg, &mut ids);
            }
        }
        while ids.len() < published {
            match tokio::time::timeout(Duration::from_secs(60), next_message(&mut sub)).await {
                Ok(Some(msg)) => take(msg, &mut ids),
                _ => break,
            }
        }
        (published, ids)
    })
}

/// The cases the database holds (id → title, the key it was submitted with), and the event ids of its outbox once every row is sent.
fn stored_and_sent(url: &str) -> (BTreeMap<String, String>, Vec<String>) {
    block_on(async {
        let mut c = PgConnection::connect(url).await.unwrap();
        crate::support::outbox_drained(&mut c).await;
        let ids: Vec<(String, String)> =
            sqlx::query_as("SELECT id, title FROM complaints").fetch_all(&mut c).await.unwrap();
        let events: Vec<(String,)> =
            sqlx::query_as("SELECT event_id FROM outbox WHERE subject LIKE '%.evt.%'").fetch_all(&mut c).await.unwrap();
        c.close().await.unwrap();
        (ids.into_iter().collect(), events.into_iter().map(|(e,)| e).collect())
    })
}
