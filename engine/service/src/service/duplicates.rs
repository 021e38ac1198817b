//! Possible duplicates (docs/duplicates.md): at submission, a case is compared with the recent cases
//! of its kab/kota that share a band of its signature (`aduan_core::duplicates`), and those at least
//! [`THRESHOLD`] similar are recorded with it, for the verifier. Only an identical source reference
//! merges by itself (`submit.rs`); a candidate is a suggestion and changes no case.

use super::auth::may_read;
use super::{Service, ServiceError};
use crate::store::Tx;
use crate::wire::{DuplicateCandidate, Submission};
use aduan_core::access::{reach, Operation, Reach};
use aduan_core::case::Actor;
use aduan_core::duplicates::{rank, Signature, MAX_CANDIDATES, THRESHOLD};
use aduan_core::region::RegionCode;
use chrono::{DateTime, Duration, Utc};

/// How far back a new case looks for the one it may repeat.
const WINDOW: Duration = Duration::days(90);
/// At most this many stored cases sharing a band are ranked (the newest).
const MATES: i64 = 500;

/// A new case as the comparison sees it: its signature, and its band keys within its kab/kota.
#[derive(Debug, Clone)]
pub(super) struct Fingerprint {
    signature: Signature,
    keys: Vec<i64>,
    category: Option<String>,
}

/// The fingerprint of a submission that names a kab/kota (or a place below one); none otherwise, as
/// candidates are looked for within a kab/kota only.
pub(super) fn fingerprint(sub: &Submission) -> Option<Fingerprint> {
    let region = RegionCode::parse(sub.region.as_deref()?).ok()?;
    let kabkota = region.kabkota()?.to_owned();
    let signature = Signature::of(&sub.title, &sub.body);
    // Stored as i64: the same 64 bits, two's complement.
    let keys = signature.scoped_band_keys(&kabkota).into_iter().map(|k| k as i64).collect();
    Some(Fingerprint { signature, keys, category: sub.category.clone() })
}

impl Service {
    /// Compares the new case `id` with the open cases of its kab/kota received in the last 90 days that
    /// share a band (of the same category, when both have one), and records its signature and the
    /// candidates, best first, in `tx`.
    pub(super) async fn record_duplicates(
        &self,
        tx: &mut Tx,
        id: &str,
        fp: &Fingerprint,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let pack = self.pack();
        let mates = tx.band_mates(&fp.keys, now - WINDOW, MATES).await?;
        let comparable = mates.into_iter().filter(|m| {
            let same_category = match (&fp.category, &m.category) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            };
            same_category && !pack.workflow.is_final(&m.status)
        });
        let signed = comparable.filter_map(|m| Signature::from_bytes(&m.signature).ok().map(|s| (m.id, s)));
        let found = rank(&fp.signature, signed, THRESHOLD, MAX_CANDIDATES);
        tx.insert_signature(id, &fp.signature.to_bytes(), &fp.keys).await?;
        let found: Vec<(String, f64)> = found.into_iter().map(|c| (c.id, c.score)).collect();
        tx.insert_candidates(id, &found).await?;
        Ok(())
    }

    /// The candidates recorded for `case_id` that `viewer` may read; none for a viewer who cannot list
    /// cases (the public, a reporter).
    pub(super) async fn duplicates_for(
        &self,
        case_id: &str,
        viewer: &Actor,
    ) -> Result<Option<Vec<DuplicateCandidate>>, ServiceError> {
        if reach(viewer.role, Operation::List) == Reach::Nowhere {
            return Ok(None);
        }
        let rows = self.inner.store.candidates_of(case_id).await?;
        Ok(Some(
            rows.into_iter()
                .filter(|(row, _)| may_read(self, viewer, row, &row.id).is_ok())
                .map(|(row, score)| DuplicateCandidate { id: row.id, tracking_id: row.tracking_id, score })
                .collect(),
        ))
    }
}
