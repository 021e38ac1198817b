//! Publishing a pack over HTTP (docs/access.md#publishing-packs): a policy author offers a whole
//! candidate pack; it is compared with the active one, refused when it changes a file outside the
//! author's scope ([`aduan_core::publish`]) or is invalid, else made active here and written to the
//! `{PREFIX}_PACKS` bucket so every replica takes it. Every offer is recorded (`pack_publishes`) for
//! the national admin.

use super::auth::denied;
use super::{new_id, Caller, Service, ServiceError};
use crate::bus::Bus;
use crate::packs::check_upload;
use crate::reload::validate_off_thread;
use crate::store::PublishRow;
use crate::wire::{ChangedFile, PublishList, PublishRecord};
use aduan_core::access::{self, scope_of, Operation, Target};
use aduan_core::case::Actor;
use aduan_core::directory::ROOT;
use aduan_core::pack::{pack_hash, PackFile};
use aduan_core::publish::{changed_files, out_of_scope, Change};
use aduan_core::time::Timestamp;

/// A caller the table lets publish packs ([`Service::author`]); which files it may change is asked
/// per file when it publishes.
#[derive(Debug, Clone)]
pub struct Author(Actor);

/// What became of an offered pack, as recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Published,
    Unchanged,
    OutOfScope,
    Invalid,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Published => "published",
            Outcome::Unchanged => "unchanged",
            Outcome::OutOfScope => "out_of_scope",
            Outcome::Invalid => "invalid",
        }
    }
}

/// The default and largest page of `GET /v1/packs/publishes`.
const PAGE: (i64, i64) = (50, 200);
/// The most characters of a refusal's detail a record keeps.
const MAX_DETAIL: usize = 20_000;

impl Service {
    /// The caller as a pack author: 401 without credentials, 403 for a role that may not publish.
    pub fn author(&self, caller: &Caller) -> Result<Author, ServiceError> {
        let actor = caller.actor()?;
        access::check(&self.pack().directory, &actor, Operation::Publish, None)
            .map_err(|d| denied(d, ServiceError::Forbidden))?;
        Ok(Author(actor))
    }

    /// Publishes a whole candidate pack for `author`: 422 naming a file the engine may not read, 403
    /// naming every changed file outside the author's scope, 422 with every problem of an invalid pack;
    /// else the candidate goes live here (as a hot reload does) and is written to the bucket through
    /// `bus`, so every replica takes it (without NATS, when the replica reconnects). Every offer that
    /// gets as far as the comparison is recorded, refusals too.
    pub async fn publish_pack(
        &self,
        author: &Author,
        files: Vec<PackFile>,
        bus: Option<&Bus>,
        now: Timestamp,
    ) -> Result<PublishRecord, ServiceError> {
        check_upload(&files).map_err(|e| ServiceError::invalid(&e.field, e.detail))?;
        let _one = self.activation().lock().await;
        let active = self.pack();
        let active_files = self
            .store()
            .pack_files(&active.hash)
            .await?
            .ok_or_else(|| ServiceError::Internal(format!("the active pack {} is not stored", active.hash)))?;
        let active_files: Vec<PackFile> =
            active_files.into_iter().map(|(path, bytes)| PackFile { path, bytes }).collect();
        let changes = changed_files(&active_files, &files);
        let mut row = publish_row(author, &active.hash, &pack_hash(&files), &changes, now);
        if changes.is_empty() {
            return self.record(row, Outcome::Unchanged, None).await;
        }
        let refused = out_of_scope(&active.directory, &author.0, &changes);
        if !refused.is_empty() {
            let list: Vec<String> = refused.iter().map(ToString::to_string).collect();
            let detail = format!(
                "outside the scope of the policy author ({}): {}; a policy author publishes only the files of \
                 its own subtree (a file you did not change means your copy differs from the active pack {})",
                scope_label(&author.0),
                list.join(", "),
                active.hash
            );
            self.record(row, Outcome::OutOfScope, Some(&detail)).await?;
            return Err(ServiceError::Forbidden(detail));
        }
        let pack = match validate_off_thread(&files).await? {
            Ok(pack) => pack,
            Err(problems) => {
                let detail = format!("the pack is invalid:\n{problems}");
                self.record(row, Outcome::Invalid, Some(&detail)).await?;
                return Err(ServiceError::invalid("files", detail));
            }
        };
        // With NATS, the bucket first: a pack every replica takes, or none (503, nothing changed).
        // Without it, this replica only, and the bucket when it connects.
        let revision = match bus {
            Some(bus) => Some(bus.publish_pack(&files).await.map_err(|e| {
                ServiceError::Unavailable(format!("NATS did not take the pack, so nothing changed; retry ({e})"))
            })?),
            None => None,
        };
        let source = format!("published by {}", author.0.label());
        self.activate(pack, &files, &source).await?;
        if revision.is_none() {
            self.set_unbroadcast(files);
        }
        row.hash_after = row.candidate.clone();
        row.bucket_revision = revision.and_then(|r| i64::try_from(r).ok());
        self.record(row, Outcome::Published, None).await
    }

    /// The publish records, newest first (`GET /v1/packs/publishes`): the national admin's (403 for
    /// every other caller; 401 without credentials).
    pub async fn publishes(
        &self,
        caller: &Caller,
        limit: Option<i64>,
        cursor: Option<&str>,
    ) -> Result<PublishList, ServiceError> {
        let actor = caller.actor()?;
        let target = Target { holder: None, subject: ROOT };
        access::check(&self.pack().directory, &actor, Operation::ReadPublishes, Some(target))
            .map_err(|d| denied(d, ServiceError::Forbidden))?;
        let limit = limit.unwrap_or(PAGE.0);
        if !(1..=PAGE.1).contains(&limit) {
            return Err(ServiceError::invalid("limit", format!("from 1 to {}", PAGE.1)));
        }
        let rows = self.store().publishes(cursor, limit).await?;
        let next_cursor = (rows.len() as i64 == limit).then(|| rows.last().map(|r| r.id.clone())).flatten();
        Ok(PublishList { items: rows.into_iter().map(record_of).collect(), next_cursor })
    }

    /// A publish record as offered, before its outcome.
    /// Stores the record with its outcome and answers it.
    async fn record(
        &self,
        mut row: PublishRow,
        outcome: Outcome,
        detail: Option<&str>,
    ) -> Result<PublishRecord, ServiceError> {
        row.outcome = outcome.as_str().to_owned();
        // Problems may quote a file's text: no NUL (PostgreSQL text cannot hold one), bounded.
        row.detail = detail.map(|d| d.replace('\0', "\u{fffd}").chars().take(MAX_DETAIL).collect());
        self.store().insert_publish(&row).await?;
        tracing::info!(id = %row.id, actor = %row.actor, scope = %row.scope, outcome = %row.outcome,
            before = %row.hash_before, after = %row.hash_after, "policy pack publish recorded");
        Ok(record_of(row))
    }
}

/// A publish record as offered, before its outcome.
fn publish_row(author: &Author, before: &str, candidate: &str, changes: &[Change], now: Timestamp) -> PublishRow {
    let files: Vec<ChangedFile> = changes
        .iter()
        .map(|c| ChangedFile { path: c.path.clone(), change: c.kind.as_str().to_owned(), scope: c.scope().to_string() })
        .collect();
    PublishRow {
        id: new_id(),
        at: now.utc(),
        actor: author.0.name.clone(),
        role: author.0.role.as_str().to_owned(),
        agency: scope_of(&author.0).to_owned(),
        scope: scope_label(&author.0),
        outcome: String::new(),
        hash_before: before.to_owned(),
        candidate: candidate.to_owned(),
        hash_after: before.to_owned(),
        files: serde_json::to_string(&files).unwrap_or_else(|_| "[]".into()),
        detail: None,
        bucket_revision: None,
    }
}

/// What an author may publish: `national` at the root, else the agency whose subtree it reaches.
fn scope_label(author: &Actor) -> String {
    match scope_of(author) {
        ROOT => "national".to_owned(),
        agency => agency.to_owned(),
    }
}

fn record_of(r: PublishRow) -> PublishRecord {
    PublishRecord {
        files: serde_json::from_str(&r.files).unwrap_or_default(),
        id: r.id,
        at: r.at,
        actor: r.actor,
        role: r.role,
        agency: r.agency,
        scope: r.scope,
        outcome: r.outcome,
        hash_before: r.hash_before,
        candidate: r.candidate,
        hash_after: r.hash_after,
        detail: r.detail,
        bucket_revision: r.bucket_revision.and_then(|r| u64::try_from(r).ok()),
    }
}
