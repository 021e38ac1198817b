//! The decision log (docs/workflow.md#decision-log): what a routing or an escalation decision saw and
//! what it decided, recorded in its event (`decision`, beside the `trace`), so a case's history answers
//! "why did this go there?" under the pack that decided it.

use super::Case;
use crate::pack::Pack;
use serde_json::{json, Value};

/// Who took an escalation decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EscalatedBy {
    /// The `escalate` policies or the built-in ladder (a breach, a manual escalation).
    Escalate,
    /// The forward limit (its target is fixed; no policy is consulted).
    ForwardLimit,
}

impl EscalatedBy {
    /// Who decided an escalation given for `reason`.
    pub(super) fn of(reason: &str) -> Self {
        if reason == super::FORWARD_LIMIT {
            Self::ForwardLimit
        } else {
            Self::Escalate
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Escalate => "escalate",
            Self::ForwardLimit => super::FORWARD_LIMIT,
        }
    }
}

/// The facts a policy sees of the complaint, without its title (which the `submitted` event holds,
/// where the viewer may see it).
fn complaint(case: &Case) -> Value {
    let v = case.policy_view();
    json!({"kind": v.kind, "category": v.category, "region": v.region, "channel": v.channel, "privacy": v.privacy})
}

/// The record of a routing decision that sent the case to `agency` (its instant is the event's `at`).
pub(super) fn routed(pack: &Pack, case: &Case, agency: &str, reason: &str) -> Value {
    json!({
        "by": "route",
        "pack": pack.hash,
        "inputs": {"complaint": complaint(case)},
        "result": {"agency": agency, "reason": reason},
    })
}

/// The record of an escalation of `case` as it was before (holder, level), on `clock` (the breached
/// clock, or `manual`), that sent it to `to` (its instant is the event's `at`).
pub(super) fn escalated(pack: &Pack, case: &Case, by: EscalatedBy, clock: &str, to: &str, referral: bool) -> Value {
    json!({
        "by": by.as_str(),
        "pack": pack.hash,
        "inputs": {
            "complaint": complaint(case),
            "holder": case.agency,
            "level": case.escalation_level,
            "clock": clock,
        },
        "result": {"to": to, "referral": referral},
    })
}
