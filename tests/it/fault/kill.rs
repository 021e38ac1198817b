//! `kill -9` under load: 2,000 lifecycles (10,000 commands; 5,000 on PostgreSQL) over NATS while a
//! replica is killed at random points and started again on the same database and NATS. Afterwards every command must have
//! been applied exactly once and every event be in `{PREFIX}_EVT` exactly once.

use super::lifecycles::{check, drive, Credentials, STEPS};
use super::Rng;
use crate::support::{fresh_prefix, Db, Server};
use aduan_testkit::nats::NatsServer;
use aduan_testkit::pg::TestDatabase;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Lifecycles on SQLite (10,000 commands), and on PostgreSQL with two replicas (5,000: it commits
/// about half as fast, and the suite's time is bounded).
const LIFECYCLES: usize = 2_000;
const PG_LIFECYCLES: usize = 1_000;
const KILLS: usize = 3;

#[test]
fn fault_kill_9_one_replica_on_sqlite_loses_nothing_and_applies_nothing_twice() {
    let mut s = Server::start(Db::Sqlite);
    run(std::slice::from_mut(&mut s), LIFECYCLES, 0x5eed_0001);
}

#[test]
fn fault_kill_9_either_of_two_replicas_on_postgres_loses_nothing_and_applies_nothing_twice() {
    let nats = NatsServer::start();
    let db = TestDatabase::create_blocking();
    let prefix = fresh_prefix();
    let a = Server::replica(db.url(), nats.url(), &prefix, &[], None);
    let b = Server::replica(db.url(), nats.url(), &prefix, &[], Some(&a.admin));
    run(&mut [a, b], PG_LIFECYCLES, 0x5eed_0002);
}

/// Drives the lifecycles against `replicas` (sharing one database and NATS prefix), killing one of
/// them, chosen at random, [`KILLS`] times at random points of the run, then checks.
fn run(replicas: &mut [Server], lifecycles: usize, seed: u64) {
    let started = Instant::now();
    let mut rng = Rng::seeded(seed);
    let total = lifecycles * STEPS.len();
    // In the first 60 % of the run, so the commands a killed replica held (back after the consumer's
    // 30 s ack wait) come back while the rest still runs.
    let mut points: Vec<usize> = (0..KILLS).map(|_| rng.between(total / 20..total * 3 / 5)).collect();
    points.sort();
    let creds = Credentials::of(&replicas[0]);
    let (nats_url, prefix) = (replicas[0].nats_url.clone(), replicas[0].prefix.clone());
    let progress = AtomicUsize::new(0);
    let done = AtomicBool::new(false);
    let first_victim = rng.between(0..replicas.len());
    let mut kills = Vec::new();
    let cases = std::thread::scope(|scope| {
        let driver = scope.spawn(|| {
            let cases = drive(&nats_url, &prefix, &creds, lifecycles, &progress);
            done.store(true, Ordering::SeqCst);
            cases
        });
        for at in points {
            while progress.load(Ordering::SeqCst) < at && !done.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(5));
            }
            if done.load(Ordering::SeqCst) {
                break;
            }
            // A random replica first, then the others in turn: with two, both are killed.
            let victim = (first_victim + kills.len()) % replicas.len();
            replicas[victim].kill();
            kills.push(format!(
                "replica {victim} after {} answers at {:?}",
                progress.load(Ordering::SeqCst),
                started.elapsed()
            ));
            replicas[victim].relaunch();
        }
        driver.join().unwrap()
    });
    let driven = started.elapsed();
    let tally = check(&replicas[0], &cases);
    eprintln!("killed {}: {}", kills.len(), kills.join("; "));
    eprintln!("{tally}; driven in {driven:?}, checked in {:?}", started.elapsed() - driven);
    assert_eq!(kills.len(), KILLS, "every kill happened during the run");
    tally.assert_clean();
}
