//! The web pages (docs/web.md): the scenarios of tests/web/e2e.mjs in a real headless Chromium
//! (Playwright, axe-core on every page, a screenshot each), and the pages' answers to hostile input
//! over plain HTTP.

mod sso;

use crate::support::{submission, Db, Server};
use aduan_testkit::http;
use serde_json::{json, Value};
use std::process::{Command, Stdio};

/// Where a scenario's screenshots go: `ADUAN_SCREENSHOT_DIR`, else the test binary's temp dir.
fn screenshots() -> String {
    std::env::var("ADUAN_SCREENSHOT_DIR").unwrap_or_else(|_| format!("{}/screenshots", env!("CARGO_TARGET_TMPDIR")))
}

/// Runs one scenario of tests/web/e2e.mjs against `s`, asserting it passed; its findings.
fn scenario(s: &Server, name: &str, input: &Value) -> Value {
    let modules = std::env::var("ADUAN_WEB_MODULES")
        .expect("ADUAN_WEB_MODULES (the e2e node_modules): run deploy/test.sh, or eval \"$(bash deploy/tools.sh)\"");
    let chromium = std::env::var("ADUAN_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/web/e2e.mjs");
    let mut cmd = Command::new("node");
    cmd.arg(script)
        .arg(name)
        .env("ADUAN_BASE", &s.base)
        .env("ADUAN_E2E", input.to_string())
        .env("ADUAN_SHOTS", screenshots())
        .env("ADUAN_WEB_MODULES", modules)
        .env("ADUAN_CHROMIUM", chromium)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let out = aduan_testkit::process::spawn(cmd).expect("node starts").wait_with_output().expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "scenario {name}: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_str(stdout.lines().last().unwrap_or("{}")).unwrap_or_else(|e| panic!("{name}: {e}: {stdout}"))
}

/// A case filed over the API, verified to Kota Semarang's public works office: (id, tracking id).
fn dispatched(s: &Server, privacy: &str, name: &str) -> (String, String) {
    let mut body = submission("33.74", "infrastruktur");
    body["privacy"] = privacy.into();
    body["reporter"]["name"] = name.into();
    let v = s.submit(&body, &[]).json();
    let id = v["id"].as_str().unwrap().to_owned();
    let r = s.act(&id, &json!({"action": "verify"}), &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    (id, v["tracking_id"].as_str().unwrap().to_owned())
}

#[test]
fn a_citizen_files_and_tracks_a_complaint() {
    let s = Server::start(Db::Sqlite);
    let input = json!({"title": "Lampu jalan mati", "body": "Sudah seminggu di Jalan Pemuda", "category": "infrastruktur",
                       "region": "33.74", "name": "Warga Pemuda", "address": "Jl. Pemuda 12, depan SMA 3"});
    let found = scenario(&s, "citizen", &input);
    let tracking = found["tracking_id"].as_str().unwrap();
    let view = s.get_as(&format!("/v1/complaints/{tracking}"), None).json();
    assert_eq!(view["title"], "Lampu jalan mati");
    assert_eq!(view["region"], "33.74");
    assert_eq!(view["channel"], "web");
    assert_eq!(view["location"]["address"], "Jl. Pemuda 12, depan SMA 3");
    assert!(view.get("reporter").is_none(), "the public never sees the reporter");
    // The reporter token the page showed is the case's: it reads the case as its reporter.
    let mine = s.get_as(&format!("/v1/complaints/{tracking}"), found["reporter_token"].as_str()).json();
    assert_eq!(mine["reporter"]["name"], "Warga Pemuda");
    for page in ["form_bytes", "track_bytes"] {
        let bytes = found[page].as_u64().unwrap();
        assert!(bytes < 100_000, "{page}: {bytes} bytes, over the 100 KB of a cheap phone on a slow network");
    }
}

#[test]
fn the_reporter_answers_from_the_track_page() {
    let s = Server::start(Db::Sqlite);
    let v = s.submit(&submission("33.74", "infrastruktur"), &[]).json();
    let id = v["id"].as_str().unwrap();
    s.act(id, &json!({"action": "verify"}), &[]);
    let r = s.act(id, &json!({"action": "request_info", "message": "Di nomor berapa?"}), &[]);
    assert_eq!(r.json()["status"], "awaiting_reporter");
    let input = json!({"tracking_id": v["tracking_id"], "reporter_token": v["reporter_token"], "message": "Nomor 12"});
    scenario(&s, "reporter", &input);
    assert_eq!(s.get(&format!("/v1/complaints/{id}")).json()["status"], "in_progress");
}

#[test]
fn an_officer_signs_in_and_responds() {
    let s = Server::start(Db::Sqlite);
    let (id, tracking) = dispatched(&s, "public", "Sri");
    let officer = s.token("officer", "33.74/dinas-pu");
    let input = json!({"token": officer, "tracking_id": tracking, "message": "Petugas kami menuju lokasi",
                       "admin": s.admin, "another": submission("33.74", "infrastruktur")});
    let found = scenario(&s, "officer", &input);
    assert!(found["status_text"].as_str().unwrap().contains("Sedang ditindaklanjuti"), "{found}");
    let view = s.get(&format!("/v1/complaints/{id}")).json();
    assert_eq!(view["status"], "in_progress");
    let last = view["history"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["type"], "responded");
    assert_eq!(last["data"]["message"], "Petugas kami menuju lokasi");
}

#[test]
fn a_supervisor_sees_statistics_and_cannot_act() {
    let s = Server::start(Db::Sqlite);
    let (id, _) = dispatched(&s, "public", "Sri");
    let before = s.get(&format!("/v1/complaints/{id}")).json()["head_hash"].clone();
    let input = json!({"token": s.token("supervisor", "33.74"), "case_id": id});
    let found = scenario(&s, "supervisor", &input);
    assert!(found["total"].as_str().unwrap().contains(": 1"), "{found}");
    // The monthly report's page names the unit that received the case.
    assert!(found["report"].as_str().unwrap().contains("Dinas Pekerjaan Umum"), "{found}");
    assert_eq!(s.get(&format!("/v1/complaints/{id}")).json()["head_hash"], before, "nothing changed");
}

#[test]
fn an_officer_of_another_agency_cannot_open_the_case() {
    let s = Server::start(Db::Sqlite);
    let (id, tracking) = dispatched(&s, "public", "Sri");
    let input = json!({"token": s.token("officer", "33.72/dinas-pu"), "case_id": id, "tracking_id": tracking});
    scenario(&s, "outsider", &input);
}

#[test]
fn an_anonymous_reporter_appears_only_on_the_national_admins_page() {
    let s = Server::start(Db::Sqlite);
    let name = "Bu Rahasia Sekali";
    let (id, tracking) = dispatched(&s, "anonymous", name);
    let tokens = json!({
        "officer": s.token("officer", "33.74/dinas-pu"),
        "regional_admin": s.token("admin", "33.74"),
        "supervisor": s.token("supervisor", "33"),
        "national_admin": s.admin,
    });
    let found =
        scenario(&s, "identity", &json!({"tracking_id": tracking, "case_id": id, "name": name, "tokens": tokens}));
    let seen = &found["seen"];
    for who in ["public", "officer", "officer_queue", "regional_admin", "supervisor", "national_admin_queue"] {
        assert_eq!(seen[who], false, "{who} saw the anonymous reporter: {found}");
    }
    assert_eq!(seen["national_admin"], true, "the national admin sees the reporter: {found}");
}

#[test]
fn an_officer_records_a_letter_at_the_desk() {
    let s = Server::start(Db::Sqlite);
    // Two days ago at 09:30 in Semarang (WIB, UTC+7).
    let wib = chrono::FixedOffset::east_opt(7 * 3600).unwrap();
    let at = (chrono::Utc::now() - chrono::Duration::days(2)).with_timezone(&wib);
    let local = format!("{}T09:30", at.format("%Y-%m-%d"));
    let input = json!({"token": s.token("officer", "33.74/dinas-pu"), "admin": s.admin, "received_at": local,
                       "title": "Surat: saluran tersumbat", "body": "Surat warga RT 02 tentang saluran di Jl. Pemuda"});
    let found = scenario(&s, "desk", &input);
    let view = s.get_as(&format!("/v1/complaints/{}", found["tracking_id"].as_str().unwrap()), Some(&s.admin)).json();
    assert_eq!(view["channel"], "letter");
    let created = chrono::DateTime::parse_from_rfc3339(view["created_at"].as_str().unwrap()).unwrap();
    assert_eq!(created.with_timezone(&wib).format("%Y-%m-%dT%H:%M").to_string(), local);
    assert_eq!(view["history"][0]["actor"].as_str().map(|a| a.contains("officer")), Some(true), "{view}");
}

#[test]
fn the_intake_refuses_what_it_should() {
    let s = Server::start(Db::Sqlite);
    let session = s.dashboard_session(&s.token("officer", "33.74/dinas-pu"));
    let page = http::request("GET", &s.url("/dashboard/intake"), &[("Cookie", &session)], None).text();
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let post = |body: String, cookie: &str| form(&s, "/dashboard/intake", &body, &[("Cookie", cookie)]);
    let base = "channel=letter&title=Surat&body=Isi&region=33.74&kind=pengaduan";
    let old = (chrono::Utc::now() - chrono::Duration::days(40)).format("%Y-%m-%dT09:00");
    let recent = (chrono::Utc::now() - chrono::Duration::days(1)).format("%Y-%m-%dT09:00");
    for (body, status, says) in [
        (format!("{base}&received_at={recent}"), 403, "csrf"),
        (format!("{base}&csrf={csrf}&received_at=kemarin"), 422, "received_at"),
        (format!("{base}&csrf={csrf}&received_at={old}"), 422, "30 days"),
        (format!("{base}&csrf={csrf}&received_at={recent}&channel=web"), 422, "channels"),
    ] {
        let r = post(body.clone(), &session);
        assert_eq!(r.status, status, "{body}: {}", r.text());
        assert!(r.text().contains(says), "{body}: {}", r.text());
    }
    // A supervisor may not back-date: no intake in the navigation, and a 403 from the service.
    let sup = s.dashboard_session(&s.token("supervisor", "33.74"));
    let page = http::request("GET", &s.url("/dashboard/intake"), &[("Cookie", &sup)], None).text();
    assert!(!page.contains("href=\"/dashboard/intake\""), "{page}");
    let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let r = post(format!("{base}&csrf={csrf}&received_at={}", chrono::Utc::now().format("%Y-%m-%dT00:00")), &sup);
    assert_eq!(r.status, 403, "{}", r.text());
    let listed = s.get_as("/v1/complaints?limit=5", Some(&s.admin)).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "nothing was filed");
}

fn form(s: &Server, path: &str, body: &str, headers: &[(&str, &str)]) -> http::Response {
    let mut all = vec![("Content-Type", "application/x-www-form-urlencoded")];
    all.extend_from_slice(headers);
    http::request("POST", &s.url(path), &all, Some(body.as_bytes()))
}

#[test]
fn pages_refuse_hostile_input_in_their_own_words() {
    let s = Server::start(Db::Sqlite);
    // A form that is not a form: 415, as a page.
    let r = http::request("POST", &s.url("/"), &[("Content-Type", "application/json")], Some(b"{}"));
    assert_eq!(r.status, 415, "{}", r.text());
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    // A NUL in the title: the form again, filled in, naming the field; nothing filed.
    let r = form(&s, "/", "kind=pengaduan&title=a%00b&body=Isi+yang+ditulis", &[]);
    assert_eq!(r.status, 422, "{}", r.text());
    assert!(r.text().contains("title") && r.text().contains("Isi yang ditulis"), "{}", r.text());
    // A title of a megabyte: refused by the body limit or the field's, never a 5xx.
    let huge = format!("kind=pengaduan&title={}&body=x", "a".repeat(1_100_000));
    assert!(matches!(form(&s, "/", &huge, &[]).status, 413 | 422));
    let listed = s.get_as("/v1/complaints?limit=5", Some(&s.admin)).json();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "nothing was filed");
    // Sign-in: without the form's nonce, 403; a reporter token is not a sign-in.
    let r = form(&s, "/dashboard/login", "token=x", &[]);
    assert_eq!(r.status, 403, "{}", r.text());
    let login = http::get(&s.url("/dashboard/login"));
    let cookie = login.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let nonce = cookie.split_once('=').unwrap().1.to_owned();
    let v = s.submit(&submission("33.74", "infrastruktur"), &[]).json();
    let body = format!("csrf={nonce}&token={}", v["reporter_token"].as_str().unwrap());
    let r = form(&s, "/dashboard/login", &body, &[("Cookie", &cookie)]);
    assert_eq!(r.status, 401, "{}", r.text());
    // An officer's token signs in: the session cookie is HttpOnly and SameSite=Strict.
    let body = format!("csrf={nonce}&token={}", s.token("officer", "33.74/dinas-pu"));
    let r = form(&s, "/dashboard/login", &body, &[("Cookie", &cookie)]);
    assert_eq!(r.status, 303, "{}", r.text());
    let session = r.header("set-cookie").unwrap().to_owned();
    assert!(session.contains("HttpOnly") && session.contains("SameSite=Strict"), "{session}");
    let session = session.split(';').next().unwrap().to_owned();
    // An action without the session's CSRF token: 403, nothing done.
    let id = v["id"].as_str().unwrap();
    let r = form(&s, &format!("/dashboard/cases/{id}"), "action=respond&message=x", &[("Cookie", &session)]);
    assert_eq!(r.status, 403, "{}", r.text());
    // A forged session cookie is no session.
    let r = http::request("GET", &s.url("/dashboard"), &[("Cookie", "aduan_session={\"token\":\"x\"}")], None);
    assert_eq!((r.status, r.header("location")), (303, Some("/dashboard/login")));
    // The language switch returns only to a page of this site.
    let r = http::get(&s.url("/lang/en?back=//evil.example/x"));
    assert_eq!(r.header("location"), Some("/"));
    assert_eq!(http::get(&s.url("/track/not-a-tracking-id")).status, 404);
    for path in ["/", "/track", "/dashboard/login"] {
        let r = http::get(&s.url(path));
        assert_eq!(r.status, 200, "{path}");
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
    }
}

#[test]
fn pages_speak_english_when_asked() {
    let s = Server::start(Db::Sqlite);
    assert!(http::get(&s.url("/")).text().contains("Kirim laporan"));
    let r = http::get(&s.url("/lang/en?back=/track"));
    assert_eq!(r.header("location"), Some("/track"));
    let cookie = r.header("set-cookie").unwrap().split(';').next().unwrap().to_owned();
    let page = http::request("GET", &s.url("/"), &[("Cookie", &cookie)], None).text();
    assert!(page.contains("Send report") && page.contains("lang=\"en\""), "{page}");
}
