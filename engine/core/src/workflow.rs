//! The workflow of a pack (`workflow.yaml`): states, and per action the states it leaves, the state it
//! enters, the roles that may take it, and what it does to the clocks.
//!
//! Behaviour specific to an action (routing on `verify`, the forward limit, the escalation ladder, the
//! level-0 rule for `respond`) lives in [`crate::case`]; this file is the data a pack can change.

use crate::clock::Clock;
use crate::problem::{parse_yaml, PackError, Problem};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

/// Who may act.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Anyone, without a token (submissions).
    Anyone,
    /// An admin (verifies, dispatches, archives, escalates) within its agency subtree.
    Admin,
    /// An officer (pejabat penghubung) of the agency holding the case.
    Officer,
    /// A supervisor: reads its subtree, changes nothing.
    Supervisor,
    /// The reporter (pelapor), with the reporter token.
    Reporter,
    /// May publish packs.
    PolicyAuthor,
    /// A local system that files complaints (and may back-date them) and reads its subtree.
    Integration,
    /// The engine itself (sweeps, recompute, the command line): holds every role.
    System,
}

impl Role {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Anyone => "anyone",
            Role::Admin => "admin",
            Role::Officer => "officer",
            Role::Supervisor => "supervisor",
            Role::Reporter => "reporter",
            Role::PolicyAuthor => "policy_author",
            Role::Integration => "integration",
            Role::System => "system",
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WorkflowFile {
    states: Vec<String>,
    #[serde(rename = "final")]
    final_states: Vec<String>,
    #[serde(default)]
    meaning: Option<Spanned<MeaningSpec>>,
    #[serde(default)]
    clocks: Option<BTreeMap<Clock, Spanned<ClockRule>>>,
    actions: BTreeMap<String, Spanned<ActionSpec>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionSpec {
    #[serde(default)]
    from: Vec<String>,
    to: String,
    roles: Vec<Role>,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    start: Vec<Clock>,
    #[serde(default)]
    stop: Vec<Clock>,
    #[serde(default)]
    stop_all: bool,
    #[serde(default)]
    restart: Vec<Clock>,
    #[serde(default)]
    pause_running: bool,
    #[serde(default)]
    resume_paused: bool,
    #[serde(default)]
    follow_up: bool,
    #[serde(default)]
    once: bool,
}

/// One action of the workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    /// Its name (`verify`).
    pub name: String,
    /// States it may be taken from (empty for `submit`).
    pub from: Vec<String>,
    /// The state it enters.
    pub to: String,
    /// Roles that may take it.
    pub roles: Vec<Role>,
    /// Fields the command must carry (`reason`, `agency`, `message`, `score`).
    pub requires: Vec<String>,
    /// Clocks started on entering.
    pub start: Vec<Clock>,
    /// Clocks stopped.
    pub stop: Vec<Clock>,
    /// Stop every clock.
    pub stop_all: bool,
    /// Clocks restarted with a full budget.
    pub restart: Vec<Clock>,
    /// Pause every running clock (awaiting the reporter).
    pub pause_running: bool,
    /// Resume every paused clock, adding back the paused working days.
    pub resume_paused: bool,
    /// Counts as the agency's follow-up (at level 0 it stops `respond`).
    pub follow_up: bool,
    /// Declared as taken once per case. `decide` does not read it: `rate` enforces its once through the
    /// case's `rated` mark.
    pub once: bool,
    /// Line in workflow.yaml.
    pub line: u64,
}

mod clocks;
mod meaning;
pub use clocks::{AfterHandover, AfterReferral, ClockRule, ClockRules};
use meaning::MeaningSpec;
pub use meaning::{StateMeaning, StatsStates};

/// A validated workflow.
#[derive(Debug, Clone, Default)]
pub struct Workflow {
    states: Vec<String>,
    final_states: Vec<String>,
    meaning: StateMeaning,
    clock_rules: ClockRules,
    actions: BTreeMap<String, Action>,
}

/// The actions the engine implements; a workflow may use a subset, never others.
pub const KNOWN_ACTIONS: [&str; 11] = [
    "submit",
    "verify",
    "archive",
    "forward",
    "respond",
    "request_info",
    "provide_info",
    "resolve",
    "reopen",
    "rate",
    "escalate",
];

impl Workflow {
    /// Parses and validates `workflow.yaml`: every state named exists, every action is one the engine
    /// knows, and `clocks` names every clock an action starts, stops or restarts.
    pub fn from_yaml(file: &str, text: &str, clocks: &[&Clock]) -> Result<Self, PackError> {
        let raw: WorkflowFile = parse_yaml(file, text)?;
        let mut problems = Vec::new();
        for s in &raw.final_states {
            if !raw.states.contains(s) {
                problems.push(Problem::file(file, format!("final state `{s}` is not in `states`")));
            }
        }
        let mut actions = BTreeMap::new();
        for (name, spec) in raw.actions {
            let at = |m: String| Problem::at(file, &spec.referenced, m);
            let a = spec.value.clone();
            if !KNOWN_ACTIONS.contains(&name.as_str()) {
                problems.push(at(format!("unknown action `{name}` (the engine knows {})", KNOWN_ACTIONS.join(", "))));
            }
            for s in a.from.iter().chain(std::iter::once(&a.to)) {
                if !raw.states.contains(s) {
                    problems.push(at(format!("action `{name}`: unknown state `{s}`")));
                }
            }
            for c in a.start.iter().chain(&a.stop).chain(&a.restart) {
                if !clocks.contains(&c) {
                    problems.push(at(format!("action `{name}`: clock `{c}` has no SLA (sla/national.yaml `clocks`)")));
                }
            }
            actions.insert(
                name.clone(),
                Action {
                    name,
                    from: a.from,
                    to: a.to,
                    roles: a.roles,
                    requires: a.requires,
                    start: a.start,
                    stop: a.stop,
                    stop_all: a.stop_all,
                    restart: a.restart,
                    pause_running: a.pause_running,
                    resume_paused: a.resume_paused,
                    follow_up: a.follow_up,
                    once: a.once,
                    line: spec.referenced.line(),
                },
            );
        }
        if !actions.contains_key("submit") {
            problems.push(Problem::file(file, "the workflow has no `submit` action"));
        }
        let meaning = StateMeaning::read(file, raw.meaning.as_ref(), &raw.states, &raw.final_states, &actions);
        let meaning = meaning.map_err(|p| problems.extend(p)).unwrap_or_default();
        let clock_rules = ClockRules::read(file, raw.clocks.as_ref(), clocks, &mut problems);
        if problems.is_empty() {
            Ok(Self { states: raw.states, final_states: raw.final_states, meaning, clock_rules, actions })
        } else {
            Err(PackError(problems))
        }
    }

    /// One action.
    pub fn action(&self, name: &str) -> Option<&Action> {
        self.actions.get(name)
    }

    /// The actions that may be taken from `state`, sorted.
    pub fn allowed_from(&self, state: &str) -> Vec<String> {
        self.actions.values().filter(|a| a.from.iter().any(|s| s == state)).map(|a| a.name.clone()).collect()
    }

    /// Whether `state` is final (no action leaves it, except those listing it in `from`).
    pub fn is_final(&self, state: &str) -> bool {
        self.final_states.iter().any(|s| s == state)
    }

    /// Every state.
    pub fn states(&self) -> &[String] {
        &self.states
    }

    /// The final states (`final:`), in the file's order.
    pub fn final_states(&self) -> &[String] {
        &self.final_states
    }

    /// What the engine reads each state as.
    pub fn meaning(&self) -> &StateMeaning {
        &self.meaning
    }

    /// What `clock` does at a hand-over and at the Ombudsman referral.
    pub fn clock_rule(&self, clock: &Clock) -> ClockRule {
        self.clock_rules.of(clock)
    }

    /// Whether `state` is one where the clocks stand still (awaiting the reporter).
    pub fn is_paused(&self, state: &str) -> bool {
        self.meaning.paused.iter().any(|s| s == state)
    }
}
