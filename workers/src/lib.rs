//! `aduan-workers`: the cron workers. Cron only triggers sweeps (DESIGN.md invariant 6); what a sweep
//! does, and its exactly-once guarantee, live in `aduan_service::sweeper`. Workers act only through the
//! service and have no SQL of their own.

use aduan_service::service::Service;
use chrono::Utc;
use std::str::FromStr;
use tokio_util::sync::CancellationToken;

/// The sweep's schedule when the pack sets none: every minute.
pub const DEFAULT_SWEEP: &str = "0 * * * * *";

/// Why the workers cannot start.
#[derive(Debug, thiserror::Error)]
#[error("schedules.yaml: sweep `{expr}`: {message}")]
pub struct ScheduleError {
    /// The expression.
    pub expr: String,
    /// What the cron parser said.
    pub message: String,
}

/// Parses the pack's sweep schedule.
pub fn sweep_schedule(service: &Service) -> Result<cron::Schedule, ScheduleError> {
    let expr = service.pack().schedules.sweep.clone().unwrap_or_else(|| DEFAULT_SWEEP.to_owned());
    cron::Schedule::from_str(&expr).map_err(|e| ScheduleError { expr, message: e.to_string() })
}

/// Runs the sweep on its schedule until `shutdown`. Several replicas may run it at once: claims share
/// out the work and each rung acts once.
pub async fn run(service: Service, schedule: cron::Schedule, shutdown: CancellationToken) {
    let owner = format!("worker-{}-{}", std::process::id(), &aduan_service::crypto::new_token()[..8]);
    loop {
        let Some(next) = schedule.upcoming(Utc).next() else { return };
        let wait = (next - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        match service.sweep(Utc::now(), &owner, aduan_service::sweeper::CLAIM_TTL, false).await {
            Ok(c) if c.warned + c.escalated + c.closed + c.held > 0 => {
                tracing::info!(warned = c.warned, escalated = c.escalated, closed = c.closed, held = c.held, "sweep");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "sweep failed; the next one retries"),
        }
    }
}
