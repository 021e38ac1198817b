//! The outbox relay's exactly-once across an outage longer than JetStream's duplicate window: with
//! NATS down, submissions pile up in the outbox; NATS comes back, the replica is killed (`kill -9`)
//! while the relay drains, and is started again only after the event streams' duplicate window has
//! passed, so JetStream cannot drop what the relay published but had not marked sent. The relay's
//! resync from the streams' tail (`bus/tail.rs`) must: every event in `{PREFIX}_EVT`, and every queue
//! copy in `{PREFIX}_QUEUE`, exactly once.

use super::wait_until;
use crate::support::{block_on, read_stream, submission, Db, Server};
use aduan_testkit::http;
use aduan_testkit::nats::NatsServer;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Submissions queued while NATS is down (the issue asks 8,000; 2,000 keep the suite's time, and are
/// eight relay batches: several are in flight when the kill comes).
const SUBMISSIONS: usize = 2_000;
const CLIENTS: usize = 2;
/// The event streams' duplicate window in this test (`ADUAN_NATS_DUPLICATE_WINDOW`, seconds).
const WINDOW: u64 = 2;

#[test]
fn fault_relay_killed_mid_drain_past_the_duplicate_window_publishes_each_event_once() {
    let started = Instant::now();
    let mut nats = NatsServer::start();
    let window = WINDOW.to_string();
    let mut s = Server::start_on_with_env(Db::Sqlite, &nats, &[("ADUAN_NATS_DUPLICATE_WINDOW", &window)]);
    wait_until(Duration::from_secs(30), "serve connected to NATS", || {
        http::request("GET", &s.url("/readyz"), &[], None).json()["nats"] == "ok"
    });
    for stream in ["EVT", "QUEUE"] {
        assert_eq!(duplicate_window(&s, &s.stream(stream)), Duration::from_secs(WINDOW), "{stream}");
    }
    nats.stop();
    std::thread::scope(|scope| {
        for c in 0..CLIENTS {
            let s = &s;
            scope.spawn(move || {
                for _ in (c..SUBMISSIONS).step_by(CLIENTS) {
                    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
                    assert_eq!(r.status, 201, "{}", r.text());
                }
            });
        }
    });
    let queued = started.elapsed();
    nats.restart();
    let evt = s.stream("EVT");
    wait_until(Duration::from_secs(60), "the relay to start draining", || messages(&s, &evt) >= SUBMISSIONS as u64 / 4);
    s.kill();
    let at_kill = messages(&s, &evt) + messages(&s, &s.stream("QUEUE"));
    assert!(at_kill < 2 * SUBMISSIONS as u64, "killed during the drain, not after it ({at_kill} published)");
    let unmarked = at_kill as i64 - marked_sent(&s);
    // The point of the test: the window passes before the relay comes back.
    std::thread::sleep(Duration::from_secs(WINDOW + 1));
    s.relaunch();
    let events = read_stream(&s.nats_url, &evt, SUBMISSIONS as u64);
    let queue = read_stream(&s.nats_url, &s.stream("QUEUE"), SUBMISSIONS as u64);
    wait_until(Duration::from_secs(30), "the outbox to drain", || backlog(&s) == Some(0));
    let events = read_stream(&s.nats_url, &evt, events.len() as u64);
    let queue = read_stream(&s.nats_url, &s.stream("QUEUE"), queue.len() as u64);
    for (name, msgs) in [("EVT", &events), ("QUEUE", &queue)] {
        let mut by_id: BTreeMap<&str, usize> = BTreeMap::new();
        for m in msgs.iter() {
            *by_id.entry(m.msg_id.as_deref().unwrap_or_default()).or_default() += 1;
        }
        let twice: Vec<_> = by_id.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "{} events stored twice in {name}: {:?}", twice.len(), &twice[..twice.len().min(5)]);
        let submitted = msgs.iter().filter(|m| m.payload["type"] == "submitted").count();
        assert_eq!(submitted, SUBMISSIONS, "one `submitted` per submission in {name}");
    }
    eprintln!(
        "{SUBMISSIONS} submissions queued in {queued:?}; killed with {at_kill} messages published, {unmarked} of them \
         not marked sent; each event once in EVT and QUEUE after a {WINDOW} s window, in {:?}",
        started.elapsed()
    );
}

/// How many messages `stream` holds now.
fn messages(s: &Server, stream: &str) -> u64 {
    block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&s.nats_url).await.unwrap());
        match js.get_stream(stream).await {
            Ok(mut st) => st.info().await.map_or(0, |i| i.state.messages),
            Err(_) => 0,
        }
    })
}

/// Outbox rows marked sent, read from the database while the replica is down.
fn marked_sent(s: &Server) -> i64 {
    use sqlx::Connection;
    block_on(async {
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        let (n,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL").fetch_one(&mut c).await.unwrap();
        c.close().await.unwrap();
        n
    })
}

/// `stream`'s duplicate window.
fn duplicate_window(s: &Server, stream: &str) -> Duration {
    block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&s.nats_url).await.unwrap());
        js.get_stream(stream).await.unwrap().info().await.unwrap().config.duplicate_window
    })
}

/// `aduan_outbox_backlog` from `/metrics`.
fn backlog(s: &Server) -> Option<i64> {
    let text = http::request("GET", &s.url("/metrics"), &[], None).text();
    text.lines().find_map(|l| l.strip_prefix("aduan_outbox_backlog "))?.trim().parse().ok()
}
