//! Duplicate-detector benchmarks (docs/duplicates.md): the signature of a typical 300-character
//! complaint, the similarity of two signatures, and ranking one signature against 1,000 stored ones.

use aduan_core::duplicates::{rank, Signature, MAX_CANDIDATES, THRESHOLD};
use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;

const TITLE: &str = "Jalan berlubang di Jl. Majapahit depan Pasar Gayamsari";
const BODY: &str = "Selamat siang. Di Jl. Majapahit tepat di depan Pasar Gayamsari, Kec. Gayamsari, ada lubang besar \
kurang lebih satu meter, sudah dua motor jatuh minggu ini. Mohon Dinas PU segera menambal sebelum musim hujan. \
Lokasinya dekat gang 3, RT 05 RW 02.";

fn bench(c: &mut Criterion) {
    assert!((280..=320).contains(&(TITLE.len() + BODY.len())), "{}", TITLE.len() + BODY.len());
    let mut g = c.benchmark_group("duplicates");
    g.bench_function("signature_of_300_chars", |b| b.iter(|| Signature::of(black_box(TITLE), black_box(BODY))));
    let a = Signature::of(TITLE, BODY);
    let other = Signature::of("", "jl majapahit dpn pasar gayamsari ada lobang gede udh 2 motor jatuh mnggu ini");
    g.bench_function("similarity", |b| b.iter(|| black_box(&a).similarity(black_box(&other))));
    // 1,000 stored complaints: the same body at other streets and with other numbers, and a few near ones.
    let stored: Vec<(String, Signature)> = (0..1000)
        .map(|i| {
            let body = format!("{BODY} RT {:02} RW {:02}, rumah nomor {i}.", i % 13, i % 7);
            let body = if i % 50 == 0 { body } else { body.replace("Majapahit", &format!("Jalan {i}")) };
            (format!("case-{i}"), Signature::of("", &body))
        })
        .collect();
    g.bench_function("rank_against_1000", |b| {
        b.iter(|| rank(black_box(&a), stored.iter().map(|(id, s)| (id.clone(), s)), THRESHOLD, MAX_CANDIDATES))
    });
    g.bench_function("band_keys", |b| b.iter(|| black_box(&a).band_keys()));
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
