//! `aduan digest [--now RFC3339] [--dry-run]`: the morning digest as of an instant, in every time zone
//! (the workers run it on the pack's `digest` schedule). Needs only the database: the digests go to the
//! outbox and the relay of any running `serve` publishes them.

use crate::cmd::sweep::{runtime, service};
use crate::Config;
use aduan_core::time::Timestamp;
use anyhow::anyhow;
use chrono::{DateTime, Utc};
use clap::Args;
use std::process::ExitCode;

/// Arguments of `digest`.
#[derive(Args, Debug, Clone)]
pub struct DigestArgs {
    /// Send the digests due at this instant (default: now).
    #[arg(long)]
    pub now: Option<DateTime<Utc>>,
    /// Count what would be sent and change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `aduan digest`: prints one JSON object `{"sent":N,"held":N,"already":N}` (agencies).
pub fn run(args: DigestArgs, config: &Config) -> anyhow::Result<ExitCode> {
    runtime()?.block_on(async {
        let svc = service(config).await?;
        let now = args.now.map_or_else(aduan_service::clock::now, Timestamp::new);
        let counts = svc.digest(now, None, args.dry_run).await.map_err(|e| anyhow!(e))?;
        println!("{}", serde_json::to_string(&counts)?);
        svc.store().close().await;
        Ok(ExitCode::SUCCESS)
    })
}
