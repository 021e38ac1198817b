//! Channel bridges (docs/integrations.md#bridges): an SMS gateway registered as a source posts the
//! messages it received to `POST /v1/bridges/sms`; each becomes a complaint on channel `sms`, the
//! sender its reporter's contact, a `#CODE` its region; a retry of the same message files nothing new;
//! a message without a region still comes in, for the verifier to complete.

use crate::support::{Db, Server};
use aduan_testkit::http;
use serde_json::{json, Value};

fn post(s: &Server, body: &Value, token: Option<&str>) -> http::Response {
    let auth = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = auth.as_deref().map(|a| ("Authorization", a)).into_iter().collect();
    http::post_json(&s.url("/v1/bridges/sms"), body, &headers)
}

fn an_sms_gateway_files_what_it_received(db: Db) {
    let s = Server::start(db);
    let out = s.command().args(["source", "create", "sms-1708"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let made: Value = serde_json::from_slice(&out.stdout).unwrap();
    let token = made["token"].as_str().unwrap();

    let msg = json!({"from": "+6281234567890", "text": "LAPOR #33.74 Lampu jalan di Jl. Pemuda mati sudah seminggu", "id": "gw-0001"});
    let r = post(&s, &msg, Some(token));
    assert_eq!(r.status, 201, "{}", r.text());
    let filed = r.json();
    let id = filed["id"].as_str().unwrap();
    let view = s.get_as(&format!("/v1/complaints/{id}"), Some(&s.admin)).json();
    assert_eq!((view["channel"].as_str(), view["region"].as_str()), (Some("sms"), Some("33.74")), "{view}");
    assert_eq!(view["title"], "Lampu jalan di Jl. Pemuda mati sudah seminggu");
    assert_eq!(view["reporter"]["contact"], "+6281234567890");
    assert_eq!(view["source"]["id"], "gw-0001");
    // The gateway retries: the same case.
    let again = post(&s, &msg, Some(token));
    assert!(again.status < 300, "{}", again.text());
    assert_eq!(again.json()["id"], id);
    // No region, no category: it still comes in, for the verifier to complete.
    let bare =
        post(&s, &json!({"from": "0812", "text": "jalan rusak parah dekat sekolah", "id": "gw-0002"}), Some(token));
    assert_eq!(bare.status, 201, "{}", bare.text());
    assert!(bare.json().get("region").is_none_or(Value::is_null));
    // Refused: an empty text, an unknown field, another token, no token.
    let r = post(&s, &json!({"from": "0812", "text": "LAPOR", "id": "gw-3"}), Some(token));
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("text"), "{}", r.text());
    let r = post(&s, &json!({"from": "0812", "text": "x", "id": "gw-4", "nik": "3374"}), Some(token));
    assert_eq!(r.status, 422, "{}", r.text());
    assert_eq!(post(&s, &msg, Some(&s.admin)).status, 403);
    assert_eq!(post(&s, &msg, None).status, 401);
    // The sender's number is in no event.
    let events = s.get_as(&format!("/v1/complaints/{id}"), Some(&s.admin)).json()["history"].to_string();
    assert!(!events.contains("6281234567890"), "{events}");
}

both_backends!(an_sms_gateway_files_what_it_received);
