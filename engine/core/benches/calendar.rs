//! Calendar benchmarks (BENCHMARKS.md):
//! - `add_working_days`: throughput of deadline computation for budgets up to 60 working days, on the
//!   national pack's calendars in every zone (target: 5 million per second on one core);
//! - `recompute_1m_timers`: recomputing 1 million open timers after a holiday is added mid-year, with a
//!   journal entry for every deadline that moved (target: under 30 s).

use aduan_core::calendar::{Calendar, CalendarLayer, LayerScope};
use aduan_core::region::RegionCode;
use aduan_core::sla::Budget;
use aduan_core::timer::{recompute, CalendarRef, ChangeReason, Timer};
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use std::sync::Arc;

mod common;
use common::{national_pack, Rng};

fn bench_add(c: &mut Criterion) {
    let pack = national_pack();
    let cals: Vec<Arc<Calendar>> = ["35.78", "51.71", "61.71", "73.71", "91.71"]
        .iter()
        .map(|r| pack.calendars.for_region(&RegionCode::parse(r).unwrap()))
        .collect();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let inputs: Vec<(usize, DateTime<Utc>, u32)> =
        (0..4096).map(|_| ((rng.next() % 5) as usize, rng.instant(), 1 + (rng.next() % 60) as u32)).collect();
    let mut g = c.benchmark_group("calendar");
    g.throughput(Throughput::Elements(inputs.len() as u64));
    g.bench_function("add_working_days", |b| {
        b.iter(|| {
            for (cal, start, n) in &inputs {
                black_box(cals[*cal].add_working_days(black_box(*start), black_box(*n)));
            }
        })
    });
    g.bench_function("count_working_days", |b| {
        b.iter(|| {
            for (cal, start, n) in &inputs {
                let end = *start + chrono::Duration::days(i64::from(*n));
                black_box(cals[*cal].count_working_days(black_box(*start), black_box(end)));
            }
        })
    });
    g.finish();
}

fn bench_recompute(c: &mut Criterion) {
    let pack = national_pack();
    let region = RegionCode::parse("35.78").unwrap();
    let cal = pack.calendars.for_region(&region);
    let mut rng = Rng(42);
    let timers: Vec<Timer> = (0..1_000_000)
        .map(|_| {
            let n = [3, 5, 7, 10, 14, 60][(rng.next() % 6) as usize];
            Timer::start(
                &aduan_core::clock::Clock::COMPLETE,
                Budget::WorkingDays(n),
                750,
                CalendarRef::Region(region.clone()),
                rng.instant(),
            )
        })
        .collect();
    let before: Vec<_> = timers.iter().map(|t| t.schedule(&cal)).collect();
    // A holiday added mid-year: Wednesday 2026-07-15.
    let extra = CalendarLayer::from_yaml(
        "calendars/added.yaml",
        "region: \"35\"\ndays_off:\n  - {date: 2026-07-15, name: Added by amended SKB}\n",
    )
    .unwrap();
    let mut chain: Vec<&CalendarLayer> =
        pack.calendars.layers().iter().filter(|l| l.scope == LayerScope::National).collect();
    chain.push(&extra);
    let changed = Calendar::compile(&chain, Tz::Asia__Jakarta).unwrap();
    let mut g = c.benchmark_group("recompute");
    g.sample_size(10);
    g.throughput(Throughput::Elements(timers.len() as u64));
    g.bench_function("recompute_1m_timers_after_holiday", |b| {
        b.iter_batched(
            Vec::new,
            |mut journal| {
                for (t, old) in timers.iter().zip(&before) {
                    let reason = ChangeReason::CalendarChanged { pack: String::new() };
                    let (_, change) = recompute(t, old, &changed, reason);
                    if let Some(ch) = change {
                        journal.push(ch);
                    }
                }
                assert!(!journal.is_empty(), "the new holiday moves some deadlines");
                journal
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_add, bench_recompute);
criterion_main!(benches);
