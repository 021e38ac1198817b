//! `aduan-service`: where Aduan's pure core meets the world.
//!
//! - [`store`]: SQLite and PostgreSQL through two native sqlx pools; the only module with SQL.
//! - [`bus`]: NATS JetStream streams, the outbox relay and the command consumer; the only module that
//!   imports async-nats.
//! - [`api`]: the HTTP API (axum). Handlers decode, call one service function, encode.
//! - [`web`]: the web pages (axum, maud): citizens' filing and tracking, the dashboard; they call the
//!   same service functions as [`api`].
//! - [`open311`]: Open311 GeoReport v2 at `/open311/v2`, nested in the API's router: the spec's
//!   shapes in JSON and XML over the same service functions. With [`api`] and [`web`], the only
//!   modules that import axum (the HTTP layer).
//! - [`service`]: the service functions that combine core decisions, the store and the outbox: submit,
//!   act, the views, and the writing of a decision ([`service::CaseWrite`], the one chain builder
//!   [`service::chain_events`]).
//! - [`sweeper`]: deadline sweeps (claim due timers, act once per rung) as a service function, writing
//!   through [`service::CaseWrite`].
//! - [`recompute`]: recomputing open deadlines when the active pack changes, resumable.
//! - [`digest`]: the morning digest per agency and local date, as a service function.
//! - [`impact`]: `policy replay`: what a candidate pack would decide differently about stored cases,
//!   read-only.
//! - [`wire`]: HTTP and NATS wire types, separate from domain types.
//! - [`clock`]: the wall clock, read only at the edges (a [`aduan_core::time::Timestamp`] is passed in).
//! - [`problem`]: the one conversion of a service error or an undecodable body to problem+json.
//! - [`crypto`]: the data key, sealed identities, tokens, tracking ids.
//! - [`metrics`]: Prometheus metrics (plain counts and labels; it knows nothing of the service).
//! - `oidc` (feature `oidc`): verifying OIDC JWT bearer tokens against a JWKS file or URL.
//! - [`packs`]: reading a policy pack directory from disk.
//! - [`runtime`]: glue: the store as the relay's outbox, the service as the NATS command handler.
//! - [`webhooks`]: posting the source systems' webhooks from their queue (signed, retried, in order).

pub mod api;
pub mod bus;
pub mod clock;
pub mod crypto;
pub mod digest;
pub mod impact;
pub mod metrics;
#[cfg(feature = "oidc")]
pub mod oidc;
pub mod open311;
pub mod packs;
pub mod problem;
pub mod recompute;
pub mod reload;
pub mod runtime;
pub mod service;
pub mod store;
pub mod sweeper;
pub mod web;
pub mod webhooks;
pub mod wire;
