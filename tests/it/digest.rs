//! The morning digest through the real binary, on a controlled clock (`aduan digest --now`): one digest
//! per agency and local date, inside each agency's own working hours in its own time zone; held on its
//! days off; published by the relay on the agency's subject with `complaint_id: null`.
//!
//! Cases are seeded in Kota Surabaya (35.78, WIB, UTC+7) and Kota Makassar (73.71, WITA, UTC+8) on
//! Tuesday 1 December 2026, so `respond` (5 working days) falls due on Tuesday 8 December in both.

use crate::support::{block_on, read_stream, Database, Db, Server};
use crate::{aduan_in, pack_copy, root, stderr, stdout};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::path::Path;

/// When the cases are seeded (10:00 WIB, 11:00 WITA).
const SEEDED_AT: &str = "2026-12-01T10:00:00+07:00";
/// 08:00 WITA: Makassar is open; 07:00 WIB, Surabaya opens at 07:30.
const WITA_OPEN: &str = "2026-12-08T08:00:00+08:00";
/// 08:00 WIB: both are open.
const WIB_OPEN: &str = "2026-12-08T08:00:00+07:00";
/// Christmas Day, a national holiday: nothing falls due.
const CHRISTMAS: &str = "2026-12-25T09:00:00+07:00";
/// `respond`'s deadline: the midnight that ends 8 December, in each zone.
const DUE_WIB: &str = "2026-12-08T17:00:00Z";
const DUE_WITA: &str = "2026-12-08T16:00:00Z";

const SURABAYA: &str = "35.78/dinas-pu";
const MAKASSAR: &str = "73.71/dinas-pu";

fn run(db: &str, pack: &Path, rest: &[&str]) -> std::process::Output {
    let mut a: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    a.extend(["--database-url".into(), db.into(), "--policy-dir".into(), pack.display().to_string()]);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    aduan_in(&root(), &refs)
}

fn seed(db: &str, pack: &Path, region: &str, n: usize) {
    let o = run(db, pack, &["seed", "--complaints", &n.to_string(), "--region", region, "--at", SEEDED_AT]);
    assert!(o.status.success(), "seed: {}", stderr(&o));
}

fn digest(db: &str, pack: &Path, now: &str, extra: &[&str]) -> Value {
    let mut a = vec!["digest", "--now", now];
    a.extend(extra);
    let o = run(db, pack, &a);
    assert!(o.status.success(), "digest: {}", stderr(&o));
    serde_json::from_str(stdout(&o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(&o)))
}

fn counts(sent: u64, held: u64, already: u64) -> Value {
    json!({"sent": sent, "held": held, "already": already})
}

/// What the store holds: the digest outbox rows (subject, payload), the `digests` rows (agency, date,
/// event id), and each case's tracking id and holder.
struct Stored {
    outbox: Vec<(String, Value)>,
    digests: Vec<(String, String, String)>,
    cases: BTreeMap<String, (String, String)>,
}

/// Outbox (subject, payload), digests (agency, date, event id), cases (id, tracking id, agency).
type Rows = (Vec<(String, String)>, Vec<(String, String, String)>, Vec<(String, String, String)>);

fn stored(db: &str) -> Stored {
    const OUTBOX: &str = "SELECT subject, payload FROM outbox WHERE subject LIKE '%.digest' ORDER BY id";
    const DIGESTS: &str = "SELECT agency, local_date, event_id FROM digests ORDER BY agency, local_date";
    const CASES: &str = "SELECT id, tracking_id, agency FROM complaints";
    block_on(async {
        let (outbox, digests, cases): Rows = if db.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(db).await.unwrap();
            let r = (
                sqlx::query_as(OUTBOX).fetch_all(&pool).await.unwrap(),
                sqlx::query_as(DIGESTS).fetch_all(&pool).await.unwrap(),
                sqlx::query_as(CASES).fetch_all(&pool).await.unwrap(),
            );
            pool.close().await;
            r
        } else {
            let pool = sqlx::PgPool::connect(db).await.unwrap();
            let r = (
                sqlx::query_as(OUTBOX).fetch_all(&pool).await.unwrap(),
                sqlx::query_as(DIGESTS).fetch_all(&pool).await.unwrap(),
                sqlx::query_as(CASES).fetch_all(&pool).await.unwrap(),
            );
            pool.close().await;
            r
        };
        Stored {
            outbox: outbox.into_iter().map(|(s, p)| (s, serde_json::from_str(&p).unwrap())).collect(),
            digests,
            cases: cases.into_iter().map(|(id, t, a)| (id, (t, a))).collect(),
        }
    })
}

/// Checks one digest payload: the envelope with null case fields, and a `due` list of exactly the
/// agency's cases, each with its `respond` deadline.
fn check_digest(
    p: &Value,
    agency: &str,
    zone: &str,
    due_at: &str,
    at: &str,
    cases: &BTreeMap<String, (String, String)>,
) {
    assert_eq!(p["type"], "digest", "{p}");
    assert_eq!(p["agency"], agency, "{p}");
    assert_eq!(p["complaint_id"], Value::Null, "{p}");
    assert_eq!(p["tracking_id"], Value::Null, "{p}");
    assert_eq!(p["escalation_level"], Value::Null, "{p}");
    let at_utc = chrono::DateTime::parse_from_rfc3339(at).unwrap().to_utc();
    assert_eq!(p["at"].as_str().unwrap().parse::<chrono::DateTime<chrono::Utc>>().unwrap(), at_utc, "{p}");
    assert_eq!(p["data"]["date"], "2026-12-08", "{p}");
    assert_eq!(p["data"]["time_zone"], zone, "{p}");
    let theirs: Vec<(&String, &String)> =
        cases.iter().filter(|(_, (_, a))| a == agency).map(|(id, (t, _))| (id, t)).collect();
    let due = p["data"]["due"].as_array().unwrap();
    assert_eq!(p["data"]["count"], theirs.len(), "{p}");
    assert_eq!(due.len(), theirs.len(), "{p}");
    for ((id, tracking), d) in theirs.iter().zip(due) {
        assert_eq!(d, &json!({"complaint_id": id, "tracking_id": tracking, "clock": "respond", "due_at": due_at}));
    }
    let text = p.to_string();
    assert!(!text.contains("reporter") && !text.contains("title"), "no reporter identity or content: {p}");
}

both_backends!(digest_once_per_agency_and_local_date);

/// The whole morning on one database: Makassar first, Surabaya an hour later, then nothing more.
fn digest_once_per_agency_and_local_date(db: Db) {
    let database = Database::new(db);
    let db = database.url();
    let pack = root().join("policies/lapor");
    seed(db, &pack, "35.78", 3);
    seed(db, &pack, "73.71", 2);
    assert_eq!(digest(db, &pack, WITA_OPEN, &["--dry-run"]), counts(1, 1, 0));
    assert!(stored(db).outbox.is_empty(), "a dry run writes nothing");
    assert_eq!(digest(db, &pack, WITA_OPEN, &[]), counts(1, 1, 0), "Makassar open, Surabaya not yet");
    let s = stored(db);
    assert_eq!(s.outbox.len(), 1);
    assert_eq!(s.outbox[0].0, "aduan.evt.73.71.dinas-pu.digest");
    check_digest(&s.outbox[0].1, MAKASSAR, "Asia/Makassar", DUE_WITA, WITA_OPEN, &s.cases);
    assert_eq!(digest(db, &pack, WIB_OPEN, &[]), counts(1, 0, 1), "Surabaya now; Makassar already had its");
    assert_eq!(digest(db, &pack, WIB_OPEN, &[]), counts(0, 0, 2), "again: nothing");
    assert_eq!(digest(db, &pack, WIB_OPEN, &["--dry-run"]), counts(0, 0, 2));
    let s = stored(db);
    assert_eq!(s.outbox.len(), 2, "one digest per agency and local date");
    assert_eq!(s.outbox[1].0, "aduan.evt.35.78.dinas-pu.digest");
    check_digest(&s.outbox[1].1, SURABAYA, "Asia/Jakarta", DUE_WIB, WIB_OPEN, &s.cases);
    let rows: Vec<(String, String, String)> = s
        .outbox
        .iter()
        .map(|(_, p)| {
            (p["agency"].as_str().unwrap().into(), "2026-12-08".into(), p["event_id"].as_str().unwrap().into())
        })
        .rev()
        .collect();
    assert_eq!(s.digests, rows, "each digest row names the event it queued");
    assert_eq!(digest(db, &pack, CHRISTMAS, &[]), counts(0, 0, 0), "a holiday: nothing falls due");
    assert_eq!(stored(db).outbox.len(), 2);
}

#[test]
fn digest_is_held_on_the_agencys_day_off() {
    // Deadlines set on the national pack; then Surabaya declares 8 December a day off (before any
    // recompute moved them): its digest waits, Makassar's goes out.
    let database = Database::new(Db::Sqlite);
    let db = database.url().to_owned();
    let national = root().join("policies/lapor");
    seed(&db, &national, "35.78", 2);
    seed(&db, &national, "73.71", 1);
    let pack = pack_copy();
    std::fs::write(
        pack.path().join("calendars/surabaya.yaml"),
        "region: \"35.78\"\ndays_off:\n  - {date: 2026-12-08, name: \"Libur daerah (test)\"}\n",
    )
    .unwrap();
    assert_eq!(digest(&db, pack.path(), WIB_OPEN, &[]), counts(1, 1, 0));
    let s = stored(&db);
    assert_eq!(s.outbox.len(), 1);
    assert_eq!(s.outbox[0].1["agency"], MAKASSAR);
}

#[test]
fn digest_is_published_on_the_agency_subject() {
    // No workers: this test alone decides when the digest runs.
    let server = Server::start_with(Db::Sqlite, &["--no-workers"]);
    let nats = server.nats_url.clone();
    let pack = root().join("policies/lapor");
    seed(&server.db_url, &pack, "35.78", 2);
    seed(&server.db_url, &pack, "73.71", 1);
    let o = run(&server.db_url, &pack, &["digest", "--now", WIB_OPEN, "--nats-prefix", &server.prefix]);
    assert!(o.status.success(), "digest: {}", stderr(&o));
    assert_eq!(serde_json::from_str::<Value>(stdout(&o).trim()).unwrap(), counts(2, 0, 0));
    let cases = stored(&server.db_url).cases;
    let msgs = read_stream(&nats, &server.stream("EVT"), 2);
    let digests: Vec<_> = msgs.iter().filter(|m| m.payload["type"] == "digest").collect();
    assert_eq!(digests.len(), 2, "{msgs:?}");
    for (agency, subject, zone, due_at) in [
        (SURABAYA, format!("{}.evt.35.78.dinas-pu.digest", server.prefix), "Asia/Jakarta", DUE_WIB),
        (MAKASSAR, format!("{}.evt.73.71.dinas-pu.digest", server.prefix), "Asia/Makassar", DUE_WITA),
    ] {
        let m = digests.iter().find(|m| m.payload["agency"] == agency).unwrap_or_else(|| panic!("{msgs:?}"));
        assert_eq!(m.subject, subject);
        assert_eq!(m.msg_id.as_deref(), m.payload["event_id"].as_str(), "Nats-Msg-Id is the event id");
        check_digest(&m.payload, agency, zone, due_at, WIB_OPEN, &cases);
    }
}

#[test]
fn digest_bad_cron_is_refused_naming_the_file_and_field() {
    let pack = pack_copy();
    let file = pack.path().join("schedules.yaml");
    std::fs::write(&file, "sweep: \"0 * * * * *\"\ndigest: \"0 0 8 * * 1-6\"\n").unwrap();
    let o = aduan_in(&root(), &["policy", "check", pack.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    assert!(
        stdout(&o)
            .lines()
            .any(|l| l.starts_with("schedules.yaml:2:") && l.contains("digest: write days of the week as names")),
        "{}",
        stdout(&o)
    );
    std::fs::write(&file, "digest: \"every morning\"\n").unwrap();
    let o = aduan_in(&root(), &["policy", "check", pack.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).lines().any(|l| l.starts_with("schedules.yaml:1:") && l.contains("digest:")), "{}", stdout(&o));
    // serve refuses the pack too, before it takes any work.
    let dir = aduan_testkit::process::tempdir("digest");
    let db = format!("sqlite://{}/a.db", dir.path().display());
    let policy_dir = pack.path().display().to_string();
    let o = aduan_in(dir.path(), &["serve", "--database-url", &db, "--policy-dir", &policy_dir, "--no-api"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("schedules.yaml:1:") && stderr(&o).contains("digest:"), "{}", stderr(&o));
}
