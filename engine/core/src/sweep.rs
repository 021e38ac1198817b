//! What a deadline sweep does to one case at one instant (docs/workflow.md#sweep-effects).
//!
//! Each clock has two rungs: the warning (at its warning point, only inside the holder's working hours;
//! dropped once the clock has breached) and the breach (at `due_at`, at any hour). A breach of `respond`
//! or `complete` escalates; the case escalates at most once per sweep, listing every clock that breached;
//! `complete` escalates only once in a case's life. A `verify` breach emits `verify_overdue`; a `close`
//! breach closes the case. Each (clock, generation, rung) acts once: the caller records every rung this
//! returns in `fire` in the same transaction, under a unique key, so a second sweep finds it done.

use crate::case::{apply_escalation, escalation_target, Case, NewEvent, Outcome};
use crate::pack::Pack;
use crate::sla::Rollout;
use chrono::{DateTime, Utc};
use serde_json::json;
use std::collections::HashSet;

/// The warning rung.
pub const WARNING: &str = "warning";
/// The breach rung.
pub const BREACH: &str = "breach";

/// Rungs already acted on: (clock, generation, rung).
pub type Fired = HashSet<(String, u64, String)>;

/// What one sweep did to one case.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    /// Events, hooks for holders and the escalation source (as for a command).
    pub outcome: Outcome,
    /// Rungs to record as done.
    pub fire: Vec<(String, u64, &'static str)>,
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

fn fired(f: &Fired, clock: &str, generation: u64, rung: &str) -> bool {
    f.contains(&(clock.to_owned(), generation, rung.to_owned()))
}

/// Sweeps one case at `now`. On return the case is updated (escalated, closed) and `fire` lists the rungs
/// to record.
pub fn sweep_case(pack: &Pack, case: &mut Case, done: &Fired, now: DateTime<Utc>) -> SweepOutcome {
    let mut out = SweepOutcome::default();
    if pack.workflow.is_final(&case.status) {
        return out;
    }
    let mut breached: Vec<String> = Vec::new();
    let mut close = false;
    let clocks: Vec<String> = case.timers.keys().cloned().collect();
    for clock in clocks {
        let t = &case.timers[&clock];
        let cal = pack.calendar_for(&t.timer.calendar);
        let s = t.timer.schedule(&cal);
        let (Some(due), Some(warn)) = (s.due_at(), s.warn_at) else { continue };
        let generation = t.generation;
        let rungs = pack.slas.rungs(&clock);
        let is_breached = now >= due;
        if !fired(done, &clock, generation, WARNING) && now >= warn {
            if is_breached {
                // A warning whose clock already breached is dropped.
                out.fire.push((clock.clone(), generation, WARNING));
            } else if rungs.warning != Rollout::Enforce {
                out.held += 1;
                out.fire.push((clock.clone(), generation, WARNING));
            } else if !cal.within_working_hours(now) {
                out.held += 1; // waits for the holder's working hours
            } else {
                out.warned += 1;
                out.fire.push((clock.clone(), generation, WARNING));
                out.outcome.events.push(NewEvent {
                    event_type: "deadline_warning".into(),
                    data: json!({"clock": clock, "due_at": due, "due_date": s.due_date(), "warn_at": warn}),
                });
            }
        }
        if !is_breached || fired(done, &clock, generation, BREACH) {
            continue;
        }
        out.fire.push((clock.clone(), generation, BREACH));
        if rungs.breach != Rollout::Enforce {
            out.held += 1;
            continue;
        }
        match clock.as_str() {
            "verify" => out.outcome.events.push(NewEvent {
                event_type: "verify_overdue".into(),
                data: json!({"clock": "verify", "due_at": due, "region": case.region.as_ref().map(|r| r.to_string())}),
            }),
            "close" => close = true,
            "respond" | "complete" => {
                if case.is_referred() {
                    out.held += 1;
                } else if clock == "complete" && case.state.breach_escalated.contains("complete") {
                    // `complete` escalates only once; later breaches are recorded and dropped.
                } else {
                    breached.push(clock.clone());
                }
            }
            _ => out.outcome.events.push(NewEvent {
                event_type: "deadline_breached".into(),
                data: json!({"clock": clock, "due_at": due}),
            }),
        }
    }
    if close {
        case.timers.clear();
        case.status = "closed".into();
        out.closed = 1;
        out.outcome.events.push(NewEvent { event_type: "closed".into(), data: json!({"reason": "no_reply"}) });
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
fn escalate_breached(pack: &Pack, case: &mut Case, breached: &[String], now: DateTime<Utc>, out: &mut SweepOutcome) {
    let traced = out.outcome.trace.len();
    let target = escalation_target(pack, case, &breached[0], now, &mut out.outcome.trace);
    match apply_escalation(pack, case, target, "deadline_breached", breached, now, &mut out.outcome) {
        Ok(()) => {
            case.state.breach_escalated.extend(breached.iter().cloned());
            out.escalated = 1;
        }
        Err(_) => {
            out.outcome.trace.truncate(traced);
            out.fire.retain(|(c, _, rung)| !(*rung == BREACH && breached.contains(c)));
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
    clock: &str,
    done: &Fired,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let t = case.timers.get(clock)?;
    let cal = pack.calendar_for(&t.timer.calendar);
    let s = t.timer.schedule(&cal);
    let (due, warn) = (s.due_at()?, s.warn_at?);
    let breach_done = fired(done, clock, t.generation, BREACH)
        || (clock == "complete" && case.state.breach_escalated.contains("complete"))
        || (case.is_referred() && (clock == "respond" || clock == "complete"));
    let warning = (!fired(done, clock, t.generation, WARNING)).then(|| cal.next_opening(warn.max(now)).min(due));
    match (warning, breach_done) {
        (Some(w), _) => Some(w),
        (None, false) => Some(due),
        (None, true) => None,
    }
}
