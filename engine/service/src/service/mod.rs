//! The service functions: decode a command, load the case, decide with the core in a blocking task, and
//! commit events, state, timers, outbox rows and the idempotency key in one transaction (invariant 3).
//! HTTP handlers and the NATS consumer both call these; neither has logic of its own.
//!
//! - `submit.rs`: filing a complaint, and answering a replayed idempotency key.
//! - `act.rs`: a workflow action on a case.
//! - `views.rs`: what callers read: one case, the list, the public listing, the stats.
//! - `reports.rs`: the compliance report (figures by the core's `report`).
//! - `write.rs`: the writing of a decision: [`CaseWrite`], the one chain builder [`chain_events`],
//!   [`OutboxEntry`]; the sweep, the recompute, the digest and `aduan seed` write through them.
//! - `rows.rs`: a case as stored rows and back.
//! - `publish.rs`: a policy author's pack over HTTP, within its scope, and the record of each publish.
//! - `error.rs`: [`ServiceError`].

mod act;
mod auth;
mod bridges;
mod duplicates;
mod error;
mod publish;
mod reports;
mod rows;
mod sources;
mod sso;
mod submit;
mod views;
mod write;

pub use auth::{token_role, Caller, NewToken};
pub use bridges::BridgeOutcome;
pub use error::ServiceError;
pub use publish::Author;
pub use rows::{case_of, case_row, row_after, timer_rows};
pub use sources::{FailedWebhookView, NewSource, SourceInfo, SourceSettings};
#[cfg(feature = "oidc")]
pub use sso::PendingSignIn;
pub use sso::SignedIn;
pub use write::{
    chain_events, fired_rungs, record_rungs, seed_rows, CaseWrite, FiredRung, OutboxEntry, SeedRows, Stamp,
};

use crate::crypto::DataKey;
use crate::metrics::Metrics;
use crate::store::{CaseOrder, Store};
use crate::wire::{ComplaintView, RejectedPack};
use aduan_core::pack::{Pack, PackFile};
use chrono::Duration;
use std::sync::{Arc, Mutex, RwLock};
use tokio::sync::Notify;

/// Channels a submission may come from.
pub const CHANNELS: [&str; 8] = ["web", "sms", "app", "social", "whatsapp", "counter", "letter", "integration"];
/// Channels typed in by an admin, which may carry `received_at`.
pub const OFFLINE_CHANNELS: [&str; 4] = ["whatsapp", "counter", "letter", "integration"];
/// How long a submission's reporter token stays recoverable for idempotent replays.
pub const TOKEN_REPLAY_WINDOW: Duration = Duration::hours(24);

/// The answer to a command: the HTTP status first given (201 for a new submission) and the view.
#[derive(Debug, Clone)]
pub struct Reply {
    /// 200 or 201.
    pub status: u16,
    /// The complaint as the caller may see it.
    pub view: ComplaintView,
    /// Whether this answers a command processed before (an idempotent replay): nothing was written.
    pub replayed: bool,
}

/// `GET /v1/complaints` query.
#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    /// Agency subtree.
    pub agency: Option<String>,
    /// Status.
    pub status: Option<String>,
    /// Only overdue cases.
    pub overdue: bool,
    /// Page size (default 50, at most 200).
    pub limit: Option<i64>,
    /// From a previous page (newest first only).
    pub cursor: Option<String>,
    /// Newest first (paged by cursor), or the queue's order: soonest deadline first (one page).
    pub order: CaseOrder,
}

/// The public listing's query ([`Service::browse`]; Open311 `GET requests`).
#[derive(Debug, Clone)]
pub struct BrowseQuery {
    /// Received at or after this instant.
    pub from: chrono::DateTime<chrono::Utc>,
    /// Received at or before this instant.
    pub to: chrono::DateTime<chrono::Utc>,
    /// Only these categories (`None`: any).
    pub categories: Option<Vec<String>>,
    /// Only cases in these states of the workflow (`None`: any).
    pub statuses: Option<Vec<String>>,
    /// Only cases filed in this region code or below it.
    pub region: Option<String>,
    /// At most this many, newest first: 1 to [`BROWSE_LIMIT`].
    pub limit: i64,
}

/// The most cases one page of the public listing holds.
pub const BROWSE_LIMIT: i64 = 1_000;

#[derive(Clone)]
struct Inner {
    store: Store,
    /// The active pack: swapped whole on a reload; each decision holds the `Arc` it started with.
    pack: Arc<RwLock<Arc<Pack>>>,
    /// The last candidate refused since the active pack went live.
    rejected: Arc<RwLock<Option<RejectedPack>>>,
    /// Held while a pack is offered or published, so activations happen one at a time.
    activation: Arc<tokio::sync::Mutex<()>>,
    /// A pack published here that the `{PREFIX}_PACKS` bucket does not hold yet (NATS was away).
    unbroadcast: Arc<Mutex<Option<Vec<PackFile>>>>,
    key: DataKey,
    prefix: String,
    wake: Arc<Notify>,
    metrics: Arc<Metrics>,
    #[cfg(feature = "oidc")]
    oidc: Option<Arc<crate::oidc::OidcVerifier>>,
    #[cfg(feature = "oidc")]
    sso: Option<Arc<crate::oidc::OidcLogin>>,
}

/// The service: the store, the active pack, the data key and the relay's wake-up. Cheap to clone.
/// The pack is swapped by a reload ([`crate::reload`]); clones share it.
#[derive(Clone)]
pub struct Service {
    inner: Arc<Inner>,
}

/// How many times a command is decided again after losing a race on the case's head (PostgreSQL); then
/// it fails with [`ServiceError::LostRace`].
const MAX_RETRIES: usize = 5;

impl Service {
    /// A service over a migrated store with an active pack.
    pub fn new(store: Store, pack: Arc<Pack>, key: DataKey, prefix: &str, metrics: Arc<Metrics>) -> Self {
        let inner = Inner {
            store,
            pack: Arc::new(RwLock::new(pack)),
            rejected: Arc::new(RwLock::new(None)),
            activation: Arc::default(),
            unbroadcast: Arc::default(),
            key,
            prefix: prefix.to_owned(),
            wake: Arc::new(Notify::new()),
            metrics,
            #[cfg(feature = "oidc")]
            oidc: None,
            #[cfg(feature = "oidc")]
            sso: None,
        };
        Self { inner: Arc::new(inner) }
    }

    /// This service, also accepting JWT bearer tokens that `verifier` verifies.
    #[cfg(feature = "oidc")]
    pub fn with_oidc(mut self, verifier: crate::oidc::OidcVerifier) -> Self {
        Arc::make_mut(&mut self.inner).oidc = Some(Arc::new(verifier));
        self
    }

    /// This service, also signing officers in to the dashboard by redirect to the identity provider
    /// (needs [`Service::with_oidc`] too: the verifier checks the ID tokens).
    #[cfg(feature = "oidc")]
    pub fn with_sso(mut self, login: crate::oidc::OidcLogin) -> Self {
        Arc::make_mut(&mut self.inner).sso = Some(Arc::new(login));
        self
    }

    /// The active pack: a snapshot that stays valid (and unchanged) however long the caller holds it.
    pub fn pack(&self) -> Arc<Pack> {
        self.inner.pack.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Makes `pack` the active pack and forgets any earlier rejection; returns the pack it replaced.
    pub(crate) fn swap_pack(&self, pack: Arc<Pack>) -> Arc<Pack> {
        *self.inner.rejected.write().unwrap_or_else(|e| e.into_inner()) = None;
        std::mem::replace(&mut *self.inner.pack.write().unwrap_or_else(|e| e.into_inner()), pack)
    }

    /// The last candidate pack refused since the active one went live (for `/readyz`).
    pub fn rejected_pack(&self) -> Option<RejectedPack> {
        self.inner.rejected.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Records a refused candidate; `false` when it is the one already recorded.
    pub(crate) fn record_rejection(&self, r: RejectedPack) -> bool {
        let mut slot = self.inner.rejected.write().unwrap_or_else(|e| e.into_inner());
        if slot.as_ref().is_some_and(|old| old.hash == r.hash && old.error == r.error) {
            return false;
        }
        *slot = Some(r);
        true
    }

    /// Held while a pack is offered or published: one activation at a time.
    pub(crate) fn activation(&self) -> &tokio::sync::Mutex<()> {
        &self.inner.activation
    }

    /// Notes a pack published here that the bucket must still be given (it replaces an older one).
    pub(crate) fn set_unbroadcast(&self, files: Vec<PackFile>) {
        *self.inner.unbroadcast.lock().unwrap_or_else(|e| e.into_inner()) = Some(files);
    }

    /// Takes the pack the bucket must still be given, if any; [`Service::restore_unbroadcast`] gives it
    /// back when writing it failed.
    pub(crate) fn take_unbroadcast(&self) -> Option<Vec<PackFile>> {
        self.inner.unbroadcast.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    /// Gives back a pack [`Service::take_unbroadcast`] took, unless a newer one was published since.
    pub(crate) fn restore_unbroadcast(&self, files: Vec<PackFile>) {
        self.inner.unbroadcast.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(files);
    }

    /// The data key (the web layer seals its session cookies with it).
    pub(crate) fn data_key(&self) -> &DataKey {
        &self.inner.key
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Notified after every commit that wrote outbox rows.
    pub fn relay_wake(&self) -> Arc<Notify> {
        self.inner.wake.clone()
    }

    /// The metrics registry.
    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    /// `action` as a metric label: `submit` or an action of the active pack's workflow as it is,
    /// anything else `other`, so a client cannot grow the label set.
    pub fn action_label<'a>(&self, action: &'a str) -> &'a str {
        if action == "submit" || self.pack().workflow.action(action).is_some() {
            action
        } else {
            "other"
        }
    }

    /// The NATS prefix.
    pub fn prefix(&self) -> &str {
        &self.inner.prefix
    }
}

/// A new UUID v7 (ids of cases and events).
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
