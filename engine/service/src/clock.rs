//! The wall clock, read only at the edges: an HTTP request, a NATS command, a worker's fire, a CLI
//! command. Everything below them takes the [`Timestamp`] they made.

use aduan_core::time::Timestamp;

/// Now, truncated to the millisecond.
pub fn now() -> Timestamp {
    Timestamp::new(chrono::Utc::now())
}
