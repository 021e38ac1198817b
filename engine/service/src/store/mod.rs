//! The store: every line of Aduan's SQL lives here (invariant 2).
//!
//! Two native sqlx pools sit behind one [`Store`] (never sqlx `Any`):
//! - **SQLite** (the embedded default, `sqlite://PATH`): one writer connection whose transactions start
//!   with `BEGIN IMMEDIATE`, so concurrent writers queue instead of failing with `SQLITE_BUSY`, plus a
//!   separate read pool; WAL, `synchronous=NORMAL` (survives kill -9, not power loss; `FULL` by option),
//!   `busy_timeout` 5 s, foreign keys on, `LIKE` case-sensitive as on PostgreSQL, a 64 MiB page cache
//!   on the writer.
//! - **PostgreSQL** (`postgres://…`, production with many replicas): one pool.
//!
//! Every pool gives up acquiring a connection after 2 s, so callers answer 503 quickly
//! ([`StoreError::Unavailable`]). Both schemas store instants as BIGINT epoch milliseconds and payloads
//! as TEXT (the exact bytes an event's hash covers; never `jsonb`), so the same SQL text, with `$N`
//! placeholders, runs on both backends. The exceptions are row locks (PostgreSQL only: the sweep's
//! claim, [`Tx::lock_case`] and [`Tx::lock_cases`]) and the bulk load ([`Store::bulk_insert`]: `COPY` on PostgreSQL,
//! multi-row `INSERT`s with `?` placeholders on SQLite). Migrations are per backend
//! (`migrations/sqlite`, `migrations/postgres`), embedded at compile time.
//!
//! Sweeps (invariant 6): [`Store::claim_due`] hands due timers out to workers under a lease
//! (`claim_owner`, `claim_until`) that lapses if the worker dies. A worker sweeps its cases in groups,
//! one transaction per group: it locks the group's cases in id order ([`Tx::lock_cases`]), records
//! each rung it acts on with [`Tx::insert_rung`], whose unique row makes the action happen once, and
//! rewrites the timers of the cases that acted, which ends their claims; [`Store::release_claims`]
//! ends the rest.
//!
//! A command's writes (events, state, timers, outbox, idempotency key) go through one [`Tx`] and
//! commit atomically (invariant 3). Group commit is one transaction per group of cases: any failure
//! rolls the whole group back, and the caller retries the group (the sweeper does, on a transient
//! error). The event log has no update or delete path (invariant 8). On SQLite, a [`Tx`] holds the
//! only writer connection: do not call the store's own write methods (leases, packs, outbox marks,
//! claims, bulk inserts) while holding one in the same task, or they wait for it until the 2 s acquire
//! timeout.
//!
//! One module per table or concern: `connect.rs` opens the pools and migrates, `tx.rs` holds [`Tx`],
//! then `cases.rs`, `commands.rs`, `events.rs`, `timers.rs`, `rungs.rs` (claims and `timer_actions`),
//! `outbox.rs`, `leases.rs`, `packs.rs`, `publishes.rs`, `recomputes.rs`, `digests.rs`, `tokens.rs`, `queries.rs` (lists, the
//! public listing and statistics), `reports.rs` (the compliance report's reads), `bulk.rs` and `copy.rs` (bulk loads), `schema.rs` (the schema as the database
//! reports it), `floor.rs` (the bench's SQL floor) and `databases.rs` (sizes, scratch databases). `columns.rs` declares each whole-row table's columns once, `rows.rs` decodes rows and
//! `sql.rs` assembles SQL at run time.

mod bulk;
mod cases;
mod columns;
mod commands;
mod connect;
mod copy;
mod databases;
mod digests;
mod duplicates;
mod error;
mod events;
pub mod floor;
mod leases;
pub mod model;
mod outbox;
mod packs;
mod publishes;
mod queries;
mod recomputes;
mod reports;
mod rows;
mod rungs;
mod schema;
mod sources;
mod sql;
mod timers;
mod tokens;
mod tx;
mod webhooks;

pub use connect::{Backend, Store, StoreOptions};
pub use duplicates::BandMate;
pub use error::StoreError;
pub use model::{
    subtree_patterns, CaseFilter, CaseOrder, CaseRow, CommandRecord, DueTimer, EventRow, FailedWebhook, OutboxRow,
    PublishRow, SourceRow, TimerRow, TokenRow, WebhookDue,
};
pub use queries::{BrowseFilter, ReceivedScope, StatsRow, StatsScope};
pub use reports::{ReportRow, ReportScope};
pub use schema::ColumnInfo;
pub use tx::Tx;
