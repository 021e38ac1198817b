//! The duplicate detector on the labelled set (tests/data/duplicates.jsonl, made by make_duplicates.py):
//! classify every pair at `THRESHOLD` and hold precision ≥ 0.90 and recall ≥ 0.80. Run with
//! `--nocapture` for the figures: the confusion counts, F1, and each kind's rate of "called duplicate".
//! `cargo test -p aduan-core --test duplicates -- --ignored --nocapture sweep` prints the tuning table.

use aduan_core::duplicates::{minhash, Recipe, Signature, THRESHOLD};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize)]
struct Complaint {
    title: String,
    body: String,
    #[allow(dead_code)]
    channel: String,
}

#[derive(Deserialize)]
struct Pair {
    a: Complaint,
    b: Complaint,
    duplicate: bool,
    kind: String,
    source: String,
}

// Tests read their data from disk; the core itself does not (engine/core/clippy.toml).
#[allow(clippy::disallowed_methods)]
fn pairs() -> Vec<Pair> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/duplicates.jsonl");
    let text = std::fs::read_to_string(&path).unwrap();
    text.lines()
        .enumerate()
        .map(|(i, l)| serde_json::from_str(l).unwrap_or_else(|e| panic!("duplicates.jsonl:{}: {e}", i + 1)))
        .collect()
}

/// The similarity of each pair under a recipe.
fn scores(pairs: &[Pair], recipe: &Recipe) -> Vec<f64> {
    pairs
        .iter()
        .map(|p| {
            Signature::with(recipe, &p.a.title, &p.a.body).similarity(&Signature::with(recipe, &p.b.title, &p.b.body))
        })
        .collect()
}

#[derive(Default, Debug)]
struct Confusion {
    tp: usize,
    fp: usize,
    tn: usize,
    fn_: usize,
}

impl Confusion {
    fn of(pairs: &[Pair], scores: &[f64], threshold: f64) -> Self {
        Self::of_refs(&pairs.iter().collect::<Vec<_>>(), scores, threshold)
    }
    fn of_refs(pairs: &[&Pair], scores: &[f64], threshold: f64) -> Self {
        let mut c = Confusion::default();
        for (p, &s) in pairs.iter().zip(scores) {
            match (p.duplicate, s >= threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }
    fn precision(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fp).max(1) as f64
    }
    fn recall(&self) -> f64 {
        self.tp as f64 / (self.tp + self.fn_).max(1) as f64
    }
    fn f1(&self) -> f64 {
        let (p, r) = (self.precision(), self.recall());
        if p + r == 0.0 {
            0.0
        } else {
            2.0 * p * r / (p + r)
        }
    }
}

#[test]
fn the_labelled_set_is_big_and_balanced() {
    let pairs = pairs();
    let positives = pairs.iter().filter(|p| p.duplicate).count();
    assert!(pairs.len() >= 320, "{} pairs", pairs.len());
    assert!((0.4..=0.6).contains(&(positives as f64 / pairs.len() as f64)), "{positives} of {}", pairs.len());
}

#[test]
fn precision_and_recall_on_the_labelled_set() {
    let pairs = pairs();
    let scores = scores(&pairs, &Recipe::DEFAULT);
    let c = Confusion::of(&pairs, &scores, THRESHOLD);
    eprintln!("duplicates: {} pairs, threshold {THRESHOLD}, {} permutations", pairs.len(), minhash::PERMUTATIONS);
    eprintln!("  tp {} fp {} tn {} fn {}", c.tp, c.fp, c.tn, c.fn_);
    eprintln!("  precision {:.3} recall {:.3} F1 {:.3}", c.precision(), c.recall(), c.f1());
    let mut kinds: BTreeMap<(bool, &str), (usize, usize, f64)> = BTreeMap::new();
    for (p, &s) in pairs.iter().zip(&scores) {
        let e = kinds.entry((p.duplicate, p.kind.as_str())).or_default();
        e.0 += 1;
        e.1 += usize::from(s >= THRESHOLD);
        e.2 += s;
    }
    for ((dup, kind), (n, called, sum)) in &kinds {
        let rate = *called as f64 / *n as f64;
        let what = if *dup { "recall" } else { "false-positive rate" };
        eprintln!(
            "  {kind:<28} {n:>3} pairs  {what} {rate:.3}  ({called}/{n}), mean similarity {:.3}",
            sum / *n as f64
        );
    }
    for source in ["hand", "generated"] {
        let (p, s): (Vec<&Pair>, Vec<f64>) =
            pairs.iter().zip(&scores).filter(|(p, _)| p.source == source).map(|(p, s)| (p, *s)).unzip();
        let c = Confusion::of_refs(&p, &s, THRESHOLD);
        eprintln!(
            "  {source:<9} {:>3} pairs: precision {:.3} recall {:.3} F1 {:.3} (tp {} fp {} tn {} fn {})",
            p.len(),
            c.precision(),
            c.recall(),
            c.f1(),
            c.tp,
            c.fp,
            c.tn,
            c.fn_
        );
    }
    // The band keys find what the threshold accepts (LSH recall of the accepted pairs), and how many
    // pairs that are not duplicates an index lookup would bring to the ranking.
    let shares = |p: &Pair| {
        let a = Signature::of(&p.a.title, &p.a.body).band_keys();
        Signature::of(&p.b.title, &p.b.body).band_keys().iter().any(|k| a.contains(k))
    };
    let accepted: Vec<&Pair> =
        pairs.iter().zip(&scores).filter(|(p, &s)| p.duplicate && s >= THRESHOLD).map(|(p, _)| p).collect();
    let negatives: Vec<&Pair> = pairs.iter().filter(|p| !p.duplicate).collect();
    let unrelated: Vec<&Pair> = negatives.iter().copied().filter(|p| p.kind == "unrelated").collect();
    let count = |ps: &[&Pair]| ps.iter().filter(|p| shares(p)).count();
    eprintln!(
        "  LSH ({} bands of {} rows): {} of {} detected duplicates share a band key; so do {} of {} non-duplicates \
         ({} of {} unrelated)",
        minhash::BANDS,
        minhash::ROWS,
        count(&accepted),
        accepted.len(),
        count(&negatives),
        negatives.len(),
        count(&unrelated),
        unrelated.len()
    );
    assert!(c.precision() >= 0.90, "precision {:.3} < 0.90", c.precision());
    assert!(c.recall() >= 0.80, "recall {:.3} < 0.80", c.recall());
}

/// The best F1 over the thresholds 0.10 to 0.60, where it is reached, and precision and recall there.
fn best_f1(pairs: &[Pair], scores: &[f64]) -> String {
    let mut best = (0.0, 0.0);
    for t in (10..=60).map(|t| t as f64 / 100.0) {
        let c = Confusion::of(pairs, scores, t);
        if c.f1() > best.0 {
            best = (c.f1(), t);
        }
    }
    let c = Confusion::of(pairs, scores, best.1);
    format!("best F1 {:.3} at {:.2} (P {:.3} R {:.3})", best.0, best.1, c.precision(), c.recall())
}

/// The tuning table: each recipe's best F1 over thresholds, and its precision/recall at a few thresholds.
#[test]
#[ignore]
fn sweep() {
    let pairs = pairs();
    for prefixes in [false, true] {
        for (words, bigrams) in [(true, false), (false, true), (true, true)] {
            for char_n in [0, 3, 4, 5] {
                let recipe = Recipe { prefixes, words, bigrams, char_n };
                let scores = scores(&pairs, &recipe);
                let mut line = format!("prefixes {prefixes:<5} words {words:<5} bigrams {bigrams:<5} char {char_n}:");
                line += &format!(" {}", best_f1(&pairs, &scores));
                eprintln!("{line}");
            }
        }
    }
    // Other ways to combine the two parts (similarity() takes the lesser).
    let sigs: Vec<(Signature, Signature)> =
        pairs.iter().map(|p| (Signature::of(&p.a.title, &p.a.body), Signature::of(&p.b.title, &p.b.body))).collect();
    type Combine = fn(f64, f64) -> f64;
    let combos: [(&str, Combine); 4] = [
        ("min", f64::min),
        ("geometric", |g, s| (g * s).sqrt()),
        ("mean", |g, s| (g + s) / 2.0),
        ("general only", |g, _| g),
    ];
    for (name, f) in combos {
        let scores: Vec<f64> = sigs
            .iter()
            .map(|(a, b)| match a.parts(b) {
                (Some(g), Some(s)) => f(g, s),
                _ => a.similarity(b),
            })
            .collect();
        eprintln!("{name}: {}", best_f1(&pairs, &scores));
    }
    let scores = scores(&pairs, &Recipe::DEFAULT);
    let hand: Vec<&Pair> = pairs.iter().filter(|p| p.source == "hand").collect();
    let hand_scores: Vec<f64> =
        pairs.iter().zip(&scores).filter(|(p, _)| p.source == "hand").map(|(_, s)| *s).collect();
    for t in (10..=40).step_by(2).map(|t| t as f64 / 100.0) {
        let c = Confusion::of(&pairs, &scores, t);
        let h = Confusion::of_refs(&hand, &hand_scores, t);
        eprintln!(
            "default at {t:.2}: P {:.3} R {:.3} F1 {:.3} | hand-written only: P {:.3} R {:.3} F1 {:.3}",
            c.precision(),
            c.recall(),
            c.f1(),
            h.precision(),
            h.recall(),
            h.f1()
        );
    }
}

/// The misclassified pairs with their tokens (for tuning the normalisation).
#[test]
#[ignore]
fn errors() {
    use aduan_core::duplicates::normalise::tokens;
    use aduan_core::duplicates::vocabulary::is_common;
    let pairs = pairs();
    let scores = scores(&pairs, &Recipe::DEFAULT);
    for (p, &s) in pairs.iter().zip(&scores) {
        if p.duplicate != (s >= THRESHOLD) {
            eprintln!("{} {} {s:.3}", p.kind, p.duplicate);
            let a = Signature::of(&p.a.title, &p.a.body);
            let b = Signature::of(&p.b.title, &p.b.body);
            eprintln!("   parts {:?}", a.parts(&b));
            for c in [&p.a, &p.b] {
                let t = tokens(&format!("{}\n{}", c.title, c.body), true);
                let (common, specific): (Vec<&String>, Vec<&String>) = t.iter().partition(|t| is_common(t));
                eprintln!(
                    "   {} | {}",
                    common.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" "),
                    specific.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
                );
            }
        }
    }
}

proptest::proptest! {
    /// Any text gives a signature, any two a similarity in [0, 1] (1 with itself unless empty), and any
    /// bytes decode or are refused, never a panic.
    #[test]
    fn never_panics(title in "\\PC{0,40}", body in "\\PC{0,300}", other in "\\PC{0,300}", bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..1100)) {
        let a = Signature::of(&title, &body);
        let b = Signature::of("", &other);
        let s = a.similarity(&b);
        proptest::prop_assert!((0.0..=1.0).contains(&s));
        proptest::prop_assert!(a.is_empty() || a.similarity(&a) == 1.0);
        proptest::prop_assert_eq!(Signature::from_bytes(&a.to_bytes()), Ok(a));
        let _ = Signature::from_bytes(&bytes);
    }
}
