//! Submitting a complaint and taking a workflow action on a case.

use super::clocks::{deadlines_json, pause_running, rebase_calendars, resume_paused, start_clock, Journal};
use super::escalation::{apply_escalation, escalation_target, EscalationTarget};
use super::{invalid, Actor, Case, CaseState, Command, DecideError, NewCase, NewEvent, Outcome, Privacy};
use crate::directory::ROOT;
use crate::pack::Pack;
use crate::rules::{route_args, PolicyDecision, PolicyError, TraceStep};
use crate::timer::ChangeReason;
use crate::workflow::{Action, Role};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Files a new complaint: status `submitted`, the `verify` clock started at `received_at`.
pub fn submit(pack: &Pack, new: NewCase, now: DateTime<Utc>) -> (Case, Outcome) {
    let mut case = Case {
        id: new.id,
        tracking_id: new.tracking_id,
        kind: new.kind,
        channel: new.channel,
        category: new.category,
        region: new.region,
        privacy: new.privacy,
        title: new.title,
        status: "submitted".into(),
        agency: None,
        escalation_level: 0,
        flags: Vec::new(),
        state: CaseState::default(),
        created_at: new.received_at,
        first_assigned_at: None,
        first_followup_at: None,
        first_followup_agency: None,
        timers: BTreeMap::new(),
    };
    if let Some(a) = pack.workflow.action("submit") {
        for c in &a.start {
            start_clock(pack, &mut case, c, new.received_at);
        }
    }
    let mut data = json!({
        "kind": case.kind.as_str(),
        "category": case.category,
        "region": case.region.as_ref().map(|r| r.to_string()),
        "channel": case.channel,
        "received_at": new.received_at,
    });
    if case.privacy != Privacy::Confidential {
        data["title"] = json!(case.title);
    }
    let _ = now;
    let events = vec![NewEvent { event_type: "submitted".into(), data }];
    (case, Outcome { events, ..Outcome::default() })
}

fn authorize(pack: &Pack, case: &Case, actor: &Actor, action: &Action) -> Result<(), DecideError> {
    if actor.role == Role::System {
        return Ok(());
    }
    if !action.roles.contains(&actor.role) {
        return Err(DecideError::Forbidden(format!(
            "`{}` needs the role {}",
            action.name,
            action.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ")
        )));
    }
    match actor.role {
        Role::Officer if actor.agency.is_none() || actor.agency != case.agency => {
            return Err(DecideError::Forbidden("an officer acts only on cases its agency holds".into()));
        }
        Role::Admin => {
            let scope = actor.agency.as_deref().unwrap_or(ROOT);
            let subject = case
                .agency
                .clone()
                .or_else(|| case.region.as_ref().and_then(|r| pack.directory.government_of(r)).map(str::to_owned))
                .unwrap_or_else(|| ROOT.to_owned());
            if scope != ROOT && !pack.directory.in_subtree(scope, &subject) {
                return Err(DecideError::Forbidden(format!("the case is outside the admin's scope ({scope})")));
            }
        }
        _ => {}
    }
    Ok(())
}

fn check_agency(pack: &Pack, field: &str, agency: &str) -> Result<(), DecideError> {
    if pack.directory.is_empty() || pack.directory.agency(agency).is_some() {
        Ok(())
    } else {
        Err(invalid(field, format!("unknown agency `{agency}`")))
    }
}

/// Decides the route of a case: the region's policies (kab/kota, province, national), else the built-in.
pub fn route(
    pack: &Pack,
    case: &Case,
    now: DateTime<Utc>,
    trace: &mut Vec<TraceStep>,
) -> Result<(String, String), PolicyError> {
    let mut scopes = Vec::new();
    if let Some(r) = &case.region {
        if let Some(k) = r.kabkota() {
            scopes.push(k.to_owned());
        }
        scopes.push(r.province().to_owned());
    }
    let view = case.policy_view();
    match pack.policies.decide("route", &scopes, || route_args(&view, now), trace)? {
        Some(PolicyDecision::Agency { agency, reason }) => {
            if !pack.directory.is_empty() && pack.directory.agency(&agency).is_none() {
                let file = trace.last().map(|t| t.policy.clone()).unwrap_or_default();
                return Err(PolicyError {
                    file,
                    line: 0,
                    message: format!("route returned unknown agency `{agency}`"),
                });
            }
            Ok((agency, reason))
        }
        Some(PolicyDecision::Referral { .. }) => unreachable!("route cannot refer"),
        None => {
            let (agency, reason) = pack.directory.default_route(case.region.as_ref(), case.category.as_deref());
            trace.push(TraceStep { policy: "built-in".into(), outcome: "decided".into(), detail: reason.clone() });
            Ok((agency, reason))
        }
    }
}

/// Takes one workflow action on a case. On error nothing changed.
pub fn decide(
    pack: &Pack,
    case: &mut Case,
    actor: &Actor,
    cmd: &Command,
    now: DateTime<Utc>,
) -> Result<Outcome, DecideError> {
    let name = cmd.action();
    let action =
        pack.workflow.action(name).ok_or_else(|| invalid("action", format!("the workflow has no action `{name}`")))?;
    if !action.from.contains(&case.status) {
        return Err(DecideError::NotAllowed {
            action: name.into(),
            status: case.status.clone(),
            allowed: pack.workflow.allowed_from(&case.status),
        });
    }
    authorize(pack, case, actor, action)?;
    let mut work = case.clone();
    let mut out = Outcome::default();
    let journal = Journal::new(pack, &work);
    let mut moved = ChangeReason::Paused;
    let event: Option<NewEvent>;
    match cmd {
        Command::Verify { agency, category, investigation } => {
            if let Some(c) = category {
                if !pack.directory.is_empty() && pack.directory.category(c).is_none() {
                    return Err(invalid("category", format!("unknown category `{c}`")));
                }
                work.category = Some(c.clone());
            }
            if let Some(i) = investigation {
                work.state.investigation = *i;
            }
            let (to, why) = match agency {
                Some(a) => {
                    check_agency(pack, "agency", a)?;
                    (a.clone(), "dispatched by the admin".to_owned())
                }
                None => route(pack, &work, now, &mut out.trace).map_err(DecideError::Policy)?,
            };
            work.agency = Some(to.clone());
            work.first_assigned_at.get_or_insert(now);
            out.new_holders.push(to.clone());
            moved = ChangeReason::HolderChanged { from: None, to: to.clone() };
            event = Some(NewEvent {
                event_type: "assigned".into(),
                data: json!({"agency": to, "reason": why, "category": work.category, "investigation": work.state.investigation}),
            });
        }
        Command::Archive { reason } => {
            require_text("reason", reason)?;
            event = Some(NewEvent { event_type: "archived".into(), data: json!({"reason": reason}) });
        }
        Command::Forward { agency, reason } => {
            require_text("reason", reason)?;
            check_agency(pack, "agency", agency)?;
            if work.is_referred() {
                return Err(referred(name, &work.status));
            }
            let holder = work.agency.clone().unwrap_or_else(|| ROOT.to_owned());
            if *agency == holder {
                return Err(invalid("agency", "the case is already held there"));
            }
            let count = work.state.forwards.entry(work.escalation_level).or_insert(0);
            *count += 1;
            if *count >= 3 {
                let lca = pack.directory.lowest_common_ancestor(&holder, agency);
                let target = if holder == ROOT {
                    EscalationTarget::Ombudsman
                } else if lca == holder {
                    pack.directory
                        .default_escalation_target(&holder)
                        .map_or(EscalationTarget::Ombudsman, EscalationTarget::Agency)
                } else {
                    EscalationTarget::Agency(lca)
                };
                out.trace.push(TraceStep {
                    policy: "built-in".into(),
                    outcome: "decided".into(),
                    detail: format!(
                        "third forward at level {}: escalate to the common ancestor of {holder} and {agency}",
                        work.escalation_level
                    ),
                });
                apply_escalation(pack, &mut work, target, "forward_limit", &[], now, &mut out);
                *case = work;
                return Ok(out);
            }
            let n = *count;
            work.agency = Some(agency.clone());
            rebase_calendars(&mut work);
            out.new_holders.push(agency.clone());
            let from = holder.clone();
            let to = agency.clone();
            moved = ChangeReason::HolderChanged { from: Some(from.clone()), to: to.clone() };
            event = Some(NewEvent {
                event_type: "forwarded".into(),
                data: json!({"from": from, "to": to, "reason": reason, "count": n}),
            });
        }
        Command::Respond { message } | Command::RequestInfo { message } | Command::Resolve { message } => {
            require_text("message", message)?;
            let t = match cmd {
                Command::Respond { .. } => "responded",
                Command::RequestInfo { .. } => "info_requested",
                _ => "resolved",
            };
            event = Some(NewEvent { event_type: t.into(), data: json!({"message": message}) });
        }
        Command::ProvideInfo { message } | Command::Reopen { message } => {
            require_text("message", message)?;
            let t = if matches!(cmd, Command::ProvideInfo { .. }) { "info_provided" } else { "reopened" };
            moved = ChangeReason::Resumed;
            event = Some(NewEvent { event_type: t.into(), data: json!({"message": message}) });
        }
        Command::Rate { score } => {
            if !(1..=5).contains(score) {
                return Err(invalid("score", "a score is 1 to 5"));
            }
            if work.state.rated {
                return Err(DecideError::NotAllowed {
                    action: name.into(),
                    status: format!("{} (already rated)", work.status),
                    allowed: pack.workflow.allowed_from(&work.status).into_iter().filter(|a| a != "rate").collect(),
                });
            }
            work.state.rated = true;
            event = Some(NewEvent { event_type: "rated".into(), data: json!({"score": score}) });
        }
        Command::Escalate { reason } => {
            require_text("reason", reason)?;
            if work.is_referred() {
                return Err(referred(name, &work.status));
            }
            let target = escalation_target(pack, &work, "manual", now, &mut out.trace);
            // A manual escalation starts a new generation of every clock's rungs.
            for (clock, t) in work.timers.iter_mut() {
                let g = work.state.generations.entry(clock.clone()).or_insert(t.generation);
                *g += 1;
                t.generation = *g;
            }
            apply_escalation(pack, &mut work, target, reason, &[], now, &mut out);
            *case = work;
            return Ok(out);
        }
    }

    // Clock effects of the action, in a fixed order: follow-up, stops, pauses, resumes, restarts, starts.
    if action.follow_up {
        if work.escalation_level == 0 {
            work.timers.remove("respond");
        }
        if work.first_followup_at.is_none() {
            work.first_followup_at = Some(now);
            work.first_followup_agency = work.agency.clone();
        }
    }
    if action.stop_all {
        work.timers.clear();
    }
    for c in &action.stop {
        work.timers.remove(c);
    }
    if action.pause_running {
        pause_running(&mut work, now);
    }
    if action.resume_paused {
        resume_paused(&mut work, now);
    }
    for c in &action.restart {
        work.timers.remove(c);
        start_clock(pack, &mut work, c, now);
    }
    for c in &action.start {
        if !work.timers.contains_key(c) {
            start_clock(pack, &mut work, c, now);
        }
    }
    let was = work.status.clone();
    work.status = action.to.clone();
    let changes = journal.changes(&work, moved);
    let mut ev = event.expect("every action sets its event");
    if !changes.is_empty() {
        ev.data["deadlines"] = deadlines_json(&changes);
    }
    if !out.trace.is_empty() {
        ev.data["trace"] = serde_json::to_value(&out.trace).unwrap_or(Value::Null);
    }
    out.events.push(ev);
    if name == "rate" && was != "closed" && work.status == "closed" {
        out.events.push(NewEvent { event_type: "closed".into(), data: json!({"reason": "rated"}) });
    }
    *case = work;
    Ok(out)
}

fn referred(action: &str, status: &str) -> DecideError {
    DecideError::NotAllowed {
        action: action.into(),
        status: format!("{status} (referred to the Ombudsman)"),
        allowed: ["respond", "request_info", "resolve"].map(String::from).to_vec(),
    }
}

fn require_text(field: &str, v: &str) -> Result<(), DecideError> {
    if v.trim().is_empty() {
        Err(invalid(field, "required"))
    } else {
        Ok(())
    }
}
