//! Shingles, the two-part MinHash [`Signature`], its byte encoding and its LSH band keys.
//!
//! Every hash here is a fixed function of the text (FNV-1a, then a splitmix64 finaliser, then one
//! multiply-shift per permutation with constant seeds): the same text gives the same signature on every
//! machine and in every version that writes [`FORMAT`]. Changing the recipe, the seeds or the number of
//! permutations changes the signatures, so it must come with a new [`FORMAT`] byte.

use super::{normalise, vocabulary};

/// Slots per part of a signature: one part for the common words (what the complaint is about), one for
/// the specific tokens (names and numbers: where, which one).
pub const PART: usize = 128;
/// The number of MinHash permutations (hash functions, slots) in a signature, both parts.
pub const PERMUTATIONS: usize = 2 * PART;
/// Rows per LSH band: a band matches when all its rows do.
pub const ROWS: usize = 4;
/// LSH bands, over both parts; `BANDS × ROWS = PERMUTATIONS`.
pub const BANDS: usize = PERMUTATIONS / ROWS;
/// The leading byte of [`Signature::to_bytes`]: the recipe, vocabulary, seeds and size that made the
/// signature.
pub const FORMAT: u8 = 1;
/// The length of [`Signature::to_bytes`].
pub const ENCODED_LEN: usize = 1 + 4 * PERMUTATIONS;
/// The factor on the similarity of two complaints of which only one names a place or number: what they
/// say may match, but nothing confirms it is the same place.
pub const UNPLACED: f64 = 0.5;

/// How a text is cut into shingles before hashing. [`Recipe::DEFAULT`] is what [`Signature::of`] uses and
/// what [`FORMAT`] 1 means; the other settings exist to measure the choice on the labelled set.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Recipe {
    /// Strip the prefixes `di-`, `ter-`, `ber-`, `me-` (normalise.rs).
    pub prefixes: bool,
    /// Word unigrams as shingles.
    pub words: bool,
    /// Word bigrams as shingles.
    pub bigrams: bool,
    /// Character n-grams of each token (with boundary marks), so that a typo spoils a few shingles rather
    /// than a whole word; 0 for none.
    pub char_n: usize,
}

impl Recipe {
    /// The recipe of [`FORMAT`] 1: prefixes stripped, words, bigrams and character 4-grams, the best F1
    /// of the recipes tried on the labelled set (docs/duplicates.md).
    pub const DEFAULT: Recipe = Recipe { prefixes: true, words: true, bigrams: true, char_n: 4 };
}

/// A MinHash signature in two parts: for each permutation, the least hash over the shingles of the
/// complaint's common words ([`PART`] slots), then over those of its specific tokens ([`PART`] slots).
/// The share of equal slots in a part estimates the Jaccard similarity of that part's shingle sets.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signature {
    slots: [u32; PERMUTATIONS],
}

/// Why bytes are not a signature.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Nothing to decode.
    #[error("empty signature")]
    Empty,
    /// A format this version does not know (a newer recipe, or not a signature at all).
    #[error("unknown signature format {0} (this version reads format {FORMAT})")]
    UnknownFormat(u8),
    /// Truncated or overlong.
    #[error("signature of {found} bytes, expected {ENCODED_LEN}")]
    Length {
        /// The length given.
        found: usize,
    },
}

const EMPTY_SLOT: u32 = u32::MAX;

impl Signature {
    /// The signature of a complaint's title and body, with [`Recipe::DEFAULT`].
    pub fn of(title: &str, body: &str) -> Signature {
        Signature::with(&Recipe::DEFAULT, title, body)
    }

    /// The signature under another recipe (for measuring; such signatures are not [`FORMAT`] 1).
    pub fn with(recipe: &Recipe, title: &str, body: &str) -> Signature {
        let mut text = String::with_capacity(title.len() + body.len() + 1);
        text.push_str(title);
        text.push('\n');
        text.push_str(body);
        let tokens = normalise::tokens(&text, recipe.prefixes);
        let (common, specific): (Vec<&str>, Vec<&str>) =
            tokens.iter().map(String::as_str).partition(|t| vocabulary::is_common(t));
        let mut slots = [EMPTY_SLOT; PERMUTATIONS];
        let (first, second) = slots.split_at_mut(PART);
        for (part, (toks, seeds)) in
            [first, second].into_iter().zip([(&common, &SEEDS[..PART]), (&specific, &SEEDS[PART..])])
        {
            for_each_shingle(recipe, toks, |h| {
                let h = mix(h);
                for (slot, (a, b)) in part.iter_mut().zip(seeds) {
                    // Multiply-shift: the high half of a·h + b, one cheap hash function per permutation.
                    let v = (a.wrapping_mul(h).wrapping_add(*b) >> 32) as u32;
                    if v < *slot {
                        *slot = v;
                    }
                }
            });
        }
        Signature { slots }
    }

    /// True when the text had no tokens left after normalisation (nothing to compare).
    pub fn is_empty(&self) -> bool {
        self.slots.iter().all(|&s| s == EMPTY_SLOT)
    }

    fn general(&self) -> &[u32] {
        &self.slots[..PART]
    }

    fn specific(&self) -> &[u32] {
        &self.slots[PART..]
    }

    /// The estimated Jaccard similarity of the common words' shingles and of the specific tokens'
    /// shingles; `None` for a part that either side lacks.
    pub fn parts(&self, other: &Signature) -> (Option<f64>, Option<f64>) {
        (estimate(self.general(), other.general()), estimate(self.specific(), other.specific()))
    }

    /// How alike two complaints are, in [0, 1]: the lesser of the two parts' similarities, so that they
    /// must agree on what and on where. When only one of them names anything specific, the common
    /// words' similarity times [`UNPLACED`]; when neither does, the common words' similarity alone (and
    /// the same the other way round for a text of names only). 0 when either is empty.
    pub fn similarity(&self, other: &Signature) -> f64 {
        match self.parts(other) {
            (Some(g), Some(s)) => g.min(s),
            (Some(g), None) if is_blank(self.specific()) && is_blank(other.specific()) => g,
            (Some(g), None) => g * UNPLACED,
            (None, Some(s)) if is_blank(self.general()) && is_blank(other.general()) => s,
            (None, Some(s)) => s * UNPLACED,
            (None, None) => 0.0,
        }
    }

    /// The signature as [`ENCODED_LEN`] bytes: [`FORMAT`], then each slot as little-endian `u32`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(ENCODED_LEN);
        out.push(FORMAT);
        for s in &self.slots {
            out.extend_from_slice(&s.to_le_bytes());
        }
        out
    }

    /// Reads [`Signature::to_bytes`]; refuses anything else.
    pub fn from_bytes(bytes: &[u8]) -> Result<Signature, DecodeError> {
        let (&format, rest) = bytes.split_first().ok_or(DecodeError::Empty)?;
        if format != FORMAT {
            return Err(DecodeError::UnknownFormat(format));
        }
        if bytes.len() != ENCODED_LEN {
            return Err(DecodeError::Length { found: bytes.len() });
        }
        let mut slots = [EMPTY_SLOT; PERMUTATIONS];
        for (slot, chunk) in slots.iter_mut().zip(rest.chunks_exact(4)) {
            *slot = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        }
        Ok(Signature { slots })
    }

    /// The LSH keys: one per band of [`ROWS`] slots (in both parts), a hash of the band's number and its
    /// slots. Two signatures whose part has similarity s share one of that part's keys with probability
    /// 1 − (1 − s^ROWS)^(BANDS/2); a store indexes the keys and looks candidates up by them, then ranks.
    /// Bands of an empty part have no key, so an empty signature has none.
    pub fn band_keys(&self) -> Vec<u64> {
        self.slots
            .chunks_exact(ROWS)
            .enumerate()
            .filter(|(_, rows)| !is_blank(rows))
            .map(|(band, rows)| {
                let mut h = fnv1a(FNV_OFFSET, &(band as u32).to_le_bytes());
                for r in rows {
                    h = fnv1a(h, &r.to_le_bytes());
                }
                mix(h)
            })
            .collect()
    }

    /// [`Signature::band_keys`] within `scope` (a kab/kota code): the same band in the same scope gives
    /// the same key, in another scope another key, so that one index lookup finds the candidates of
    /// that scope only.
    pub fn scoped_band_keys(&self, scope: &str) -> Vec<u64> {
        let salt = fnv1a(FNV_OFFSET, scope.as_bytes());
        self.band_keys().into_iter().map(|k| mix(k ^ salt)).collect()
    }
}

/// True when no shingle reached these slots.
fn is_blank(slots: &[u32]) -> bool {
    slots.iter().all(|&s| s == EMPTY_SLOT)
}

/// The share of equal slots, unless either side is blank.
fn estimate(a: &[u32], b: &[u32]) -> Option<f64> {
    if is_blank(a) || is_blank(b) {
        return None;
    }
    let same = a.iter().zip(b).filter(|(x, y)| x == y).count();
    Some(same as f64 / a.len() as f64)
}

/// Calls `f` with the FNV-1a hash of each shingle of `tokens` (repeats included; MinHash ignores them).
fn for_each_shingle(recipe: &Recipe, tokens: &[&str], mut f: impl FnMut(u64)) {
    for (i, tok) in tokens.iter().enumerate() {
        if recipe.words {
            f(fnv1a(fnv1a(FNV_OFFSET, b"w"), tok.as_bytes()));
        }
        if recipe.bigrams {
            if let Some(next) = tokens.get(i + 1) {
                let h = fnv1a(fnv1a(FNV_OFFSET, b"b"), tok.as_bytes());
                f(fnv1a(fnv1a(h, b" "), next.as_bytes()));
            }
        }
        if recipe.char_n > 0 {
            char_grams(tok, recipe.char_n, &mut f);
        }
    }
}

/// The character n-grams of `^token$`; a token shorter than n gives itself.
fn char_grams(tok: &str, n: usize, f: &mut impl FnMut(u64)) {
    let marked: Vec<char> = std::iter::once('^').chain(tok.chars()).chain(std::iter::once('$')).collect();
    let seed = fnv1a(FNV_OFFSET, b"c");
    if marked.len() <= n {
        f(fnv1a(seed, tok.as_bytes()));
        return;
    }
    let mut buf = [0u8; 4];
    for gram in marked.windows(n) {
        let mut h = seed;
        for ch in gram {
            h = fnv1a(h, ch.encode_utf8(&mut buf).as_bytes());
        }
        f(h);
    }
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// 64-bit FNV-1a, continued from `h`.
fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// The splitmix64 finaliser: spreads FNV's weak low bits over the whole word.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The (odd multiplier, addend) of each permutation: splitmix64 of a fixed sequence, computed at compile
/// time, so the seeds are part of the format and never random.
const SEEDS: [(u64, u64); PERMUTATIONS] = {
    let mut seeds = [(0u64, 0u64); PERMUTATIONS];
    let mut i = 0;
    while i < PERMUTATIONS {
        let base = 0x9e37_79b9_7f4a_7c15u64.wrapping_mul(2 * i as u64 + 1);
        seeds[i] = (mix(base) | 1, mix(base ^ 0x5851_f42d_4c95_7f2d));
        i += 1;
    }
    seeds
};

#[cfg(test)]
mod tests {
    use super::*;

    const TITLE: &str = "Jalan berlubang di Jl. Majapahit";
    const BODY: &str = "Di depan Pasar Gayamsari ada lubang besar, sudah dua motor jatuh minggu ini.";

    #[test]
    fn identical_texts_are_identical() {
        let a = Signature::of(TITLE, BODY);
        assert_eq!(a.similarity(&Signature::of(TITLE, BODY)), 1.0);
        // Case and punctuation do not matter.
        let shouted = Signature::of(&TITLE.to_uppercase(), &BODY.replace(',', " ! "));
        assert_eq!(a.similarity(&shouted), 1.0);
    }

    #[test]
    fn disjoint_texts_are_near_zero() {
        let a = Signature::of(TITLE, BODY);
        let b = Signature::of("Ijazah ditahan", "SMK swasta menahan ijazah karena tunggakan SPP tiga bulan.");
        assert!(a.similarity(&b) < 0.05, "{}", a.similarity(&b));
    }

    #[test]
    fn empty_text_matches_nothing() {
        let e = Signature::of("", "mohon, terima kasih!");
        assert!(e.is_empty());
        assert_eq!(e.similarity(&e), 0.0);
        assert!(e.band_keys().is_empty());
    }

    #[test]
    fn bytes_round_trip() {
        let a = Signature::of(TITLE, BODY);
        let bytes = a.to_bytes();
        assert_eq!(bytes.len(), ENCODED_LEN);
        assert_eq!(bytes[0], FORMAT);
        assert_eq!(Signature::from_bytes(&bytes), Ok(a));
    }

    #[test]
    fn bad_bytes_are_refused() {
        let bytes = Signature::of(TITLE, BODY).to_bytes();
        assert_eq!(Signature::from_bytes(&[]), Err(DecodeError::Empty));
        assert_eq!(
            Signature::from_bytes(&bytes[..ENCODED_LEN - 1]),
            Err(DecodeError::Length { found: ENCODED_LEN - 1 })
        );
        assert_eq!(Signature::from_bytes(&bytes[..1]), Err(DecodeError::Length { found: 1 }));
        let mut long = bytes.clone();
        long.push(0);
        assert_eq!(Signature::from_bytes(&long), Err(DecodeError::Length { found: ENCODED_LEN + 1 }));
        let mut other = bytes;
        other[0] = 2;
        assert_eq!(Signature::from_bytes(&other), Err(DecodeError::UnknownFormat(2)));
        assert_eq!(Signature::from_bytes(b"{\"not\": \"a signature\"}"), Err(DecodeError::UnknownFormat(b'{')));
    }

    /// The signature of a fixed text is part of the format: stored signatures must stay comparable.
    #[test]
    fn signatures_are_deterministic() {
        let hex: String = Signature::of(TITLE, BODY).to_bytes().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, PINNED.concat(), "signature bytes changed: bump FORMAT");
    }

    /// `Signature::of(TITLE, BODY).to_bytes()` in hex, format 1.
    const PINNED: [&str; 21] = [
        "018d6009025047060c3dc904116e6809028be9770b9159b802afc88103e7cb2909c702610456e15112c8640b009ef9f607e8",
        "1161098e51c0031492b2026a8e46087ceead02527b5102d4a38a03dc865e039728ac006a6a0515ced4f703abc06900b1accf",
        "093c83410097baba0e886751058ad82304ded28e065b34b6107a8722023f271f02551e9c00440dee0150d5bb094874b1165b",
        "2f7103ab2f97000575800d29692d02f289870413a0270d23136f01c733fe0e61b2f8014bf76f02f9595a08b3182a0074a88b",
        "01c9980202f973ec0333ba9001f0003902f402a401cbbe72169c0d1701568bdd007683b400295edb01f4ca42086ec31b000e",
        "2ac101757f3009aad730025f095202ce082704a528f601d2d5ac0314ea8108392c1b09d4d1a90783811a034eebea017fbf7a",
        "01dc4f15083b6da30336b25100fc2cd200fe11ab088d3b1d091e2f10038e5b4c03c0c2bf0c287d72035ef42f093196930681",
        "089100a2688a005a136b16d66fd2006f9a57058edf220532dc7506299dfc0591061a097ec60104e165df09e8686802126b04",
        "00718f4f01ed7263011bcbf306b013ae009aa51704b9cf4b0ded4f3304c12f7502be695d00d870c705691b121236aa5902aa",
        "50110584b672041453e50051f9d40c77eb15033675d1081c984217359d3e040f262d03bdb81d0802c567005c4fad0030aa26",
        "01638a580694c0d301f1bd7508a0ed1406083c0f00c9fe8703befa820c0cea5b155442e417a003ea02dffdc1020ba8e80dff",
        "d645008a3f0d0b423ba30a2e522e009014b60c131baa125d65800757969401afdfdc024009c10c4d630106292db20adce8d8",
        "000bb0b700bc85dd00541d6d1263a0551eaf471f00f577460f180308028763f508dbf139059845e4000f031205caf2521e5a",
        "0d111bbb549f079842e0251c1bda1da7b4d00a17b76d0f8dec6504ee81a7043e88b9044bcd470684a3fb01da9d5600406086",
        "0c19bf4113e4dcab07a3b8ec10d6bff3072496d4039744d0067be7fa26c19e55008b16d40c3c109e02e87c4b1088f738005c",
        "600e1810f5a91689de700a71ae6b0155110e099f06a91c439f8c06d337ef136e38bc0178c8150a8701e014b6114823debf4d",
        "0cd7cd9906507daf08e207f816c5e30c0ac35b2010fb0e3d042028700b5bb9da08b567bd14f623fb0bf1e4a528ce604d078d",
        "3ca60240a6db1ecc77dc09f27d510596b2e901c9bc13058666f105f33fb1041bf8fb07639b8e0249d2e018443ca90ab38408",
        "015f93f50215ca9c01f9d23001f23f09117b6dab09aa60450d13e748019d469a05ab6dda1a904ed2019df6220c6164130220",
        "c44b00805e7c0ce7782408ef525005dcba2102d2de50037f4cd0027271531fe4cbc7052077c00db96e28129757c2065db8d4",
        "028e1c6f07bb60af179da71c00c6019918ae04d500a5c61902",
    ];

    #[test]
    fn a_near_duplicate_shares_a_band() {
        let a = Signature::of(TITLE, BODY);
        let b = Signature::of("", "jl majapahit dpn pasar gayamsari ada lobang gede udh 2 motor jatuh mnggu ini");
        let shared = |x: &Signature, y: &Signature| {
            let keys = x.band_keys();
            y.band_keys().iter().filter(|k| keys.contains(k)).count()
        };
        assert!(shared(&a, &b) >= 1, "similarity {}", a.similarity(&b));
        let unrelated = [
            ("Ijazah ditahan", "SMK swasta di Medan Maimun menahan ijazah anak saya karena tunggakan SPP."),
            ("Samsat buka telat", "Loket Samsat Medan Selatan baru buka jam 09.30, antrean panjang."),
            ("Anjing liar", "Banyak anjing liar di Perumahan Pasifik Permai yang menggigit warga."),
            ("PDAM keruh", "Air PDAM di Gayungan keruh kecoklatan dan berbau kaporit sejak kemarin."),
        ];
        let sharing = unrelated.iter().filter(|(t, bd)| shared(&a, &Signature::of(t, bd)) > 0).count();
        assert_eq!(sharing, 0);
    }
}
