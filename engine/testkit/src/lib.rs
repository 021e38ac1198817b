//! Test support for Aduan's suites. Real components only (DESIGN test rules):
//! - [`cluster`]: a NATS cluster of N pinned nats-servers on loopback, from a configuration file
//!   (the deployment's `deploy/nats.conf`), with a node to kill and restart;
//! - [`nats`]: spawns the pinned nats-server (`ADUAN_NATS_SERVER_BIN`, from `deploy/tools.sh`) on a free
//!   loopback port with a temp store dir, both gone when its guard drops;
//! - [`pg`]: a fresh PostgreSQL database per test from `ADUAN_TEST_PG_URL`, dropped with its guard;
//! - [`pg_server`]: a private PostgreSQL server (initdb in a temp dir, a free port) to stop and start;
//! - [`http`]: a blocking HTTP client (reqwest) for end-to-end tests;
//! - [`party`]: who the national workflow expects to take an action (harnesses act as that party);
//! - [`process`]: children that die with the test process, temp dirs named `aduan-test-*`;
//! - [`tmpfs`]: a small tmpfs mounted on a temp dir (disk-full tests), unmounted with its guard.
//!
//! Nothing a test starts may outlive it: `deploy/test.sh` fails a run that leaves a process, a temp
//! dir or a database behind.

pub mod cluster;
pub mod http;
pub mod nats;
pub mod party;
pub mod pg;
pub mod pg_server;
pub mod process;
pub mod tmpfs;
