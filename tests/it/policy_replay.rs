//! `aduan policy replay` over a history stored through a running `aduan serve` (HTTP) and swept with
//! `aduan sweep --now`, on both backends: candidates that differ from the national pack by one known
//! edit each report exactly the differences that edit makes (checked against `policy explain` of the
//! candidate), an identical candidate reports none, and the database is not written (row counts and
//! sums unchanged; on SQLite not a byte of the file). Bad arguments and broken candidates are named.

use crate::support::{block_on, Db, Server};
use crate::{aduan, pack_copy, root, stderr, stdout};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection, SqliteConnection};
use std::io::Write;
use std::path::Path;
use std::process::Output;

both_backends!(replay_reports_the_known_differences_and_writes_nothing);

/// A reporter whose identity must never show in the replay's output.
const REPORTER_NAME: &str = "Wulan Replaysecret";
const REPORTER_CONTACT: &str = "wulan.replaysecret@example.invalid";

/// A case of the stored history: its id and tracking id.
struct Stored {
    id: String,
    tracking: String,
}

fn file(s: &Server, region: &str) -> Stored {
    let body = json!({"kind": "pengaduan", "channel": "web", "title": "Jalan berlubang", "body": "Di depan pasar",
        "category": "infrastruktur", "region": region, "privacy": "public",
        "reporter": {"name": REPORTER_NAME, "contact": REPORTER_CONTACT}});
    let r = s.submit(&body, &[]);
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    Stored { id: v["id"].as_str().unwrap().to_owned(), tracking: v["tracking_id"].as_str().unwrap().to_owned() }
}

/// Verifies the case (routing decides unless `agency` is given); its view after.
fn verify(s: &Server, c: &Stored, agency: Option<&str>) -> Value {
    let body = match agency {
        Some(a) => json!({"action": "verify", "agency": a}),
        None => json!({"action": "verify"}),
    };
    let r = s.act(&c.id, &body, &[]);
    assert_eq!(r.status, 200, "{}", r.text());
    view(s, c)
}

fn view(s: &Server, c: &Stored) -> Value {
    s.get(&format!("/v1/complaints/{}", c.id)).json()
}

/// A clock's `(due_at, due_date)` in a view.
fn deadline(view: &Value, clock: &str) -> (String, String) {
    let d = view["deadlines"].as_array().unwrap().iter().find(|d| d["clock"] == clock).unwrap();
    (d["due_at"].as_str().unwrap().to_owned(), d["due_date"].as_str().unwrap().to_owned())
}

/// When the case was verified (its `assigned` event).
fn verified_at(view: &Value) -> String {
    let h = view["history"].as_array().unwrap().iter().find(|h| h["type"] == "assigned").unwrap();
    h["at"].as_str().unwrap().to_owned()
}

/// `respond`'s due date for an infrastruktur complaint in `region` started at `at`, as `policy explain`
/// of the pack in `dir` reports it.
fn explained_respond(dir: &Path, region: &str, at: &str) -> String {
    let mut f = tempfile::Builder::new().prefix("aduan-test-complaint-").suffix(".json").tempfile().unwrap();
    let c = json!({"kind": "pengaduan", "category": "infrastruktur", "region": region, "at": at});
    f.write_all(c.to_string().as_bytes()).unwrap();
    let o = aduan(&["policy", "explain", dir.to_str().unwrap(), "--complaint", f.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    let d = v["deadlines"].as_array().unwrap().iter().find(|d| d["clock"] == "respond").unwrap();
    d["due_date"].as_str().unwrap().to_owned()
}

/// The national pack with `from` replaced by `to` in `file`.
fn edited(file: &str, from: &str, to: &str) -> tempfile::TempDir {
    let dir = pack_copy();
    let path = dir.path().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{file} holds {from:?}");
    std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
    dir
}

/// `aduan policy replay` with this server's configuration.
fn replay(s: &Server, args: &[&str]) -> Output {
    let o = s.command().args(["policy", "replay"]).args(args).output().unwrap();
    for text in [stdout(&o), stderr(&o)] {
        assert!(!text.contains(REPORTER_NAME) && !text.contains(REPORTER_CONTACT), "a reporter in the output:\n{text}");
    }
    o
}

/// The `--json` report of a replay that ran.
fn report(s: &Server, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    let o = replay(s, &all);
    assert!(o.status.success(), "{}\n{}", stdout(&o), stderr(&o));
    serde_json::from_str(&stdout(&o)).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

/// Each case's differences as `kind clock` strings, by tracking id.
fn kinds(r: &Value, c: &Stored) -> Vec<String> {
    r["differences"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["tracking_id"] == c.tracking.as_str())
        .map(|d| format!("{} {}", d["kind"].as_str().unwrap(), d["clock"].as_str().unwrap_or("-")))
        .collect()
}

/// The case's difference of `kind` on `clock` (`None`: a route).
fn difference<'a>(r: &'a Value, c: &Stored, kind: &str, clock: Option<&str>) -> &'a Value {
    let found = r["differences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["tracking_id"] == c.tracking.as_str() && d["kind"] == kind && d["clock"].as_str() == clock);
    found.unwrap_or_else(|| panic!("no {kind} {clock:?} for {}: {r:#}", c.tracking))
}

/// What the database holds, in numbers that any write would change: rows per table, the heads of the
/// chains, the timers' deadlines and claims, the outbox's marks.
fn fingerprint(url: &str) -> Vec<i64> {
    const SQL: &[&str] = &[
        "SELECT COUNT(*) FROM complaints",
        "SELECT CAST(COALESCE(SUM(head_seq), 0) AS BIGINT) FROM complaints",
        "SELECT COALESCE(MAX(updated_at), 0) FROM complaints",
        "SELECT COUNT(*) FROM events",
        "SELECT COUNT(*) FROM timers",
        "SELECT CAST(COALESCE(SUM(due_at), 0) AS BIGINT) FROM timers",
        "SELECT CAST(COALESCE(SUM(next_action_at), 0) AS BIGINT) FROM timers",
        "SELECT COUNT(*) FROM timers WHERE claim_owner IS NOT NULL",
        "SELECT COUNT(*) FROM timer_actions",
        "SELECT COUNT(*) FROM outbox",
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL",
        "SELECT COUNT(*) FROM packs",
        "SELECT COUNT(*) FROM recomputes",
        "SELECT COUNT(*) FROM case_holders",
        "SELECT COUNT(*) FROM leases",
        "SELECT COUNT(*) FROM processed_commands",
    ];
    block_on(async {
        let mut out = Vec::new();
        if url.starts_with("sqlite:") {
            let mut c = SqliteConnection::connect(&format!("{url}?mode=ro")).await.unwrap();
            for q in SQL {
                out.push(
                    sqlx::query_scalar::<_, i64>(*q).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{q}: {e}")),
                );
            }
            c.close().await.unwrap();
        } else {
            let mut c = PgConnection::connect(url).await.unwrap();
            for q in SQL {
                out.push(
                    sqlx::query_scalar::<_, i64>(*q).fetch_one(&mut c).await.unwrap_or_else(|e| panic!("{q}: {e}")),
                );
            }
            c.close().await.unwrap();
        }
        out
    })
}

/// The bytes of a SQLite database (its file and write-ahead log).
fn sqlite_bytes(url: &str) -> Option<Vec<u8>> {
    let path = url.strip_prefix("sqlite://")?;
    let mut bytes = std::fs::read(path).unwrap();
    bytes.extend(std::fs::read(format!("{path}-wal")).unwrap_or_default());
    Some(bytes)
}

/// The stored history, with what the replay's answers are checked against.
struct History {
    /// Kota Semarang, routed on verify (respond: Semarang's 7 working days), escalated by a sweep at
    /// its respond deadline.
    s2: Stored,
    /// S2's respond deadline (the sweep's instant) and due date, and when it was verified.
    s2_due: (String, String),
    s2_verified: String,
    /// Kota Semarang, routed; its view after verify.
    s1: Stored,
    v1: Value,
    /// Kota Semarang, dispatched by the admin.
    s3: Stored,
    /// Kota Surabaya, routed; its view after verify.
    j: Stored,
    vj: Value,
}

/// Stores the history through `serve`: S2 filed, verified and swept first, the others filed after that
/// sweep, so it touches none of them.
fn store_history(s: &Server) -> History {
    let s2 = file(s, "33.74");
    let v = verify(s, &s2, None);
    let s2_due = deadline(&v, "respond");
    let sweep = s.command().args(["sweep", "--now", &s2_due.0]).output().unwrap();
    assert!(sweep.status.success(), "{}", stderr(&sweep));
    let counts: Value = serde_json::from_slice(&sweep.stdout).unwrap();
    assert_eq!(counts["escalated"], 1, "{counts}");
    assert_eq!(view(s, &s2)["agency"], "33.74");
    let s1 = file(s, "33.74");
    let v1 = verify(s, &s1, None);
    let s3 = file(s, "33.74");
    verify(s, &s3, Some("33.74/dinas-pu"));
    let j = file(s, "35.78");
    let vj = verify(s, &j, None);
    assert_eq!((v1["agency"].as_str(), vj["agency"].as_str()), (Some("33.74/dinas-pu"), Some("35.78/dinas-pu")));
    History { s2, s2_due, s2_verified: verified_at(&v), s1, v1, s3, j, vj }
}

fn replay_reports_the_known_differences_and_writes_nothing(db: Db) {
    let mut s = Server::start_with(db, &["--no-workers"]);
    let h = store_history(&s);
    s.stop();
    let before = (fingerprint(&s.db_url), sqlite_bytes(&s.db_url));
    let since = (Utc::now() - Duration::days(1)).date_naive().to_string();
    // An identical candidate: nothing differs.
    let same = pack_copy();
    let r = report(&s, &["--since", &since, same.path().to_str().unwrap()]);
    assert_eq!((r["cases_examined"].as_u64(), r["cases_differing"].as_u64()), (Some(4), Some(0)), "{r:#}");
    assert_eq!(r["differences"], json!([]));
    assert_eq!(r["candidate_hash"], r["pack"], "the same pack");
    a_longer_semarang_sla(&s, &h, &since);
    a_route_rule(&s, &h, &since);
    let (_, j_due) = deadline(&h.vj, "respond");
    let national = std::fs::read_to_string(root().join("policies/lapor/calendars/indonesia.yaml")).unwrap();
    if national.contains(&format!("  {}:\n    public:\n", &j_due[..4])) {
        a_national_holiday(&s, &h, &since, &j_due);
    } else {
        eprintln!("skipped the holiday: {j_due} lies past the calendar's covered years");
    }
    assert_eq!((fingerprint(&s.db_url), sqlite_bytes(&s.db_url)), before, "the replays wrote nothing");
}

/// Semarang's respond at 10 working days: its open respond deadlines move, S2's escalation would not
/// have happened; the table, --at, --region and --since.
fn a_longer_semarang_sla(s: &Server, h: &History, since: &str) {
    let sla = edited("sla/33.74-kota-semarang.yaml", "respond: {working_days: 7}", "respond: {working_days: 10}");
    let dir = sla.path().to_str().unwrap();
    let r = report(s, &["--since", since, dir]);
    assert_eq!(r["cases_examined"], 4);
    assert_eq!(r["summary"], json!({"route": 0, "deadline": 2, "escalation": 1}), "{r:#}");
    assert_eq!(kinds(&r, &h.s1), ["deadline respond"]);
    assert_eq!(kinds(&r, &h.s3), ["deadline respond"], "a hand dispatch's deadline moves too");
    assert_eq!(kinds(&r, &h.s2), ["would_not_have_escalated respond"], "level 1 takes the tier's budget");
    assert_eq!(kinds(&r, &h.j), Vec::<String>::new());
    let (before, after) = (deadline(&h.v1, "respond").1, explained_respond(sla.path(), "33.74", &verified_at(&h.v1)));
    let d = difference(&r, &h.s1, "deadline", Some("respond"));
    assert_eq!((d["region"].as_str(), d["reason"].as_str()), (Some("33.74"), Some("sla_changed")));
    assert_eq!((&d["before"]["due_date"], &d["after"]["due_date"]), (&json!(before), &json!(after)));
    let d = difference(&r, &h.s2, "would_not_have_escalated", Some("respond"));
    assert_eq!(instant(&d["at"]), instant(&json!(h.s2_due.0)));
    assert_eq!(d["before"]["due_date"], h.s2_due.1);
    assert_eq!(d["after"]["due_date"], explained_respond(sla.path(), "33.74", &h.s2_verified));
    // Judged at S1's respond deadline, the active pack's sweep would escalate S1 and S3, the candidate's not.
    let r = report(s, &["--since", since, "--at", &deadline(&h.v1, "respond").0, dir]);
    assert_eq!(kinds(&r, &h.s1), ["deadline respond", "would_not_escalate respond"]);
    assert_eq!(kinds(&r, &h.s3), ["deadline respond", "would_not_escalate respond"]);
    // The table: a row per difference, then the summary.
    let o = replay(s, &["--since", since, dir]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 5, "{out}");
    assert!(lines[0].starts_with("TRACKING ID") && lines[0].ends_with("NOTE"), "{out}");
    let row = lines.iter().find(|l| l.starts_with(&h.s1.tracking)).unwrap();
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, [&h.s1.tracking, "33.74", "deadline", "respond", &before, &after, "sla_changed"]);
    assert_eq!(lines[4], "4 cases examined, 3 differ: 0 route, 2 deadline, 1 escalation");
    // --region: only the cases filed there or below; --since: received on or after that date only.
    let r = report(s, &["--since", since, "--region", "35.78", dir]);
    assert_eq!((r["cases_examined"].as_u64(), r["region"].as_str()), (Some(1), Some("35.78")));
    let r = report(s, &["--since", since, "--region", "33", dir]);
    assert_eq!((r["cases_examined"].as_u64(), r["cases_differing"].as_u64()), (Some(3), Some(3)));
    let later = (Utc::now() + Duration::days(2)).date_naive().to_string();
    assert_eq!(report(s, &["--since", &later, dir])["cases_examined"], 0);
}

/// A route rule sending Semarang's roads to its BPBD: the routed cases differ, not the hand dispatch.
fn a_route_rule(s: &Server, h: &History, since: &str) {
    let route = edited(
        "rules/route.rhai",
        "fn route(complaint, now) {\n",
        "fn route(complaint, now) {\n    if complaint.region == \"33.74\" { return #{ agency: \"33.74/bpbd\", reason: \"Semarang: roads to BPBD\" }; }\n",
    );
    let r = report(s, &["--since", since, route.path().to_str().unwrap()]);
    assert_eq!(r["summary"], json!({"route": 2, "deadline": 0, "escalation": 0}), "{r:#}");
    assert_eq!((kinds(&r, &h.s1), kinds(&r, &h.s2)), (vec!["route -".to_owned()], vec!["route -".to_owned()]));
    let d = difference(&r, &h.s1, "route", None);
    assert_eq!(d["before"]["agency"], "33.74/dinas-pu");
    let after = json!({"agency": "33.74/bpbd", "reason": "Semarang: roads to BPBD", "policy": "rules/route.rhai"});
    assert_eq!(d["after"], after);
}

/// A national holiday on J's respond due date: every open clock across it moves, and S2's sweep would
/// not have escalated it then (its restarted respond starts after the holiday).
fn a_national_holiday(s: &Server, h: &History, since: &str, j_due: &str) {
    let year = &j_due[..4];
    let holiday = edited(
        "calendars/indonesia.yaml",
        &format!("  {year}:\n    public:\n"),
        &format!("  {year}:\n    public:\n      - {{date: {j_due}, name: \"Added\"}}\n"),
    );
    let r = report(s, &["--since", since, holiday.path().to_str().unwrap()]);
    assert_eq!(kinds(&r, &h.j), ["deadline complete", "deadline respond"], "{r:#}");
    assert_eq!(kinds(&r, &h.s1), ["deadline complete", "deadline respond"]);
    assert_eq!(kinds(&r, &h.s2), ["deadline complete", "would_not_have_escalated respond"]);
    let d = difference(&r, &h.j, "deadline", Some("respond"));
    assert_eq!((d["reason"].as_str(), d["before"]["due_date"].as_str()), (Some("calendar_changed"), Some(j_due)));
    assert_eq!(d["after"]["due_date"], explained_respond(holiday.path(), "35.78", &verified_at(&h.vj)));
}

fn instant(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap()).unwrap().with_timezone(&Utc)
}

#[test]
fn replay_names_a_broken_candidate_and_bad_arguments() {
    let national = root().join("policies/lapor");
    let national = national.to_str().unwrap();
    // A bad date or region: a usage error naming the flag.
    let o = aduan(&["policy", "replay", "--since", "2026-13-01", national]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--since"), "{}", stderr(&o));
    let o = aduan(&["policy", "replay", "--since", "2026-03-01", "--region", "3", national]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--region"), "{}", stderr(&o));
    // A broken candidate: exit 1, each problem as `policy check` prints it; no database is needed.
    let broken = pack_copy();
    std::fs::write(broken.path().join("sla/33.74-kota-semarang.yaml"), "region: \"33.74\"\nregion: \"33.75\"\n")
        .unwrap();
    let o = aduan(&["policy", "replay", "--since", "2026-03-01", broken.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stdout(&o).lines().any(|l| l.starts_with("sla/33.74-kota-semarang.yaml:2:")), "{}", stdout(&o));
    assert!(stderr(&o).contains("the candidate pack in") && stderr(&o).contains("is invalid"), "{}", stderr(&o));
    // No database there: said, not created.
    let dir = aduan_testkit::process::tempdir("replay");
    let url = format!("sqlite://{}/none.db", dir.path().display());
    let o = aduan(&["--database-url", &url, "policy", "replay", "--since", "2026-03-01", national]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("no database at"), "{}", stderr(&o));
    assert!(!dir.path().join("none.db").exists());
}
