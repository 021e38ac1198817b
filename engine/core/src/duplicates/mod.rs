//! Duplicate complaints: is a new complaint one the desk already has, perhaps sent again on another
//! channel, in other words or with typos?
//!
//! A complaint's title and body are normalised ([`normalise`]: lower case, abbreviations and informal
//! spellings expanded, stop words dropped, light stemming, typos of common words corrected) and the
//! tokens split in two: the common words of complaints ([`vocabulary`]: what it is about) and the rest,
//! the specific tokens (street, kelurahan and school names, RT/RW and house numbers: where, which one).
//! Each part is cut into shingles (words, word bigrams and character 4-grams, so that a typo spoils a few
//! shingles rather than the word) and summarised as a MinHash of [`minhash::PART`] slots; together they
//! are the [`Signature`]. The share of equal slots in a part estimates the Jaccard similarity of that
//! part's shingle sets, and a pair's similarity is the lesser of the two: the same street with another
//! problem, or the same problem in another street, is not a duplicate.
//!
//! Why MinHash: a signature is small and fixed ([`minhash::ENCODED_LEN`] = 1,025 bytes stored per case),
//! comparing two is a few hundred integer compares, no corpus statistics are needed, and its LSH band
//! keys ([`Signature::band_keys`]) let the store find candidates by an index lookup instead of a scan.
//!
//! [`rank`] scores candidates and keeps those at or above [`THRESHOLD`], best first. The threshold and the
//! recipe were chosen on the labelled set `tests/data/duplicates.jsonl` (docs/duplicates.md has the
//! figures). A score is a suggestion for the verifier, never a decision: the desk merges, not the engine.

pub mod minhash;
pub mod normalise;
pub mod vocabulary;

pub use minhash::{DecodeError, Recipe, Signature};

use std::borrow::Borrow;

/// The similarity from which a pair is called a duplicate: on the labelled set, precision 0.944 and
/// recall 0.909 (docs/duplicates.md). 0.18 has the best F1 (0.945) but a precision of 0.85 on the
/// hand-written pairs alone; 0.24 keeps them near 0.90.
pub const THRESHOLD: f64 = 0.24;

/// How many candidates [`rank`] returns at most by default.
pub const MAX_CANDIDATES: usize = 10;

/// A possible duplicate: the caller's opaque id of the stored case and its similarity.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    /// Whatever the caller identifies the stored complaint by (a case id).
    pub id: String,
    /// The estimated similarity, in [0, 1].
    pub score: f64,
}

/// The candidates at least `threshold` similar to `signature`, best first (ties by id), at most `limit`.
pub fn rank<S: Borrow<Signature>>(
    signature: &Signature,
    candidates: impl IntoIterator<Item = (String, S)>,
    threshold: f64,
    limit: usize,
) -> Vec<Candidate> {
    let mut found: Vec<Candidate> = candidates
        .into_iter()
        .filter_map(|(id, s)| {
            let score = signature.similarity(s.borrow());
            (score >= threshold).then_some(Candidate { id, score })
        })
        .collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)));
    found.truncate(limit);
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rank_keeps_the_similar_best_first() {
        let new = Signature::of("Lampu jalan mati", "Lampu jalan di Jl. Setiabudi Srondol Kulon mati seminggu.");
        let stored = vec![
            ("c-1".to_owned(), Signature::of("", "ijazah ditahan smk swasta medan maimun")),
            ("c-2".to_owned(), Signature::of("", "lampu pju jl setiabudi srondol kulon mati udh seminggu")),
            ("c-3".to_owned(), new.clone()),
        ];
        let got = rank(&new, stored.iter().map(|(id, s)| (id.clone(), s)), THRESHOLD, MAX_CANDIDATES);
        let ids: Vec<&str> = got.iter().map(|c| c.id.as_str()).collect();
        assert_eq!(ids, ["c-3", "c-2"]);
        assert_eq!(got[0].score, 1.0);
        assert_eq!(rank(&new, stored, THRESHOLD, 1).len(), 1);
    }
}
