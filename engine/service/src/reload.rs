//! Hot reload of the policy pack (docs/configuration.md#hot-reload): a candidate pack, from the pack
//! directory, from the `{PREFIX}_PACKS` bucket or published over HTTP (`service/publish.rs`, which
//! checks the author's scope first), is validated ([`crate::packs::validate`]) and, when
//! good, stored, marked active and swapped in whole; decisions in flight keep the pack they started
//! with (each holds its own `Arc`). A bad candidate never replaces the active pack: it is logged,
//! counted in `/metrics`, shown in `/readyz` and announced by a `pack_rejected` event on the national
//! admin's subject. A good one that changes calendars, SLAs or the directory starts the recompute of
//! open deadlines.

use crate::packs::{read_pack_dir, validate};
use crate::recompute::RECOMPUTE_BATCH;
use crate::service::{new_id, OutboxEntry, Service, ServiceError};
use crate::store::{Store, StoreError};
use crate::wire::{EventMessage, RejectedPack};
use aduan_core::directory::ROOT;
use aduan_core::event::EventType;
use aduan_core::pack::{pack_hash, Pack, PackError, PackFile};
use chrono::{DateTime, Utc};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// Who announces pack changes in events.
pub const PACKS_ACTOR: &str = "system:packs";

/// What became of a candidate pack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Offer {
    /// It is the active pack already.
    Unchanged,
    /// It is now the active pack.
    Activated {
        /// Its hash.
        hash: String,
        /// Whether open deadlines are being recomputed for it.
        recompute: bool,
    },
    /// It was refused; the active pack stays.
    Rejected(RejectedPack),
}

impl Service {
    /// Offers a candidate pack from `source` (`directory DIR`, `published`): validates it and, when
    /// good and new, activates it. Only a database failure is an error. One activation at a time: a
    /// publish over HTTP waits for it, and it for a publish.
    pub async fn offer_pack(&self, files: &[PackFile], source: &str) -> Result<Offer, ServiceError> {
        let _one = self.activation().lock().await;
        let hash = pack_hash(files);
        if hash == self.pack().hash {
            return Ok(Offer::Unchanged);
        }
        match validate_off_thread(files).await? {
            Ok(pack) => self.activate(pack, files, source).await,
            Err(problems) => Ok(Offer::Rejected(self.reject(&hash, source, &problems.to_string()).await?)),
        }
    }

    /// Makes a validated pack the active one: stored and marked active in the database, swapped in,
    /// announced (`pack_activated`), and the recompute of open deadlines started when calendars, SLAs
    /// or the directory changed. The caller holds [`Service::activation`].
    pub(crate) async fn activate(&self, pack: Pack, files: &[PackFile], source: &str) -> Result<Offer, ServiceError> {
        let now = Utc::now();
        record_active(self.store(), &pack, files, now).await?;
        let pack = Arc::new(pack);
        let old = self.swap_pack(pack.clone());
        let recompute = old.deadlines_hash != pack.deadlines_hash;
        self.metrics().pack_reload(true);
        tracing::info!(pack = %pack.hash, previous = %old.hash, %source, recompute, "policy pack activated");
        self.announce(EventType::PackActivated, json!({"previous": old.hash, "source": source})).await?;
        if recompute {
            self.store().start_recompute(&pack.hash, now).await?;
            self.spawn_recompute();
        }
        Ok(Offer::Activated { hash: pack.hash.clone(), recompute })
    }

    /// Records a refused candidate (once per distinct candidate and error): the log, `/metrics`,
    /// `/readyz` and a `pack_rejected` event.
    pub async fn reject(&self, hash: &str, source: &str, error: &str) -> Result<RejectedPack, ServiceError> {
        let r =
            RejectedPack { hash: hash.to_owned(), source: source.to_owned(), error: error.to_owned(), at: Utc::now() };
        if self.record_rejection(r.clone()) {
            self.metrics().pack_reload(false);
            tracing::error!(candidate = %hash, active = %self.pack().hash, %source, problems = %error,
                "policy pack REJECTED: the replica keeps running on the active pack");
            let data = json!({"candidate": hash, "source": source, "error": error});
            self.announce(EventType::PackRejected, data).await?;
        }
        Ok(r)
    }

    /// Queues an event about the pack (no case) on the national admin's subject.
    async fn announce(&self, t: EventType, data: serde_json::Value) -> Result<(), ServiceError> {
        let now = Utc::now();
        let msg = EventMessage {
            event_id: new_id(),
            complaint_id: None,
            tracking_id: None,
            event_type: t.as_str().to_owned(),
            at: now,
            agency: Some(ROOT.to_owned()),
            escalation_level: None,
            actor: PACKS_ACTOR.to_owned(),
            pack: self.pack().hash.clone(),
            data,
        };
        let entry = OutboxEntry::of_message(self.prefix(), &msg)?;
        let mut tx = self.store().begin().await?;
        entry.write(&mut tx, now).await?;
        tx.commit().await?;
        self.relay_wake().notify_one();
        Ok(())
    }

    /// Runs the recompute of open deadlines the database records for the active pack, in the background.
    pub fn spawn_recompute(&self) {
        let svc = self.clone();
        tokio::spawn(async move {
            let hash = svc.pack().hash.clone();
            match svc.recompute_open_deadlines(RECOMPUTE_BATCH, &crate::clock::now).await {
                Ok(None) => {}
                Ok(Some(n)) => tracing::info!(cases = n, pack = %hash, "recompute of open deadlines finished"),
                Err(e) => {
                    tracing::warn!(error = %e, "recomputing open deadlines stopped early; the next start on this pack resumes it")
                }
            }
        });
    }
}

/// Validates a candidate ([`validate`]: it compiles and smoke-runs the pack, CPU work) on a blocking
/// thread, off the async ones.
pub(crate) async fn validate_off_thread(files: &[PackFile]) -> Result<Result<Pack, PackError>, ServiceError> {
    let candidate = files.to_vec();
    tokio::task::spawn_blocking(move || validate(&candidate))
        .await
        .map_err(|e| ServiceError::Internal(format!("validating a pack: {e}")))
}

/// Stores a validated pack's files and marks it the active pack (what a restart falls back on).
pub async fn record_active(
    store: &Store,
    pack: &Pack,
    files: &[PackFile],
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    let stored: Vec<(String, Vec<u8>)> = files.iter().map(|f| (f.path.clone(), f.bytes.clone())).collect();
    store.store_pack(&pack.hash, &stored, at).await?;
    store.set_active_pack(&pack.hash).await
}

/// Watches the pack directory: every `every`, its files are read and hashed; a content that differs
/// from the last one offered and has held still for one more look (the debounce, so an editor's
/// half-written save is not taken) is offered to the service. Runs until `shutdown`.
pub async fn watch_dir(service: Service, dir: PathBuf, every: Duration, shutdown: CancellationToken) {
    let source = format!("directory {}", dir.display());
    let mut offered = fingerprint(&look(&dir));
    let mut seen = offered.clone();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        let files = look(&dir);
        let now = fingerprint(&files);
        if now == seen && now != offered {
            offered = now.clone();
            let outcome = match &files {
                Ok(files) => service.offer_pack(files, &source).await.map(|_| ()),
                Err(e) => service.reject("", &source, e).await.map(|_| ()),
            };
            if let Err(e) = outcome {
                tracing::warn!(error = %e, "the pack directory changed but the database could not take it; will retry");
                offered = Err(String::new());
            }
        }
        seen = now;
    }
}

/// The directory's loadable files, or why they cannot be read.
fn look(dir: &Path) -> Result<Vec<PackFile>, String> {
    read_pack_dir(dir).map_err(|e| e.to_string())
}

/// What a look saw, to compare looks: the files' hash, or the error.
fn fingerprint(look: &Result<Vec<PackFile>, String>) -> Result<String, String> {
    look.as_ref().map(|files| pack_hash(files)).map_err(Clone::clone)
}
