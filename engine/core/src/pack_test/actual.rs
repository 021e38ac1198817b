//! What the engine decides for a test case: the `policy explain` answer at `at`, then the case played
//! through the real workflow: submitted and verified at `at`, forwarded as the case asks, then swept at
//! each deadline of an escalating clock (`respond`, `complete`) until it is referred to the Ombudsman.

use super::TestCase;
use crate::case::{decide, submit, Actor, Case, Command, NewCase, NewEvent, Outcome};
use crate::clock::Clock;
use crate::event::EventType;
use crate::explain::{explain, explain_route, explain_timer, ComplaintFacts, DeadlineExplanation, Explanation};
use crate::pack::Pack;
use crate::rules::TraceStep;
use crate::sweep::{sweep_case, Fired, Rung as SweepRung};
use crate::timer::CalendarRef;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

/// How many escalations a case is followed through at most (the national ladder has four rungs).
const MAX_RUNGS: usize = 12;
/// How many sweeps a case is followed through at most (a breach that does not escalate takes one).
const MAX_SWEEPS: usize = 32;

/// One escalation as the engine made it.
#[derive(Debug, Clone)]
pub(super) struct Rung {
    /// The target (`ombudsman` for a referral).
    pub to: String,
    /// The clocks whose breach escalated (empty for the forward limit).
    pub clocks: Vec<Clock>,
    /// `deadline_breached` or `forward_limit`.
    pub reason: String,
    /// When (the sweep's instant, or `at` for a forward), in the target calendar's local offset.
    pub at: String,
    /// The `respond` clock restarted at the target, if any.
    pub respond: Option<DeadlineExplanation>,
}

/// Everything a case's expectations are compared with.
#[derive(Debug)]
pub(super) struct Actual {
    /// The `policy explain` answer.
    pub explanation: Explanation,
    /// The holder once verified and forwarded.
    pub holder: Option<String>,
    /// The escalations, level 1 first.
    pub rungs: Vec<Rung>,
    /// The trace, one line a step: explain's, then the forwards' and escalations'.
    pub trace: Vec<String>,
    /// Policies that failed and actions the engine refused.
    pub errors: Vec<String>,
}

/// Runs a case through the engine.
pub(super) fn actual(pack: &Pack, case: &TestCase) -> Actual {
    let facts = ComplaintFacts {
        kind: case.kind,
        category: case.category.clone(),
        region: case.region.clone(),
        investigation: case.investigation,
        channel: case.channel.clone(),
        title: case.title.clone(),
    };
    let mut steps = Vec::new();
    let (route, failed) = explain_route(pack, &facts, case.at, &mut steps);
    let explanation = explain(pack, &facts, case.at, route, steps);
    let mut trace: Vec<String> = explanation.trace.iter().map(trace_line).collect();
    let mut errors: Vec<String> = failed.map(|e| format!("a policy failed: {e}")).into_iter().collect();
    let mut rungs = Vec::new();
    if explanation.route.agency.is_none() && errors.is_empty() {
        // No route and no failure: a region in no table, which the admin dispatches by hand.
        return Actual { explanation, holder: None, rungs, trace, errors };
    }
    let (mut c, _) = submit(pack, new_case(case), case.at);
    let verify = Command::Verify { agency: None, category: None, investigation: Some(case.investigation) };
    if let Err(e) = decide(pack, &mut c, &Actor::system(), &verify, case.at) {
        errors.push(format!("verify was refused: {e}"));
        return Actual { explanation, holder: None, rungs, trace, errors };
    }
    for (i, to) in case.forwards.iter().enumerate() {
        let cmd = Command::Forward { agency: to.clone(), reason: "policy test".into() };
        match decide(pack, &mut c, &Actor::system(), &cmd, case.at) {
            Ok(out) => {
                trace.extend(out.trace.iter().map(|s| step_line(&format!("forward {}", i + 1), s)));
                rungs.extend(escalations(pack, &c, &out.events, case.at));
            }
            Err(e) => errors.push(format!("forward {} to {to} was refused: {e}", i + 1)),
        }
    }
    let holder = c.agency.clone();
    let mut done = Fired::new();
    for _ in 0..MAX_SWEEPS {
        if rungs.len() >= MAX_RUNGS {
            break;
        }
        let Some((now, out)) = sweep_next_breach(pack, &mut c, &mut done) else { break };
        let level = c.escalation_level;
        trace.extend(out.trace.iter().map(|s| step_line(&format!("escalate level {level}"), s)));
        rungs.extend(escalations(pack, &c, &out.events, now));
    }
    Actual { explanation, holder, rungs, trace, errors }
}

/// Sweeps the case at the earliest deadline of an escalating clock whose breach has not fired yet, as
/// the first sweep at or after `due_at` would; `None` when no such clock runs or the case was referred.
fn sweep_next_breach(pack: &Pack, c: &mut Case, done: &mut Fired) -> Option<(DateTime<Utc>, Outcome)> {
    if c.is_referred() || pack.workflow.is_final(&c.status) {
        return None;
    }
    let now = c
        .timers
        .iter()
        .filter(|(clock, t)| clock.escalates() && !done.contains(&((*clock).clone(), t.generation, SweepRung::Breach)))
        .filter_map(|(_, t)| t.timer.schedule(&pack.calendar_for(&t.timer.calendar)).due_at())
        .min()?;
    let swept = sweep_case(pack, c, done, now);
    done.extend(swept.fire);
    Some((now, swept.outcome))
}

fn new_case(case: &TestCase) -> NewCase {
    NewCase {
        id: format!("test:{}", case.name),
        tracking_id: String::new(),
        kind: case.kind,
        channel: case.channel.clone(),
        category: case.category.clone(),
        region: case.region.clone(),
        privacy: case.privacy,
        title: case.title.clone(),
        received_at: case.at,
    }
}

/// The `escalated` events among `events`, with the case's `respond` clock as they left it.
fn escalations(pack: &Pack, c: &Case, events: &[NewEvent], at: DateTime<Utc>) -> Vec<Rung> {
    let respond = c.timers.get(&Clock::RESPOND).map(|t| explain_timer(pack, &t.timer, &t.sla_source));
    events
        .iter()
        .filter(|e| e.event_type == EventType::Escalated.as_str())
        .map(|e| Rung {
            to: e.data["to"].as_str().unwrap_or_default().to_owned(),
            clocks: serde_json::from_value(e.data["clocks"].clone()).unwrap_or_default(),
            reason: e.data["reason"].as_str().unwrap_or_default().to_owned(),
            at: {
                let tz = pack
                    .calendar_for(&CalendarRef::Agency(e.data["to"].as_str().unwrap_or_default().into()))
                    .time_zone();
                at.with_timezone(&tz).to_rfc3339_opts(SecondsFormat::Secs, true)
            },
            respond: respond.clone(),
        })
        .collect()
}

/// One trace step of a decision as a line: `escalate level 1 policy=built-in outcome=decided detail=…`,
/// then the scope consulted (` scope=35.78`) for a policy's step.
fn step_line(step: &str, s: &TraceStep) -> String {
    let detail = if s.detail.is_empty() { String::new() } else { format!(" detail={}", s.detail) };
    let scope = s.scope.as_ref().map_or(String::new(), |c| format!(" scope={c}"));
    format!("{step} policy={} outcome={}{detail}{scope}", s.policy, s.outcome)
}

/// One step of `policy explain`'s trace as a line: its `step`, then `key=value` for every other field.
pub(super) fn trace_line(v: &Value) -> String {
    let Some(m) = v.as_object() else { return v.to_string() };
    let mut line = m.get("step").and_then(Value::as_str).unwrap_or_default().to_owned();
    // The fields an author looks for first, then the rest in name order.
    let first = ["policy", "outcome", "clock", "detail"];
    let rest = m.keys().filter(|k| *k != "step" && !first.contains(&k.as_str())).map(String::as_str);
    for k in first.into_iter().chain(rest) {
        let Some(v) = m.get(k).filter(|v| v.as_str() != Some("")) else { continue };
        let v = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        line.push_str(&format!(" {k}={v}"));
    }
    line
}
