//! The two entry points of a decision: submitting a complaint, and taking one workflow action on a case
//! (the action's own step in [`super::actions`], then the workflow's clock effects, then the event with
//! the deadlines it moved).

use super::actions::{self, Effect};
use super::clocks::{deadlines_json, pause_running, resume_paused, start_clock, ClockError, Journal};
use super::{
    clock_conflict, invalid, Actor, Case, CaseState, Command, DecideError, NewCase, NewEvent, Outcome, Privacy,
    SUPERSEDED_REGION, UNKNOWN_REGION,
};
use crate::access::{self, Denied, Operation};
use crate::clock::Clock;
use crate::directory::RegionStatus;
use crate::event::EventType;
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::timer::ChangeReason;
use crate::workflow::{Action, Role};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use std::collections::BTreeMap;

/// Files a new complaint: in the workflow's `awaiting_dispatch` state (`submitted`), the clocks of the workflow's `submit` action (`verify` in
/// the national pack) started at `received_at`. `now` is not read: a new case's clocks start when the
/// report was received, which the service may date earlier than the request.
pub fn submit(pack: &Pack, new: NewCase, _now: DateTime<Utc>) -> (Case, Outcome) {
    let mut case = Case {
        id: new.id,
        tracking_id: new.tracking_id,
        kind: new.kind,
        channel: new.channel,
        category: new.category,
        region: new.region,
        privacy: new.privacy,
        title: new.title,
        status: pack.workflow.meaning().awaiting_dispatch.clone(),
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
    let given = resolve_region(pack, &mut case);
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
    if let Some(g) = given {
        data["region_given"] = json!(g.as_str());
    }
    if case.privacy != Privacy::Confidential {
        data["title"] = json!(case.title);
    }
    let events = vec![NewEvent { event_type: EventType::Submitted.into(), data }];
    (case, Outcome { events, ..Outcome::default() })
}

/// Checks the complaint's region against the directory: a superseded code becomes today's (returned:
/// the code as given) and flags the case `superseded_region`; a code in no table flags it
/// `unknown_region`, so verification dispatches it by hand (docs/workflow.md#region-codes).
fn resolve_region(pack: &Pack, case: &mut Case) -> Option<RegionCode> {
    match pack.directory.region_status(case.region.as_ref()?) {
        RegionStatus::Known => None,
        RegionStatus::Superseded { now } => {
            case.flags.push(SUPERSEDED_REGION.into());
            case.region.replace(now)
        }
        RegionStatus::Unknown => {
            case.flags.push(UNKNOWN_REGION.into());
            None
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
    let action = workflow_action(pack, cmd.action())?;
    authorize(pack, case, actor, action)?;
    allowed_in_state(pack, case, action)?;
    let mut work = case.clone();
    let mut out = Outcome::default();
    let journal = Journal::new(pack, &work);
    if let Effect::Event { event, moved } = actions::take(pack, &mut work, cmd, now, &mut out)? {
        apply_clock_effects(pack, &mut work, action, now).map_err(|e| clock_conflict(pack, case, &action.name, &e))?;
        record(pack, &journal, &mut work, action, event, moved, &mut out);
    }
    *case = work;
    Ok(out)
}

/// The workflow's action `name`.
fn workflow_action<'p>(pack: &'p Pack, name: &str) -> Result<&'p Action, DecideError> {
    pack.workflow.action(name).ok_or_else(|| invalid("action", format!("the workflow has no action `{name}`")))
}

/// Whether the case's state allows `action` (409 naming what is allowed).
fn allowed_in_state(pack: &Pack, case: &Case, action: &Action) -> Result<(), DecideError> {
    if action.from.contains(&case.status) {
        return Ok(());
    }
    Err(DecideError::NotAllowed {
        action: action.name.clone(),
        status: case.status.clone(),
        allowed: pack.workflow.allowed_from(&case.status),
    })
}

fn authorize(pack: &Pack, case: &Case, actor: &Actor, action: &Action) -> Result<(), DecideError> {
    if actor.role != Role::System && !action.roles.contains(&actor.role) {
        let roles = action.roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" or ");
        return Err(DecideError::Forbidden(format!("`{}` needs the role {roles}", action.name)));
    }
    let subject = access::subject_of(&pack.directory, case.agency.as_deref(), case.region.as_ref());
    let target = access::Target { holder: case.agency.as_deref(), subject: &subject };
    access::check(&pack.directory, actor, Operation::Act, Some(target)).map_err(|d| match d {
        // A case no agency holds yet, refused to a role that may act on cases in its reach: the verify
        // that dispatches it may still be on its way.
        Denied::Forbidden(why)
            if case.agency.is_none() && access::reach(actor.role, Operation::Act) != access::Reach::Nowhere =>
        {
            DecideError::OutOfReach(why)
        }
        Denied::Forbidden(why) => DecideError::Forbidden(why),
        Denied::Unauthenticated => DecideError::Forbidden(format!("`{}` needs a token", action.name)),
    })
}

/// The clock effects of an action, in a fixed order: follow-up, stops, pauses, resumes, restarts, starts.
fn apply_clock_effects(pack: &Pack, work: &mut Case, action: &Action, now: DateTime<Utc>) -> Result<(), ClockError> {
    if action.follow_up {
        if work.escalation_level == 0 {
            work.timers.remove(&Clock::RESPOND);
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
        pause_running(work, now);
    }
    if action.resume_paused {
        resume_paused(work, now)?;
    }
    for c in &action.restart {
        work.timers.remove(c);
        start_clock(pack, work, c, now);
    }
    for c in &action.start {
        if !work.timers.contains_key(c) {
            start_clock(pack, work, c, now);
        }
    }
    Ok(())
}

/// Moves the case into the action's state and appends the action's event, carrying the deadlines that
/// moved and the policies consulted. A rating that closes the case (enters the workflow's `closed`
/// state from another) also appends `closed`.
fn record(
    pack: &Pack,
    journal: &Journal<'_>,
    work: &mut Case,
    action: &Action,
    mut event: NewEvent,
    moved: ChangeReason,
    out: &mut Outcome,
) {
    let was = std::mem::replace(&mut work.status, action.to.clone());
    let changes = journal.changes(work, moved);
    if !changes.is_empty() {
        event.data["deadlines"] = deadlines_json(&changes);
    }
    if !out.trace.is_empty() {
        event.data["trace"] = serde_json::to_value(&out.trace).unwrap_or(Value::Null);
    }
    out.events.push(event);
    let closed = &pack.workflow.meaning().closed;
    if action.name == "rate" && was != *closed && work.status == *closed {
        out.events.push(NewEvent { event_type: EventType::Closed.into(), data: json!({"reason": "rated"}) });
    }
}
