//! End-to-end: the real `aduan serve` against a real nats-server and both databases.

use crate::support::{nats_command, read_stream, submission, Db, Server};
use aduan_testkit::nats::NatsServer;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

both_backends!(lifecycle_over_http, lifecycle_over_nats, restart_keeps_everything);

fn lifecycle_over_http(db: Db) {
    let s = Server::start(db);
    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let id = v["id"].as_str().unwrap().to_owned();
    let tracking = v["tracking_id"].as_str().unwrap().to_owned();
    assert_eq!(v["status"], "submitted");
    assert!(v["reporter_token"].as_str().unwrap().len() >= 40);
    assert_eq!(v["deadlines"][0]["clock"], "verify");
    let steps: [(Value, &str); 7] = [
        (json!({"action": "verify"}), "assigned"),
        (json!({"action": "respond", "message": "Sedang kami cek"}), "in_progress"),
        (json!({"action": "request_info", "message": "Lokasi persisnya?"}), "awaiting_reporter"),
        (json!({"action": "provide_info", "message": "Depan pasar"}), "in_progress"),
        (json!({"action": "resolve", "message": "Sudah ditambal"}), "resolved"),
        (json!({"action": "reopen", "message": "Belum rapi"}), "in_progress"),
        (json!({"action": "resolve", "message": "Sudah rapi"}), "resolved"),
    ];
    for (body, status) in steps {
        let r = s.act(&tracking, &body, &[]);
        assert_eq!(r.status, 200, "{body}: {}", r.text());
        assert_eq!(r.json()["status"], status, "{body}");
    }
    let r = s.act(&id, &json!({"action": "rate", "score": 5}), &[]);
    assert_eq!(r.json()["status"], "closed");
    let view = s.get(&format!("/v1/complaints/{tracking}")).json();
    assert_eq!(view["agency"], "35.78/dinas-pu");
    let types: Vec<&str> = view["history"].as_array().unwrap().iter().map(|h| h["type"].as_str().unwrap()).collect();
    let expected = [
        "submitted",
        "assigned",
        "responded",
        "info_requested",
        "info_provided",
        "resolved",
        "reopened",
        "resolved",
        "rated",
        "closed",
    ];
    assert_eq!(types, expected);
    // Every event reaches NATS, in order, with Nats-Msg-Id = event id, on the holder's subject.
    let msgs = read_stream(&s.nats_url, &s.stream("EVT"), expected.len() as u64);
    let ours: Vec<_> = msgs.iter().filter(|m| m.payload["complaint_id"] == id.as_str()).collect();
    assert_eq!(ours.iter().map(|m| m.payload["type"].as_str().unwrap()).collect::<Vec<_>>(), expected);
    for m in &ours {
        assert_eq!(m.msg_id.as_deref(), m.payload["event_id"].as_str());
        assert!(m.payload.get("reporter").is_none(), "no event carries the reporter's identity");
    }
    assert_eq!(ours[0].subject, format!("{}.evt._._._.submitted", s.prefix));
    assert_eq!(ours[1].subject, format!("{}.evt.35.78.dinas-pu.assigned", s.prefix));
    assert_eq!(ours[0].payload["data"]["title"], "Jalan berlubang");
}

fn lifecycle_over_nats(db: Db) {
    let s = Server::start(db);
    let v = s.nats("submit", &submission("33.74", "kesehatan"), Some("sub-1"));
    assert_eq!(v["status"], "submitted", "{v}");
    assert!(v["reporter_token"].is_string());
    let id = v["id"].as_str().unwrap().to_owned();
    let v = s.nats("verify", &json!({"complaint": id}), Some("v-1"));
    assert_eq!(v["agency"], "33.74/dinkes");
    // Kota Semarang's overlay: respond in 7 working days.
    let respond = v["deadlines"].as_array().unwrap().iter().find(|d| d["clock"] == "respond").unwrap().clone();
    assert!(respond["due_date"].is_string());
    for (action, body, status) in [
        ("respond", json!({"complaint": id, "message": "Ditindaklanjuti"}), "in_progress"),
        ("resolve", json!({"complaint": id, "message": "Selesai"}), "resolved"),
        ("rate", json!({"complaint": id, "score": 4}), "closed"),
    ] {
        let v = s.nats(action, &body, None);
        assert_eq!(v["status"], status, "{action}: {v}");
    }
    // Idempotency on NATS: two messages (different Nats-Msg-Id, or none) with the same command_id make
    // one case; the replay answers with the same case. (A re-published Nats-Msg-Id is dropped by
    // JetStream's duplicate window before it reaches us; a redelivery after a crash uses the same key.)
    let mut with_key = submission("33.74", "kesehatan");
    with_key["command_id"] = json!("nats-k");
    let a = s.nats("submit", &with_key, None);
    let b = s.nats("submit", &with_key, None);
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["reporter_token"], b["reporter_token"]);
    let list = s.get("/v1/complaints?limit=10").json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2, "two distinct cases: {list}");
}

#[test]
fn idempotency_over_http() {
    let s = Server::start(Db::Sqlite);
    let body = submission("35.78", "infrastruktur");
    let a = s.submit(&body, &[("Idempotency-Key", "k1")]);
    let b = s.submit(&body, &[("Idempotency-Key", "k1")]);
    assert_eq!((a.status, b.status), (201, 201), "a replay answers with the original status");
    let (a, b) = (a.json(), b.json());
    assert_eq!(a["id"], b["id"]);
    assert_eq!(a["reporter_token"], b["reporter_token"], "the same reporter token within 24 h");
    let mut other = body.clone();
    other["title"] = json!("Lain");
    let c = s.submit(&other, &[("Idempotency-Key", "k1")]);
    assert_eq!(c.status, 409);
    assert_eq!(c.json()["detail"], "idempotency key reused");
    // command_id in the body works the same way.
    let mut with_id = body.clone();
    with_id["command_id"] = json!("k2");
    let d = s.submit(&with_id, &[]).json();
    let e = s.submit(&with_id, &[]).json();
    assert_eq!(d["id"], e["id"]);
    // Actions: replaying a verify writes no new event.
    let id = a["id"].as_str().unwrap();
    let v1 = s.act(id, &json!({"action": "verify"}), &[("Idempotency-Key", "v")]);
    let v2 = s.act(id, &json!({"action": "verify"}), &[("Idempotency-Key", "v")]);
    assert_eq!((v1.status, v2.status), (200, 200));
    let history = s.get(&format!("/v1/complaints/{id}")).json()["history"].as_array().unwrap().len();
    assert_eq!(history, 2, "submitted + assigned, once");
    let list = s.get("/v1/complaints").json();
    assert_eq!(list["items"].as_array().unwrap().len(), 2);
}

#[test]
fn invalid_transitions_and_bad_input_get_clear_problems() {
    let s = Server::start(Db::Sqlite);
    let v = s.submit(&submission("35.78", "infrastruktur"), &[]).json();
    let id = v["id"].as_str().unwrap();
    let r = s.act(id, &json!({"action": "escalate", "reason": "x"}), &[]);
    assert_eq!(r.status, 409);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    assert_eq!(r.json()["allowed"], json!(["archive", "verify"]));
    let r = s.act(id, &json!({"action": "archive"}), &[]);
    assert_eq!((r.status, r.json()["field"].clone()), (422, json!("reason")));
    let r = s.act(id, &json!({"action": "verify", "mesage": "x"}), &[]);
    assert_eq!((r.status, r.json()["field"].clone()), (422, json!("mesage")));
    let r = s.act("no-such-id", &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 404);
    let mut bad = submission("35-78", "infrastruktur");
    let r = s.submit(&bad, &[]);
    assert_eq!((r.status, r.json()["field"].clone()), (422, json!("region")));
    bad["region"] = json!("35.78");
    bad["title"] = json!("x".repeat(201));
    assert_eq!(s.submit(&bad, &[]).json()["field"], "title");
    let r = aduan_testkit::http::request(
        "POST",
        &s.url("/v1/complaints"),
        &[("content-type", "application/json")],
        Some(b"{\"kind\":"),
    );
    assert_eq!(r.status, 400);
    let big = vec![b'x'; 1024 * 1024 + 10];
    let r = aduan_testkit::http::request(
        "POST",
        &s.url("/v1/complaints"),
        &[("content-type", "application/json")],
        Some(&big),
    );
    assert_eq!(r.status, 413);
    // Archived: final, still counted in stats.
    s.act(id, &json!({"action": "archive", "reason": "duplikat"}), &[]);
    let r = s.act(id, &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 409);
    let stats = s.get("/v1/stats").json();
    assert_eq!((stats["total"].clone(), stats["archived"].clone()), (json!(1), json!(1)));
}

#[test]
fn a_poison_message_goes_to_the_dlq_and_the_consumer_carries_on() {
    let s = Server::start(Db::Sqlite);
    let poison = nats_command(&s.nats_url, &s.prefix, "submit", b"{\"kind\": \"pengaduan\", \"oops\": 1}", None, None);
    assert_eq!(poison["status"], 422, "{poison}");
    let ok = s.nats("submit", &submission("35.78", "listrik"), None);
    assert_eq!(ok["status"], "submitted");
    let dlq = read_stream(&s.nats_url, &s.stream("DLQ"), 1);
    assert_eq!(dlq.len(), 1);
    assert_eq!(dlq[0].subject, format!("{}.dlq.submit", s.prefix));
}

fn restart_keeps_everything(db: Db) {
    let mut s = Server::start(db);
    let v = s.submit(&submission("51.71", "kesehatan"), &[]).json();
    let id = v["id"].as_str().unwrap().to_owned();
    s.act(&id, &json!({"action": "verify"}), &[]);
    s.act(&id, &json!({"action": "request_info", "message": "?"}), &[]);
    let before = s.get(&format!("/v1/complaints/{id}")).json();
    s.restart();
    let after = s.get(&format!("/v1/complaints/{id}")).json();
    assert_eq!(before, after);
    assert_eq!(after["status"], "awaiting_reporter");
    assert!(after["deadlines"].as_array().unwrap().iter().any(|d| d["clock"] == "complete" && d["paused"] == true));
    let r = s.act(&id, &json!({"action": "provide_info", "message": "Ini"}), &[]);
    assert_eq!(r.json()["status"], "in_progress");
}

/// NATS away for 10 s during HTTP intake loses nothing: the outbox drains once it is back.
#[test]
fn fault_nats_down_for_10s_loses_nothing() {
    let mut nats = NatsServer::start();
    let s = Server::start_on(Db::Sqlite, &nats);
    let first = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(first.status, 201);
    read_stream(&s.nats_url, &s.stream("EVT"), 1);
    nats.stop();
    let down = Instant::now();
    let mut ids = Vec::new();
    while down.elapsed() < Duration::from_secs(10) {
        let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
        assert_eq!(r.status, 201, "intake works while NATS is away: {}", r.text());
        ids.push(r.json()["id"].as_str().unwrap().to_owned());
        std::thread::sleep(Duration::from_millis(250));
    }
    let ready = s.get("/readyz").json();
    assert_eq!(ready["nats"], "down");
    assert_eq!(ready["database"], "ok");
    nats.restart();
    let msgs = read_stream(nats.url(), &s.stream("EVT"), 1 + ids.len() as u64);
    let published: Vec<&str> = msgs.iter().map(|m| m.payload["complaint_id"].as_str().unwrap()).collect();
    for id in &ids {
        assert_eq!(published.iter().filter(|p| *p == id).count(), 1, "{id} published exactly once");
    }
    let order: Vec<&str> = published[1..].to_vec();
    assert_eq!(order, ids.iter().map(String::as_str).collect::<Vec<_>>(), "in outbox order");
}

/// A holiday added to the pack mid-year moves the open deadlines that cross it: `serve` recomputes them
/// in the background at start and journals one `deadline_changed` per case.
#[test]
fn a_holiday_added_to_the_pack_moves_open_deadlines() {
    let mut s = Server::start(Db::Sqlite);
    let v = s.submit(&submission("35.78", "infrastruktur"), &[]).json();
    let id = v["id"].as_str().unwrap().to_owned();
    let v = s.act(&id, &json!({"action": "verify"}), &[]).json();
    let respond =
        |v: &Value| v["deadlines"].as_array().unwrap().iter().find(|d| d["clock"] == "respond").unwrap().clone();
    let before = respond(&v);
    let due_date = before["due_date"].as_str().unwrap().to_owned();
    if due_date.as_str() > "2027-12-31" {
        eprintln!("skipped: the respond deadline {due_date} lies past the calendar's covered years");
        return;
    }
    // A new pack: the same, with the respond due date declared a day off.
    let pack = crate::pack_copy();
    let cal = pack.path().join("calendars/indonesia.yaml");
    let year = &due_date[..4];
    let text = std::fs::read_to_string(&cal).unwrap().replacen(
        &format!("  {year}:\n    public:\n"),
        &format!("  {year}:\n    public:\n      - {{date: {due_date}, name: \"Added mid-year\"}}\n"),
        1,
    );
    std::fs::write(&cal, text).unwrap();
    s.policy_dir = pack.path().to_path_buf();
    s.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    let view = loop {
        let v = s.get(&format!("/v1/complaints/{id}")).json();
        if v["history"].as_array().unwrap().iter().any(|h| h["type"] == "deadline_changed") {
            break v;
        }
        assert!(Instant::now() < deadline, "no deadline_changed within 30 s:\n{}", s.log_text());
        std::thread::sleep(Duration::from_millis(100));
    };
    let after = respond(&view);
    assert_ne!(after["due_date"], before["due_date"], "respond moved past the new holiday");
    assert!(after["due_date"].as_str().unwrap() > due_date.as_str());
    let change = view["history"].as_array().unwrap().iter().find(|h| h["type"] == "deadline_changed").unwrap();
    let changes = change["data"]["changes"].as_array().unwrap();
    let r = changes.iter().find(|c| c["clock"] == "respond").expect("respond journaled");
    assert_eq!(r["reason"]["kind"], "calendar_changed");
    assert_eq!(r["old_due_at"], before["due_at"]);
    assert_eq!(r["new_due_at"], after["due_at"]);
    // Restarting on the same pack recomputes nothing more.
    s.restart();
    let n = s.get(&format!("/v1/complaints/{id}")).json()["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["type"] == "deadline_changed")
        .count();
    assert_eq!(n, 1);
}

/// Waits until serve's log has said `needle` `n` times.
fn wait_for_log(s: &Server, needle: &str, n: usize) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while s.log_text().matches(needle).count() < n {
        assert!(Instant::now() < deadline, "`{needle}` not logged {n} times within 30 s:\n{}", s.log_text());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// An SLA change reaches open cases, journaled as `sla_changed`, unless its file says
/// `applies_to: new_cases`; then only cases opened afterwards take it.
#[test]
fn an_sla_change_reaches_open_cases_unless_it_is_for_new_cases() {
    let mut s = Server::start(Db::Sqlite);
    let open_case = |s: &Server| {
        let v = s.submit(&submission("35.78", "infrastruktur"), &[]).json();
        let id = v["id"].as_str().unwrap().to_owned();
        let v = s.act(&id, &json!({"action": "verify"}), &[]).json();
        assert_eq!(v["status"], "assigned", "{v}");
        id
    };
    let view = |s: &Server, id: &str| s.get(&format!("/v1/complaints/{id}")).json();
    let respond =
        |v: &Value| v["deadlines"].as_array().unwrap().iter().find(|d| d["clock"] == "respond").unwrap().clone();
    let changes = |v: &Value| -> Vec<Value> {
        v["history"].as_array().unwrap().iter().filter(|h| h["type"] == "deadline_changed").cloned().collect()
    };
    let a = open_case(&s);
    let a_before = respond(&view(&s, &a));
    // A new pack: Surabaya promises its first follow-up in 8 working days, for new cases only.
    let pack = crate::pack_copy();
    let overlay = pack.path().join("sla/35.78-test.yaml");
    let write = |applies_to: &str| {
        std::fs::write(
            &overlay,
            format!("region: \"35.78\"\nname: Surabaya 8 hari\napplies_to: {applies_to}\nclocks:\n  respond: {{working_days: 8}}\n"),
        )
        .unwrap()
    };
    write("new_cases");
    s.policy_dir = pack.path().to_path_buf();
    s.restart();
    wait_for_log(&s, "recompute of open deadlines finished", 1);
    let a_view = view(&s, &a);
    assert_eq!(respond(&a_view), a_before, "the open case keeps its deadline");
    assert!(changes(&a_view).is_empty());
    let b = open_case(&s);
    let b_before = respond(&view(&s, &b));
    assert!(b_before["due_date"].as_str() > a_before["due_date"].as_str(), "{b_before} vs {a_before}");
    // The same overlay for open cases too: the first case moves; the second already has it.
    write("open_cases");
    s.restart();
    wait_for_log(&s, "recompute of open deadlines finished", 2);
    let a_view = view(&s, &a);
    let a_after = respond(&a_view);
    assert!(a_after["due_date"].as_str() > a_before["due_date"].as_str(), "{a_after} vs {a_before}");
    let journal = changes(&a_view);
    assert_eq!(journal.len(), 1, "{journal:?}");
    let r = journal[0]["data"]["changes"].as_array().unwrap().iter().find(|c| c["clock"] == "respond").unwrap().clone();
    assert_eq!(r["reason"]["kind"], "sla_changed");
    assert_eq!(r["old_due_at"], a_before["due_at"]);
    assert_eq!(r["new_due_at"], a_after["due_at"]);
    let b_view = view(&s, &b);
    assert_eq!(respond(&b_view), b_before);
    assert!(changes(&b_view).is_empty());
}

/// A recompute that stopped midway resumes, at the next start on the same pack, from the last case it
/// finished. The store is set up as a walk interrupted after the first case would leave it: every
/// case's stored `respond` deadline stale (as if the pack had just gained a holiday) and the progress row
/// saying the first case is done.
#[test]
fn an_interrupted_recompute_resumes_where_it_stopped() {
    let mut s = Server::start(Db::Sqlite);
    let mut ids: Vec<String> = (0..3)
        .map(|_| {
            let v = s.submit(&submission("35.78", "infrastruktur"), &[]).json();
            let id = v["id"].as_str().unwrap().to_owned();
            assert_eq!(s.act(&id, &json!({"action": "verify"}), &[]).json()["status"], "assigned");
            id
        })
        .collect();
    ids.sort();
    s.stop();
    crate::support::block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&s.db_url).await.unwrap();
        sqlx::query("UPDATE timers SET due_at = due_at - 86400000 WHERE clock = 'respond'")
            .execute(&mut c)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO recomputes (pack, after_id, changed, started_at) \
             SELECT hash, $1, 1, 0 FROM packs WHERE active = 1",
        )
        .bind(&ids[0])
        .execute(&mut c)
        .await
        .unwrap();
        c.close().await.unwrap();
    });
    s.restart();
    wait_for_log(&s, "recompute of open deadlines finished", 1);
    let journaled = |id: &str| {
        s.get(&format!("/v1/complaints/{id}")).json()["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|h| h["type"] == "deadline_changed")
            .count()
    };
    assert_eq!(journaled(&ids[0]), 0, "the case the walk had finished is not walked again");
    assert_eq!(journaled(&ids[1]), 1);
    assert_eq!(journaled(&ids[2]), 1);
    let log = s.log_text();
    let finished = log.lines().find(|l| l.contains("recompute of open deadlines finished")).unwrap();
    assert!(without_ansi(finished).contains("cases=2"), "this run changed two cases: {finished}");
}

/// A log line without its ANSI colour sequences.
fn without_ansi(line: &str) -> String {
    let mut out = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
