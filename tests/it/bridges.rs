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

/// `X-Hub-Signature-256` as Meta computes it: `sha256=` and the HMAC-SHA256 of the body, in hex.
fn meta_signature(secret: &str, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

/// A Cloud API notification with a text message and an image, as Meta posts them.
fn notification(text_id: &str, text: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "1029384756", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"display_phone_number": "6282112345678", "phone_number_id": "1234"},
        "contacts": [{"profile": {"name": "Warga"}, "wa_id": "6281311112222"}],
        "messages": [
            {"from": "6281311112222", "id": text_id, "timestamp": "1764900000", "type": "text", "text": {"body": text}},
            {"from": "6281311112222", "id": "wamid.IMG1", "timestamp": "1764900001", "type": "image", "image": {"id": "55", "mime_type": "image/jpeg"}}
        ]}}]}]})
    .to_string()
    .into_bytes()
}

fn a_whatsapp_number_files_its_text_messages(db: Db) {
    let s = Server::start(db);
    let args = [
        "source",
        "create",
        "wa-bupati",
        "--agency",
        "33.21",
        "--whatsapp-app-secret",
        "rahasia-aplikasi",
        "--whatsapp-verify-token",
        "token-verifikasi",
    ];
    let out = s.command().args(args).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let url = s.url("/v1/bridges/whatsapp/wa-bupati");
    // Meta's handshake: the challenge back for the right verify token only.
    let ok = http::get(&format!("{url}?hub.mode=subscribe&hub.verify_token=token-verifikasi&hub.challenge=1158201444"));
    assert_eq!((ok.status, ok.text().as_str()), (200, "1158201444"));
    let bad = http::get(&format!("{url}?hub.mode=subscribe&hub.verify_token=salah&hub.challenge=1"));
    assert_eq!(bad.status, 403);
    assert_eq!(http::get(&s.url("/v1/bridges/whatsapp/tidak-ada?hub.mode=subscribe&hub.verify_token=x")).status, 403);

    let body = notification("wamid.TXT1", "Jalan di #33.21 Mranggen rusak parah, banyak lubang");
    let post = |body: &[u8], sig: Option<String>| {
        let mut headers = vec![("Content-Type", "application/json".to_owned())];
        if let Some(sig) = sig {
            headers.push(("X-Hub-Signature-256", sig));
        }
        let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http::request("POST", &url, &headers, Some(body))
    };
    let r = post(&body, Some(meta_signature("rahasia-aplikasi", &body)));
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!((r.json()["filed"].as_u64(), r.json()["skipped"].as_u64()), (Some(1), Some(1)), "the image is skipped");
    let listed = s.get_as("/v1/complaints?limit=10", Some(&s.admin)).json();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{listed}");
    assert_eq!((items[0]["channel"].as_str(), items[0]["region"].as_str()), (Some("whatsapp"), Some("33.21")));
    assert_eq!(items[0]["source"]["id"], "wamid.TXT1");
    // Meta retries the same notification: nothing new.
    let again = post(&body, Some(meta_signature("rahasia-aplikasi", &body)));
    assert_eq!(again.status, 200, "{}", again.text());
    let listed = s.get_as("/v1/complaints?limit=10", Some(&s.admin)).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 1);
    // A forged or missing signature, another number's secret, a body that is no notification.
    let forged = notification("wamid.TXT2", "palsu");
    assert_eq!(post(&forged, Some(meta_signature("bukan-rahasianya", &forged))).status, 401);
    assert_eq!(post(&forged, None).status, 401);
    assert_eq!(post(&forged, Some("sha256=zz".into())).status, 401);
    let junk = b"{\"object\": \"page\"}".to_vec();
    assert_eq!(post(&junk, Some(meta_signature("rahasia-aplikasi", &junk))).status, 422);
    let r = http::request("POST", &s.url("/v1/bridges/whatsapp/tidak-ada"), &[], Some(&body));
    assert_eq!(r.status, 404, "{}", r.text());
}

both_backends!(an_sms_gateway_files_what_it_received, a_whatsapp_number_files_its_text_messages);
