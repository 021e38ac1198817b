//! Deadline sweeps through the real binary: `aduan sweep` acts once per instant, three sweepers over
//! 10,000 due cases on PostgreSQL escalate each exactly once, and a sweeper killed mid-sweep has its
//! claims taken over when their lease expires.

use crate::support::{block_on, spawn, Database, Db};
use crate::{aduan_in, root, stderr, stdout};
use serde_json::Value;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-02T10:00:00+07:00";

fn args<'a>(db: &'a str, rest: &[&'a str]) -> Vec<String> {
    let mut v: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
    v.extend([
        "--database-url".into(),
        db.into(),
        "--policy-dir".into(),
        root().join("policies/lapor").display().to_string(),
    ]);
    v
}

fn run(db: &str, rest: &[&str]) -> std::process::Output {
    let a = args(db, rest);
    let refs: Vec<&str> = a.iter().map(String::as_str).collect();
    aduan_in(&root(), &refs)
}

fn seed(db: &str, n: usize) {
    let o = run(db, &["seed", "--complaints", &n.to_string(), "--due-before", NOW]);
    assert!(o.status.success(), "seed: {}", stderr(&o));
}

fn counts(o: &std::process::Output) -> Value {
    assert!(o.status.success(), "sweep: {}", stderr(o));
    serde_json::from_str(stdout(o).trim()).unwrap_or_else(|e| panic!("{e}: {}", stdout(o)))
}

#[test]
fn sweep_acts_once_per_instant_and_dry_run_changes_nothing() {
    let database = Database::new(Db::Sqlite);
    let db = database.url();
    seed(db, 1_200);
    let dry = counts(&run(db, &["sweep", "--now", NOW, "--dry-run"]));
    assert_eq!(dry["escalated"], 1_200, "a dry run covers every due case, past one claim batch: {dry}");
    let first = counts(&run(db, &["sweep", "--now", NOW]));
    assert_eq!(first, serde_json::json!({"warned": 0, "escalated": 1_200, "closed": 0, "held": 0}));
    let second = counts(&run(db, &["sweep", "--now", NOW]));
    assert_eq!(second, serde_json::json!({"warned": 0, "escalated": 0, "closed": 0, "held": 0}));
    let audit = run(db, &["audit", "verify"]);
    assert!(audit.status.success(), "the chains stay intact: {}", stdout(&audit));
}

/// A case the engine cannot read (its state column corrupted behind the engine's back) is logged and
/// skipped: the other cases of its group and sweep still escalate, and the next sweep tries it again.
#[test]
fn fault_an_unreadable_case_does_not_hold_up_the_sweep() {
    let database = Database::new(Db::Sqlite);
    let db = database.url();
    seed(db, 120);
    let poisoned: String = block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(db).await.unwrap();
        let id: String = sqlx::query_scalar("SELECT id FROM complaints ORDER BY id LIMIT 1 OFFSET 7")
            .fetch_one(&mut c)
            .await
            .unwrap();
        sqlx::query("UPDATE complaints SET state = 'not json' WHERE id = $1").bind(&id).execute(&mut c).await.unwrap();
        id
    });
    let o = run(db, &["sweep", "--now", NOW]);
    assert_eq!(counts(&o)["escalated"], 119, "every other case escalates");
    assert!(stderr(&o).contains(&poisoned), "the skipped case is named: {}", stderr(&o));
    let again = run(db, &["sweep", "--now", NOW]);
    assert_eq!(counts(&again)["escalated"], 0);
    assert!(stderr(&again).contains(&poisoned), "and tried again: {}", stderr(&again));
}

async fn escalations(db: &str) -> (i64, i64) {
    let pool = sqlx::PgPool::connect(db).await.unwrap();
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'escalated'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let twice: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT complaint_id FROM events WHERE event_type = 'escalated' GROUP BY complaint_id HAVING count(*) > 1) x",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    (total, twice)
}

fn spawn_sweeper(db: &str, extra: &[&str]) -> std::process::Child {
    spawn_sweeper_at(db, NOW, extra)
}

fn spawn_sweeper_at(db: &str, now: &str, extra: &[&str]) -> std::process::Child {
    let mut a = args(db, &["sweep", "--now", now]);
    a.extend(extra.iter().map(|s| s.to_string()));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aduan"));
    for (k, _) in std::env::vars() {
        if k.starts_with("ADUAN_") {
            cmd.env_remove(k);
        }
    }
    cmd.args(&a).stdout(Stdio::piped()).stderr(Stdio::piped());
    spawn(cmd)
}

#[test]
fn load_three_sweepers_escalate_10000_cases_exactly_once() {
    let database = Database::new(Db::Postgres);
    let db = database.url();
    seed(db, 10_000);
    let workers: Vec<_> = (0..3).map(|_| spawn_sweeper(db, &[])).collect();
    let mut sum = 0;
    for w in workers {
        let o = w.wait_with_output().unwrap();
        sum += counts(&o)["escalated"].as_i64().unwrap();
    }
    assert_eq!(sum, 10_000, "the three sweepers' escalations add up to one per case");
    assert_eq!(block_on(escalations(db)), (10_000, 0));
}

#[test]
fn fault_a_killed_sweeper_is_taken_over_and_each_case_escalates_once() {
    let database = Database::new(Db::Postgres);
    let db = database.url();
    seed(db, 10_000);
    let mut a = spawn_sweeper(db, &["--claim-ttl", "3s"]);
    // Kill it (SIGKILL) in the middle of its sweep.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (n, _) = block_on(escalations(db));
        if n >= 500 {
            break;
        }
        assert!(Instant::now() < deadline, "the first sweeper made no progress");
        std::thread::sleep(Duration::from_millis(20));
    }
    a.kill().unwrap();
    a.wait().unwrap();
    let (after_kill, _) = block_on(escalations(db));
    assert!(after_kill < 10_000, "killed mid-sweep ({after_kill} done)");
    // At the same instant the dead worker's claims are still live: another sweeper leaves them alone.
    let o = spawn_sweeper(db, &["--claim-ttl", "3s"]).wait_with_output().unwrap();
    counts(&o);
    assert_eq!(block_on(escalations(db)).1, 0);
    // A sweep after the claims' lease (3 s on the sweep clock) takes them over.
    let later = "2026-11-02T10:00:05+07:00";
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let o = spawn_sweeper_at(db, later, &["--claim-ttl", "3s"]).wait_with_output().unwrap();
        counts(&o);
        let (total, twice) = block_on(escalations(db));
        assert_eq!(twice, 0, "no case escalated twice");
        if total == 10_000 {
            break;
        }
        assert!(Instant::now() < deadline, "only {total} of 10,000 escalated");
        std::thread::sleep(Duration::from_millis(500));
    }
}
