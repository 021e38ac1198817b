//! The morning digest as a service function: per agency, the running clocks that fall due on its local
//! date, published as one `digest` event (docs/nats.md#digest) inside the agency's working hours.
//!
//! Once per agency and local date: the digest's outbox row is queued in the same transaction as a row
//! under the unique (agency, local_date) key of `digests`, so however many workers fire, and however
//! often `aduan digest` runs, an agency gets one digest a day. An agency outside its working hours (or on
//! a day off) is `held`, and the next fire inside its hours sends it; an agency with nothing due gets no
//! digest at all. A digest belongs to no case: it is not in any hash chain, and carries no reporter
//! identity, only case ids, tracking ids, clocks and deadlines.

use crate::service::{new_id, OutboxEntry, Service, ServiceError};
use crate::store::{DueTimer, StoreError};
use crate::wire::{DigestData, DigestEntry, EventMessage};
use aduan_core::calendar::Calendar;
use aduan_core::event::EventType;
use aduan_core::region::TIME_ZONES;
use aduan_core::time::Timestamp;
use aduan_core::timer::CalendarRef;
use chrono::{DateTime, Days, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// The digest's event type.
pub const DIGEST_EVENT: &str = EventType::Digest.as_str();
/// The digest's `actor`.
pub const DIGEST_ACTOR: &str = "system:digest";

/// What a digest run did (`aduan digest` prints it as JSON). Each count is of agencies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DigestCounts {
    /// Digests queued for publishing (in a dry run: that would be).
    pub sent: u64,
    /// Agencies with deadlines due today that are outside their working hours now (or on a day off):
    /// a later run inside their hours sends theirs.
    pub held: u64,
    /// Agencies whose digest for today was already sent.
    pub already: u64,
}

/// One zone's day: its local date and that date's span of instants, `(start, end]` in UTC.
#[derive(Debug, Clone, Copy)]
struct ZoneDay {
    date: NaiveDate,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
}

impl ZoneDay {
    fn of(tz: Tz, now: DateTime<Utc>) -> Self {
        let date = now.with_timezone(&tz).date_naive();
        let midnight = |d: NaiveDate| {
            let naive = d.and_time(NaiveTime::MIN);
            tz.from_local_datetime(&naive).earliest().unwrap_or_else(|| tz.from_utc_datetime(&naive)).to_utc()
        };
        let next = date.checked_add_days(Days::new(1)).unwrap_or(date);
        Self { date, start: midnight(date), end: midnight(next) }
    }

    /// Whether a deadline falls due on this day: `due_at` is the exclusive bound that ends the due date,
    /// so a clock due on D has `due_at` in (start of D, end of D].
    fn holds(&self, due_at: DateTime<Utc>) -> bool {
        self.start < due_at && due_at <= self.end
    }
}

impl Service {
    /// Sends the morning digest as of `now` to every agency of `zones` (default: the four Indonesian
    /// zones, [`TIME_ZONES`]) that has running clocks falling due on its local date, is inside its
    /// working hours on a working day, and has not had today's digest yet. An agency belongs to the zone
    /// of its own calendar. The workers pass the zones whose cron fired; `aduan digest` passes none.
    /// `dry_run` counts and writes nothing. Every run is logged at info with its counts (a failed one
    /// at warn), and counted in the metrics unless it is a dry run.
    pub async fn digest(
        &self,
        now: Timestamp,
        zones: Option<&[Tz]>,
        dry_run: bool,
    ) -> Result<DigestCounts, ServiceError> {
        let result = self.digest_zones(now, zones, dry_run).await;
        if !dry_run {
            self.metrics().digest(result.as_ref().ok());
        }
        match &result {
            Ok(c) => tracing::info!(sent = c.sent, held = c.held, already = c.already, dry_run, "digest"),
            Err(e) => tracing::warn!(error = %e, "digest failed; the next fire this morning retries"),
        }
        result
    }

    /// [`Service::digest`] without its log line and metrics.
    async fn digest_zones(
        &self,
        now: Timestamp,
        zones: Option<&[Tz]>,
        dry_run: bool,
    ) -> Result<DigestCounts, ServiceError> {
        let now = now.utc();
        let pack = self.pack();
        let days: Vec<(Tz, ZoneDay)> =
            zones.unwrap_or(&TIME_ZONES).iter().map(|&tz| (tz, ZoneDay::of(tz, now))).collect();
        let mut counts = DigestCounts::default();
        let (Some(after), Some(through)) =
            (days.iter().map(|(_, d)| d.start).min(), days.iter().map(|(_, d)| d.end).max())
        else {
            return Ok(counts);
        };
        // One read over every zone's day, then each clock is kept only if it falls due on its holder's
        // own local date.
        let mut calendars: HashMap<String, Arc<Calendar>> = HashMap::new();
        let mut by_agency: BTreeMap<String, (Tz, ZoneDay, Vec<DueTimer>)> = BTreeMap::new();
        for t in self.store().due_between(after, through).await? {
            if pack.workflow.is_final(&t.status) {
                continue;
            }
            let cal = calendars
                .entry(t.agency.clone())
                .or_insert_with(|| pack.calendar_for(&CalendarRef::Agency(t.agency.clone())));
            let Some(&(tz, day)) = days.iter().find(|(tz, _)| *tz == cal.time_zone()) else { continue };
            if day.holds(t.due_at) {
                by_agency.entry(t.agency.clone()).or_insert_with(|| (tz, day, Vec::new())).2.push(t);
            }
        }
        for (agency, (tz, day, mut due)) in by_agency {
            due.sort_by(|a, b| (a.due_at, &a.complaint_id, &a.clock).cmp(&(b.due_at, &b.complaint_id, &b.clock)));
            let date = day.date.to_string();
            if self.store().digest_sent(&agency, &date).await?.is_some() {
                counts.already += 1;
            } else if !calendars[&agency].within_working_hours(now) {
                counts.held += 1;
            } else if dry_run || self.queue_digest(&agency, &date, tz, due, &pack.hash, now).await? {
                counts.sent += 1;
            } else {
                counts.already += 1;
            }
        }
        if counts.sent > 0 && !dry_run {
            self.relay_wake().notify_one();
        }
        Ok(counts)
    }

    /// Queues one agency's digest with its (agency, local date) row, in one transaction; `false` when
    /// another worker recorded it first.
    async fn queue_digest(
        &self,
        agency: &str,
        date: &str,
        tz: Tz,
        due: Vec<DueTimer>,
        pack: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let due: Vec<DigestEntry> = due
            .into_iter()
            .map(|t| DigestEntry {
                complaint_id: t.complaint_id,
                tracking_id: t.tracking_id,
                clock: t.clock,
                due_at: t.due_at,
            })
            .collect();
        let data = DigestData { date: date.to_owned(), time_zone: tz.name().to_owned(), count: due.len(), due };
        let msg = EventMessage {
            event_id: new_id(),
            complaint_id: None,
            tracking_id: None,
            event_type: DIGEST_EVENT.to_owned(),
            at: now,
            agency: Some(agency.to_owned()),
            escalation_level: None,
            actor: DIGEST_ACTOR.to_owned(),
            pack: pack.to_owned(),
            data: serde_json::to_value(data).map_err(|e| ServiceError::Internal(e.to_string()))?,
        };
        let entry = OutboxEntry::of_message(self.prefix(), &msg)?;
        let mut tx = self.store().begin().await?;
        match tx.insert_digest(agency, date, &msg.event_id, now).await {
            Err(StoreError::Conflict(_)) => {
                tx.rollback().await?;
                return Ok(false);
            }
            other => other?,
        }
        entry.write(&mut tx, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}
