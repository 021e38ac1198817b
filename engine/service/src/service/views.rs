//! What callers read: one case's view (with history), the list, the public listing, the stats.

use super::auth::{denied, may_read, reporter_hash, Caller};
use super::rows::case_of;
use super::{BrowseQuery, ListQuery, Service, ServiceError, BROWSE_LIMIT};
use crate::crypto::is_tracking_id;
use crate::store::{subtree_patterns, BrowseFilter, CaseFilter, CaseOrder, CaseRow, StatsScope, TimerRow};
use crate::wire::{ComplaintList, ComplaintView, DeadlineView, HistoryEntry, Location, Reporter, SourceRef, Stats};
use aduan_core::access::{self, Operation, Visibility};
use aduan_core::case::{Actor, Privacy};
use aduan_core::directory::ROOT;
use aduan_core::explain::{explain_timer, DeadlineExplanation};
use aduan_core::region::NATIONAL_TIME_ZONE;
use aduan_core::report;
use aduan_core::time::Timestamp;
use chrono::{DateTime, Utc};
use serde_json::Value;

fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

impl Service {
    /// The single view of a case by id or tracking id, with history, as `caller` may see it. The public
    /// reads by tracking id only; a case outside the caller's reach is 404, as an unknown one.
    pub async fn get(&self, id: &str, caller: &Caller) -> Result<ComplaintView, ServiceError> {
        let (row, actor) = self.readable(id, caller).await?;
        let mut view = self.view_of(&row, true, &actor).await?;
        view.duplicates = self.duplicates_for(&row.id, &actor).await?;
        Ok(view)
    }

    /// Why each running clock of a case falls due when it does (the `policy explain` answer: the
    /// budget, the SLA layer, the calendar and every day skipped), for a caller who may read the case.
    pub async fn explain_deadlines(&self, id: &str, caller: &Caller) -> Result<Vec<DeadlineExplanation>, ServiceError> {
        let (row, _) = self.readable(id, caller).await?;
        let timers = self.inner.store.timers(&row.id).await?;
        let case = case_of(&row, &timers)?;
        let pack = self.pack();
        Ok(case
            .timers
            .values()
            .filter(|t| t.timer.schedule(&pack.calendar_for(&t.timer.calendar)).due.is_some())
            .map(|t| explain_timer(&pack, &t.timer, &t.sla_source))
            .collect())
    }

    /// A case by id or tracking id and the actor reading it, when the caller may read it.
    async fn readable(&self, id: &str, caller: &Caller) -> Result<(CaseRow, Actor), ServiceError> {
        if *caller == Caller::Public && !is_tracking_id(id) {
            return Err(ServiceError::Unauthenticated(
                "without a token, a complaint is read by its tracking id".into(),
            ));
        }
        let row = match self.inner.store.case_by_id(id).await? {
            Some(r) => r,
            None => self
                .inner
                .store
                .case_by_tracking_id(id)
                .await?
                .ok_or_else(|| ServiceError::NotFound(format!("no complaint `{id}`")))?,
        };
        let actor = caller.actor_on(reporter_hash(&row).as_deref())?;
        may_read(self, &actor, &row, id)?;
        Ok((row, actor))
    }

    pub(super) async fn view_of(
        &self,
        row: &CaseRow,
        with_history: bool,
        viewer: &Actor,
    ) -> Result<ComplaintView, ServiceError> {
        let seen = visibility_of(viewer, row);
        let timers = self.inner.store.timers(&row.id).await?;
        let history = if with_history {
            let events = self.inner.store.events(&row.id).await?;
            Some(
                events
                    .into_iter()
                    .map(|e| {
                        let mut data = serde_json::from_str::<Value>(&e.payload)
                            .ok()
                            .and_then(|v| v.get("data").cloned())
                            .unwrap_or(Value::Null);
                        if !seen.text {
                            withhold_text(&mut data);
                        }
                        HistoryEntry { event_type: e.event_type, at: e.at, actor: e.actor, pack: e.pack, data }
                    })
                    .collect(),
            )
        } else {
            None
        };
        self.render(row, &timers, history, viewer)
    }

    /// A case as `viewer` may see it (the visibility table, docs/http.md#visibility): every door
    /// (HTTP, NATS replies) renders through here.
    pub(super) fn render(
        &self,
        row: &CaseRow,
        timers: &[TimerRow],
        history: Option<Vec<HistoryEntry>>,
        viewer: &Actor,
    ) -> Result<ComplaintView, ServiceError> {
        let seen = visibility_of(viewer, row);
        let pack = self.pack();
        let case = case_of(row, timers)?;
        let deadlines = case
            .schedules(&pack)
            .into_iter()
            .map(|(clock, s)| DeadlineView {
                time_zone: case.time_zone_of(&pack, &clock).unwrap_or(NATIONAL_TIME_ZONE).name().to_owned(),
                clock: clock.to_string(),
                due_at: s.due_at(),
                due_date: s.due_date().map(|d| d.to_string()),
                paused: s.paused,
                provisional: s.due.is_some_and(|d| d.provisional),
            })
            .collect();
        let reporter = seen
            .reporter
            .then_some(row.reporter.as_deref())
            .flatten()
            .and_then(|r| self.inner.key.open(r).ok())
            .and_then(|json| serde_json::from_str::<Reporter>(&json).ok());
        Ok(ComplaintView {
            id: row.id.clone(),
            tracking_id: row.tracking_id.clone(),
            kind: row.kind.clone(),
            channel: row.channel.clone(),
            category: row.category.clone(),
            region: row.region.clone(),
            privacy: row.privacy.clone(),
            status: row.status.clone(),
            title: seen.text.then(|| row.title.clone()),
            body: seen.text.then(|| row.body.clone()),
            location: seen.text.then(|| location_of(row)).flatten(),
            media_url: seen.text.then(|| row.media_url.clone()).flatten(),
            source: seen.text.then(|| source_of(row)).flatten(),
            duplicates: None,
            reporter,
            agency: row.agency.clone(),
            escalation_level: row.escalation_level,
            deadlines,
            pack: row.pack.clone(),
            head_hash: row.head_hash.clone(),
            flags: serde_json::from_str(&row.flags).unwrap_or_default(),
            created_at: row.created_at,
            history,
            reporter_token: None,
        })
    }

    /// `GET /v1/complaints`: newest first, filtered, paged by cursor, within the caller's subtree (its
    /// whole subtree when `agency` is not given; an agency outside it is 404).
    pub async fn list(&self, mut q: ListQuery, caller: &Caller, now: Timestamp) -> Result<ComplaintList, ServiceError> {
        let actor = caller.actor()?;
        q.agency = self.scoped_agency(&actor, Operation::List, q.agency.take())?;
        let now = now.utc();
        let limit = q.limit.unwrap_or(50);
        if !(1..=200).contains(&limit) {
            return Err(ServiceError::invalid("limit", "between 1 and 200"));
        }
        let cursor = match &q.cursor {
            None => None,
            Some(_) if q.order == CaseOrder::SoonestDue => {
                return Err(ServiceError::invalid(
                    "cursor",
                    "the queue order (`order=due`) is one page, without a cursor",
                ))
            }
            Some(c) => {
                let (ms, id) =
                    c.split_once('_').ok_or_else(|| ServiceError::invalid("cursor", "not a cursor from this API"))?;
                Some((
                    ms.parse::<i64>().map_err(|_| ServiceError::invalid("cursor", "not a cursor from this API"))?,
                    id.to_owned(),
                ))
            }
        };
        let region = q.agency.as_deref().and_then(|a| self.pack().directory.governed_region(a));
        let filter = CaseFilter {
            agency: q.agency.clone(),
            region: region.map(|r| r.to_string()),
            status: q.status.clone(),
            overdue_at: q.overdue.then_some(now),
            limit: limit + 1,
            cursor,
            order: q.order,
        };
        let mut rows = self.inner.store.list_cases(&filter).await?;
        let next_cursor = if rows.len() as i64 > limit {
            rows.truncate(limit as usize);
            rows.last().filter(|_| q.order == CaseOrder::Newest).map(|r| format!("{}_{}", ms(r.created_at), r.id))
        } else {
            None
        };
        let mut items = Vec::with_capacity(rows.len());
        for r in &rows {
            let timers = self.inner.store.timers(&r.id).await?;
            items.push(self.render(r, &timers, None, &actor)?);
        }
        Ok(ComplaintList { items, next_cursor })
    }

    /// The public listing (docs/open311.md): the cases the query asks for, newest first, each with its
    /// history, rendered for the public whoever asks (the visibility table: no reporter, no text of a
    /// confidential case), as `get` renders one case read by tracking id.
    pub async fn browse(&self, q: BrowseQuery) -> Result<Vec<ComplaintView>, ServiceError> {
        let public = Actor::public();
        access::check(&self.pack().directory, &public, Operation::Browse, None)
            .map_err(|d| denied(d, ServiceError::Forbidden))?;
        if !(1..=BROWSE_LIMIT).contains(&q.limit) {
            return Err(ServiceError::invalid("limit", format!("between 1 and {BROWSE_LIMIT}")));
        }
        if q.to < q.from {
            return Err(ServiceError::invalid("to", "before `from`"));
        }
        let filter = BrowseFilter {
            from: q.from,
            to: q.to,
            categories: q.categories,
            statuses: q.statuses,
            region: q.region,
            limit: q.limit,
        };
        let rows = self.inner.store.browse_cases(&filter).await?;
        let mut views = Vec::with_capacity(rows.len());
        for r in &rows {
            views.push(self.view_of(r, true, &public).await?);
        }
        Ok(views)
    }

    /// `GET /v1/stats` (docs/http.md#statistics).
    pub async fn stats(
        &self,
        agency: Option<&str>,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        caller: &Caller,
        now: Timestamp,
    ) -> Result<Stats, ServiceError> {
        let actor = caller.actor()?;
        let agency = self.scoped_agency(&actor, Operation::Stats, agency.map(str::to_owned))?;
        let now = now.utc();
        let pack = self.pack();
        let scope = match agency.as_deref() {
            None => None,
            Some(a) => {
                if pack.directory.agency(a).is_none() && !pack.directory.is_empty() {
                    return Err(ServiceError::NotFound(format!("no agency `{a}`")));
                }
                // A unit counts what it holds or held; undispatched cases count for their region's government.
                let region = pack.directory.governed_region(a).map(|r| r.to_string());
                subtree_patterns(a).map(|agency_patterns| StatsScope { agency_patterns, region })
            }
        };
        let rows = self.inner.store.stats_rows(scope.as_ref(), pack.workflow.final_states(), from, to, now).await?;
        let count = |f: &dyn Fn(&crate::store::StatsRow) -> bool| rows.iter().filter(|r| f(r)).count() as u64;
        // The workflow says which states each count adds up (`meaning.stats` in workflow.yaml).
        let groups = &pack.workflow.meaning().stats;
        let is_in = |states: &[String], r: &crate::store::StatsRow| states.contains(&r.status);
        let mut firsts: Vec<i64> = rows
            .iter()
            .filter_map(|r| {
                let (a, f) = (r.first_assigned_at?, r.first_followup_at?);
                Some(report::first_response_days(&pack, a, f, r.first_followup_agency.as_deref().unwrap_or_default()))
            })
            .collect();
        let median = report::median(&mut firsts);
        Ok(Stats {
            total: rows.len() as u64,
            resolved: count(&|r| is_in(&groups.resolved, r)),
            in_progress: count(&|r| is_in(&groups.in_progress, r)),
            not_followed_up: count(&|r| is_in(&groups.not_followed_up, r) && r.first_followup_at.is_none()),
            overdue: count(&|r| r.overdue),
            escalated: count(&|r| r.escalated_in_scope),
            archived: count(&|r| is_in(&groups.archived, r)),
            median_first_response_working_days: median,
        })
    }
}

impl Service {
    /// The agency a list or statistics covers for `actor`: the one asked for when it lies in the
    /// actor's subtree (else 404, as an unknown agency), or the actor's own subtree (none: everything,
    /// for the root).
    pub(super) fn scoped_agency(
        &self,
        actor: &Actor,
        op: Operation,
        agency: Option<String>,
    ) -> Result<Option<String>, ServiceError> {
        let dir = &self.pack().directory;
        let asked = agency.clone().unwrap_or_else(|| access::scope_of(actor).to_owned());
        access::check_agency(dir, actor, op, &asked)
            .map_err(|d| denied(d, |_| ServiceError::NotFound(format!("no agency `{asked}`"))))?;
        Ok(agency.or_else(|| (asked != ROOT).then_some(asked)))
    }
}

/// The stored location of a case, if it has one.
fn location_of(row: &CaseRow) -> Option<Location> {
    let at = Location { lat: row.location_lat, long: row.location_long, address: row.location_address.clone() };
    (at.lat.is_some() || at.long.is_some() || at.address.is_some()).then_some(at)
}

/// The source reference of a case a source system filed.
fn source_of(row: &CaseRow) -> Option<SourceRef> {
    let (system, id) = (row.source_system.clone()?, row.source_ref.clone()?);
    Some(SourceRef { system, id, url: row.source_url.clone() })
}

/// What `viewer` may see of the case in `row`.
fn visibility_of(viewer: &Actor, row: &CaseRow) -> Visibility {
    // An unreadable privacy is taken as the most protective one.
    let privacy = Privacy::from_wire(&row.privacy).unwrap_or(Privacy::Anonymous);
    access::visibility(viewer, privacy, row.agency.as_deref())
}

/// The keys of an event's data that carry a case's text (withheld from the public on confidential cases).
const TEXT_KEYS: [&str; 4] = ["title", "body", "message", "reason"];

fn withhold_text(data: &mut Value) {
    if let Some(obj) = data.as_object_mut() {
        for k in TEXT_KEYS {
            obj.remove(k);
        }
    }
}
