//! `GET /v1/reports/compliance` (docs/reports.md): the reach of the statistics, the store's two reads,
//! the core's figures.

use super::{Service, ServiceError};
use crate::store::{subtree_patterns, EventRow, ReportScope, StatsScope};
use crate::wire::compliance::ComplianceReport;
use crate::wire::EventMessage;
use aduan_core::access::Operation;
use aduan_core::directory::ROOT;
use aduan_core::region::RegionCode;
use aduan_core::report::{self, CaseRecord, Month};
use aduan_core::time::Timestamp;
use aduan_core::timer::CalendarRef;
use std::collections::HashMap;

impl Service {
    /// The compliance report of `agency`'s subtree (default: the caller's own) for `month` (`YYYY-MM`,
    /// counted in the agency's calendar's time zone), as of `now`. Who may read it is who may read the
    /// statistics ([`Operation::Stats`]): an agency outside the caller's reach, or unknown, is 404; a
    /// month that is not one is 422 naming `month`.
    pub async fn compliance(
        &self,
        agency: Option<&str>,
        month: &str,
        caller: &super::Caller,
        now: Timestamp,
    ) -> Result<ComplianceReport, ServiceError> {
        let actor = caller.actor()?;
        let agency =
            self.scoped_agency(&actor, Operation::Stats, agency.map(str::to_owned))?.unwrap_or_else(|| ROOT.to_owned());
        let pack = self.pack();
        if pack.directory.agency(&agency).is_none() && !pack.directory.is_empty() {
            return Err(ServiceError::NotFound(format!("no agency `{agency}`")));
        }
        let month: Month =
            month.parse().map_err(|e: report::BadMonth| ServiceError::invalid("month", e.to_string()))?;
        let tz = pack.calendar_for(&CalendarRef::Agency(agency.clone())).time_zone();
        let (from, to) = month.bounds(tz);
        let subtree = subtree_patterns(&agency).map(|agency_patterns| StatsScope {
            agency_patterns,
            region: pack.directory.governed_region(&agency).map(|r| r.to_string()),
        });
        let scope = ReportScope { subtree, from, to };
        let now = now.utc();
        let rows = self.inner.store.report_cases(&scope, pack.workflow.final_states(), now).await?;
        let events = self.inner.store.report_events(&scope).await?;
        let p = pack.clone();
        let report = tokio::task::spawn_blocking(move || {
            let events = by_case(events);
            let facts: Vec<_> = rows
                .iter()
                .map(|r| {
                    let messages = events.get(&r.id).map_or(&[][..], Vec::as_slice);
                    let history: Vec<_> = messages.iter().map(|(seq, m)| m.as_replayed(*seq)).collect();
                    let region = r.region.as_deref().and_then(|c| RegionCode::parse(c).ok());
                    let record = CaseRecord {
                        received_at: r.created_at,
                        region: region.as_ref(),
                        first_assigned_at: r.first_assigned_at,
                        first_followup_at: r.first_followup_at,
                        first_followup_agency: r.first_followup_agency.as_deref(),
                        overdue: r.overdue,
                        history: &history,
                    };
                    report::facts(&p, &record)
                })
                .collect();
            report::compile(&p.directory, &agency, month, &facts, p.zones.as_ref())
        })
        .await
        .map_err(|e| ServiceError::Internal(format!("the report's task failed: {e}")))?;
        Ok(ComplianceReport::new(&report, pack.zones.as_ref(), tz.name().to_owned(), (from, to), now))
    }
}

/// Each case's events, parsed, by case id (in `seq` order). An event whose payload does not parse is
/// left out (logged): the report reads what it can, as the replay does.
fn by_case(events: Vec<EventRow>) -> HashMap<String, Vec<(i64, EventMessage)>> {
    let mut map: HashMap<String, Vec<(i64, EventMessage)>> = HashMap::new();
    for e in events {
        match serde_json::from_str::<EventMessage>(&e.payload) {
            Ok(m) => map.entry(e.complaint_id).or_default().push((e.seq, m)),
            Err(err) => {
                tracing::warn!(case = %e.complaint_id, seq = e.seq, error = %err, "report: an unreadable event is left out")
            }
        }
    }
    map
}
