//! What a deadline sweep does to one case at one instant (docs/workflow.md#sweep-effects).
//!
//! Each clock has two rungs: the warning (at its warning point, only inside the holder's working hours;
//! dropped once the clock has breached) and the breach (at `due_at`, at any hour). A breach of `respond`
//! or `complete` escalates; the case escalates at most once per sweep, listing every clock that breached;
//! `complete` escalates only once in a case's life. A `verify` breach emits `verify_overdue`; a `close`
//! breach closes the case. Each (clock, generation, rung) acts once: the caller records every rung this
//! returns in `fire` in the same transaction, under a unique key, so a second sweep finds it done.

use crate::case::{apply_escalation, escalation_target, Case, NewEvent, Outcome};
use crate::clock::{Clock, Generation};
use crate::event::EventType;
use crate::pack::Pack;
use crate::sla::Rollout;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::HashSet;
use std::fmt;

/// A rung of a clock's ladder: what a sweep does when the clock reaches a point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rung {
    /// At the warning point, inside the holder's working hours: `deadline_warning`.
    Warning,
    /// At `due_at`, at any hour: the clock's breach (escalate, close, `verify_overdue`, ...).
    Breach,
}

impl Rung {
    /// Every rung, in the order they fire.
    pub const ALL: [Rung; 2] = [Rung::Warning, Rung::Breach];

    /// The stored name (`warning`, `breach`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rung::Warning => "warning",
            Rung::Breach => "breach",
        }
    }

    /// The rung with the stored name `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

impl fmt::Display for Rung {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Rungs already acted on: (clock, generation, rung).
pub type Fired = HashSet<(Clock, Generation, Rung)>;

/// The rungs already acted on, from their stored form (clock, generation, rung name). A row naming a
/// rung the engine does not know is left out: no rung of the engine would ever match it.
pub fn fired_from_rows(rows: impl IntoIterator<Item = (String, i64, String)>) -> Fired {
    rows.into_iter()
        .filter_map(|(c, g, r)| Some((Clock::from(c), Generation::new(g as u64), Rung::parse(&r)?)))
        .collect()
}

/// What one sweep did to one case.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    /// Events, hooks for holders and the escalation source (as for a command).
    pub outcome: Outcome,
    /// Rungs to record as done.
    pub fire: Vec<(Clock, Generation, Rung)>,
    /// Warnings sent.
    pub warned: u32,
    /// Escalations (0 or 1).
    pub escalated: u32,
    /// Cases closed (0 or 1).
    pub closed: u32,
    /// Due rungs not acted on (outside working hours, off or report-only, breaches of referred cases).
    pub held: u32,
}

impl SweepOutcome {
    /// Whether the case itself changed (so its row and timers must be written).
    pub fn changed(&self) -> bool {
        !self.outcome.events.is_empty()
    }
}

fn fired(f: &Fired, clock: &Clock, generation: Generation, rung: Rung) -> bool {
    f.contains(&(clock.clone(), generation, rung))
}

/// Sweeps one case at `now`. On return the case is updated (escalated, closed) and `fire` lists the rungs
/// to record.
pub fn sweep_case(pack: &Pack, case: &mut Case, done: &Fired, now: DateTime<Utc>) -> SweepOutcome {
    let mut out = SweepOutcome::default();
    if pack.workflow.is_final(&case.status) {
        return out;
    }
    let mut breached: Vec<Clock> = Vec::new();
    let mut close = false;
    let clocks: Vec<Clock> = case.timers.keys().cloned().collect();
    for clock in clocks {
        let t = &case.timers[&clock];
        let cal = pack.calendar_for(&t.timer.calendar);
        let s = t.timer.schedule(&cal);
        let (Some(due), Some(warn)) = (s.due_at(), s.warn_at) else { continue };
        let generation = t.generation;
        let rungs = pack.slas.rungs(&clock);
        let is_breached = now >= due;
        if !fired(done, &clock, generation, Rung::Warning) && now >= warn {
            if is_breached {
                // A warning whose clock already breached is dropped.
                out.fire.push((clock.clone(), generation, Rung::Warning));
            } else if rungs.warning != Rollout::Enforce {
                out.held += 1;
                out.fire.push((clock.clone(), generation, Rung::Warning));
            } else if !cal.within_working_hours(now) {
                out.held += 1; // waits for the holder's working hours
            } else {
                out.warned += 1;
                out.fire.push((clock.clone(), generation, Rung::Warning));
                out.outcome.events.push(NewEvent {
                    event_type: EventType::DeadlineWarning.into(),
                    data: json!({"clock": clock, "due_at": due, "due_date": s.due_date(), "warn_at": warn}),
                });
            }
        }
        if !is_breached || fired(done, &clock, generation, Rung::Breach) {
            continue;
        }
        out.fire.push((clock.clone(), generation, Rung::Breach));
        if rungs.breach != Rollout::Enforce {
            out.held += 1;
            continue;
        }
        if clock == Clock::VERIFY {
            out.outcome.events.push(NewEvent {
                event_type: EventType::VerifyOverdue.into(),
                data: json!({"clock": clock, "due_at": due, "region": case.region.as_ref().map(|r| r.to_string())}),
            });
        } else if clock == Clock::CLOSE {
            close = true;
        } else if clock.escalates() {
            if case.is_referred() {
                out.held += 1;
            } else if escalated_once(case, &clock) {
                // `complete` escalates only once; later breaches are recorded and dropped.
            } else {
                breached.push(clock.clone());
            }
        } else {
            out.outcome.events.push(NewEvent {
                event_type: EventType::DeadlineBreached.into(),
                data: json!({"clock": clock, "due_at": due}),
            });
        }
    }
    if close {
        case.timers.clear();
        case.status = pack.workflow.meaning().closed.clone();
        out.closed = 1;
        out.outcome.events.push(NewEvent { event_type: EventType::Closed.into(), data: json!({"reason": "no_reply"}) });
        return out;
    }
    if !breached.is_empty() {
        escalate_breached(pack, case, &breached, now, &mut out);
    }
    out
}

/// Escalates a case whose `respond` or `complete` breached. A clock that cannot resume at `now` (the
/// case paused later than this sweep's instant) holds the escalation: its breach rungs are not recorded,
/// so a later sweep tries again.
fn escalate_breached(pack: &Pack, case: &mut Case, breached: &[Clock], now: DateTime<Utc>, out: &mut SweepOutcome) {
    let traced = out.outcome.trace.len();
    let target = escalation_target(pack, case, breached[0].as_str(), now, &mut out.outcome.trace);
    match apply_escalation(pack, case, target, "deadline_breached", breached, now, &mut out.outcome) {
        Ok(()) => {
            case.state.breach_escalated.extend(breached.iter().cloned());
            out.escalated = 1;
        }
        Err(_) => {
            out.outcome.trace.truncate(traced);
            out.fire.retain(|(c, _, rung)| !(*rung == Rung::Breach && breached.contains(c)));
            out.held += breached.len() as u32;
        }
    }
}

/// The earliest instant (from `now` on) a sweep has something to do for one clock: its warning point,
/// moved to the holder's next opening when that falls outside working hours, while the warning has not
/// fired; else its deadline while the breach has not fired; `None` when paused or when both rungs are
/// done. A held warning thus waits in the index, not in every sweep.
pub fn next_action_at(
    pack: &Pack,
    case: &Case,
    clock: &Clock,
    done: &Fired,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let t = case.timers.get(clock)?;
    let cal = pack.calendar_for(&t.timer.calendar);
    let s = t.timer.schedule(&cal);
    let (due, warn) = (s.due_at()?, s.warn_at?);
    let breach_done = fired(done, clock, t.generation, Rung::Breach)
        || escalated_once(case, clock)
        || (case.is_referred() && clock.escalates());
    let warning = (!fired(done, clock, t.generation, Rung::Warning)).then(|| cal.next_opening(warn.max(now)).min(due));
    match (warning, breach_done) {
        (Some(w), _) => Some(w),
        (None, false) => Some(due),
        (None, true) => None,
    }
}

/// Whether `clock` escalates only once in a case's life and already has (`complete`).
fn escalated_once(case: &Case, clock: &Clock) -> bool {
    *clock == Clock::COMPLETE && case.state.breach_escalated.contains(clock)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rungs_keep_their_stored_names() {
        for r in Rung::ALL {
            assert_eq!(Rung::parse(r.as_str()), Some(r));
        }
        assert_eq!((Rung::Warning.as_str(), Rung::Breach.as_str()), ("warning", "breach"));
        let fired = fired_from_rows([
            ("respond".to_owned(), 2, "breach".to_owned()),
            ("respond".to_owned(), 2, "warn".to_owned()),
        ]);
        assert_eq!(fired, Fired::from([(Clock::RESPOND, Generation::new(2), Rung::Breach)]), "unknown rungs left out");
    }
}
