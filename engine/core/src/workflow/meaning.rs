//! What the engine reads each state of a workflow as (`meaning:` in `workflow.yaml`): where a new case
//! waits for dispatch, where an escalation puts a case, where the clocks stand still, where a case is
//! closed, and how statistics group the states. A workflow without the block (or without one of its
//! keys) gets each meaning derived from its actions, which for the national workflow gives exactly what
//! the block there says (policies/README.md).

use super::Action;
use crate::problem::Problem;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// `meaning:` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct MeaningSpec {
    #[serde(default)]
    awaiting_dispatch: Option<Spanned<String>>,
    #[serde(default)]
    escalated: Option<Spanned<String>>,
    #[serde(default)]
    paused: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    closed: Option<Spanned<String>>,
    #[serde(default)]
    stats: Option<StatsSpec>,
}

/// `meaning.stats` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StatsSpec {
    #[serde(default)]
    resolved: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    in_progress: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    not_followed_up: Option<Vec<Spanned<String>>>,
    #[serde(default)]
    archived: Option<Vec<Spanned<String>>>,
}

/// The states that each count of `GET /v1/stats` adds up.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StatsStates {
    /// Counted as resolved (national: `resolved`, `closed`).
    pub resolved: Vec<String>,
    /// Counted as in progress (national: `in_progress`, `awaiting_reporter`).
    pub in_progress: Vec<String>,
    /// Counted as not followed up while the case has no follow-up yet (national: `assigned`).
    pub not_followed_up: Vec<String>,
    /// Counted as archived (national: `archived`).
    pub archived: Vec<String>,
}

/// What the engine reads each state as. Every state named is one of the workflow's `states`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StateMeaning {
    /// Where `submit` puts a new case, waiting for an admin to verify and dispatch it.
    pub awaiting_dispatch: String,
    /// Where an escalation (manual, the forward limit, a sweep's breach) puts a case.
    pub escalated: String,
    /// States in which the clocks stand still: an escalation from one resumes the paused clocks and
    /// drops `close`.
    pub paused: Vec<String>,
    /// A final state a case is closed in: by a sweep when `close` breaches (no reply), and by an action
    /// entering it from another state (a rating), which appends `closed`.
    pub closed: String,
    /// How statistics group the states.
    pub stats: StatsStates,
}

/// The state action `name` enters, if the workflow has it.
fn entered_by(actions: &BTreeMap<String, Action>, name: &str) -> Option<String> {
    actions.get(name).map(|a| a.to.clone())
}

/// One state meaning: as written (checked against `states`), else derived; `what` names it in problems.
fn one(
    file: &str,
    what: &str,
    written: Option<&Spanned<String>>,
    derived: Option<String>,
    states: &[String],
    problems: &mut Vec<Problem>,
) -> String {
    match written {
        Some(s) => {
            if !states.contains(&s.value) {
                problems.push(Problem::at(file, &s.referenced, format!("meaning.{what}: unknown state `{}`", s.value)));
            }
            s.value.clone()
        }
        None => derived.unwrap_or_else(|| {
            problems.push(Problem::file(
                file,
                format!("meaning.{what} cannot be derived from the actions: name the state under `meaning:`"),
            ));
            String::new()
        }),
    }
}

/// A list of states: as written (each checked against `states`), else derived.
fn many(
    file: &str,
    what: &str,
    written: Option<&Vec<Spanned<String>>>,
    derived: impl FnOnce() -> Vec<String>,
    states: &[String],
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    let Some(list) = written else { return derived() };
    for s in list.iter().filter(|s| !states.contains(&s.value)) {
        problems.push(Problem::at(file, &s.referenced, format!("meaning.{what}: unknown state `{}`", s.value)));
    }
    list.iter().map(|s| s.value.clone()).collect()
}

/// `a`, then the states of `b` not in it.
fn union(mut a: Vec<String>, b: &[String]) -> Vec<String> {
    for s in b {
        if !a.contains(s) {
            a.push(s.clone());
        }
    }
    a
}

impl StateMeaning {
    /// Reads `meaning:` (or derives what it leaves out) and checks it against the workflow: every state
    /// named exists, `awaiting_dispatch` is the state `submit` enters, `closed` is final.
    pub(super) fn read(
        file: &str,
        spec: Option<&Spanned<MeaningSpec>>,
        states: &[String],
        final_states: &[String],
        actions: &BTreeMap<String, Action>,
    ) -> Result<Self, Vec<Problem>> {
        let mut p = Vec::new();
        let m = spec.map(|s| &s.value);
        let submit_to = entered_by(actions, "submit");
        let awaiting_dispatch = one(
            file,
            "awaiting_dispatch",
            m.and_then(|m| m.awaiting_dispatch.as_ref()),
            submit_to.clone(),
            states,
            &mut p,
        );
        if let (Some(to), Some(w)) = (&submit_to, m.and_then(|m| m.awaiting_dispatch.as_ref())) {
            if *to != w.value {
                p.push(Problem::at(
                    file,
                    &w.referenced,
                    format!("meaning.awaiting_dispatch is `{}`, but `submit` enters `{to}`", w.value),
                ));
            }
        }
        let escalated_derived = entered_by(actions, "escalate").or_else(|| entered_by(actions, "verify"));
        let escalated = one(file, "escalated", m.and_then(|m| m.escalated.as_ref()), escalated_derived, states, &mut p);
        let paused_derived = || {
            let entered: Vec<String> = actions.values().filter(|a| a.pause_running).map(|a| a.to.clone()).collect();
            union(Vec::new(), &entered)
        };
        let paused = many(file, "paused", m.and_then(|m| m.paused.as_ref()), paused_derived, states, &mut p);
        let closed_written = m.and_then(|m| m.closed.as_ref());
        let closed_derived = entered_by(actions, "rate").or_else(|| final_states.first().cloned());
        let closed = one(file, "closed", closed_written, closed_derived, states, &mut p);
        if !closed.is_empty() && !final_states.contains(&closed) {
            let message = format!("meaning.closed: `{closed}` is not a final state (`final`)");
            p.push(match closed_written {
                Some(w) => Problem::at(file, &w.referenced, message),
                None => Problem::file(file, message),
            });
        }
        let stats =
            StatsStates::read(file, m.and_then(|m| m.stats.as_ref()), states, actions, &closed, &paused, &mut p);
        if p.is_empty() {
            Ok(Self { awaiting_dispatch, escalated, paused, closed, stats })
        } else {
            Err(p)
        }
    }
}

impl StatsStates {
    /// The stats groups as written, each missing one derived: `resolved` = the state `resolve` enters
    /// and `closed`; `in_progress` = the state `respond` enters and the paused states; `not_followed_up`
    /// = the state `verify` enters; `archived` = the state `archive` enters.
    fn read(
        file: &str,
        spec: Option<&StatsSpec>,
        states: &[String],
        actions: &BTreeMap<String, Action>,
        closed: &str,
        paused: &[String],
        p: &mut Vec<Problem>,
    ) -> Self {
        let entered = |name: &str| entered_by(actions, name).into_iter().collect::<Vec<_>>();
        let resolved = many(
            file,
            "stats.resolved",
            spec.and_then(|s| s.resolved.as_ref()),
            || union(entered("resolve"), &[closed.to_owned()]),
            states,
            p,
        );
        let in_progress = many(
            file,
            "stats.in_progress",
            spec.and_then(|s| s.in_progress.as_ref()),
            || union(entered("respond"), paused),
            states,
            p,
        );
        let not_followed_up = many(
            file,
            "stats.not_followed_up",
            spec.and_then(|s| s.not_followed_up.as_ref()),
            || entered("verify"),
            states,
            p,
        );
        let archived =
            many(file, "stats.archived", spec.and_then(|s| s.archived.as_ref()), || entered("archive"), states, p);
        Self { resolved, in_progress, not_followed_up, archived }
    }
}
