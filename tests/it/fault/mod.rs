//! The fault suite: nothing lost, nothing twice (docs/operations.md#fault-tests). Each test runs real
//! components (the `aduan` binary, nats-server, SQLite, PostgreSQL), injects one kind of fault and
//! checks what was accepted against what the database and the streams hold:
//! - [`kill`]: `kill -9` of a replica at random points under 10,000 NATS commands (SQLite, one replica;
//!   PostgreSQL, two), sorted by [`lifecycles::check`] into applied once, lost or duplicated;
//! - [`poison`]: malformed, oversized and unauthorised commands mixed into the stream, each
//!   dead-lettered with its reason while every valid command is applied;
//! - [`disk_full`]: the SQLite database on a full tmpfs;
//! - [`postgres_restart`]: PostgreSQL stopped and started again under HTTP and NATS load;
//! - [`relay_window`]: the outbox relay killed while draining a backlog, restarted after the event
//!   stream's duplicate window has passed.
//!
//! Every wait polls with a deadline; every process, mount and database a test starts is a guard.

mod disk_full;
mod kill;
mod lifecycles;
mod poison;
mod postgres_restart;
mod relay_window;

use std::time::{Duration, Instant};

/// The next message of a core NATS subscription (`None` once it closed).
pub async fn next_message(sub: &mut async_nats::Subscriber) -> Option<async_nats::Message> {
    use futures_core::Stream as _;
    std::future::poll_fn(|cx| std::pin::Pin::new(&mut *sub).poll_next(cx)).await
}

/// Polls `done` every 20 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(within: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out after {within:?} waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A small seeded generator (SplitMix64): the same seed injects the same faults. The seed is
/// `ADUAN_FAULT_SEED` when set, else the test's own; tests print it.
pub struct Rng(u64);

impl Rng {
    pub fn seeded(default: u64) -> Rng {
        let seed = std::env::var("ADUAN_FAULT_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(default);
        eprintln!("fault seed {seed} (set ADUAN_FAULT_SEED to change it)");
        Rng(seed)
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `range`.
    pub fn between(&mut self, range: std::ops::Range<usize>) -> usize {
        range.start + (self.next() % (range.end - range.start) as u64) as usize
    }
}
