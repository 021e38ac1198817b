//! `aduan policy replay --since DATE [--region CODE] [--at RFC3339] [--json] CANDIDATE_DIR`: before an
//! author publishes a pack, what it would decide differently about the stored cases (routes, open
//! deadlines, escalations due now and past ones), against the pack the database marks active
//! (docs/cli.md#policy-replay). It changes nothing: the database is opened read-only and no migration
//! runs. The walk is `aduan_service::impact`, the judgement `aduan_core::impact`.
//!
//! Output: a table (one row per difference, then `N cases examined, M differ: R route, D deadline, E
//! escalation`) or, with `--json`, one JSON object; a progress bar on stderr while it runs, when stderr
//! is a terminal. Tracking ids, regions and agencies only: never a reporter. Exit 0 when it ran, 1 when
//! the candidate is invalid (each problem as `policy check` prints it) or the database cannot be read, 2
//! for bad arguments.

use crate::cmd::audit::missing_sqlite_file;
use crate::cmd::policy::validated;
use crate::cmd::sweep::active_pack;
use crate::Config;
use aduan_core::impact::{Change, Difference, Group};
use aduan_core::region::RegionCode;
use aduan_service::impact::{Impact, Replay};
use aduan_service::store::{ReceivedScope, Store, StoreOptions};
use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use clap::Args;
use serde::Serialize;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

/// Arguments of `policy replay`.
#[derive(Args, Debug, Clone)]
pub struct ReplayArgs {
    /// Cases received on or after this date (YYYY-MM-DD, from 00:00 UTC).
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    pub since: NaiveDate,
    /// Only cases filed in this region or below it (`33` covers `33.74`).
    #[arg(long, value_name = "CODE", value_parser = parse_region)]
    pub region: Option<RegionCode>,
    /// Judge the open clocks (due? escalated now?) at this instant (RFC 3339; default: now).
    #[arg(long, value_name = "RFC3339")]
    pub at: Option<DateTime<Utc>>,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
    /// The candidate pack directory.
    pub candidate_dir: PathBuf,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| format!("`{s}` is not a date like 2026-03-01"))
}

fn parse_region(s: &str) -> Result<RegionCode, String> {
    RegionCode::parse(s).map_err(|e| e.to_string())
}

/// `aduan policy replay`.
pub fn run(args: ReplayArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let Some(candidate) = validated(&args.candidate_dir)? else {
        eprintln!("error: the candidate pack in {} is invalid", args.candidate_dir.display());
        return Ok(ExitCode::FAILURE);
    };
    if let Some(path) = missing_sqlite_file(&config.database_url) {
        bail!("no database at {} (set --database-url or ADUAN_DATABASE_URL)", path.display());
    }
    let scope = ReceivedScope {
        since: args.since.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc(),
        region: args.region.as_ref().map(|r| r.to_string()),
    };
    let at = args.at.map_or_else(aduan_service::clock::now, aduan_core::time::Timestamp::new);
    let rt = crate::cmd::sweep::runtime()?;
    let (replay, impact) = rt.block_on(async {
        let opts = StoreOptions { read_only: true, ..StoreOptions::default() };
        let store = Store::connect(&config.database_url, opts).await.context("opening the database read-only")?;
        let result = walk(&store, config, Arc::new(candidate), &scope, at).await;
        store.close().await;
        result
    })?;
    // Buffered: a candidate that moves every deadline prints a row per clock of every case.
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if args.json {
        serde_json::to_writer_pretty(&mut out, &report(&args, &replay, &impact))?;
        writeln!(out)?;
    } else {
        for line in table(&impact.differences) {
            writeln!(out, "{line}")?;
        }
        writeln!(out, "{}", summary(&impact))?;
    }
    out.flush()?;
    if impact.cases_unreadable > 0 {
        eprintln!(
            "warning: {} cases could not be read and were left out (their ids are logged)",
            impact.cases_unreadable
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads the active pack and walks the scope, with a progress bar on a terminal.
async fn walk(
    store: &Store,
    config: &Config,
    candidate: Arc<aduan_core::pack::Pack>,
    scope: &ReceivedScope,
    at: aduan_core::time::Timestamp,
) -> anyhow::Result<(Replay, Impact)> {
    let active = active_pack(store, config).await?;
    let replay = Replay { active, candidate, at };
    let bar = if std::io::stderr().is_terminal() {
        let total = store.count_received(scope).await.context("counting the cases")?;
        let style =
            indicatif::ProgressStyle::with_template("{bar:40} {human_pos}/{human_len} cases ({elapsed}, {eta} left)")?;
        Some(indicatif::ProgressBar::new(total.max(0) as u64).with_style(style))
    } else {
        None
    };
    let progress = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let impact = replay.run(store, scope, &progress).await.context("replaying the stored cases")?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    Ok((replay, impact))
}

/// How many differences fall under each summary heading.
fn counts(differences: &[Difference]) -> [usize; 3] {
    let n = |g: Group| differences.iter().filter(|d| d.change.group() == g).count();
    [n(Group::Route), n(Group::Deadline), n(Group::Escalation)]
}

/// `N cases examined, M differ: R route, D deadline, E escalation`.
fn summary(impact: &Impact) -> String {
    let [r, d, e] = counts(&impact.differences);
    format!(
        "{} cases examined, {} differ: {r} route, {d} deadline, {e} escalation",
        impact.cases_examined, impact.cases_differing
    )
}

/// The `--json` object (fields in this order).
#[derive(Serialize)]
struct Report<'a> {
    since: NaiveDate,
    region: Option<String>,
    at: DateTime<Utc>,
    pack: &'a str,
    candidate_hash: &'a str,
    cases_examined: u64,
    cases_differing: u64,
    cases_unreadable: u64,
    summary: Summary,
    differences: &'a [Difference],
}

/// The differences counted by heading.
#[derive(Serialize)]
struct Summary {
    route: usize,
    deadline: usize,
    escalation: usize,
}

fn report<'a>(args: &ReplayArgs, replay: &'a Replay, impact: &'a Impact) -> Report<'a> {
    let [route, deadline, escalation] = counts(&impact.differences);
    Report {
        since: args.since,
        region: args.region.as_ref().map(|r| r.to_string()),
        at: replay.at.utc(),
        pack: &replay.active.hash,
        candidate_hash: &replay.candidate.hash,
        cases_examined: impact.cases_examined,
        cases_differing: impact.cases_differing,
        cases_unreadable: impact.cases_unreadable,
        summary: Summary { route, deadline, escalation },
        differences: &impact.differences,
    }
}

fn instant(t: &DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// One table row: before, after and a note, for a difference.
fn cells(change: &Change) -> [String; 3] {
    let agency = |a: &Option<String>| a.clone().unwrap_or_else(|| "(policy failed)".into());
    match change {
        Change::Route { before, after } => {
            [agency(&before.agency), agency(&after.agency), format!("{}: {}", after.policy, after.reason)]
        }
        Change::Deadline { before, after, reason } => {
            [before.due_date.to_string(), after.due_date.to_string(), reason.as_str().to_owned()]
        }
        Change::WouldEscalate { before, after, target } => {
            [before.due_date.to_string(), after.due_date.to_string(), format!("to {target}")]
        }
        Change::WouldNotEscalate { before, after } => {
            [before.due_date.to_string(), after.due_date.to_string(), String::new()]
        }
        Change::WouldNotHaveEscalated { at, before, after } => {
            [before.due_date.to_string(), after.due_date.to_string(), format!("escalated {}", instant(at))]
        }
        Change::EscalationTarget { at, before, after } => {
            [before.clone(), after.clone(), format!("at {}", instant(at))]
        }
    }
}

/// The differences as aligned rows under a header (nothing when there are none).
fn table(differences: &[Difference]) -> Vec<String> {
    if differences.is_empty() {
        return Vec::new();
    }
    let header = ["TRACKING ID", "REGION", "KIND", "CLOCK", "BEFORE", "AFTER", "NOTE"].map(String::from);
    let mut rows = vec![header];
    for d in differences {
        let [before, after, note] = cells(&d.change);
        let clock = d.clock.as_ref().map_or_else(|| "-".to_owned(), |c| c.to_string());
        let region = d.region.clone().unwrap_or_else(|| "-".into());
        rows.push([d.tracking_id.clone(), region, d.change.kind().to_owned(), clock, before, after, note]);
    }
    let mut widths = [0usize; 7];
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    rows.iter()
        .map(|row| {
            let padded: Vec<String> = row.iter().zip(widths).map(|(c, w)| format!("{c:<w$}")).collect();
            padded.join("  ").trim_end().to_owned()
        })
        .collect()
}
