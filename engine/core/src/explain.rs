//! `policy explain`: for one complaint, the routing decision, every clock's deadline with the calendar
//! days it skipped and the SLA layer that set it, and the trace of what was consulted.

use crate::calendar::SkippedDay;
use crate::case::RouteError;
use crate::clock::Clock;
use crate::directory::RegionStatus;
use crate::domain::{Kind, Tier};
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::sla::SlaQuery;
use crate::timer::{CalendarRef, Timer};
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use serde::Serialize;

/// The facts of a complaint that decisions read.
#[derive(Debug, Clone)]
pub struct ComplaintFacts {
    /// Report kind.
    pub kind: Kind,
    /// Category, once known.
    pub category: Option<String>,
    /// Kemendagri region code; `None` when the submission had none.
    pub region: Option<RegionCode>,
    /// The admin marked it as needing investigation.
    pub investigation: bool,
    /// Channel (policies may read it).
    pub channel: String,
    /// Title (policies may read it).
    pub title: String,
}

/// The routing part of an explanation.
#[derive(Debug, Clone, Serialize)]
pub struct RouteExplanation {
    /// The agency decided, or `null` before routing exists.
    pub agency: Option<String>,
    /// Why.
    pub reason: String,
}

/// One clock's deadline, explained.
#[derive(Debug, Clone, Serialize)]
pub struct DeadlineExplanation {
    /// The clock.
    pub clock: Clock,
    /// Its budget, e.g. `5 working days`.
    pub budget: String,
    /// The exclusive deadline instant (RFC 3339, in the calendar's local offset).
    pub due_at: String,
    /// The local date of the last working day.
    pub due_date: NaiveDate,
    /// When the warning falls.
    pub warn_at: String,
    /// Computed past the covered years or across a provisional date.
    pub provisional: bool,
    /// The SLA layer, file and line that set the budget.
    pub sla_source: String,
    /// The calendar chain and time zone counted on.
    pub calendar: String,
    /// The dates skipped, and why.
    pub skipped: Vec<SkippedDay>,
}

/// The whole answer of `policy explain` for one complaint.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    /// The routing decision.
    pub route: RouteExplanation,
    /// One deadline per clock the workflow can start for this complaint.
    pub deadlines: Vec<DeadlineExplanation>,
    /// What was consulted, in order.
    pub trace: Vec<serde_json::Value>,
    /// Hash of the pack that decided.
    pub pack: String,
}

/// Routes a complaint as `verify` would (policies, then the built-in), for `policy explain`. A failed
/// policy yields `agency: null` with the error as the reason, and `Err` carries the error for exit 1; a
/// region in no table yields `agency: null` too (the admin dispatches it), with no error.
pub fn explain_route(
    pack: &Pack,
    facts: &ComplaintFacts,
    at: DateTime<Utc>,
    trace: &mut Vec<serde_json::Value>,
) -> (RouteExplanation, Option<crate::rules::PolicyError>) {
    let case = crate::case::Case {
        id: String::new(),
        tracking_id: String::new(),
        kind: facts.kind,
        channel: facts.channel.clone(),
        category: facts.category.clone(),
        region: todays_region(pack, facts),
        privacy: crate::case::Privacy::Public,
        title: facts.title.clone(),
        status: pack.workflow.meaning().awaiting_dispatch.clone(),
        agency: None,
        escalation_level: 0,
        flags: Vec::new(),
        state: crate::case::CaseState { investigation: facts.investigation, ..Default::default() },
        created_at: at,
        first_assigned_at: None,
        first_followup_at: None,
        first_followup_agency: None,
        timers: Default::default(),
    };
    let mut steps = Vec::new();
    let result = crate::case::route(pack, &case, at, &mut steps);
    for s in steps {
        trace.push(serde_json::json!({
            "step": "route", "policy": s.policy, "scope": s.scope, "outcome": s.outcome, "detail": s.detail,
        }));
    }
    match result {
        Ok((agency, reason)) => (RouteExplanation { agency: Some(agency), reason }, None),
        Err(RouteError::Policy(e)) => {
            (RouteExplanation { agency: None, reason: format!("policy failed: {e}") }, Some(e))
        }
        Err(e @ RouteError::UnknownRegion(_)) => (RouteExplanation { agency: None, reason: e.to_string() }, None),
    }
}

/// The complaint's region as a submission records it: a superseded code is read as today's
/// (docs/workflow.md#region-codes).
fn todays_region(pack: &Pack, facts: &ComplaintFacts) -> Option<RegionCode> {
    let region = facts.region.clone()?;
    match pack.directory.region_status(&region) {
        RegionStatus::Superseded { now } => Some(now),
        RegionStatus::Known | RegionStatus::Unknown => Some(region),
    }
}

/// Explains a complaint's deadlines as if every clock started at `at`.
///
/// `route.agency` is the agency that would hold the case; `verify` always counts on the complaint's
/// region, every other clock on the holder's calendar (the complaint's region when no holder is known).
pub fn explain(
    pack: &Pack,
    facts: &ComplaintFacts,
    at: DateTime<Utc>,
    route: RouteExplanation,
    mut trace: Vec<serde_json::Value>,
) -> Explanation {
    let mut deadlines = Vec::new();
    let region_ref = todays_region(pack, facts).map_or(CalendarRef::National, CalendarRef::Region);
    let holder_ref = match &route.agency {
        Some(a) => CalendarRef::Agency(a.clone()),
        None => region_ref.clone(),
    };
    for clock in pack.slas.clocks() {
        let cal_ref = if clock.follows_holder() { holder_ref.clone() } else { region_ref.clone() };
        let cal_region = match &cal_ref {
            CalendarRef::Region(r) => Some(r.clone()),
            CalendarRef::Agency(a) => pack.directory.region_of(a),
            CalendarRef::National => None,
        };
        let tier = match &cal_ref {
            CalendarRef::Agency(a) => Some(pack.tier_of(a)),
            _ => cal_region.as_ref().map(|r| if r.kabkota().is_some() { Tier::Kabkota } else { Tier::Province }),
        };
        let agency = match &cal_ref {
            CalendarRef::Agency(a) => Some(a.as_str()),
            _ => None,
        };
        let q = SlaQuery {
            clock,
            kind: facts.kind,
            category: facts.category.as_deref(),
            investigation: facts.investigation,
            escalation_level: 0,
            tier,
            region: cal_region.as_ref(),
            agency,
        };
        let sla = match pack.slas.resolve(&q) {
            Ok(s) => s,
            Err(e) => {
                trace.push(serde_json::json!({"step": "sla", "clock": clock, "error": e.to_string()}));
                continue;
            }
        };
        let timer = Timer::start(clock, sla.budget, sla.warn_permille, cal_ref.clone(), at);
        let d = explain_timer(pack, &timer, &sla.source.to_string());
        trace.push(serde_json::json!({
            "step": "deadline",
            "clock": clock,
            "calendar": d.calendar,
            "calendar_ref": cal_ref.to_string(),
            "sla": d.sla_source,
            "budget": d.budget,
            "skipped_days": d.skipped.len(),
        }));
        deadlines.push(d);
    }
    Explanation { route, deadlines, trace, pack: pack.hash.clone() }
}

/// Explains one running timer: its deadline and warning in the calendar's local offset, the SLA layer
/// that set it (`sla_source`) and the dates skipped from its start's local date through the due date.
pub fn explain_timer(pack: &Pack, timer: &Timer, sla_source: &str) -> DeadlineExplanation {
    let cal = pack.calendar_for(&timer.calendar);
    let schedule = timer.schedule(&cal);
    let due = schedule.due.expect("a running clock has a deadline");
    let local = |t: DateTime<Utc>| t.with_timezone(&cal.time_zone()).to_rfc3339_opts(SecondsFormat::Secs, true);
    DeadlineExplanation {
        clock: timer.clock.clone(),
        budget: timer.budget.to_string(),
        due_at: local(due.due_at),
        due_date: due.due_date,
        warn_at: local(schedule.warn_at.expect("running")),
        provisional: due.provisional,
        sla_source: sla_source.to_owned(),
        calendar: format!("{} ({})", cal.label(), cal.time_zone()),
        skipped: cal.explain_span(cal.local_date(timer.started_at), due.due_date),
    }
}
