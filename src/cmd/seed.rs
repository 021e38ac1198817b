//! The bulk path that `aduan seed` and `aduan bench --seed N` share: complete, hash-chained cases with
//! their timers, decided by the core and written through the store's bulk insert in batches, with a
//! progress bar on a terminal.

use aduan_core::case::{decide, submit, Actor, Command, NewCase, Privacy};
use aduan_core::domain::Kind;
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_service::crypto::new_tracking_id;
use aduan_service::service::{new_id, seed_rows, SeedRows, Service};
use anyhow::{anyhow, Context};
use chrono::{DateTime, Utc};
use std::io::IsTerminal;

/// Cases per bulk insert.
const BATCH: usize = 2_000;

/// What to seed.
#[derive(Debug, Clone)]
pub(crate) struct SeedPlan {
    /// How many cases.
    pub complaints: usize,
    /// Their regions, used in turn.
    pub regions: Vec<RegionCode>,
    /// Verified and dispatched (the state `verify` enters), else left awaiting dispatch.
    pub dispatched: bool,
    /// When their clocks start.
    pub at: DateTime<Utc>,
}

/// Every kab/kota of the pack's directory (Kota Surabaya when it lists none).
pub(crate) fn every_kabkota(pack: &Pack) -> Vec<RegionCode> {
    let mut regions: Vec<RegionCode> = (11..=96)
        .flat_map(|p| (1..=80).map(move |k| format!("{p:02}.{k:02}")))
        .filter_map(|c| RegionCode::parse(&c).ok())
        .filter(|r| pack.directory.agency(r.as_str()).is_some())
        .collect();
    if regions.is_empty() {
        regions.push(RegionCode::parse("35.78").expect("valid"));
    }
    regions
}

/// The rows of `n` cases of the plan, the first being case number `first`.
pub(crate) fn seed_batch(pack: &Pack, plan: &SeedPlan, first: usize, n: usize) -> anyhow::Result<SeedRows> {
    let mut cases = Vec::with_capacity(n);
    for i in first..first + n {
        let region = plan.regions[i % plan.regions.len()].clone();
        let new = NewCase {
            id: new_id(),
            tracking_id: new_tracking_id(),
            kind: Kind::Pengaduan,
            channel: "web".into(),
            category: Some("infrastruktur".into()),
            region: Some(region.clone()),
            privacy: Privacy::Public,
            title: "Jalan berlubang (seed)".into(),
            received_at: plan.at,
        };
        let (mut case, mut out) = submit(pack, new, plan.at);
        if plan.dispatched {
            let (agency, _) = pack.directory.default_route(Some(&region), case.category.as_deref());
            let cmd = Command::Verify { agency: Some(agency), category: None, investigation: None };
            let o = decide(pack, &mut case, &Actor::system(), &cmd, plan.at).map_err(|e| anyhow!(e))?;
            out.events.extend(o.events);
            out.new_holders.extend(o.new_holders);
        }
        cases.push((case, out));
    }
    seed_rows(pack, cases, plan.at).map_err(|e| anyhow!(e))
}

/// Seeds the plan into the service's database, then refreshes the planner's statistics.
pub(crate) async fn seed(svc: &Service, plan: &SeedPlan) -> anyhow::Result<()> {
    let pack = svc.pack();
    let bar = Progress::new(plan.complaints);
    let started = std::time::Instant::now();
    let mut done = 0usize;
    while done < plan.complaints {
        let n = BATCH.min(plan.complaints - done);
        let rows = seed_batch(&pack, plan, done, n)?;
        svc.store().bulk_insert(&rows.cases, &rows.events, &rows.timers, &rows.holders).await.context("bulk insert")?;
        done += n;
        bar.set(done);
    }
    bar.finish();
    let secs = started.elapsed().as_secs_f64();
    eprintln!("seeded {done} cases in {secs:.1} s ({:.0} cases/s)", done as f64 / secs.max(1e-9));
    svc.store().analyze().await.context("refreshing planner statistics")?;
    Ok(())
}

/// The progress of a seed: an indicatif bar on a terminal, nothing otherwise.
struct Progress(Option<indicatif::ProgressBar>);

impl Progress {
    fn new(total: usize) -> Self {
        if !std::io::stderr().is_terminal() || total == 0 {
            return Self(None);
        }
        let template = "seeding {bar:40} {human_pos}/{human_len} cases ({per_sec}, {eta} left)";
        let style = indicatif::ProgressStyle::with_template(template).expect("a valid template");
        Self(Some(indicatif::ProgressBar::new(total as u64).with_style(style)))
    }

    fn set(&self, done: usize) {
        if let Some(b) = &self.0 {
            b.set_position(done as u64);
        }
    }

    fn finish(self) {
        if let Some(b) = self.0 {
            b.finish_and_clear();
        }
    }
}
