//! `aduan-service`: where Aduan's pure core meets the world. It holds the store (sqlx), the bus
//! (async-nats), the HTTP api (axum) and the service functions that combine core, store and outbox.
//!
//! - [`packs`]: reading a policy pack directory from disk.
//!
//! The store, bus and api arrive with issue 2 (the walking skeleton).

pub mod packs;
