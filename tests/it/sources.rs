//! Source systems (docs/integrations.md): `aduan source create` registers a city's own system with an
//! integration token; its submissions carry `source: {system, id, url}`, and the pair (system, id)
//! names one case for good: a resend with any key or none answers with that case, a different
//! submission under the same reference is a 409 that says so, and only the source's token files
//! with its references.

use crate::support::{submission, Db, Server};
use serde_json::{json, Value};

/// `aduan source create NAME ARGS…`: its one JSON line.
fn create_source(s: &Server, name: &str, args: &[&str]) -> Value {
    let out = s.command().args(["source", "create", name]).args(args).output().unwrap();
    assert!(out.status.success(), "source create: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn from_source(system: &str, id: &str) -> Value {
    let mut body = submission("33.74", "infrastruktur");
    body["channel"] = "app".into();
    body["source"] = json!({"system": system, "id": id, "url": format!("https://lapor.semarangkota.go.id/aduan/{id}")});
    body
}

fn bearer(token: &str) -> String {
    format!("Bearer {token}")
}

fn a_source_reference_names_one_case(db: Db) {
    let s = Server::start(db);
    let made = create_source(&s, "lapor-hendi", &["--agency", "33.74"]);
    assert_eq!((made["name"].as_str(), made["token_name"].as_str()), (Some("lapor-hendi"), Some("source-lapor-hendi")));
    assert_eq!(made["webhook_secret"], Value::Null, "no webhook, no secret");
    let auth = bearer(made["token"].as_str().unwrap());
    let body = from_source("lapor-hendi", "LH-2026-0001");

    let first = s.submit(&body, &[("Authorization", &auth)]);
    assert_eq!(first.status, 201, "{}", first.text());
    let first = first.json();
    assert_eq!(first["source"]["system"], "lapor-hendi");
    assert_eq!(first["source"]["id"], "LH-2026-0001");
    // A resend, with a key, another key or none: the same case, nothing new filed.
    for key in [None, Some("k-1"), Some("k-2")] {
        let headers: Vec<(&str, &str)> =
            [("Authorization", auth.as_str())].into_iter().chain(key.map(|k| ("Idempotency-Key", k))).collect();
        let again = s.submit(&body, &headers);
        assert!(again.status < 300, "{key:?}: {}", again.text());
        assert_eq!(again.json()["id"], first["id"], "{key:?}: the resend answers with the case it filed");
    }
    // Another submission under the same reference: 409, naming the reference.
    let mut changed = body.clone();
    changed["body"] = "Isi lain dengan nomor yang sama".into();
    let r = s.submit(&changed, &[("Authorization", &auth)]);
    assert_eq!(r.status, 409, "{}", r.text());
    assert!(r.text().contains("lapor-hendi/LH-2026-0001"), "{}", r.text());
    // Another reference is another case; so is the same id under another source.
    let other = s.submit(&from_source("lapor-hendi", "LH-2026-0002"), &[("Authorization", &auth)]);
    assert_eq!(other.status, 201, "{}", other.text());
    assert_ne!(other.json()["id"], first["id"]);
    let listed = s.get_as("/v1/complaints?limit=10", Some(&s.admin)).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 2, "two references, two cases: {listed}");

    // Only the source's own token files with its references; an unknown source is named.
    let officer = bearer(&s.token("integration", "33.74"));
    let r = s.submit(&from_source("lapor-hendi", "LH-2026-0003"), &[("Authorization", &officer)]);
    assert_eq!(r.status, 403, "{}", r.text());
    let r = s.submit(&from_source("lapor-hendi", "LH-2026-0003"), &[]);
    assert_eq!(r.status, 403, "the public cannot file as a source: {}", r.text());
    let r = s.submit(&from_source("tidak-ada", "X-1"), &[("Authorization", &auth)]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("source.system"), "{}", r.text());
    for (field, value) in
        [("id", json!("")), ("id", json!("a\u{0}b")), ("url", json!("javascript:alert(1)")), ("extra", json!(1))]
    {
        let mut bad = from_source("lapor-hendi", "LH-2026-0004");
        bad["source"][field] = value;
        let r = s.submit(&bad, &[("Authorization", &auth)]);
        assert_eq!(r.status, 422, "{field}: {}", r.text());
        assert!(r.text().contains("source"), "{field}: {}", r.text());
    }
    // The public view by tracking id carries no source reference of a confidential case.
    let mut secret = from_source("lapor-hendi", "LH-2026-0005");
    secret["privacy"] = "confidential".into();
    let filed = s.submit(&secret, &[("Authorization", &auth)]).json();
    let public = s.get_as(&format!("/v1/complaints/{}", filed["tracking_id"].as_str().unwrap()), None).json();
    assert!(public.get("source").is_none(), "{public}");
}

fn sources_are_listed_and_names_refused(db: Db) {
    let s = Server::start(db);
    let made = create_source(&s, "wa-bupati", &["--webhook-url", "https://kabupaten.example.go.id/aduan/webhook"]);
    assert_eq!(made["webhook_secret"].as_str().map(str::len), Some(43), "a 32-byte secret, base64url: {made}");
    let out = s.command().args(["source", "list"]).output().unwrap();
    let listed = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(listed.contains("\"wa-bupati\"") && listed.contains("kabupaten.example.go.id"), "{listed}");
    assert!(
        !listed.contains(made["webhook_secret"].as_str().unwrap()) && !listed.contains(made["token"].as_str().unwrap())
    );
    for (name, args, why) in [
        ("wa-bupati", &[][..], "exists already"),
        ("Bad Name", &[][..], "is not [a-z0-9-]"),
        ("ok-name", &["--webhook-url", "ftp://x"][..], "webhook_url"),
        ("ok-name", &["--agency", "99.99/nowhere"][..], "agency"),
    ] {
        let out = s.command().args(["source", "create", name]).args(args).output().unwrap();
        assert!(!out.status.success(), "{name} {args:?} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(why), "{name} {args:?}: {err}");
    }
}

both_backends!(a_source_reference_names_one_case, sources_are_listed_and_names_refused);
