//! Snapshots (insta) of the shapes users read: the complaint view, event payloads as received on
//! NATS, `aduan policy explain`, and problem+json. Ids, tracking ids, tokens, hashes and times are
//! redacted, so a snapshot changes only when a shape or a decision does.
//!
//! Snapshots live in `tests/it/snapshots/` under their own names (no module prefix): the SQLite and
//! PostgreSQL runs of one test compare against the same file, so both backends must answer alike.
//! `deploy/test.sh` never writes snapshots (`INSTA_UPDATE=no`); review a change with
//! `cargo insta review` (or run once with `INSTA_UPDATE=always` and read the diff).

use crate::support::{read_stream, submission, Db, Server};
use crate::{aduan, stderr, stdout};
use serde_json::{json, Value};
use std::io::Write;

both_backends!(complaint_view_and_events);

/// Asserts `value` against `tests/it/snapshots/{name}.snap`, with every id, token, hash and instant
/// redacted wherever it appears.
macro_rules! snapshot {
    ($name:expr, $value:expr) => {
        insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_json_snapshot!($name, $value, {
                ".**.id" => "[id]",
                ".**.event_id" => "[event id]",
                ".**.complaint_id" => "[complaint id]",
                ".**.tracking_id" => "[tracking id]",
                ".**.reporter_token" => "[token]",
                ".**.head_hash" => "[hash]",
                ".**.pack" => "[pack hash]",
                ".**.msg_id" => "[event id]",
                ".**.at" => $crate::shapes::time(),
                ".**.created_at" => $crate::shapes::time(),
                ".**.due_at" => $crate::shapes::time(),
                ".**.old_due_at" => $crate::shapes::time(),
                ".**.new_due_at" => $crate::shapes::time(),
                ".**.warn_at" => $crate::shapes::time(),
                ".**.received_at" => $crate::shapes::time(),
                ".**.due_date" => "[date]",
            });
        });
    };
}

/// An instant redacted as `[time]`; a null (no instant yet) stays null.
pub fn time() -> insta::internals::Redaction {
    insta::dynamic_redaction(|value, _| if value.is_nil() { value } else { "[time]".into() })
}

/// The live view's deadlines depend on today's date (and whether it lies in the calendar's covered
/// years): redact what follows from the date, keep the clocks and their state.
fn without_today(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(map) => {
                if map.contains_key("clock") && map.contains_key("provisional") {
                    map.insert("provisional".into(), json!("[depends on today]"));
                }
                map.values_mut().for_each(walk);
            }
            Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// Submit and verify, then the view; then two more actions, and the four events as NATS carries them.
fn complaint_view_and_events(db: Db) {
    let s = Server::start_with(db, &["--no-workers"]);
    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let r = s.act(&id, &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    snapshot!("complaint_view", without_today(s.get(&format!("/v1/complaints/{id}")).json()));

    for body in [
        json!({"action": "respond", "message": "Sedang kami cek"}),
        json!({"action": "request_info", "message": "Lokasi persisnya?"}),
    ] {
        let r = s.act(&id, &body, &[]);
        assert_eq!(r.status, 200, "{body}: {}", r.text());
    }
    let events: Vec<Value> = read_stream(&s.nats_url, &s.stream("EVT"), 4)
        .into_iter()
        .map(|m| {
            let subject = m.subject.replacen(&s.prefix, "{prefix}", 1);
            json!({"subject": subject, "msg_id": m.msg_id, "payload": m.payload})
        })
        .collect();
    snapshot!("events", without_today(Value::Array(events)));
}

/// The kinds of problem a client meets most: an unknown case, an action the state does not allow (with
/// what is allowed), a field that fails validation, a bad token, an action outside the caller's role.
#[test]
fn problems() {
    let s = Server::start_with(Db::Sqlite, &["--no-workers"]);
    let id = s.submit(&submission("35.78", "infrastruktur"), &[]).json()["id"].as_str().unwrap().to_owned();
    let mut too_long = submission("35.78", "infrastruktur");
    too_long["title"] = json!("x".repeat(201));
    let supervisor = s.token("supervisor", "kemenpanrb");
    let answers = [
        ("not_found", s.act("no-such-id", &json!({"action": "verify"}), &[])),
        ("conflict", s.act(&id, &json!({"action": "escalate", "reason": "x"}), &[])),
        ("unauthenticated", s.act(&id, &json!({"action": "verify"}), &[("Authorization", "Bearer adn.nope")])),
        ("forbidden", s.act(&id, &json!({"action": "verify"}), &[("Authorization", &format!("Bearer {supervisor}"))])),
        ("unprocessable", s.submit(&too_long, &[])),
    ];
    let shapes: Value = answers
        .iter()
        .map(|(name, r)| {
            let shape = json!({"status": r.status, "content_type": r.header("content-type"),
                "www_authenticate": r.header("www-authenticate"), "body": r.json()});
            (name.to_string(), shape)
        })
        .collect::<serde_json::Map<_, _>>()
        .into();
    snapshot!("problems", shapes);
}

/// `aduan policy explain` on a fixed complaint at a fixed instant: every clock with its skipped days
/// and SLA source, and the decision trace.
#[test]
fn policy_explain() {
    let mut f = tempfile::Builder::new().prefix("aduan-test-complaint-").suffix(".json").tempfile().unwrap();
    f.write_all(
        br#"{"kind": "pengaduan", "channel": "web", "title": "Jalan berlubang", "body": "Di depan pasar",
            "category": "infrastruktur", "region": "33.74", "privacy": "public",
            "reporter": {"name": "Sri", "contact": "0812"}, "at": "2026-03-17T10:00:00+07:00"}"#,
    )
    .unwrap();
    let o = aduan(&["policy", "explain", "--complaint", f.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    // The explained instants are fixed: keep them (only the pack hash is redacted).
    insta::with_settings!({ prepend_module_to_snapshot => false, omit_expression => true }, {
        insta::assert_json_snapshot!("policy_explain", v, { ".**.pack" => "[pack hash]" });
    });
}
