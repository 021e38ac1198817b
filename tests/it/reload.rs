//! Hot reload of the policy pack: a broken candidate (from the directory or published to the bucket)
//! never replaces the active pack and is reported in `/readyz`, `/metrics` and a `pack_rejected`
//! event; a good one goes live without a restart; intake answers throughout; at start-up a broken
//! directory falls back to the stored pack. docs/configuration.md#hot-reload.

use crate::support::{read_stream, submission, Db, Server};
use crate::{aduan_in, pack_copy, stdout};
use serde_json::Value;
use std::path::Path;
use std::time::{Duration, Instant};

both_backends!(a_broken_directory_is_refused_and_a_fixed_one_goes_live_while_intake_runs);

/// Polls `/readyz` until its `pack` part satisfies `ok`, submitting a complaint at every look (each
/// must be accepted: intake never stops for a reload). Returns the `pack` part.
fn until_pack(s: &Server, what: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
        assert_eq!(r.status, 201, "intake during a reload: {}", r.text());
        let pack = s.get("/readyz").json()["pack"].clone();
        if ok(&pack) {
            return pack;
        }
        assert!(Instant::now() < deadline, "{what}: /readyz says {pack}\n{}", s.log_text());
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn break_routing(dir: &Path) {
    std::fs::write(dir.join("rules/route.rhai"), "fn route(complaint, now) {\n  loop {}\n}\n").unwrap();
}

fn events_of(s: &Server, event_type: &str) -> Vec<Value> {
    read_stream(&s.nats_url, &s.stream("EVT"), 1)
        .into_iter()
        .filter(|m| m.payload["type"] == event_type)
        .map(|m| m.payload)
        .collect()
}

fn a_broken_directory_is_refused_and_a_fixed_one_goes_live_while_intake_runs(db: Db) {
    let pack = pack_copy();
    let mut s = Server::start_with(db, &["--pack-poll", "1"]);
    s.policy_dir = pack.path().to_owned();
    s.restart();
    let first = s.get("/readyz").json()["pack"]["active"].as_str().unwrap().to_owned();

    break_routing(pack.path());
    let p = until_pack(&s, "the broken pack is reported", |p| !p["rejected"].is_null());
    assert_eq!(p["active"], first.as_str(), "the active pack stays");
    assert!(p["rejected"]["error"].as_str().unwrap().contains("rules/route.rhai:"), "{p}");
    assert!(p["rejected"]["source"].as_str().unwrap().starts_with("directory "), "{p}");
    let metrics = s.get("/metrics").text();
    assert!(metrics.contains("aduan_pack_rejected 1"), "{metrics}");
    assert!(metrics.contains("aduan_pack_reloads_total{outcome=\"rejected\"} 1"), "{metrics}");
    let deadline = Instant::now() + Duration::from_secs(30);
    while events_of(&s, "pack_rejected").is_empty() {
        assert!(Instant::now() < deadline, "no pack_rejected event");
        std::thread::sleep(Duration::from_millis(100));
    }
    let ev = &events_of(&s, "pack_rejected")[0];
    assert_eq!(ev["agency"], "kemenpanrb");
    assert_eq!(ev["complaint_id"], Value::Null);

    // The fix: routing restored, and Surabaya's respond budget changed, so deadlines recompute.
    std::fs::copy(crate::root().join("policies/lapor/rules/route.rhai"), pack.path().join("rules/route.rhai")).unwrap();
    let overlay =
        "region: \"35.78\"\nname: \"Kota Surabaya: tanggapan 3 hari kerja\"\nclocks:\n  respond: {working_days: 3}\n";
    std::fs::write(pack.path().join("sla/35.78-kota-surabaya.yaml"), overlay).unwrap();
    let p = until_pack(&s, "the fixed pack goes live", |p| p["active"] != first.as_str());
    assert!(p["rejected"].is_null(), "a good pack clears the rejection: {p}");
    let second = p["active"].as_str().unwrap().to_owned();
    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(r.json()["pack"], second.as_str(), "new cases are decided by the new pack");
    assert!(s.get("/metrics").text().contains("aduan_pack_rejected 0"));

    // A restart on a broken directory runs on the stored pack, and says so.
    break_routing(pack.path());
    s.restart();
    let p = s.get("/readyz").json()["pack"].clone();
    assert_eq!(p["active"], second.as_str(), "serve runs on the stored pack: {p}");
    assert!(p["rejected"]["error"].as_str().unwrap().contains("rules/route.rhai"), "{p}");
    assert!(s.log_text().contains("REJECTED"), "said loudly in the log");
    assert_eq!(s.submit(&submission("35.78", "kesehatan"), &[]).status, 201);
}

#[test]
fn a_published_pack_reaches_the_replica_and_a_broken_one_is_refused() {
    let s = Server::start_with(Db::Sqlite, &["--pack-poll", "0"]);
    let first = s.get("/readyz").json()["pack"]["active"].as_str().unwrap().to_owned();
    let publish = |dir: &Path| {
        let mut cmd = s.command();
        cmd.env("ADUAN_NATS_URL", &s.nats_url).args(["policy", "publish", dir.to_str().unwrap()]);
        cmd.output().unwrap()
    };

    let broken = pack_copy();
    break_routing(broken.path());
    let o = publish(broken.path());
    assert_eq!(o.status.code(), Some(1), "a pack that check refuses is not published");
    assert!(stdout(&o).contains("rules/route.rhai:"), "{}", stdout(&o));

    let good = pack_copy();
    let overlay = "region: \"51.71\"\nclocks:\n  respond: {working_days: 4}\n";
    std::fs::write(good.path().join("sla/51.71-kota-denpasar.yaml"), overlay).unwrap();
    let o = publish(good.path());
    assert!(o.status.success(), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert!(stdout(&o).contains("published: pack "), "{}", stdout(&o));
    let p = until_pack(&s, "the published pack goes live", |p| p["active"] != first.as_str());
    let check = aduan_in(&crate::root(), &["policy", "check", good.path().to_str().unwrap()]);
    assert!(stdout(&check).contains(p["active"].as_str().unwrap()), "the replica runs the published pack");

    // A value that is not a pack, put by hand into the bucket, is refused and reported.
    crate::support::block_on(async {
        let js = async_nats::jetstream::new(async_nats::connect(&s.nats_url).await.unwrap());
        let kv = js.get_key_value(s.stream("PACKS")).await.unwrap();
        kv.put("active", "junk".into()).await.unwrap();
    });
    let p = until_pack(&s, "a junk value is refused", |p| !p["rejected"].is_null());
    assert_eq!(p["rejected"]["source"], "published");
    assert!(p["rejected"]["error"].as_str().unwrap().contains("not a published pack"), "{p}");
}
