//! Past escalations under the candidate: each escalation a sweep made on a breach (an `escalated`
//! event listing the clocks that breached; manual and forward-limit escalations list none), judged on
//! its own, as the case stood just before it. What came after it is not played again.
//!
//! The breached clock is rebuilt from the history, for each pack: started at the event whose journal
//! (`deadlines`) records it started, with that pack's budget for it (resolved on the basis it started
//! on: the level and holder then, the case's category and investigation mark), paused and resumed where
//! the journal says, counted on the calendar the workflow gives it after hand-overs. The escalation stands
//! on a pack when one of its clocks is due by the escalation's instant there.

use super::{target, Change, Due, Packs};
use crate::case::{Case, SlaBasis};
use crate::clock::Clock;
use crate::event::EventType;
use crate::pack::Pack;
use crate::replay::ReplayEvent;
use crate::timer::{CalendarRef, ChangeReason, DeadlineChange, Suspension, Timer};
use crate::workflow::AfterHandover;
use serde::Deserialize;

/// The differences the candidate makes to the case's past breach escalations.
pub(super) fn escalation_changes(
    packs: Packs<'_>,
    case: &Case,
    history: &[ReplayEvent<'_>],
) -> Vec<(Option<Clock>, Change)> {
    let mut out = Vec::new();
    for (i, e) in history.iter().enumerate().skip(1) {
        if EventType::parse(e.event_type) != Some(EventType::Escalated) {
            continue;
        }
        let clocks = Vec::<Clock>::deserialize(&e.data["clocks"]).unwrap_or_default();
        let dues = |pack: &Pack| -> Vec<(Clock, Due)> {
            clocks.iter().filter_map(|c| Some((c.clone(), rebuilt(pack, case, history, i, c)?))).collect()
        };
        let (active, candidate) = (dues(packs.active), dues(packs.candidate));
        let breached = |dues: &[(Clock, Due)]| dues.iter().find(|(_, d)| d.due_at <= e.at).cloned();
        match (breached(&active), breached(&candidate)) {
            (Some((clock, before)), None) => {
                if let Some((_, after)) = candidate.into_iter().find(|(c, _)| *c == clock) {
                    out.push((Some(clock), Change::WouldNotHaveEscalated { at: e.at, before, after }));
                }
            }
            (Some((a, _)), Some((c, _))) => {
                let then = as_before(case, &history[i - 1]);
                let (before, after) = (target(packs.active, &then, &a, e.at), target(packs.candidate, &then, &c, e.at));
                if before != after {
                    out.push((Some(c), Change::EscalationTarget { at: e.at, before, after }));
                }
            }
            _ => {}
        }
    }
    out
}

/// The case as it stood after `previous`: its holder and level then (what an escalation policy reads
/// besides the complaint's facts, which do not change).
fn as_before(case: &Case, previous: &ReplayEvent<'_>) -> Case {
    let mut then = case.clone();
    then.agency = previous.agency.map(str::to_owned);
    then.escalation_level = previous.escalation_level.unwrap_or(0).max(0) as u32;
    then
}

/// The journal entries of `e` (its `deadlines`) for `clock`.
fn journal(e: &ReplayEvent<'_>, clock: &Clock) -> Vec<DeadlineChange> {
    let all = Vec::<DeadlineChange>::deserialize(&e.data["deadlines"]).unwrap_or_default();
    all.into_iter().filter(|d| d.clock == *clock).collect()
}

/// `clock`'s deadline on `pack` as it ran just before the `until`-th event, rebuilt from the
/// history; `None` when the history does not say when it started or `pack` has no SLA for it.
fn rebuilt(pack: &Pack, case: &Case, history: &[ReplayEvent<'_>], until: usize, clock: &Clock) -> Option<Due> {
    let started = |e: &ReplayEvent<'_>| journal(e, clock).iter().any(|d| d.reason == ChangeReason::Started);
    let start = (0..until).rev().find(|&j| started(&history[j]))?;
    let s = &history[start];
    let holder = s.agency?;
    let basis = SlaBasis {
        level: s.escalation_level.unwrap_or(0).max(0) as u32,
        category: case.category.clone(),
        investigation: case.state.investigation,
        region: pack.directory.region_of(holder).map(|r| r.to_string()),
        agency: Some(holder.to_owned()),
    };
    let sla = basis.resolve(pack, case.kind, clock).ok()?;
    let mut suspensions: Vec<Suspension> = Vec::new();
    for e in &history[start + 1..until] {
        for d in journal(e, clock) {
            match (d.old_due_at, d.new_due_at) {
                (Some(_), None) if d.reason == ChangeReason::Paused => {
                    suspensions.push(Suspension { from: e.at, to: None });
                }
                (None, Some(_)) => {
                    if let Some(open) = suspensions.last_mut().filter(|s| s.to.is_none()) {
                        open.to = Some(e.at);
                    }
                }
                _ => {}
            }
        }
    }
    // The holder's calendar when the clock started, or just before the escalation when the workflow
    // moves the clock with the holder (docs/deadlines.md#hand-over).
    let counted_at = match pack.workflow.clock_rule(clock).after_handover {
        AfterHandover::Keep => holder,
        AfterHandover::Holder => history[until - 1].agency?,
    };
    let calendar = CalendarRef::Agency(counted_at.to_owned());
    let timer = Timer {
        clock: clock.clone(),
        budget: sla.budget,
        warn_permille: sla.warn_permille,
        calendar,
        started_at: s.at,
        suspensions,
    };
    Due::of(&timer.schedule(&pack.calendar_for(&timer.calendar)))
}
