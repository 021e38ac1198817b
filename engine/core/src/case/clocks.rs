//! A case's clocks: what each clock's SLA was resolved from, the journal of deadline changes a decision
//! makes, starting, pausing and resuming clocks, and recomputing open deadlines on a new pack.

use super::{Case, CaseTimer};
use crate::clock::Clock;
use crate::domain::Kind;
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::sla::SlaQuery;
use crate::timer::{CalendarRef, ChangeReason, DeadlineChange, Timer, TimerError};
use crate::workflow::{AfterHandover, AfterReferral};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The inputs a clock's SLA was resolved from when it started (besides the case's kind, which never
/// changes). A later recompute resolves the same query on the new pack, so an escalated case's
/// `complete` keeps its level-0 overlay and a `respond` its tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaBasis {
    /// Escalation level when the clock started.
    #[serde(skip_serializing_if = "is_zero")]
    pub level: u32,
    /// Category then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Investigation mark then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub investigation: bool,
    /// Region whose overlays applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Agency whose overlay and tier applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SlaBasis {
    /// The SLA of `clock` for a case of `kind` on this basis.
    pub(crate) fn resolve(
        &self,
        pack: &Pack,
        kind: Kind,
        clock: &Clock,
    ) -> Result<crate::sla::Sla, crate::sla::UnknownClock> {
        let region = self.region.as_deref().and_then(|r| RegionCode::parse(r).ok());
        let q = SlaQuery {
            clock,
            kind,
            category: self.category.as_deref(),
            investigation: self.investigation,
            escalation_level: self.level,
            tier: self.agency.as_deref().map(|a| pack.tier_of(a)),
            region: region.as_ref(),
            agency: self.agency.as_deref(),
        };
        pack.slas.resolve(&q)
    }
}

/// Collects deadline changes while a decision runs, to journal them in the event.
pub(super) struct Journal<'p> {
    pack: &'p Pack,
    before: BTreeMap<Clock, Option<DateTime<Utc>>>,
    started: BTreeMap<Clock, DateTime<Utc>>,
}

impl<'p> Journal<'p> {
    pub(super) fn new(pack: &'p Pack, case: &Case) -> Self {
        let before = case.schedules(pack).into_iter().map(|(c, s)| (c, s.due_at())).collect();
        let started = case.timers.iter().map(|(c, t)| (c.clone(), t.timer.started_at)).collect();
        Self { pack, before, started }
    }

    /// The changes between the start of the decision and now. A clock that appeared is `started`, one
    /// that disappeared `stopped`, a paused one `paused`; a clock that moved takes `moved`.
    pub(super) fn changes(&self, case: &Case, moved: ChangeReason) -> Vec<DeadlineChange> {
        let after: BTreeMap<Clock, Option<DateTime<Utc>>> =
            case.schedules(self.pack).into_iter().map(|(c, s)| (c, s.due_at())).collect();
        let reason_of = |c: &Clock| match (self.before.contains_key(c), case.timers.get(c)) {
            (false, Some(_)) => ChangeReason::Started,
            (true, None) => ChangeReason::Stopped,
            (_, Some(t)) if t.timer.is_paused() => ChangeReason::Paused,
            (true, Some(t)) if t.timer.started_at != self.started.get(c).copied().unwrap_or(t.timer.started_at) => {
                ChangeReason::Started
            }
            _ => moved.clone(),
        };
        let mut clocks: Vec<&Clock> = self.before.keys().chain(after.keys()).collect();
        clocks.sort();
        clocks.dedup();
        clocks
            .into_iter()
            .filter_map(|c| {
                let (old, new) = (self.before.get(c).copied().flatten(), after.get(c).copied().flatten());
                (old != new).then(|| DeadlineChange {
                    clock: c.clone(),
                    old_due_at: old,
                    new_due_at: new,
                    reason: reason_of(c),
                })
            })
            .collect()
    }
}

pub(super) fn start_clock(pack: &Pack, case: &mut Case, clock: &Clock, at: DateTime<Utc>) {
    let cal_ref = case.calendar_ref(clock);
    let (region, agency) = match &cal_ref {
        CalendarRef::Region(r) => (Some(r.clone()), None),
        CalendarRef::Agency(a) => (pack.directory.region_of(a), Some(a.clone())),
        CalendarRef::National => (None, None),
    };
    let basis = SlaBasis {
        level: case.escalation_level,
        category: case.category.clone(),
        investigation: case.state.investigation,
        region: region.map(|r| r.to_string()),
        agency,
    };
    // The workflow validated every clock against the national SLA, so resolution cannot fail.
    let Ok(sla) = basis.resolve(pack, case.kind, clock) else { return };
    let generation = case.state.generations.get(clock).copied().unwrap_or_default().next();
    case.state.generations.insert(clock.clone(), generation);
    case.state.sla_basis.insert(clock.clone(), basis);
    let timer = Timer::start(clock, sla.budget, sla.warn_permille, cal_ref, at);
    case.timers.insert(clock.clone(), CaseTimer { timer, generation, sla_source: sla.source.to_string() });
}

/// What recomputing a case's open deadlines on a new pack changed.
#[derive(Debug, Default)]
pub struct Recomputed {
    /// Each clock whose deadline moved, with the old and new `due_at` and why (journaled as one
    /// `deadline_changed` event).
    pub changes: Vec<DeadlineChange>,
    /// Some clock's budget or warning point changed (the timers must be written even when no deadline
    /// moved).
    pub budgets_changed: bool,
}

/// Recomputes every open clock of `case` on `pack` (ARCHITECTURE.md invariant 5): re-resolves its SLA from the
/// basis it started on and takes the new budget unless the layer that now sets it says
/// `applies_to: new_cases`, then derives its deadline on the pack's calendars. `old_due` holds each
/// clock's stored `due_at`; a clock whose deadline moved is journaled with reason `sla_changed` (its
/// budget changed) or `calendar_changed`. Clocks started before bases were recorded keep their budget.
/// Nothing else about the case is re-decided.
pub fn recompute_deadlines(
    pack: &Pack,
    case: &mut Case,
    old_due: &BTreeMap<Clock, Option<DateTime<Utc>>>,
) -> Recomputed {
    let mut out = Recomputed::default();
    let kind = case.kind;
    for (clock, t) in case.timers.iter_mut() {
        let mut sla_changed = false;
        if let Some(Ok(sla)) = case.state.sla_basis.get(clock).map(|b| b.resolve(pack, kind, clock)) {
            if sla.applies_to == crate::sla::AppliesTo::OpenCases
                && (sla.budget != t.timer.budget || sla.warn_permille != t.timer.warn_permille)
            {
                sla_changed = sla.budget != t.timer.budget;
                t.timer.budget = sla.budget;
                t.timer.warn_permille = sla.warn_permille;
                t.sla_source = sla.source.to_string();
                out.budgets_changed = true;
            }
        }
        let new = t.timer.schedule(&pack.calendar_for(&t.timer.calendar)).due_at();
        let old = old_due.get(clock).copied().flatten();
        if new != old {
            let reason = if sla_changed {
                ChangeReason::SlaChanged { pack: pack.hash.clone() }
            } else {
                ChangeReason::CalendarChanged { pack: pack.hash.clone() }
            };
            out.changes.push(DeadlineChange { clock: clock.clone(), old_due_at: old, new_due_at: new, reason });
        }
    }
    out
}

/// Moves the clocks the workflow says follow the holder (`after_handover: holder`) onto the new
/// holder's calendar; the others keep theirs, so a hand-over never moves the date promised to the
/// citizen.
pub(super) fn rebase_calendars(pack: &Pack, case: &mut Case) {
    if let Some(holder) = case.agency.clone() {
        for (name, t) in case.timers.iter_mut() {
            if name.follows_holder() && pack.workflow.clock_rule(name).after_handover == AfterHandover::Holder {
                t.timer.calendar = CalendarRef::Agency(holder.clone());
            }
        }
    }
}

/// Stops the clocks the workflow stops at an Ombudsman referral (`after_referral: stop`, the default).
pub(super) fn stop_at_referral(pack: &Pack, case: &mut Case) {
    case.timers.retain(|c, _| pack.workflow.clock_rule(c).after_referral == AfterReferral::Run);
}

/// Pauses every running clock at `now`; a clock already paused stays paused from its own instant.
pub(super) fn pause_running(case: &mut Case, now: DateTime<Utc>) {
    for t in case.timers.values_mut() {
        match t.timer.pause(now) {
            Ok(()) | Err(TimerError::AlreadyPaused) => {}
            Err(e @ (TimerError::NotPaused | TimerError::ResumeBeforePause)) => {
                unreachable!("pausing refuses only a paused clock, not with: {e}")
            }
        }
    }
}

/// A paused clock refused to resume: the decision's instant precedes its pause, so another decision on
/// the case was taken later than this one (a race between two requests, or clocks of two replicas that
/// disagree). Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("clock `{clock}`: {error}")]
pub struct ClockError {
    /// The clock.
    pub clock: Clock,
    /// Why it refused.
    pub error: TimerError,
}

/// Resumes every paused clock at `now`, adding the paused working days back. All or nothing: on error no
/// clock has resumed.
pub(super) fn resume_paused(case: &mut Case, now: DateTime<Utc>) -> Result<(), ClockError> {
    let mut timers = case.timers.clone();
    for (clock, t) in timers.iter_mut().filter(|(_, t)| t.timer.is_paused()) {
        t.timer.resume(now).map_err(|error| ClockError { clock: clock.clone(), error })?;
    }
    case.timers = timers;
    Ok(())
}

pub(super) fn deadlines_json(changes: &[DeadlineChange]) -> Value {
    serde_json::to_value(changes).unwrap_or(Value::Null)
}

/// Starts a new generation of every clock's rungs (a manual escalation), so no rung of an older
/// generation fires.
pub(super) fn bump_generations(case: &mut Case) {
    for (clock, t) in case.timers.iter_mut() {
        let g = case.state.generations.entry(clock.clone()).or_insert(t.generation);
        *g = g.next();
        t.generation = *g;
    }
}
