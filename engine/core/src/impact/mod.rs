//! What a candidate pack would decide differently about a stored case (`aduan policy replay`,
//! docs/cli.md#policy-replay), before an author publishes it.
//!
//! Both packs, the active one and the candidate, are asked the same questions about the same facts,
//! and a [`Difference`] is reported only where their answers differ, so a candidate identical to the
//! active pack reports none. Nothing is re-decided: the case and its history are only read.
//! - **Route**: a case that routing dispatched (not the admin: [`DISPATCHED_BY_ADMIN`]) is routed again
//!   by each pack as it stood at its `assigned` event (its region and category, at that instant).
//! - **Deadlines**: every open clock recomputed on each pack as a publish would recompute it
//!   ([`recompute_deadlines`]: `applies_to: new_cases` holds); a clock whose deadline moves, and why.
//! - **Open breaches**: what a sweep at the judged instant would escalate on each pack
//!   ([`sweep_case`] on a copy): an escalation only one of them makes, or the same one to another target.
//! - **Past escalations** (`past.rs`): each escalation a sweep made on a breach, judged on its own as
//!   the case stood just before it: one the candidate's deadline would not yet have called for, or
//!   the same one to another target.

mod past;

use crate::case::RouteError;
use crate::case::{escalation_target, recompute_deadlines, route, Case, EscalationTarget, DISPATCHED_BY_ADMIN};
use crate::clock::Clock;
use crate::directory::OMBUDSMAN;
use crate::event::EventType;
use crate::pack::Pack;
use crate::replay::ReplayEvent;
use crate::sweep::{sweep_case, Fired};
use crate::timer::{ChangeReason, Schedule};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The packs compared: the one every process acts with now, and the author's candidate.
#[derive(Debug, Clone, Copy)]
pub struct Packs<'a> {
    /// The pack the database marks active: what the stored cases are judged on today.
    pub active: &'a Pack,
    /// The candidate.
    pub candidate: &'a Pack,
}

/// One way the candidate would decide a stored case differently from the active pack.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Difference {
    /// The case's tracking id. Nothing here names the reporter.
    pub tracking_id: String,
    /// The complaint's region code, if it has one.
    pub region: Option<String>,
    /// The clock concerned (`None` for a route).
    pub clock: Option<Clock>,
    /// What differs: `before` is the active pack's answer, `after` the candidate's.
    #[serde(flatten)]
    pub change: Change,
}

/// What differs, by kind (serialized with its `kind`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Change {
    /// Routing would dispatch the case to another agency (or the candidate's route policy fails).
    Route {
        /// The active pack's route.
        before: Routed,
        /// The candidate's.
        after: Routed,
    },
    /// An open clock's deadline would move.
    Deadline {
        /// Its deadline now.
        before: Due,
        /// Under the candidate.
        after: Due,
        /// Whether its SLA or its calendar moved it.
        reason: Moved,
    },
    /// A sweep at the judged instant would escalate the case under the candidate only.
    WouldEscalate {
        /// The breached clock's deadline now (not yet due).
        before: Due,
        /// Under the candidate (due).
        after: Due,
        /// Where the candidate would escalate it.
        target: String,
    },
    /// A sweep at the judged instant would escalate the case under the active pack only.
    WouldNotEscalate {
        /// The breached clock's deadline now (due).
        before: Due,
        /// Under the candidate (not yet due).
        after: Due,
    },
    /// A sweep escalated the case on a breach that the candidate's deadline would not yet have called for.
    WouldNotHaveEscalated {
        /// When it escalated.
        at: DateTime<Utc>,
        /// The breached clock's deadline as the active pack has it (due by then).
        before: Due,
        /// Under the candidate (after `at`).
        after: Due,
    },
    /// The same escalation (a breach due at the judged instant, or a past one) would go elsewhere.
    EscalationTarget {
        /// When it escalates (the judged instant) or escalated.
        at: DateTime<Utc>,
        /// The active pack's target (an agency id, or `ombudsman` for a referral).
        before: String,
        /// The candidate's.
        after: String,
    },
}

/// The three headings a summary counts differences under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// [`Change::Route`].
    Route,
    /// [`Change::Deadline`].
    Deadline,
    /// Every escalation kind.
    Escalation,
}

impl Change {
    /// The summary heading it counts under.
    pub fn group(&self) -> Group {
        match self {
            Change::Route { .. } => Group::Route,
            Change::Deadline { .. } => Group::Deadline,
            _ => Group::Escalation,
        }
    }

    /// Its `kind` as serialized (`would_escalate`).
    pub fn kind(&self) -> &'static str {
        match self {
            Change::Route { .. } => "route",
            Change::Deadline { .. } => "deadline",
            Change::WouldEscalate { .. } => "would_escalate",
            Change::WouldNotEscalate { .. } => "would_not_escalate",
            Change::WouldNotHaveEscalated { .. } => "would_not_have_escalated",
            Change::EscalationTarget { .. } => "escalation_target",
        }
    }
}

/// A routing decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Routed {
    /// The agency; `None` when the route policy failed.
    pub agency: Option<String>,
    /// The policy's reason, or the failure (`file:line: message`).
    pub reason: String,
    /// The policy that decided or failed (`rules/route.rhai`, `built-in`).
    pub policy: String,
}

/// A clock's deadline: the exclusive instant it breaches at, and the local date of its last day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Due {
    /// When the clock breaches.
    pub due_at: DateTime<Utc>,
    /// The last working day, in the calendar's time zone.
    pub due_date: NaiveDate,
}

impl Due {
    /// The deadline of a running clock's schedule (`None` while paused).
    fn of(s: &Schedule) -> Option<Due> {
        s.due.map(|d| Due { due_at: d.due_at, due_date: d.due_date })
    }
}

/// Why a deadline moves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Moved {
    /// The candidate gives the clock another budget.
    SlaChanged,
    /// The candidate's calendars (or directory) count the same budget to another day.
    CalendarChanged,
}

impl Moved {
    /// As serialized (`sla_changed`).
    pub fn as_str(self) -> &'static str {
        match self {
            Moved::SlaChanged => "sla_changed",
            Moved::CalendarChanged => "calendar_changed",
        }
    }
}

/// Every difference the candidate makes to `case`, whose events are `history` (in seq order); open
/// clocks are judged at `at`. Empty when both packs decide alike.
pub fn differences(packs: Packs<'_>, case: &Case, history: &[ReplayEvent<'_>], at: DateTime<Utc>) -> Vec<Difference> {
    let mut changes: Vec<(Option<Clock>, Change)> = Vec::new();
    changes.extend(route_change(packs, case, history).map(|c| (None, c)));
    let (active, candidate, moved) = recomputed(packs, case);
    for (clock, reason) in moved {
        let before = due_of(packs.active, &active, &clock);
        let after = due_of(packs.candidate, &candidate, &clock);
        if let (Some(before), Some(after)) = (before, after) {
            changes.push((Some(clock), Change::Deadline { before, after, reason }));
        }
    }
    changes.extend(open_breach_change(packs, &active, &candidate, at));
    changes.extend(past::escalation_changes(packs, case, history));
    let region = case.region.as_ref().map(|r| r.to_string());
    changes
        .into_iter()
        .map(|(clock, change)| Difference {
            tracking_id: case.tracking_id.clone(),
            region: region.clone(),
            clock,
            change,
        })
        .collect()
}

/// The route each pack decides for the case at its `assigned` event, when routing decided it then and
/// the two packs name different agencies.
fn route_change(packs: Packs<'_>, case: &Case, history: &[ReplayEvent<'_>]) -> Option<Change> {
    let assigned = history.iter().find(|e| EventType::parse(e.event_type) == Some(EventType::Assigned))?;
    if assigned.data["reason"].as_str() == Some(DISPATCHED_BY_ADMIN) {
        return None;
    }
    let before = routed(packs.active, case, assigned.at);
    let after = routed(packs.candidate, case, assigned.at);
    (before.agency != after.agency).then_some(Change::Route { before, after })
}

fn routed(pack: &Pack, case: &Case, at: DateTime<Utc>) -> Routed {
    let mut trace = Vec::new();
    match route(pack, case, at, &mut trace) {
        Ok((agency, reason)) => {
            let policy = trace.last().map(|t| t.policy.clone()).unwrap_or_default();
            Routed { agency: Some(agency), reason, policy }
        }
        Err(RouteError::Policy(e)) => Routed { agency: None, reason: e.to_string(), policy: e.file },
        Err(e @ RouteError::UnknownRegion(_)) => Routed { agency: None, reason: e.to_string(), policy: String::new() },
    }
}

/// The case with its open clocks as each pack has them (the active pack's first, the candidate
/// recomputed from that), and each clock whose deadline the candidate moves, with why.
fn recomputed(packs: Packs<'_>, case: &Case) -> (Case, Case, Vec<(Clock, Moved)>) {
    let mut active = case.clone();
    recompute_deadlines(packs.active, &mut active, &due_map(packs.active, case));
    let mut candidate = active.clone();
    let changes = recompute_deadlines(packs.candidate, &mut candidate, &due_map(packs.active, &active)).changes;
    let moved = changes
        .into_iter()
        .map(|c| {
            let why = match c.reason {
                ChangeReason::SlaChanged { .. } => Moved::SlaChanged,
                _ => Moved::CalendarChanged,
            };
            (c.clock, why)
        })
        .collect();
    (active, candidate, moved)
}

fn due_map(pack: &Pack, case: &Case) -> BTreeMap<Clock, Option<DateTime<Utc>>> {
    case.schedules(pack).into_iter().map(|(c, s)| (c, s.due_at())).collect()
}

/// An open clock's deadline on `pack`'s calendars.
fn due_of(pack: &Pack, case: &Case, clock: &Clock) -> Option<Due> {
    let t = case.timers.get(clock)?;
    Due::of(&t.timer.schedule(&pack.calendar_for(&t.timer.calendar)))
}

/// An escalation a sweep makes: the clocks that breached (in the sweep's order) and the target.
struct Escalation {
    clocks: Vec<Clock>,
    target: String,
}

/// What a sweep at `at` would escalate `case` for on `pack` (on a copy, with no rung fired yet).
fn sweep_escalation(pack: &Pack, case: &Case, at: DateTime<Utc>) -> Option<Escalation> {
    let mut copy = case.clone();
    let out = sweep_case(pack, &mut copy, &Fired::new(), at);
    let e = out.outcome.events.iter().find(|e| e.event_type == EventType::Escalated.as_str())?;
    let clocks = Vec::<Clock>::deserialize(&e.data["clocks"]).ok().filter(|c| !c.is_empty())?;
    Some(Escalation { clocks, target: copy.agency? })
}

/// The difference between what a sweep at `at` would escalate on each pack, if any.
fn open_breach_change(
    packs: Packs<'_>,
    active: &Case,
    candidate: &Case,
    at: DateTime<Utc>,
) -> Option<(Option<Clock>, Change)> {
    let dues = |clock: &Clock| Some((due_of(packs.active, active, clock)?, due_of(packs.candidate, candidate, clock)?));
    match (sweep_escalation(packs.active, active, at), sweep_escalation(packs.candidate, candidate, at)) {
        (None, Some(e)) => {
            let clock = e.clocks[0].clone();
            let (before, after) = dues(&clock)?;
            Some((Some(clock), Change::WouldEscalate { before, after, target: e.target }))
        }
        (Some(e), None) => {
            let clock = e.clocks[0].clone();
            let (before, after) = dues(&clock)?;
            Some((Some(clock), Change::WouldNotEscalate { before, after }))
        }
        (Some(a), Some(c)) if a.target != c.target => {
            Some((Some(c.clocks[0].clone()), Change::EscalationTarget { at, before: a.target, after: c.target }))
        }
        _ => None,
    }
}

/// Where `pack` escalates `case` (as it stands) on a breach of `clock` at `at`: an agency id, or
/// `ombudsman` for a referral.
fn target(pack: &Pack, case: &Case, clock: &Clock, at: DateTime<Utc>) -> String {
    match escalation_target(pack, case, clock.as_str(), at, &mut Vec::new()) {
        EscalationTarget::Agency(a) => a,
        EscalationTarget::Ombudsman => OMBUDSMAN.to_owned(),
    }
}
