//! What a running clock does when its case changes hands (a forward or an escalation) and when the case
//! is referred to the Ombudsman: `clocks:` in `workflow.yaml` (docs/deadlines.md#hand-over). A clock the
//! block leaves out keeps its calendar and stops at the referral.

use crate::clock::Clock;
use crate::problem::Problem;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// The calendar a running clock counts on after the case changes hands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterHandover {
    /// It stays on the calendar it started on, so the date promised does not move with the holder.
    #[default]
    Keep,
    /// It moves to the new holder's calendar.
    Holder,
}

/// What a running clock does when the case is referred to the Ombudsman.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AfterReferral {
    /// It stops (journaled as `stopped` in the `escalated` event): the agency's deadline is over.
    #[default]
    Stop,
    /// It keeps running.
    Run,
}

/// One clock's rule.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockRule {
    /// The calendar after a hand-over.
    #[serde(default)]
    pub after_handover: AfterHandover,
    /// What the referral does to it.
    #[serde(default)]
    pub after_referral: AfterReferral,
}

/// The rules of every clock (`clocks:` as written; a clock left out gets the default rule).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClockRules(BTreeMap<Clock, ClockRule>);

impl ClockRules {
    /// Reads the block: every clock it names must have an SLA; `verify` counts on the complaint's
    /// region whoever holds the case, so it takes no `after_handover`.
    pub(super) fn read(
        file: &str,
        spec: Option<&BTreeMap<Clock, Spanned<ClockRule>>>,
        clocks: &[&Clock],
        problems: &mut Vec<Problem>,
    ) -> Self {
        let mut rules = BTreeMap::new();
        for (clock, rule) in spec.into_iter().flatten() {
            let at = |m: String| Problem::at(file, &rule.referenced, m);
            if !clocks.contains(&clock) {
                problems.push(at(format!("clocks: clock `{clock}` has no SLA (sla/national.yaml `clocks`)")));
            }
            if !clock.follows_holder() && rule.value.after_handover != AfterHandover::Keep {
                problems.push(at(format!("clocks: `{clock}` counts on the complaint's region, not the holder's")));
            }
            rules.insert(clock.clone(), rule.value);
        }
        Self(rules)
    }

    /// The rule of `clock`.
    pub fn of(&self, clock: &Clock) -> ClockRule {
        self.0.get(clock).copied().unwrap_or_default()
    }
}
