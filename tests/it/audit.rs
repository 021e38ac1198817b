//! `aduan audit verify`: the real binary over databases written by a real `aduan serve`, then tampered
//! with directly in SQL (an edited payload, an edited column, a deleted last event), on both backends.

use crate::support::{block_on, submission, Db, Server};
use crate::{aduan, stderr, stdout};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::process::Output;

both_backends!(tampering_is_named);

/// `aduan audit verify` (plus `extra`) against `db_url`.
fn verify(db_url: &str, extra: &[&str]) -> Output {
    let mut args = vec!["--database-url", db_url, "audit", "verify"];
    args.extend_from_slice(extra);
    aduan(&args)
}

/// The JSON summary: the last line of stdout.
fn summary(o: &Output) -> Value {
    let out = stdout(o);
    let last = out.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|e| panic!("summary line is not JSON ({e}): {out:?}\n{}", stderr(o)))
}

/// The `ALTERED` lines of stdout.
fn altered_lines(o: &Output) -> Vec<String> {
    stdout(o).lines().filter(|l| l.starts_with("ALTERED ")).map(str::to_owned).collect()
}

/// Runs one statement straight against the database (bypassing the engine), binding `$1` = the case
/// id and `$2` = an event seq; returns the rows it touched.
fn tamper(db_url: &str, sql: &'static str, complaint_id: &str, seq: i64) -> u64 {
    block_on(async {
        if db_url.starts_with("sqlite:") {
            let mut c = SqliteConnection::connect(db_url).await.expect("open the SQLite file");
            let n = sqlx::query(sql).bind(complaint_id).bind(seq).execute(&mut c).await.unwrap().rows_affected();
            c.close().await.unwrap();
            n
        } else {
            let mut c = PgConnection::connect(db_url).await.expect("connect to PostgreSQL");
            let n = sqlx::query(sql).bind(complaint_id).bind(seq).execute(&mut c).await.unwrap().rows_affected();
            c.close().await.unwrap();
            n
        }
    })
}

/// (id, tracking id) of a new case, after `actions` on it.
fn case(s: &Server, actions: &[Value]) -> (String, String) {
    let r = s.submit(&submission("35.78", "infrastruktur"), &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    let (id, tracking) = (v["id"].as_str().unwrap().to_owned(), v["tracking_id"].as_str().unwrap().to_owned());
    for a in actions {
        let r = s.act(&id, a, &[]);
        assert_eq!(r.status, 200, "{a}: {}", r.text());
    }
    (id, tracking)
}

fn history_len(s: &Server, id: &str) -> i64 {
    s.get(&format!("/v1/complaints/{id}")).json()["history"].as_array().unwrap().len() as i64
}

fn tampering_is_named(db: Db) {
    let mut s = Server::start(db);
    let verify_then_respond = [json!({"action": "verify"}), json!({"action": "respond", "message": "Kami cek"})];
    let (a, a_tr) = case(&s, &verify_then_respond);
    let (b, b_tr) = case(&s, &[json!({"action": "verify"})]);
    let (c, c_tr) = case(&s, &[]);
    let (na, nb, nc) = (history_len(&s, &a), history_len(&s, &b), history_len(&s, &c));
    assert!(na >= 3 && nb >= 2 && nc >= 1, "{na} {nb} {nc}");

    // Clean, and readable while serve runs.
    let o = verify(&s.db_url, &[]);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    assert_eq!(summary(&o), json!({"cases": 3, "events": na + nb + nc, "altered": 0}));
    assert_eq!(stdout(&o).lines().count(), 1, "only the summary: {}", stdout(&o));
    s.stop();

    // --case takes a tracking id or an id and verifies only that case.
    let o = verify(&s.db_url, &["--case", &a_tr]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(summary(&o), json!({"cases": 1, "events": na, "altered": 0}));
    let o = verify(&s.db_url, &["--case", &b]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(summary(&o), json!({"cases": 1, "events": nb, "altered": 0}));
    let o = verify(&s.db_url, &["--case", "NOPEN-NOPEN"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("no case") && err.contains("NOPEN-NOPEN"), "{err}");

    // An edited payload (the submitted event's title) breaks A's chain at event 1; B and C stay clean.
    let n = tamper(
        &s.db_url,
        "UPDATE events SET payload = REPLACE(payload, 'Jalan berlubang', 'Jalan mulus') \
         WHERE complaint_id = $1 AND seq = $2 AND payload LIKE '%Jalan berlubang%'",
        &a,
        1,
    );
    assert_eq!(n, 1, "the payload was edited");
    let o = verify(&s.db_url, &[]);
    assert_eq!(o.status.code(), Some(1), "{}\n{}", stdout(&o), stderr(&o));
    let lines = altered_lines(&o);
    assert_eq!(lines, vec![format!("ALTERED {a} ({a_tr}): event 1: hash mismatch (history altered)")]);
    assert!(!stdout(&o).contains(&b) && !stdout(&o).contains(&c), "{}", stdout(&o));
    assert_eq!(summary(&o), json!({"cases": 3, "events": na + nb + nc, "altered": 1}));
    let o = verify(&s.db_url, &["--case", &b_tr]);
    assert!(o.status.success(), "only B is walked: {}", stdout(&o));
    assert_eq!(summary(&o), json!({"cases": 1, "events": nb, "altered": 0}));
    let o = verify(&s.db_url, &["--case", &a]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(altered_lines(&o).len(), 1);
    assert_eq!(summary(&o), json!({"cases": 1, "events": na, "altered": 1}));

    // Deleting B's last event: every remaining link holds, but B's head names the missing one.
    let n = tamper(&s.db_url, "DELETE FROM events WHERE complaint_id = $1 AND seq = $2", &b, nb);
    assert_eq!(n, 1);
    let o = verify(&s.db_url, &["--case", &b_tr]);
    assert_eq!(o.status.code(), Some(1));
    let lines = altered_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with(&format!("ALTERED {b} ({b_tr}): head mismatch")), "{}", lines[0]);
    assert!(lines[0].contains(&format!("seq {nb}")), "{}", lines[0]);
    assert_eq!(summary(&o), json!({"cases": 1, "events": nb - 1, "altered": 1}));

    // An edited column outside the hashed payload is tampering too.
    let n = tamper(&s.db_url, "UPDATE events SET event_type = 'closed' WHERE complaint_id = $1 AND seq = $2", &c, 1);
    assert_eq!(n, 1);
    let o = verify(&s.db_url, &[]);
    assert_eq!(o.status.code(), Some(1));
    let lines = altered_lines(&o);
    assert_eq!(lines.len(), 3, "{lines:?}");
    let c_line = lines.iter().find(|l| l.contains(&c)).expect("C is named");
    assert_eq!(
        c_line,
        &format!(
            "ALTERED {c} ({c_tr}): event 1: column event_type is \"closed\", the hashed payload says \"submitted\""
        )
    );
    assert_eq!(summary(&o), json!({"cases": 3, "events": na + nb + nc - 1, "altered": 3}));
}

#[test]
fn an_unreadable_database_is_one_clear_error() {
    let dir = aduan_testkit::process::tempdir("audit");
    let missing = dir.path().join("nope.db");
    let o = verify(&format!("sqlite://{}", missing.display()), &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: no database at") && err.contains("nope.db"), "{err}");
    assert!(!missing.exists(), "verifying creates no database");

    // Nothing listens on port 1.
    let o = verify("postgres://postgres@127.0.0.1:1/aduan", &[]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stdout(&o), "");
    let err = stderr(&o);
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.starts_with("error: connecting to the database"), "{err}");
}
