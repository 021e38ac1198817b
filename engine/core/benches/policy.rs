//! Policy benchmarks (BENCHMARKS.md):
//! - `route_decision`: the routing decision `verify` makes (the rhai `route` policies of the
//!   complaint's scopes, then the built-in default) with the national pack, over every government of
//!   the directory and every category (target: 100,000 per second on one core, p99 under 100 µs; the
//!   percentiles are printed from a separate timed pass of single decisions);
//! - `load_and_smoke`: validating the national pack from its files (parse, cross-references, compile)
//!   and its smoke run (target: under 1 s).

// A benchmark times itself: the clock rules of engine/core/clippy.toml are for the core, not for this.
#![allow(clippy::disallowed_types, clippy::disallowed_methods)]

use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::rules::{route_args, Hook, PolicyComplaint};
use aduan_core::smoke::smoke;
use chrono::{DateTime, Utc};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use std::time::Instant;

mod common;
use common::{national_files, national_pack, Rng};

/// One complaint to route: its view and the scopes `verify` consults (kab/kota, then province).
struct Input {
    region: RegionCode,
    view: PolicyComplaint,
    scopes: Vec<String>,
}

/// Every government × every category (and none), shuffled.
fn inputs(pack: &Pack) -> Vec<Input> {
    let mut categories: Vec<Option<String>> = pack.directory.categories().map(|c| Some(c.id.clone())).collect();
    categories.push(None);
    let mut out = Vec::new();
    for g in pack.directory.governments() {
        let Some(region) = &g.region else { continue };
        let mut scopes: Vec<String> = region.kabkota().map(str::to_owned).into_iter().collect();
        scopes.push(region.province().to_owned());
        for c in &categories {
            let view = PolicyComplaint {
                kind: "pengaduan".into(),
                category: c.clone(),
                region: Some(region.to_string()),
                channel: "web".into(),
                privacy: "public".into(),
                title: "Jalan berlubang di depan pasar".into(),
            };
            out.push(Input { region: region.clone(), view, scopes: scopes.clone() });
        }
    }
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for i in (1..out.len()).rev() {
        out.swap(i, (rng.next() % (i as u64 + 1)) as usize);
    }
    out
}

fn decide(pack: &Pack, input: &Input, now: DateTime<Utc>) -> bool {
    let mut trace = Vec::new();
    let decided = pack.policies.decide(Hook::Route, &input.scopes, || route_args(&input.view, now), &mut trace);
    match decided {
        Ok(Some(_)) => true,
        Ok(None) => {
            black_box(pack.directory.default_route(Some(&input.region), input.view.category.as_deref()));
            true
        }
        Err(_) => false,
    }
}

fn percentiles(pack: &Pack, inputs: &[Input], now: DateTime<Utc>) {
    let mut nanos: Vec<u64> = Vec::with_capacity(inputs.len() * 20);
    for _ in 0..20 {
        for input in inputs {
            let t = Instant::now();
            black_box(decide(pack, input, now));
            nanos.push(t.elapsed().as_nanos() as u64);
        }
    }
    nanos.sort_unstable();
    let at = |q: f64| nanos[((nanos.len() - 1) as f64 * q) as usize] as f64 / 1000.0;
    println!(
        "route_decision latency over {} single decisions: p50 {:.1} µs, p99 {:.1} µs, p999 {:.1} µs, max {:.1} µs",
        nanos.len(),
        at(0.5),
        at(0.99),
        at(0.999),
        at(1.0)
    );
}

fn bench_route(c: &mut Criterion) {
    let pack = national_pack();
    let inputs = inputs(&pack);
    let now = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+07:00").unwrap().with_timezone(&Utc);
    assert!(inputs.iter().all(|i| decide(&pack, i, now)), "every input routes");
    println!("route_decision: {} inputs ({} agencies in the directory)", inputs.len(), pack.directory.len());
    percentiles(&pack, &inputs, now);
    let mut g = c.benchmark_group("policy");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function("route_decision", |b| {
        b.iter(|| {
            for input in &inputs {
                black_box(decide(&pack, input, now));
            }
        })
    });
    g.finish();
}

fn bench_load(c: &mut Criterion) {
    let files = national_files();
    let now = DateTime::parse_from_rfc3339("2026-03-02T09:00:00+07:00").unwrap().with_timezone(&Utc);
    let mut g = c.benchmark_group("policy");
    g.sample_size(20);
    g.bench_function("load_and_smoke", |b| {
        b.iter(|| {
            let pack = Pack::from_files(black_box(&files)).unwrap();
            assert!(smoke(&pack, now).is_empty());
            pack
        })
    });
    g.finish();
}

criterion_group!(benches, bench_route, bench_load);
criterion_main!(benches);
