//! One function per workflow action: its checks, what it changes on the case besides the clocks, and its
//! event. [`super::decide`] runs the workflow's clock effects and records the event afterwards; the
//! escalating actions (a manual escalation, the third forward) finish the decision themselves.

use super::clocks::{bump_generations, rebase_calendars};
use super::decision;
use super::escalation::{apply_escalation, escalate_forward_limit, escalation_target};
use super::{clock_conflict, invalid, Case, Command, DecideError, NewEvent, Outcome};
use crate::directory::{RegionStatus, ROOT};
use crate::event::EventType;
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::rules::{route_args, Hook, PolicyDecision, PolicyError, TraceStep};
use crate::timer::ChangeReason;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

/// The `reason` of an `assigned` event when the admin named the agency, so routing did not decide.
pub const DISPATCHED_BY_ADMIN: &str = "dispatched by the admin";

/// What an action's own step did.
pub(super) enum Effect {
    /// The action's event, and the reason journaled for a deadline that moves for any cause other than
    /// a clock starting, stopping or pausing. The workflow's clock effects still apply.
    Event {
        /// The event, before its deadlines and trace are added.
        event: NewEvent,
        /// Why a moved deadline moved.
        moved: ChangeReason,
    },
    /// The action escalated the case: its `escalated` event is in the outcome and the decision is done.
    Escalated,
}

fn event(event_type: EventType, data: Value, moved: ChangeReason) -> Effect {
    Effect::Event { event: NewEvent { event_type: event_type.into(), data }, moved }
}

/// Runs the step of `cmd`'s action on `work` (a copy of the case: on error the caller drops it).
pub(super) fn take(
    pack: &Pack,
    work: &mut Case,
    cmd: &Command,
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<Effect, DecideError> {
    match cmd {
        Command::Verify { agency, category, investigation } => {
            verify(pack, work, agency.as_deref(), category.as_deref(), *investigation, now, out)
        }
        Command::Archive { reason } => archive(reason),
        Command::Forward { agency, reason } => forward(pack, work, agency, reason, now, out),
        Command::Respond { message } => respond(message),
        Command::RequestInfo { message } => request_info(message),
        Command::ProvideInfo { message } => provide_info(message),
        Command::Resolve { message } => resolve(message),
        Command::Reopen { message } => reopen(message),
        Command::Rate { score } => rate(pack, work, *score),
        Command::Escalate { reason } => escalate(pack, work, reason, now, out),
    }
}

/// `verify`: set or correct the category and the investigation mark, then dispatch to the given agency
/// or where routing decides.
fn verify(
    pack: &Pack,
    work: &mut Case,
    agency: Option<&str>,
    category: Option<&str>,
    investigation: Option<bool>,
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<Effect, DecideError> {
    if let Some(c) = category {
        if !pack.directory.is_empty() && pack.directory.category(c).is_none() {
            return Err(invalid("category", format!("unknown category `{c}`")));
        }
        work.category = Some(c.to_owned());
    }
    if let Some(i) = investigation {
        work.state.investigation = i;
    }
    let (to, why, record) = match agency {
        Some(a) => {
            check_agency(pack, "agency", a)?;
            (a.to_owned(), DISPATCHED_BY_ADMIN.to_owned(), None)
        }
        None => {
            let (to, why) = route(pack, work, now, &mut out.trace).map_err(|e| match e {
                RouteError::Policy(e) => DecideError::Policy(e),
                e @ RouteError::UnknownRegion(_) => invalid("agency", format!("{e}: dispatch it with `agency`")),
            })?;
            let record = decision::routed(pack, work, &to, &why);
            (to, why, Some(record))
        }
    };
    work.agency = Some(to.clone());
    work.first_assigned_at.get_or_insert(now);
    out.new_holders.push(to.clone());
    let mut data =
        json!({"agency": to, "reason": why, "category": work.category, "investigation": work.state.investigation});
    if let Some(r) = record {
        data["decision"] = r;
    }
    Ok(event(EventType::Assigned, data, ChangeReason::HolderChanged { from: None, to }))
}

/// `archive`: set aside with a reason.
fn archive(reason: &str) -> Result<Effect, DecideError> {
    require_text("reason", reason)?;
    Ok(event(EventType::Archived, json!({"reason": reason}), ChangeReason::Paused))
}

/// `forward` (bukan wewenang): hand the case to the agency with the authority; the third forward at one
/// escalation level escalates instead.
fn forward(
    pack: &Pack,
    work: &mut Case,
    agency: &str,
    reason: &str,
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<Effect, DecideError> {
    require_text("reason", reason)?;
    check_agency(pack, "agency", agency)?;
    if work.is_referred() {
        return Err(referred("forward", &work.status));
    }
    let holder = work.agency.clone().unwrap_or_else(|| ROOT.to_owned());
    if agency == holder {
        return Err(invalid("agency", "the case is already held there"));
    }
    let count = work.state.forwards.entry(work.escalation_level).or_insert(0);
    *count += 1;
    let n = *count;
    if n >= 3 {
        escalate_forward_limit(pack, work, &holder, agency, now, out)
            .map_err(|e| clock_conflict(pack, work, "forward", &e))?;
        return Ok(Effect::Escalated);
    }
    work.agency = Some(agency.to_owned());
    rebase_calendars(pack, work);
    out.new_holders.push(agency.to_owned());
    let data = json!({"from": holder, "to": agency, "reason": reason, "count": n});
    Ok(event(EventType::Forwarded, data, ChangeReason::HolderChanged { from: Some(holder), to: agency.to_owned() }))
}

/// `respond`: a follow-up message.
fn respond(message: &str) -> Result<Effect, DecideError> {
    with_message(EventType::Responded, message, ChangeReason::Paused)
}

/// `request_info`: ask the reporter (the workflow pauses the clocks).
fn request_info(message: &str) -> Result<Effect, DecideError> {
    with_message(EventType::InfoRequested, message, ChangeReason::Paused)
}

/// `provide_info`: the reporter answers (the workflow resumes the clocks).
fn provide_info(message: &str) -> Result<Effect, DecideError> {
    with_message(EventType::InfoProvided, message, ChangeReason::Resumed)
}

/// `resolve`: the agency's resolution.
fn resolve(message: &str) -> Result<Effect, DecideError> {
    with_message(EventType::Resolved, message, ChangeReason::Paused)
}

/// `reopen`: the reporter reopens a resolved case.
fn reopen(message: &str) -> Result<Effect, DecideError> {
    with_message(EventType::Reopened, message, ChangeReason::Resumed)
}

fn with_message(event_type: EventType, message: &str, moved: ChangeReason) -> Result<Effect, DecideError> {
    require_text("message", message)?;
    Ok(event(event_type, json!({"message": message}), moved))
}

/// `rate`: the reporter's score, once per case (the workflow closes a resolved case on it).
fn rate(pack: &Pack, work: &mut Case, score: i64) -> Result<Effect, DecideError> {
    if !(1..=5).contains(&score) {
        return Err(invalid("score", "a score is 1 to 5"));
    }
    if work.state.rated {
        return Err(DecideError::NotAllowed {
            action: "rate".into(),
            status: format!("{} (already rated)", work.status),
            allowed: pack.workflow.allowed_from(&work.status).into_iter().filter(|a| a != "rate").collect(),
        });
    }
    work.state.rated = true;
    Ok(event(EventType::Rated, json!({"score": score}), ChangeReason::Paused))
}

/// `escalate` by hand: up to where the holder's policies (else the ladder) say, with a new generation of
/// every clock's rungs.
fn escalate(
    pack: &Pack,
    work: &mut Case,
    reason: &str,
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<Effect, DecideError> {
    require_text("reason", reason)?;
    if work.is_referred() {
        return Err(referred("escalate", &work.status));
    }
    let target = escalation_target(pack, work, "manual", now, &mut out.trace);
    bump_generations(work);
    apply_escalation(pack, work, target, reason, &[], now, out)
        .map_err(|e| clock_conflict(pack, work, "escalate", &e))?;
    Ok(Effect::Escalated)
}

/// Why routing decided nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RouteError {
    /// A policy failed (422 naming its file:line; the case stays as it was).
    #[error(transparent)]
    Policy(PolicyError),
    /// The complaint's region is in no table of the pack: no policy or default may route it as if it
    /// were known; the admin dispatches it (docs/workflow.md#region-codes).
    #[error("region `{0}` is in no table of the pack (flag unknown_region)")]
    UnknownRegion(RegionCode),
}

/// Decides the route of a case: the region's policies (kab/kota, province, national), else the built-in.
pub fn route(
    pack: &Pack,
    case: &Case,
    now: DateTime<Utc>,
    trace: &mut Vec<TraceStep>,
) -> Result<(String, String), RouteError> {
    if let Some(r) = case.region.as_ref().filter(|r| pack.directory.region_status(r) == RegionStatus::Unknown) {
        return Err(RouteError::UnknownRegion(r.clone()));
    }
    let mut scopes = Vec::new();
    if let Some(r) = &case.region {
        if let Some(k) = r.kabkota() {
            scopes.push(k.to_owned());
        }
        scopes.push(r.province().to_owned());
    }
    let view = case.policy_view();
    match pack.policies.decide(Hook::Route, &scopes, || route_args(&view, now), trace).map_err(RouteError::Policy)? {
        Some(PolicyDecision::Agency { agency, reason }) => {
            if !pack.directory.is_empty() && pack.directory.agency(&agency).is_none() {
                let file = trace.last().map(|t| t.policy.clone()).unwrap_or_default();
                return Err(RouteError::Policy(PolicyError {
                    file,
                    line: 0,
                    message: format!("route returned unknown agency `{agency}`"),
                }));
            }
            Ok((agency, reason))
        }
        Some(PolicyDecision::Referral { .. }) => unreachable!("route cannot refer"),
        None => {
            let (agency, reason) = pack.directory.default_route(case.region.as_ref(), case.category.as_deref());
            trace.push(TraceStep::built_in("decided", reason.clone()));
            Ok((agency, reason))
        }
    }
}

fn check_agency(pack: &Pack, field: &str, agency: &str) -> Result<(), DecideError> {
    if pack.directory.is_empty() || pack.directory.agency(agency).is_some() {
        Ok(())
    } else {
        Err(invalid(field, format!("unknown agency `{agency}`")))
    }
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
