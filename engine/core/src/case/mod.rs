//! A case and the decisions taken on it: submit, and every action of the workflow (docs/workflow.md#actions, docs/workflow.md#escalation).
//!
//! `decide` is pure: it takes the case as loaded, the actor, the command and `now`, mutates the case and
//! returns the events to append. The service stores the result in one transaction. A refused command
//! changes nothing.

mod actions;
mod clocks;
mod decide;
mod decision;
mod escalation;

pub use actions::{route, RouteError, DISPATCHED_BY_ADMIN};
pub use clocks::{recompute_deadlines, ClockError, Recomputed, SlaBasis};
pub use decide::{decide, submit};
pub use escalation::{apply_escalation, escalation_target, EscalationTarget};

use crate::clock::{Clock, Generation};
use crate::domain::Kind;
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::rules::{PolicyComplaint, PolicyError, TraceStep};
use crate::timer::{CalendarRef, Schedule, Timer};
use crate::workflow::Role;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

/// The reason of an escalation by the forward limit (the third forward at one level).
pub const FORWARD_LIMIT: &str = "forward_limit";

/// The flag set on a case referred to the Ombudsman.
pub const OMBUDSMAN_REFERRAL: &str = "ombudsman_referral";
/// The flag set on a case filed with a superseded region code (mapped to today's code).
pub const SUPERSEDED_REGION: &str = "superseded_region";
/// The flag set on a case whose region code is in no table of the pack: the admin dispatches it.
pub const UNKNOWN_REGION: &str = "unknown_region";

/// Privacy of a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Privacy {
    /// Everything visible (the reporter's identity never is, publicly).
    Public,
    /// Anonim: the reporter's identity is hidden from the agency and the public.
    Anonymous,
    /// Rahasia: the content is hidden from the public.
    Confidential,
}

impl Privacy {
    /// Every privacy setting.
    pub const ALL: [Privacy; 3] = [Privacy::Public, Privacy::Anonymous, Privacy::Confidential];

    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::Anonymous => "anonymous",
            Privacy::Confidential => "confidential",
        }
    }

    /// By wire name.
    pub fn from_wire(s: &str) -> Option<Self> {
        [Privacy::Public, Privacy::Anonymous, Privacy::Confidential].into_iter().find(|p| p.as_str() == s)
    }
}

/// A running or paused clock of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTimer {
    /// The clock's inputs.
    pub timer: Timer,
    /// Restarts and manual escalations bump it, so an old generation's rungs never fire.
    pub generation: Generation,
    /// The SLA layer that set the budget.
    pub sla_source: String,
}

/// Engine state kept per case that needs no index (stored as JSON).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CaseState {
    /// The admin marked the complaint as needing investigation.
    pub investigation: bool,
    /// Forwards per escalation level.
    pub forwards: BTreeMap<u32, u32>,
    /// The reporter has rated.
    pub rated: bool,
    /// Latest generation used per clock (so a restarted clock never reuses one).
    pub generations: BTreeMap<Clock, Generation>,
    /// SHA-256 of the reporter token, which lets the reporter reply (checked by the service).
    pub reporter_token_sha256: Option<String>,
    /// Clocks whose breach has escalated the case (`complete` escalates only once).
    pub breach_escalated: std::collections::BTreeSet<Clock>,
    /// What each running clock's SLA was resolved from when it started, so a changed SLA can be
    /// re-resolved for the same clock later (recompute of open deadlines).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sla_basis: BTreeMap<Clock, SlaBasis>,
}

/// A case as the core sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// UUID v7.
    pub id: String,
    /// `XXXXX-XXXXX`.
    pub tracking_id: String,
    /// Report kind.
    pub kind: Kind,
    /// Channel.
    pub channel: String,
    /// Category, once known.
    pub category: Option<String>,
    /// Region, if given.
    pub region: Option<RegionCode>,
    /// Privacy.
    pub privacy: Privacy,
    /// Title (policies see it unless confidential).
    pub title: String,
    /// Workflow state.
    pub status: String,
    /// Holder.
    pub agency: Option<String>,
    /// 0 until escalated.
    pub escalation_level: u32,
    /// Flags (`ombudsman_referral`).
    pub flags: Vec<String>,
    /// Engine state.
    pub state: CaseState,
    /// When it was received (clock origin of `verify`).
    pub created_at: DateTime<Utc>,
    /// First dispatch.
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// First follow-up.
    pub first_followup_at: Option<DateTime<Utc>>,
    /// Who followed up first.
    pub first_followup_agency: Option<String>,
    /// Running and paused clocks by name.
    pub timers: BTreeMap<Clock, CaseTimer>,
}

/// Who is acting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The role acted in.
    pub role: Role,
    /// The agency of an admin, officer or supervisor.
    pub agency: Option<String>,
    /// A name for the history (`system`, a token name, `reporter`).
    pub name: String,
}

impl Actor {
    /// The engine itself: the sweep, the recompute, the command line.
    pub fn system() -> Self {
        Self { role: Role::System, agency: None, name: "system".into() }
    }

    /// The public: no credentials.
    pub fn public() -> Self {
        Self { role: Role::Anyone, agency: None, name: "anyone".into() }
    }

    /// The reporter, authenticated by the reporter token.
    pub fn reporter() -> Self {
        Self { role: Role::Reporter, agency: None, name: "reporter".into() }
    }

    /// How the history names this actor.
    pub fn label(&self) -> String {
        match &self.agency {
            Some(a) => format!("{}:{}@{a}", self.role.as_str(), self.name),
            None if matches!(self.role, Role::System | Role::Reporter | Role::Anyone) => self.name.clone(),
            None => format!("{}:{}", self.role.as_str(), self.name),
        }
    }
}

/// A command on an existing case (the fields of `POST /v1/complaints/{id}/actions`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Verify and dispatch; without `agency`, routing decides.
    Verify {
        /// Dispatch here instead of routing.
        agency: Option<String>,
        /// Set or correct the category.
        category: Option<String>,
        /// Needs investigation (berkadar pengawasan): `complete` takes 60 days.
        investigation: Option<bool>,
    },
    /// Archive with a reason.
    Archive {
        /// Why.
        reason: String,
    },
    /// Bukan wewenang: forward to the agency with the authority.
    Forward {
        /// The requested agency.
        agency: String,
        /// Why.
        reason: String,
    },
    /// A follow-up message.
    Respond {
        /// The message.
        message: String,
    },
    /// Ask the reporter for information.
    RequestInfo {
        /// The question.
        message: String,
    },
    /// The reporter answers.
    ProvideInfo {
        /// The answer.
        message: String,
    },
    /// The agency resolves the case.
    Resolve {
        /// The resolution.
        message: String,
    },
    /// The reporter reopens a resolved case.
    Reopen {
        /// Why.
        message: String,
    },
    /// The reporter rates (1–5); a rating closes a resolved case.
    Rate {
        /// Score.
        score: i64,
    },
    /// An admin escalates by hand.
    Escalate {
        /// Why.
        reason: String,
    },
}

impl Command {
    /// The workflow action name.
    pub fn action(&self) -> &'static str {
        match self {
            Command::Verify { .. } => "verify",
            Command::Archive { .. } => "archive",
            Command::Forward { .. } => "forward",
            Command::Respond { .. } => "respond",
            Command::RequestInfo { .. } => "request_info",
            Command::ProvideInfo { .. } => "provide_info",
            Command::Resolve { .. } => "resolve",
            Command::Reopen { .. } => "reopen",
            Command::Rate { .. } => "rate",
            Command::Escalate { .. } => "escalate",
        }
    }
}

/// An event to append, before ids and hashes are assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// Event type.
    pub event_type: String,
    /// Its data.
    pub data: Value,
}

/// What a decision produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// Events, in order.
    pub events: Vec<NewEvent>,
    /// Agencies that came to hold the case (for `case_holders`).
    pub new_holders: Vec<String>,
    /// The agency the case was escalated away from, if any.
    pub escalated_from: Option<String>,
    /// Policies consulted.
    pub trace: Vec<TraceStep>,
}

/// Why a command was refused. Nothing changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecideError {
    /// Not allowed in this state (409); `allowed` lists what is.
    #[error("`{action}` is not allowed while the case is {status}")]
    NotAllowed {
        /// The action.
        action: String,
        /// The current state.
        status: String,
        /// Actions allowed in this state.
        allowed: Vec<String>,
    },
    /// Outside the actor's role or scope (403).
    #[error("{0}")]
    Forbidden(String),
    /// The actor's role may take the action on cases in its reach, but this one no agency holds yet
    /// (403). Unlike [`DecideError::Forbidden`] this may change soon: the verify that dispatches the
    /// case may bring it within the actor's reach.
    #[error("{0}")]
    OutOfReach(String),
    /// A field is wrong (422).
    #[error("{field}: {message}")]
    Invalid {
        /// The field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A policy failed (422 naming file:line); the case stays as it was.
    #[error("policy failed: {0}")]
    Policy(PolicyError),
}

fn invalid(field: &str, message: impl Into<String>) -> DecideError {
    DecideError::Invalid { field: field.into(), message: message.into() }
}

/// `action` is refused because a clock of the case cannot resume at the decision's instant: a later
/// decision came first (409, like any state conflict; the caller retries with a fresh instant).
fn clock_conflict(pack: &Pack, case: &Case, action: &str, e: &ClockError) -> DecideError {
    DecideError::NotAllowed {
        action: action.into(),
        status: format!("{} ({e})", case.status),
        allowed: pack.workflow.allowed_from(&case.status),
    }
}

/// A new complaint, validated by the service.
#[derive(Debug, Clone)]
pub struct NewCase {
    /// UUID v7 chosen by the service.
    pub id: String,
    /// Tracking id chosen by the service.
    pub tracking_id: String,
    /// Kind.
    pub kind: Kind,
    /// Channel.
    pub channel: String,
    /// Category, if the citizen chose one.
    pub category: Option<String>,
    /// Region, if given.
    pub region: Option<RegionCode>,
    /// Privacy.
    pub privacy: Privacy,
    /// Title.
    pub title: String,
    /// When the report was received (clocks start here).
    pub received_at: DateTime<Utc>,
}

impl Case {
    /// The facts policies see.
    pub fn policy_view(&self) -> PolicyComplaint {
        PolicyComplaint {
            kind: self.kind.as_str().into(),
            category: self.category.clone(),
            region: self.region.as_ref().map(|r| r.to_string()),
            channel: self.channel.clone(),
            privacy: self.privacy.as_str().into(),
            title: if self.privacy == Privacy::Confidential { String::new() } else { self.title.clone() },
        }
    }

    /// Whether the case was referred to the Ombudsman.
    pub fn is_referred(&self) -> bool {
        self.flags.iter().any(|f| f == OMBUDSMAN_REFERRAL)
    }

    /// Every clock's schedule on the pack's calendars.
    pub fn schedules(&self, pack: &Pack) -> Vec<(Clock, Schedule)> {
        self.timers
            .iter()
            .map(|(name, t)| (name.clone(), t.timer.schedule(&pack.calendar_for(&t.timer.calendar))))
            .collect()
    }

    /// The time zone a clock counts in (its calendar's), so a deadline can be shown as a local date
    /// with its zone; `None` for a clock the case does not run.
    pub fn time_zone_of(&self, pack: &Pack, clock: &Clock) -> Option<chrono_tz::Tz> {
        self.timers.get(clock).map(|t| pack.calendar_for(&t.timer.calendar).time_zone())
    }

    fn calendar_ref(&self, clock: &Clock) -> CalendarRef {
        match (&self.agency, clock) {
            (Some(a), c) if c.follows_holder() => CalendarRef::Agency(a.clone()),
            _ => self.region.clone().map_or(CalendarRef::National, CalendarRef::Region),
        }
    }
}
