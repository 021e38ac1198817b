//! SQLite on a full disk: the database on a 32 MiB tmpfs, filled by a file. While it is full, `/readyz`
//! answers 503, writes over HTTP are refused with 503 (`Retry-After`, a problem that quotes no
//! database error) and reads still work; once the filler is deleted, writes succeed again, the file
//! passes `PRAGMA integrity_check` and everything accepted before is there.

use super::wait_until;
use crate::support::{block_on, fresh_prefix, submission, Server};
use aduan_testkit::http::{self, Response};
use aduan_testkit::nats::NatsServer;
use aduan_testkit::tmpfs::Tmpfs;
use serde_json::json;
use sqlx::{Connection, SqliteConnection};
use std::io::Write;
use std::time::Duration;

/// Submissions that may still fit once the disk is full (SQLite reuses its WAL's free frames).
const MAX_AFTER_FULL: usize = 500;

#[test]
fn fault_sqlite_disk_full_refuses_writes_with_503_and_recovers() {
    let fs = match Tmpfs::mount("32m") {
        Ok(fs) => fs,
        Err(why) => {
            eprintln!("skipped: the disk-full test needs a tmpfs, and {why}");
            return;
        }
    };
    let nats = NatsServer::start();
    let url = format!("sqlite://{}/aduan.db", fs.path().display());
    let mut s = Server::replica(&url, nats.url(), &fresh_prefix(), &[], None);
    let mut accepted: Vec<String> = (0..20).map(|_| submit(&s).expect("a submission before the disk fills")).collect();
    let first = accepted[0].clone();
    assert_eq!(s.act(&first, &json!({"action": "verify"}), &[]).status, 200);
    // The holder's officer token, made while tokens can still be written.
    s.token("officer", "35.78/dinas-pu");

    let filler = fs.path().join("filler");
    fill(&filler);
    let mut refused = None;
    for _ in 0..MAX_AFTER_FULL {
        match submit(&s) {
            Ok(id) => accepted.push(id),
            Err(r) => {
                refused = Some(r);
                break;
            }
        }
    }
    let r = refused.unwrap_or_else(|| panic!("{MAX_AFTER_FULL} submissions accepted on a full disk"));
    assert_eq!(r.status, 503, "{}", r.text());
    assert!(r.header("retry-after").is_some(), "a 503 says when to retry");
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let detail = r.json()["detail"].as_str().unwrap_or_default().to_owned();
    for quoted in ["sqlite", "SQLITE", "disk is full", "database error", "code"] {
        assert!(!detail.contains(quoted), "the problem quotes the database: {detail}");
    }
    eprintln!("refused on a full disk after {} submissions: {detail}", accepted.len());
    let action = s.act(&first, &json!({"action": "respond", "message": "Sedang dicek"}), &[]);
    assert_eq!(action.status, 503, "an action on a full disk: {}", action.text());
    assert!(action.header("retry-after").is_some());
    let ready = http::request("GET", &s.url("/readyz"), &[], None);
    assert_eq!(ready.status, 503, "/readyz on a full disk: {}", ready.text());
    assert_ne!(ready.json()["database"], "ok");
    for id in &accepted {
        let view = s.get(&format!("/v1/complaints/{id}"));
        assert_eq!(view.status, 200, "reads work on a full disk: {}", view.text());
    }
    assert_eq!(s.get("/v1/complaints?limit=5").status, 200);

    std::fs::remove_file(&filler).unwrap();
    wait_until(Duration::from_secs(20), "/readyz to answer 200 with space again", || {
        http::request("GET", &s.url("/readyz"), &[], None).status == 200
    });
    accepted.push(submit(&s).expect("a submission once space is back"));
    let action = s.act(&first, &json!({"action": "respond", "message": "Sedang dicek"}), &[]);
    assert_eq!(action.status, 200, "{}", action.text());

    s.stop();
    let (integrity, stored) = block_on(async {
        let mut c = SqliteConnection::connect(&url).await.unwrap();
        let (integrity,): (String,) = sqlx::query_as("PRAGMA integrity_check").fetch_one(&mut c).await.unwrap();
        let ids: Vec<(String,)> = sqlx::query_as("SELECT id FROM complaints").fetch_all(&mut c).await.unwrap();
        c.close().await.unwrap();
        (integrity, ids.into_iter().map(|(id,)| id).collect::<std::collections::BTreeSet<_>>())
    });
    assert_eq!(integrity, "ok");
    let want: std::collections::BTreeSet<String> = accepted.iter().cloned().collect();
    assert_eq!(stored, want, "exactly the accepted submissions are stored");
}

/// A submission over HTTP: its case id when accepted, else the answer.
fn submit(s: &Server) -> Result<String, Response> {
    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
    match r.status {
        201 => Ok(r.json()["id"].as_str().unwrap().to_owned()),
        _ => Err(r),
    }
}

/// Writes `path` until the filesystem has no byte left.
fn fill(path: &std::path::Path) {
    let mut f = std::fs::File::create(path).unwrap();
    for chunk in [1 << 20, 4096, 1] {
        let buf = vec![0u8; chunk];
        while f.write_all(&buf).is_ok() {}
    }
    let _ = f.sync_all();
}
