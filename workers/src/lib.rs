//! `aduan-workers`: the cron workers. Cron only triggers (ARCHITECTURE.md invariant 6): what a sweep does, and
//! its exactly-once guarantee, live in `aduan_service::sweeper`; the morning digest and its once per
//! agency and local date live in `aduan_service::digest`. Workers act only through the service and have
//! no SQL of their own.
//!
//! Two jobs, on the pack's `schedules.yaml`: the sweep, on a UTC schedule; the digest, whose schedule
//! is evaluated in each Indonesian time zone ([`TIME_ZONES`]), so "08:00" is 08:00 where the agency is.

use aduan_core::pack::Schedules;
use aduan_core::region::TIME_ZONES;
use aduan_service::service::Service;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio_util::sync::CancellationToken;

/// The sweep's schedule when the pack sets none: every minute.
pub const DEFAULT_SWEEP: &str = Schedules::DEFAULT_SWEEP;

/// Why the workers cannot start.
#[derive(Debug, thiserror::Error)]
#[error("schedules.yaml: {message}")]
pub struct ScheduleError {
    /// The expression.
    pub expr: String,
    /// What is wrong, naming the job (`digest: …`).
    pub message: String,
}

fn parse(job: &str, expr: &str) -> Result<cron::Schedule, ScheduleError> {
    Schedules::parse(job, expr).map_err(|message| ScheduleError { expr: expr.to_owned(), message })
}

/// Parses the pack's sweep schedule (UTC).
pub fn sweep_schedule(service: &Service) -> Result<cron::Schedule, ScheduleError> {
    parse("sweep", service.pack().schedules.sweep_expr())
}

/// Parses the pack's digest schedule (evaluated in each time zone).
pub fn digest_schedule(service: &Service) -> Result<cron::Schedule, ScheduleError> {
    parse("digest", service.pack().schedules.digest_expr())
}

/// The workers' next fire strictly after `after`: its instant, whether the sweep fires then, and the time
/// zones whose digest fires then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NextFire {
    /// When.
    pub at: DateTime<Utc>,
    /// The sweep fires.
    pub sweep: bool,
    /// The digest fires in these zones.
    pub digest_zones: Vec<Tz>,
}

/// The earliest fire after `after` among the sweep (UTC) and the digest in each of [`TIME_ZONES`];
/// `None` when no schedule fires again.
pub fn next_fire(sweep: &cron::Schedule, digest: Option<&cron::Schedule>, after: DateTime<Utc>) -> Option<NextFire> {
    let sweep_at = sweep.after(&after).next();
    let digest_at: Vec<(Tz, DateTime<Utc>)> = digest
        .map(|d| {
            TIME_ZONES
                .iter()
                .filter_map(|&tz| d.after(&after.with_timezone(&tz)).next().map(|t| (tz, t.to_utc())))
                .collect()
        })
        .unwrap_or_default();
    let at = sweep_at.into_iter().chain(digest_at.iter().map(|(_, t)| *t)).min()?;
    Some(NextFire {
        at,
        sweep: sweep_at == Some(at),
        digest_zones: digest_at.into_iter().filter(|(_, t)| *t == at).map(|(tz, _)| tz).collect(),
    })
}

/// Runs the sweep on `schedule` and the pack's digest in each time zone until `shutdown`, sleeping
/// until the earliest next fire and running what is due then (the digest with just the zones that
/// fired). Several replicas may run at once: claims share out the sweep and each rung acts once; each
/// agency's digest goes out once per local date. A fire missed while a job ran is skipped, not caught up.
pub async fn run(service: Service, schedule: cron::Schedule, shutdown: CancellationToken) {
    let owner = format!("worker-{}-{}", std::process::id(), &aduan_service::crypto::new_token()[..8]);
    // The pack loader has parsed the digest's expression already; this cannot fail on a loaded pack.
    let digest =
        digest_schedule(&service).inspect_err(|e| tracing::warn!(error = %e, "the morning digest is off")).ok();
    let mut after = Utc::now();
    loop {
        let Some(fire) = next_fire(&schedule, digest.as_ref(), after) else { return };
        let wait = (fire.at - Utc::now()).to_std().unwrap_or_default();
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        // The service logs each run with its counts and counts it in the metrics.
        if fire.sweep {
            let now = aduan_service::clock::now();
            let _ = service.sweep(now, &owner, aduan_service::sweeper::CLAIM_TTL, false).await;
        }
        if !fire.digest_zones.is_empty() {
            let _ = service.digest(aduan_service::clock::now(), Some(&fire.digest_zones), false).await;
        }
        after = fire.at.max(Utc::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    fn cron(expr: &str) -> cron::Schedule {
        Schedules::parse("test", expr).unwrap()
    }

    #[test]
    fn digest_fires_at_each_zones_own_morning() {
        // Hourly so the sweep never comes first; the digest at 08:00 local, weekdays.
        let sweep = cron("0 0 0 1 1 * 2099");
        let digest = cron("0 0 8 * * Mon-Fri");
        // Tuesday 2026-12-08. 08:00 WIT (UTC+9) is 23:00 UTC on Monday.
        let f = next_fire(&sweep, Some(&digest), at("2026-12-07T22:30:00Z")).unwrap();
        assert_eq!(
            f,
            NextFire { at: at("2026-12-07T23:00:00Z"), sweep: false, digest_zones: vec![Tz::Asia__Jayapura] }
        );
        // Then 08:00 WITA (UTC+8).
        let f = next_fire(&sweep, Some(&digest), f.at).unwrap();
        assert_eq!(f.at, at("2026-12-08T00:00:00Z"));
        assert_eq!(f.digest_zones, vec![Tz::Asia__Makassar]);
        // Then 08:00 WIB (UTC+7), in both zones that keep it.
        let f = next_fire(&sweep, Some(&digest), f.at).unwrap();
        assert_eq!(f.at, at("2026-12-08T01:00:00Z"));
        assert_eq!(f.digest_zones, vec![Tz::Asia__Jakarta, Tz::Asia__Pontianak]);
    }

    #[test]
    fn digest_days_of_week_are_local() {
        // Mon-Sat at 08:00 local: Sunday 2026-12-13 is skipped in every zone, even where Sunday 08:00
        // local is still Saturday in UTC.
        let sweep = cron("0 0 0 1 1 * 2099");
        let digest = cron("0 0 8 * * Mon-Sat");
        let f = next_fire(&sweep, Some(&digest), at("2026-12-12T02:00:00Z")).unwrap();
        assert_eq!(f.at, at("2026-12-13T23:00:00Z"), "Monday 08:00 WIT");
        assert_eq!(f.digest_zones, vec![Tz::Asia__Jayapura]);
    }

    #[test]
    fn sweep_and_digest_fire_together() {
        let f =
            next_fire(&cron("0 * * * * *"), Some(&cron("0 0 8-11 * * Mon-Sat")), at("2026-12-08T00:59:30Z")).unwrap();
        assert_eq!(f.at, at("2026-12-08T01:00:00Z"));
        assert!(f.sweep);
        // 10:00 WIT, 09:00 WITA and 08:00 WIB all fall on 01:00 UTC.
        assert_eq!(f.digest_zones, TIME_ZONES.to_vec());
        let f = next_fire(&cron("0 * * * * *"), None, at("2026-12-08T01:00:00Z")).unwrap();
        assert_eq!((f.at, f.sweep, f.digest_zones.len()), (at("2026-12-08T01:01:00Z"), true, 0));
    }
}
