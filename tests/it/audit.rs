//! `aduan audit verify`: the real binary over databases written by a real `aduan serve` (and by
//! `aduan seed` and `aduan sweep`), then tampered with directly in SQL (an edited payload, an edited
//! column, a deleted last or middle event, two events swapped, an edited case row), on both backends.

use crate::support::{block_on, submission, Database, Db, Server};
use crate::{aduan, root, stderr, stdout};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::process::Output;

both_backends!(tampering_is_named, whole_lives_replay_and_edited_rows_are_named, seeded_and_swept_cases_replay);

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

/// The one `ALTERED` line of `audit verify --case {id}`, which must exit 1 naming the case.
fn altered_line(db_url: &str, id: &str, tracking: &str) -> String {
    let o = verify(db_url, &["--case", id]);
    assert_eq!(o.status.code(), Some(1), "{id}: {}\n{}", stdout(&o), stderr(&o));
    let lines = altered_lines(&o);
    assert_eq!(lines.len(), 1, "{lines:?}");
    let prefix = format!("ALTERED {id} ({tracking}): ");
    assert!(lines[0].starts_with(&prefix), "{}", lines[0]);
    lines[0][prefix.len()..].to_owned()
}

/// Every lifecycle the engine writes replays to its case row (so an intact database passes), and a case
/// row edited behind the engine's back (status, agency, escalation_level), a deleted middle event and
/// two swapped events are each named.
fn whole_lives_replay_and_edited_rows_are_named(db: Db) {
    let mut s = Server::start(db);
    let m = |action: &str| json!({"action": action, "message": "Pesan"});
    let esc = || json!({"action": "escalate", "reason": "tidak ada tanggapan"});
    // Submit, verify, respond, request and provide info, escalate up to the Ombudsman, resolve, rate.
    let whole = [
        json!({"action": "verify"}),
        m("respond"),
        m("request_info"),
        m("provide_info"),
        esc(),
        esc(),
        esc(),
        esc(),
        m("resolve"),
        m("reopen"),
        m("resolve"),
        json!({"action": "rate", "score": 4}),
    ];
    let (life, life_tr) = case(&s, &whole);
    let v = s.get(&format!("/v1/complaints/{life}")).json();
    assert_eq!(
        (v["status"].as_str(), v["agency"].as_str(), v["escalation_level"].as_i64()),
        (Some("closed"), Some("ombudsman"), Some(4))
    );
    let forwarded = [
        json!({"action": "verify"}),
        json!({"action": "forward", "agency": "35.78/bpbd", "reason": "bukan wewenang"}),
        m("respond"),
    ];
    let (fwd, fwd_tr) = case(&s, &forwarded);
    let (archived, archived_tr) = case(&s, &[json!({"action": "archive", "reason": "spam"})]);
    let (resolved, resolved_tr) = case(&s, &[json!({"action": "verify"}), m("resolve")]);
    let (assigned, assigned_tr) = case(&s, &[json!({"action": "verify"})]);
    let (middle, middle_tr) = case(&s, &[json!({"action": "verify"}), m("respond"), m("resolve")]);
    let (swapped, swapped_tr) = case(&s, &[json!({"action": "verify"}), m("respond"), m("request_info")]);
    let (level, level_tr) = case(&s, &[json!({"action": "verify"}), esc()]);
    s.stop();

    let o = verify(&s.db_url, &[]);
    assert!(o.status.success(), "every real life replays: {}\n{}", stdout(&o), stderr(&o));
    assert_eq!(summary(&o)["cases"], 8);
    assert_eq!(summary(&o)["altered"], 0);

    // The case row alone, each field.
    tamper(&s.db_url, "UPDATE complaints SET status = 'closed' WHERE id = $1 AND $2 = $2", &resolved, 0);
    assert_eq!(
        altered_line(&s.db_url, &resolved, &resolved_tr),
        "the case row says status closed, its events say resolved"
    );
    tamper(&s.db_url, "UPDATE complaints SET agency = '35.78/bpbd' WHERE id = $1 AND $2 = $2", &assigned, 0);
    assert_eq!(
        altered_line(&s.db_url, &assigned, &assigned_tr),
        "the case row says agency 35.78/bpbd, its events say 35.78/dinas-pu"
    );
    tamper(&s.db_url, "UPDATE complaints SET escalation_level = 0 WHERE id = $1 AND $2 = $2", &level, 0);
    assert_eq!(altered_line(&s.db_url, &level, &level_tr), "the case row says escalation_level 0, its events say 1");
    // A deleted middle event: the seqs no longer run 1, 2, 3….
    assert_eq!(tamper(&s.db_url, "DELETE FROM events WHERE complaint_id = $1 AND seq = $2", &middle, 2), 1);
    let why = altered_line(&s.db_url, &middle, &middle_tr);
    assert!(why.starts_with("event 3:") || why.starts_with("event 2:"), "{why}");
    // Two events swapped (seq 2 and 3, through a free seq: UNIQUE(complaint_id, seq)).
    let swap: [(&'static str, i64); 3] = [
        ("UPDATE events SET seq = 1000 WHERE complaint_id = $1 AND seq = $2", 2),
        ("UPDATE events SET seq = 2 WHERE complaint_id = $1 AND seq = $2", 3),
        ("UPDATE events SET seq = 3 WHERE complaint_id = $1 AND seq = $2", 1000),
    ];
    for (sql, from) in swap {
        assert_eq!(tamper(&s.db_url, sql, &swapped, from), 1);
    }
    let why = altered_line(&s.db_url, &swapped, &swapped_tr);
    assert!(why.starts_with("event 2:"), "{why}");

    // The whole walk names exactly the five, and the untouched lives still pass.
    let o = verify(&s.db_url, &[]);
    assert_eq!(o.status.code(), Some(1));
    let lines = altered_lines(&o);
    assert_eq!(lines.len(), 5, "{lines:?}");
    for id in [&resolved, &assigned, &level, &middle, &swapped] {
        assert!(lines.iter().any(|l| l.contains(id.as_str())), "{id}: {lines:?}");
    }
    for (id, tr) in [(&life, &life_tr), (&fwd, &fwd_tr), (&archived, &archived_tr)] {
        assert!(!stdout(&o).contains(id.as_str()), "{id}");
        let o = verify(&s.db_url, &["--case", tr]);
        assert!(o.status.success(), "{tr}: {}", stdout(&o));
    }
    assert_eq!(summary(&o)["altered"], 5);
}

/// `aduan seed` (no `serve`, so no pack stored: the events replay on `--policy-dir`'s) and a sweep's
/// breach escalations replay; an edited status or agency of one seeded case is named.
fn seeded_and_swept_cases_replay(db: Db) {
    let database = Database::new(db);
    let url = database.url();
    let pack = root().join("policies/lapor").display().to_string();
    let run = |rest: &[&str]| {
        let mut args = vec!["--database-url", url, "--policy-dir", &pack];
        args.extend_from_slice(rest);
        aduan(&args)
    };
    let now = "2026-11-02T10:00:00+07:00";
    for status in ["assigned", "submitted"] {
        let o = run(&["seed", "--complaints", "20", "--status", status, "--due-before", now]);
        assert!(o.status.success(), "seed: {}", stderr(&o));
    }
    let o = run(&["audit", "verify"]);
    assert!(o.status.success(), "seeded: {}\n{}", stdout(&o), stderr(&o));
    assert_eq!(summary(&o), json!({"cases": 40, "events": 60, "altered": 0}));
    let o = run(&["sweep", "--now", now]);
    assert!(o.status.success(), "sweep: {}", stderr(&o));
    let o = run(&["audit", "verify"]);
    assert!(o.status.success(), "swept: {}\n{}", stdout(&o), stderr(&o));
    assert_eq!(summary(&o)["altered"], 0);

    // One escalated case (level 1) and one awaiting dispatch, edited.
    let (up, up_tr, down, down_tr) = block_on(async {
        let q = "SELECT id, tracking_id FROM complaints WHERE escalation_level = $1 ORDER BY id LIMIT 1";
        let pick = |rows: Vec<(String, String)>| rows.into_iter().next().expect("a case");
        if url.starts_with("sqlite:") {
            let mut c = SqliteConnection::connect(url).await.unwrap();
            let a: Vec<(String, String)> = sqlx::query_as(q).bind(1).fetch_all(&mut c).await.unwrap();
            let b: Vec<(String, String)> = sqlx::query_as(q).bind(0).fetch_all(&mut c).await.unwrap();
            c.close().await.unwrap();
            let ((a, at), (b, bt)) = (pick(a), pick(b));
            (a, at, b, bt)
        } else {
            let mut c = PgConnection::connect(url).await.unwrap();
            let a: Vec<(String, String)> = sqlx::query_as(q).bind(1).fetch_all(&mut c).await.unwrap();
            let b: Vec<(String, String)> = sqlx::query_as(q).bind(0).fetch_all(&mut c).await.unwrap();
            c.close().await.unwrap();
            let ((a, at), (b, bt)) = (pick(a), pick(b));
            (a, at, b, bt)
        }
    });
    tamper(url, "UPDATE complaints SET agency = NULL WHERE id = $1 AND $2 = $2", &up, 0);
    let o = run(&["audit", "verify", "--case", &up]);
    assert_eq!(o.status.code(), Some(1));
    let line = altered_lines(&o).join("\n");
    assert!(
        line.starts_with(&format!("ALTERED {up} ({up_tr}): the case row says agency (none), its events say ")),
        "{line}"
    );
    tamper(url, "UPDATE complaints SET status = 'in_progress' WHERE id = $1 AND $2 = $2", &down, 0);
    let o = run(&["audit", "verify"]);
    assert_eq!(o.status.code(), Some(1));
    let lines = altered_lines(&o);
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines.iter().any(|l| l.starts_with(&format!(
            "ALTERED {down} ({down_tr}): the case row says status in_progress, its events say "
        ))),
        "{lines:?}"
    );
}
