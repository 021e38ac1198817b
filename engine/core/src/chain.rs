//! The per-case hash chain of events (ARCHITECTURE.md invariant 8): each event's hash covers the previous
//! event's hash and the exact bytes stored as its payload, so an edited, removed or reordered event is
//! detected by walking the chain (`aduan audit verify`).

use sha2::{Digest, Sha256};

/// SHA-256 hex over `prev_hash` (hex, "" for the first event) and the payload bytes.
pub fn event_hash(prev_hash: &str, payload: &str) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update([0x1e]);
    h.update(payload.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Where a chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// An event's sequence number is not the next one.
    #[error("event {seq}: expected sequence {expected}")]
    Gap {
        /// The sequence found.
        seq: i64,
        /// The one expected.
        expected: i64,
    },
    /// An event's stored prev_hash or hash does not match its content.
    #[error("event {seq}: hash mismatch (history altered)")]
    Hash {
        /// The event.
        seq: i64,
    },
    /// The case's head does not match its last event (an event was removed).
    #[error("head mismatch: the case says seq {head_seq}, the chain ends at {last_seq}")]
    Head {
        /// The case's head_seq.
        head_seq: i64,
        /// The last event's seq.
        last_seq: i64,
    },
}

/// Verifies a chain given as (seq, prev_hash, payload, hash) in order, against the case's head.
pub fn verify<'a>(
    events: impl IntoIterator<Item = (i64, &'a str, &'a str, &'a str)>,
    head_seq: i64,
    head_hash: &str,
) -> Result<(), ChainError> {
    let mut prev = String::new();
    let mut expected = 1;
    for (seq, prev_hash, payload, hash) in events {
        if seq != expected {
            return Err(ChainError::Gap { seq, expected });
        }
        if prev_hash != prev || event_hash(prev_hash, payload) != hash {
            return Err(ChainError::Hash { seq });
        }
        prev = hash.to_owned();
        expected += 1;
    }
    if expected - 1 != head_seq || prev != head_hash {
        return Err(ChainError::Head { head_seq, last_seq: expected - 1 });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chain_verifies_and_any_edit_breaks_it() {
        let p = ["{\"a\":1}", "{\"b\":2}", "{\"c\":3}"];
        let mut rows = Vec::new();
        let mut prev = String::new();
        for (i, payload) in p.iter().enumerate() {
            let h = event_hash(&prev, payload);
            rows.push((i as i64 + 1, prev.clone(), payload.to_string(), h.clone()));
            prev = h;
        }
        fn view(r: &[(i64, String, String, String)]) -> Vec<(i64, &str, &str, &str)> {
            r.iter().map(|(s, p, d, h)| (*s, p.as_str(), d.as_str(), h.as_str())).collect()
        }
        assert_eq!(verify(view(&rows), 3, &prev), Ok(()));
        let mut edited = rows.clone();
        edited[1].2 = "{\"b\":3}".into();
        assert_eq!(verify(view(&edited), 3, &prev), Err(ChainError::Hash { seq: 2 }));
        assert_eq!(verify(view(&rows[..2]), 3, &prev), Err(ChainError::Head { head_seq: 3, last_seq: 2 }));
        let gap = vec![rows[0].clone(), rows[2].clone()];
        assert_eq!(verify(view(&gap), 3, &prev), Err(ChainError::Gap { seq: 3, expected: 2 }));
    }
}
