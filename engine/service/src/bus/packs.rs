//! Published packs (docs/nats.md#published-packs): `aduan policy publish` puts a pack's files under the
//! key [`PUBLISHED_KEY`] of the `{PREFIX}_PACKS` bucket; every replica watches that key and offers each
//! new value to its service ([`crate::reload`]), which validates it before it goes live. A pack published
//! over HTTP (`POST /v1/packs`) is written here too, by the replica that took it (when it had no NATS at
//! the time, as soon as it connects).

use super::{next, Bus, BusError};
use crate::service::Service;
use aduan_core::pack::PackFile;
use async_nats::jetstream::kv::Operation;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The key of the published pack in the bucket.
pub const PUBLISHED_KEY: &str = "active";

/// Where a published pack comes from, for logs, `/readyz` and events.
pub const PUBLISHED_SOURCE: &str = "published";

/// The stored form of a pack: its files, bytes in base64.
#[derive(Serialize, Deserialize)]
struct Published {
    files: Vec<PublishedFile>,
}

#[derive(Serialize, Deserialize)]
struct PublishedFile {
    path: String,
    base64: String,
}

/// A pack's files as the bucket stores them.
pub fn encode_pack(files: &[PackFile]) -> Vec<u8> {
    let files =
        files.iter().map(|f| PublishedFile { path: f.path.clone(), base64: STANDARD.encode(&f.bytes) }).collect();
    serde_json::to_vec(&Published { files }).unwrap_or_default()
}

/// A bucket value back into files; an error says what is malformed.
pub fn decode_pack(value: &[u8]) -> Result<Vec<PackFile>, String> {
    let p: Published = serde_json::from_slice(value).map_err(|e| format!("not a published pack: {e}"))?;
    p.files
        .into_iter()
        .map(|f| match STANDARD.decode(&f.base64) {
            Ok(bytes) => Ok(PackFile { path: f.path, bytes }),
            Err(e) => Err(format!("{}: bytes are not base64: {e}", f.path)),
        })
        .collect()
}

impl Bus {
    /// Puts a pack's files under [`PUBLISHED_KEY`]; returns the bucket's revision.
    pub async fn publish_pack(&self, files: &[PackFile]) -> Result<u64, BusError> {
        let bucket = self.packs_bucket();
        let kv = self.js.get_key_value(&bucket).await.map_err(|e| {
            BusError::Unavailable(format!(
                "the {bucket} bucket cannot be opened (has `aduan serve` run on this NATS?): {e}"
            ))
        })?;
        kv.put(PUBLISHED_KEY, encode_pack(files).into())
            .await
            .map_err(|e| BusError::Other(format!("publishing the pack: {e}")))
    }

    /// Writes the pack this replica published over HTTP while it had no NATS ([`Service::publish_pack`]),
    /// if any: whether there was one. On failure it stays pending. Takes the service's activation lock,
    /// so the bucket's values follow the order packs went live here.
    async fn broadcast_pending(&self, service: &Service) -> Result<bool, BusError> {
        let _one = service.activation().lock().await;
        let Some(files) = service.take_unbroadcast() else { return Ok(false) };
        match self.publish_pack(&files).await {
            Ok(revision) => {
                tracing::info!(revision, "the pack published while NATS was away is in the bucket now");
                Ok(true)
            }
            Err(e) => {
                service.restore_unbroadcast(files);
                Err(e)
            }
        }
    }
}

/// Watches [`PUBLISHED_KEY`] and offers its latest value, then every new one, to `service`, until
/// `shutdown`; a lost watch is set up again each second.
pub async fn watch_packs(bus: Bus, service: Service, shutdown: CancellationToken) {
    loop {
        if let Err(e) = watch_once(&bus, &service, &shutdown).await {
            tracing::warn!(error = %e, "watching published packs stopped; retrying");
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
        }
    }
}

async fn watch_once(bus: &Bus, service: &Service, shutdown: &CancellationToken) -> Result<(), String> {
    // A pack published here while NATS was away goes to the bucket first, so the watch below does not
    // hand this replica the older pack the bucket still holds.
    let pending =
        || async { bus.broadcast_pending(service).await.map_err(|e| format!("writing the pack published here: {e}")) };
    pending().await?;
    let kv = bus.js.get_key_value(bus.packs_bucket()).await.map_err(|e| e.to_string())?;
    let mut watch = kv.watch_with_history(PUBLISHED_KEY).await.map_err(|e| e.to_string())?;
    loop {
        let entry = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            e = next(&mut watch) => e,
        };
        let Some(entry) = entry else { return Err("the watch ended".into()) };
        let entry = entry.map_err(|e| e.to_string())?;
        // The history replays older values first: only the latest counts.
        if entry.operation != Operation::Put || entry.delta > 0 {
            continue;
        }
        // Published here while the watch was starting: it is newer than what the bucket delivered,
        // and its own value follows.
        if pending().await? {
            continue;
        }
        let outcome = match decode_pack(&entry.value) {
            Ok(files) => service.offer_pack(&files, PUBLISHED_SOURCE).await.map(|_| ()),
            Err(e) => service.reject("", PUBLISHED_SOURCE, &e).await.map(|_| ()),
        };
        if let Err(e) = outcome {
            return Err(format!("revision {}: {e}", entry.revision));
        }
    }
}
