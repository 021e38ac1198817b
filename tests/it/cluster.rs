//! The deployment's topology as processes (docs/deployment.md): three nats-servers clustered on
//! loopback from the deployment's own `deploy/nats.conf` (JetStream, `sync_interval: always`, the users
//! of `deploy/nats-permissions.conf`), two `aduan serve` replicas on one PostgreSQL database with every
//! stream at R3 (`ADUAN_NATS_REPLICAS=3`), logged in as `aduan_engine` with the cluster's URLs.
//!
//! Under load over HTTP on both replicas, the node most of the replicas are connected to (the event
//! stream's leader among equals) is killed. Nothing may be lost: every accepted submission is in the
//! database, and every event the outbox holds is in `{PREFIX}_EVT` exactly once (read from a surviving
//! node), `submitted` included; both replicas reconnect and keep publishing; the killed node,
//! restarted on its store, catches up.

use crate::support::{block_on, fresh_prefix, submission, Server};
use aduan_testkit::cluster::NatsCluster;
use aduan_testkit::http;
use aduan_testkit::pg::TestDatabase;
use serde_json::Value;
use sqlx::{Connection, PgConnection};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The engine's user in deploy/nats-permissions.conf (its placeholder password).
const ENGINE_USER: &str = "aduan_engine";
const ENGINE_PASSWORD: &str = "CHANGE-ME";
/// Submissions accepted before the node is killed, and after.
const BEFORE_KILL: usize = 120;
const AFTER_KILL: usize = 120;
/// Load clients, each alternating between the replicas.
const CLIENTS: usize = 4;

#[test]
fn fault_a_nats_node_killed_under_load_loses_nothing() {
    let started = Instant::now();
    let mut cluster = NatsCluster::start(3, crate::root().join("deploy/nats.conf"), &[]);
    let db = TestDatabase::create_blocking();
    let prefix = fresh_prefix();
    let urls = cluster.urls(Some(&format!("{ENGINE_USER}:{ENGINE_PASSWORD}")));
    let env = [("ADUAN_NATS_REPLICAS", "3")];
    let a = Server::replica(db.url(), &urls, &prefix, &env, None);
    let b = Server::replica(db.url(), &urls, &prefix, &env, Some(&a.admin));
    let replicas = [&a, &b];
    for r in replicas {
        wait_nats_ok(r);
    }
    // Every stream and the bucket at R3: a leader and two current followers.
    let stream = a.stream("EVT");
    for name in
        ["CMD", "EVT", "QUEUE", "DLQ"].map(|s| a.stream(s)).into_iter().chain([format!("KV_{}", a.stream("PACKS"))])
    {
        wait_for(|| copies(&cluster.url(0), &name) == (3, 2), &format!("{name} at R3 with two current followers"));
    }
    eprintln!("cluster and replicas up in {:?}", started.elapsed());

    // Load: clients submit to both replicas in turn until told to stop.
    let accepted = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let answers: Mutex<Vec<(u16, String)>> = Mutex::default();
    let victim = std::thread::scope(|scope| {
        for c in 0..CLIENTS {
            let (accepted, stop, answers) = (&accepted, &stop, &answers);
            scope.spawn(move || {
                let mut k = c;
                // Bounded: at most twice the submissions the test waits for.
                while !stop.load(Ordering::SeqCst) && k < 2 * (BEFORE_KILL + AFTER_KILL) {
                    let r = replicas[k % 2].submit(&submission("35.78", "infrastruktur"), &[]);
                    let id =
                        if r.status == 201 { r.json()["id"].as_str().unwrap_or_default().to_owned() } else { r.text() };
                    if r.status == 201 {
                        accepted.fetch_add(1, Ordering::SeqCst);
                    }
                    answers.lock().unwrap().push((r.status, id));
                    k += CLIENTS;
                }
            });
        }
        wait_for(|| accepted.load(Ordering::SeqCst) >= BEFORE_KILL, "submissions before the kill");
        let (victim, connections, leader) = busiest_node(&cluster, &prefix, &stream);
        assert!(connections >= 1, "no replica is connected to the node chosen");
        let at = accepted.load(Ordering::SeqCst);
        cluster.kill(victim);
        eprintln!(
            "killed node {} ({connections} replica connections, {} leader of {stream}) after {at} accepted submissions, {:?} in",
            cluster.name(victim),
            if leader { "the" } else { "not the" },
            started.elapsed()
        );
        wait_for(|| accepted.load(Ordering::SeqCst) >= at + AFTER_KILL, "submissions after the kill");
        stop.store(true, Ordering::SeqCst);
        victim
    });
    let answers = answers.into_inner().unwrap();
    let refused: Vec<&(u16, String)> = answers.iter().filter(|(s, _)| *s != 201).collect();
    assert!(refused.is_empty(), "submissions refused: {refused:?}");

    // The replicas that were on the killed node noticed, and every replica reconnected and keeps
    // publishing: one more submission on each, after the kill.
    assert!(
        replicas.iter().any(|r| r.log_text().contains("NATS disconnected")),
        "no replica logged losing its node:\n{}",
        a.log_text()
    );
    let mut accepted_ids: BTreeSet<String> = answers.into_iter().map(|(_, id)| id).collect();
    for r in replicas {
        wait_nats_ok(r);
        let view = r.submit(&submission("35.78", "infrastruktur"), &[]);
        assert_eq!(view.status, 201, "{}", view.text());
        accepted_ids.insert(view.json()["id"].as_str().unwrap().to_owned());
    }

    // Every accepted submission is in the database, and the outbox drains.
    let (stored, outbox) = block_on(async {
        let mut c = PgConnection::connect(db.url()).await.unwrap();
        crate::support::outbox_drained(&mut c).await;
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM complaints").fetch_all(&mut c).await.unwrap();
        let evt = format!("{prefix}.evt.%");
        let rows: Vec<(String,)> = sqlx::query_as("SELECT event_id FROM outbox WHERE subject LIKE $1")
            .bind(evt)
            .fetch_all(&mut c)
            .await
            .unwrap();
        c.close().await.unwrap();
        (ids.into_iter().map(|(id,)| id).collect::<BTreeSet<_>>(), rows.into_iter().map(|(e,)| e).collect::<Vec<_>>())
    });
    assert_eq!(stored, accepted_ids, "the database holds exactly the accepted submissions");

    // Every event of the outbox is in the stream exactly once, read from a surviving node.
    let survivor = (victim + 1) % cluster.len();
    let messages = read_all(&cluster.url(survivor), &stream, outbox.len() as u64);
    let mut by_msg_id: BTreeMap<String, usize> = BTreeMap::new();
    let mut submitted: BTreeMap<String, usize> = BTreeMap::new();
    for (msg_id, payload) in &messages {
        *by_msg_id.entry(msg_id.clone()).or_default() += 1;
        assert_eq!(payload["event_id"].as_str(), Some(msg_id.as_str()), "Nats-Msg-Id is the event id");
        if payload["type"] == "submitted" {
            *submitted.entry(payload["complaint_id"].as_str().unwrap().to_owned()).or_default() += 1;
        }
    }
    let twice: Vec<_> = by_msg_id.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "events stored more than once: {twice:?}");
    let missing: Vec<&String> = outbox.iter().filter(|e| !by_msg_id.contains_key(*e)).collect();
    assert!(missing.is_empty(), "{} of {} events not in {stream}: {missing:?}", missing.len(), outbox.len());
    assert_eq!(submitted.keys().cloned().collect::<BTreeSet<_>>(), accepted_ids, "a `submitted` event per submission");
    assert!(submitted.values().all(|n| *n == 1));

    // The killed node comes back on its store and catches up with the others.
    cluster.restart(victim);
    let want = messages.len() as u64;
    wait_for(|| local_messages(&cluster, victim, &stream) == Some(want), "the restarted node to catch up");

    for (name, r) in [("a", &a), ("b", &b)] {
        if let Some(kib) = r.pid().and_then(peak_rss_kib) {
            eprintln!("replica {name}: peak RSS {} MiB", kib / 1024);
        }
    }
    eprintln!(
        "{} submissions, {} events, node {} killed and caught up, in {:?}",
        accepted_ids.len(),
        messages.len(),
        cluster.name(victim),
        started.elapsed()
    );
}

/// A single server cannot keep three copies: serve refuses to start rather than run on one copy
/// while the operator believes there are three, whether the setting comes from the variable or the
/// config file; 0 replicas is not a setting.
#[test]
fn replicas_on_a_single_server_are_refused() {
    let nats = aduan_testkit::nats::NatsServer::start();
    let dir = aduan_testkit::process::tempdir("replicas");
    let config = dir.path().join("aduan.yaml");
    std::fs::write(&config, "nats_replicas: 3\n").unwrap();
    let run = |replicas: Option<&str>| {
        let mut args = vec!["serve", "--http-addr", "127.0.0.1:0", "--no-workers"];
        if replicas.is_none() {
            args.extend(["--config", config.to_str().unwrap()]);
        }
        let mut cmd = crate::command_in(dir.path(), &args);
        cmd.env("ADUAN_DATABASE_URL", format!("sqlite://{}/aduan.db", dir.path().display()))
            .env("ADUAN_POLICY_DIR", crate::root().join("policies/lapor"))
            .env("ADUAN_NATS_URL", nats.url());
        if let Some(n) = replicas {
            cmd.env("ADUAN_NATS_REPLICAS", n);
        }
        cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
        let mut child = aduan_testkit::process::spawn(cmd).expect("aduan runs");
        wait_for(|| child.try_wait().unwrap().is_some(), "serve to exit");
        child.wait_with_output().unwrap()
    };
    for replicas in [Some("3"), None] {
        let out = run(replicas);
        assert_eq!(out.status.code(), Some(1), "{replicas:?}: {}", crate::stderr(&out));
        let err = crate::stderr(&out);
        assert!(
            err.contains("3 replicas asked (ADUAN_NATS_REPLICAS)") && err.contains("not part of a cluster"),
            "{err}"
        );
    }
    let out = run(Some("0"));
    assert_eq!(out.status.code(), Some(2), "{}", crate::stderr(&out));
    assert!(crate::stderr(&out).contains("--nats-replicas"), "{}", crate::stderr(&out));
}

/// Polls `done` every 20 ms for up to 30 s.
fn wait_for(mut done: impl FnMut() -> bool, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits until `/readyz` says the replica is connected to NATS.
fn wait_nats_ok(server: &Server) {
    wait_for(
        || http::try_request("GET", &server.url("/readyz"), &[], None).is_ok_and(|r| r.json()["nats"] == "ok"),
        "a replica connected to NATS",
    );
}

/// The node holding the most of the replicas' connections (`aduan ({prefix})`); among equals, the
/// leader of `stream`, whose loss also moves the stream's leadership. With how many of those
/// connections, and whether it leads `stream`.
fn busiest_node(cluster: &NatsCluster, prefix: &str, stream: &str) -> (usize, usize, bool) {
    let name = format!("aduan ({prefix})");
    let leader = stream_detail(cluster, 0, stream).map(|d| d["cluster"]["leader"].clone()).unwrap_or_default();
    (0..cluster.len())
        .map(|i| {
            let connz = cluster.monitoring(i, "/connz?limit=1024");
            let ours = connz["connections"].as_array().map_or(0, |cs| cs.iter().filter(|c| c["name"] == name).count());
            (i, ours, leader == cluster.name(i))
        })
        .max_by_key(|&(_, ours, leads)| (ours, leads))
        .unwrap()
}

/// `stream`'s entry in node `i`'s `/jsz` (its own copy's state), if the node holds one.
fn stream_detail(cluster: &NatsCluster, i: usize, stream: &str) -> Option<Value> {
    let jsz = cluster.monitoring(i, "/jsz?accounts=true&streams=true");
    jsz["account_details"]
        .as_array()?
        .iter()
        .flat_map(|a| a["stream_detail"].as_array().cloned().unwrap_or_default())
        .find(|s| s["name"] == stream)
}

/// How many messages node `i`'s own copy of `stream` holds.
fn local_messages(cluster: &NatsCluster, i: usize, stream: &str) -> Option<u64> {
    stream_detail(cluster, i, stream)?["state"]["messages"].as_u64()
}

/// A client logged in as the engine's user.
async fn engine_client(url: &str) -> async_nats::Client {
    async_nats::ConnectOptions::with_user_and_password(ENGINE_USER.into(), ENGINE_PASSWORD.into())
        .connect(url)
        .await
        .unwrap_or_else(|e| panic!("connect to {url}: {e}"))
}

/// The replicas a stream is configured with, and how many followers are current with its leader.
fn copies(url: &str, stream: &str) -> (usize, usize) {
    block_on(async {
        let js = async_nats::jetstream::new(engine_client(url).await);
        let mut s = js.get_stream(stream).await.unwrap_or_else(|e| panic!("stream {stream}: {e}"));
        let info = s.info().await.unwrap();
        let current = info.cluster.as_ref().map_or(0, |c| c.replicas.iter().filter(|r| r.current).count());
        (info.config.num_replicas, current)
    })
}

/// Every message of `stream` as (Nats-Msg-Id, payload), once it holds at least `at_least` (30 s).
fn read_all(url: &str, stream: &str, at_least: u64) -> Vec<(String, Value)> {
    block_on(async {
        let js = async_nats::jetstream::new(engine_client(url).await);
        let s = js.get_stream(stream).await.unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        let state = loop {
            let state = s.get_info().await.unwrap().state;
            if state.messages >= at_least {
                break state;
            }
            assert!(Instant::now() < deadline, "{stream} holds {} messages, expected {at_least}", state.messages);
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        let mut out = Vec::new();
        for seq in state.first_sequence..=state.last_sequence {
            let m = s.get_raw_message(seq).await.unwrap_or_else(|e| panic!("{stream} #{seq}: {e}"));
            let id = m.headers.get("Nats-Msg-Id").map(|v| v.to_string()).unwrap_or_default();
            out.push((id, serde_json::from_slice(&m.payload).unwrap_or(Value::Null)));
        }
        out
    })
}

/// A process's peak resident set (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}
