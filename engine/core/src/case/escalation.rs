//! Escalation: where a case goes up to (the holder's policies, else the built-in ladder) and what going
//! up does to it (manual, the forward limit, a sweep's breach; at the top, the Ombudsman referral).

use super::clocks::{
    deadlines_json, rebase_calendars, resume_paused, start_clock, stop_at_referral, ClockError, Journal,
};
use super::decision::{self, EscalatedBy};
use super::{Case, NewEvent, Outcome, FORWARD_LIMIT, OMBUDSMAN_REFERRAL};
use crate::clock::Clock;
use crate::directory::{OMBUDSMAN, ROOT};
use crate::event::EventType;
use crate::pack::Pack;
use crate::rules::{escalate_args, Hook, PolicyDecision, TraceStep};
use crate::timer::ChangeReason;
use chrono::{DateTime, Utc};
use serde_json::json;

/// Where an escalation goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EscalationTarget {
    /// Another agency.
    Agency(String),
    /// A referral to the Ombudsman (the top).
    Ombudsman,
}

/// The escalation target for a case: the holder's policies (holder → kab/kota → province → national),
/// else the built-in ladder. A failing policy falls back to the ladder; the trace records the failure.
pub fn escalation_target(
    pack: &Pack,
    case: &Case,
    clock: &str,
    now: DateTime<Utc>,
    trace: &mut Vec<TraceStep>,
) -> EscalationTarget {
    let holder = case.agency.clone().unwrap_or_else(|| ROOT.to_owned());
    let mut scopes = vec![holder.clone()];
    if let Some(r) = pack.directory.region_of(&holder) {
        if let Some(k) = r.kabkota() {
            scopes.push(k.to_owned());
        }
        scopes.push(r.province().to_owned());
    }
    scopes.dedup();
    let view = case.policy_view();
    let decided = pack.policies.decide(
        Hook::Escalate,
        &scopes,
        || escalate_args(&view, &holder, case.escalation_level, clock, now),
        trace,
    );
    match decided {
        Ok(Some(PolicyDecision::Agency { agency, .. }))
            if pack.directory.is_empty() || pack.directory.agency(&agency).is_some() =>
        {
            if agency == OMBUDSMAN {
                EscalationTarget::Ombudsman
            } else {
                EscalationTarget::Agency(agency)
            }
        }
        Ok(Some(PolicyDecision::Referral { .. })) => EscalationTarget::Ombudsman,
        other => {
            if let Ok(Some(PolicyDecision::Agency { agency, .. })) = other {
                trace.push(TraceStep::built_in("failed", format!("policy named unknown agency `{agency}`")));
            }
            let t = pack.directory.default_escalation_target(&holder);
            let detail = format!("default ladder: {holder} → {}", t.as_deref().unwrap_or("ombudsman referral"));
            trace.push(TraceStep::built_in("decided", detail));
            t.map_or(EscalationTarget::Ombudsman, EscalationTarget::Agency)
        }
    }
}

/// Applies an escalation (manual, forward limit, or a sweep's breach): the holder becomes the target,
/// the level goes up by one, `respond` restarts at `now` with the target tier's budget; an Ombudsman
/// referral flags the case, starts no clock and stops the clocks the workflow stops at a referral
/// (every clock by default). Other clocks stay on their calendar unless the workflow moves them to the
/// new holder's (docs/deadlines.md#hand-over). A case in a paused state (awaiting the reporter)
/// resumes its clocks and drops `close`; the case enters the workflow's `escalated` state. Appends the `escalated` event to `out`; on error (a clock that cannot resume at `now`)
/// neither the case nor `out` changed.
pub fn apply_escalation(
    pack: &Pack,
    case: &mut Case,
    target: EscalationTarget,
    reason: &str,
    breached: &[Clock],
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<(), ClockError> {
    let journal = Journal::new(pack, case);
    let from = case.agency.clone();
    let referral = target == EscalationTarget::Ombudsman;
    let to = match &target {
        EscalationTarget::Agency(a) => a.clone(),
        EscalationTarget::Ombudsman => OMBUDSMAN.to_owned(),
    };
    let clock = breached.first().map_or("manual", Clock::as_str);
    let record = decision::escalated(pack, case, EscalatedBy::of(reason), clock, &to, referral);
    if pack.workflow.is_paused(&case.status) {
        resume_paused(case, now)?;
        case.timers.remove(&Clock::CLOSE);
    }
    case.escalation_level += 1;
    case.status = pack.workflow.meaning().escalated.clone();
    case.agency = Some(to.clone());
    case.timers.remove(&Clock::RESPOND);
    if referral {
        if !case.is_referred() {
            case.flags.push(OMBUDSMAN_REFERRAL.into());
        }
        stop_at_referral(pack, case);
    } else {
        start_clock(pack, case, &Clock::RESPOND, now);
    }
    rebase_calendars(pack, case);
    if let Some(f) = &from {
        out.escalated_from = Some(f.clone());
    }
    out.new_holders.push(to.clone());
    let changes = journal.changes(case, ChangeReason::HolderChanged { from: from.clone(), to: to.clone() });
    out.events.push(NewEvent {
        event_type: EventType::Escalated.into(),
        data: json!({
            "from": from,
            "to": to,
            "level": case.escalation_level,
            "reason": reason,
            "referral": referral,
            "clocks": breached,
            "deadlines": deadlines_json(&changes),
            "decision": record,
            "trace": out.trace,
        }),
    });
    Ok(())
}

/// The forward limit: the third forward at one escalation level escalates instead, to the lowest common
/// ancestor of the holder and the requested agency; a holder that is that ancestor goes one rung up the
/// built-in ladder, and kemenpanrb to the Ombudsman.
pub(super) fn escalate_forward_limit(
    pack: &Pack,
    case: &mut Case,
    holder: &str,
    agency: &str,
    now: DateTime<Utc>,
    out: &mut Outcome,
) -> Result<(), ClockError> {
    let lca = pack.directory.lowest_common_ancestor(holder, agency);
    let target = if holder == ROOT {
        EscalationTarget::Ombudsman
    } else if lca == holder {
        pack.directory.default_escalation_target(holder).map_or(EscalationTarget::Ombudsman, EscalationTarget::Agency)
    } else {
        EscalationTarget::Agency(lca)
    };
    out.trace.push(TraceStep::built_in(
        "decided",
        format!(
            "third forward at level {}: escalate to the common ancestor of {holder} and {agency}",
            case.escalation_level
        ),
    ));
    apply_escalation(pack, case, target, FORWARD_LIMIT, &[], now, out)
}
