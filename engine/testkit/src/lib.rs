//! Test support for Aduan's suites. Real components only (CONTRACT/DESIGN test rules):
//! - [`nats`]: spawns the pinned nats-server (`ADUAN_NATS_SERVER_BIN`, from `deploy/tools.sh`) on a free
//!   loopback port with a temp store dir, killed on drop;
//! - [`pg`]: creates a fresh PostgreSQL database per test run from `ADUAN_TEST_PG_URL`;
//! - [`http`]: a minimal blocking HTTP/1.1 client for end-to-end tests.

pub mod http;
pub mod nats;
pub mod pg;
