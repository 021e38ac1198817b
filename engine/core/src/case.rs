//! A case and the decisions taken on it: submit, and every action of the workflow (CONTRACT.md §4–5).
//!
//! `decide` is pure: it takes the case as loaded, the actor, the command and `now`, mutates the case and
//! returns the events to append. The service stores the result in one transaction. A refused command
//! changes nothing.

use crate::calendar::Calendar;
use crate::directory::{OMBUDSMAN, ROOT};
use crate::domain::{Kind, Tier};
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::rules::{escalate_args, route_args, PolicyComplaint, PolicyDecision, PolicyError, TraceStep};
use crate::sla::SlaQuery;
use crate::timer::CalendarRef;
use crate::timer::{ChangeReason, DeadlineChange, Schedule, Timer};
use crate::workflow::{Action, Role};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The flag set on a case referred to the Ombudsman.
pub const OMBUDSMAN_REFERRAL: &str = "ombudsman_referral";

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
    /// Wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Privacy::Public => "public",
            Privacy::Anonymous => "anonymous",
            Privacy::Confidential => "confidential",
        }
    }
}

/// A running or paused clock of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseTimer {
    /// The clock's inputs.
    pub timer: Timer,
    /// Restarts and manual escalations bump it, so an old generation's rungs never fire.
    pub generation: u64,
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
    pub generations: BTreeMap<String, u64>,
    /// SHA-256 of the reporter token, which lets the reporter reply (checked by the service).
    pub reporter_token_sha256: Option<String>,
    /// Clocks whose breach has escalated the case (`complete` escalates only once).
    pub breach_escalated: std::collections::BTreeSet<String>,
    /// What each running clock's SLA was resolved from when it started, so a changed SLA can be
    /// re-resolved for the same clock later (recompute of open deadlines).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub sla_basis: BTreeMap<String, SlaBasis>,
}

/// The inputs a clock's SLA was resolved from when it started (besides the case's kind, which never
/// changes). A later recompute resolves the same query on the new pack, so an escalated case's
/// `complete` keeps its level-0 overlay and a `respond` its tier.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SlaBasis {
    /// Escalation level when the clock started.
    #[serde(skip_serializing_if = "is_zero")]
    pub level: u32,
    /// Category then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub category: Option<String>,
    /// Investigation mark then.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub investigation: bool,
    /// Region whose overlays applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// Agency whose overlay and tier applied.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agency: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl SlaBasis {
    /// The SLA of `clock` for a case of `kind` on this basis.
    fn resolve(&self, pack: &Pack, kind: Kind, clock: &str) -> Result<crate::sla::Sla, crate::sla::UnknownClock> {
        let region = self.region.as_deref().and_then(|r| RegionCode::parse(r).ok());
        let q = SlaQuery {
            clock,
            kind,
            category: self.category.as_deref(),
            investigation: self.investigation,
            escalation_level: self.level,
            tier: self.agency.as_deref().map(|a| pack.tier_of(a)),
            region: region.as_ref(),
            agency: self.agency.as_deref(),
        };
        pack.slas.resolve(&q)
    }
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
    pub timers: BTreeMap<String, CaseTimer>,
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
    /// The engine itself; until tokens exist, every request.
    pub fn system() -> Self {
        Self { role: Role::System, agency: None, name: "system".into() }
    }

    /// The reporter, authenticated by the reporter token.
    pub fn reporter() -> Self {
        Self { role: Role::Reporter, agency: None, name: "reporter".into() }
    }

    /// How the history names this actor.
    pub fn label(&self) -> String {
        match &self.agency {
            Some(a) => format!("{}:{}@{a}", self.role.as_str(), self.name),
            None if self.role == Role::System || self.role == Role::Reporter => self.name.clone(),
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

/// The pack as decisions need it: calendars by reference.
impl Pack {
    /// The calendar a clock counts on.
    pub fn calendar_for(&self, r: &CalendarRef) -> Arc<Calendar> {
        match r {
            CalendarRef::Region(code) => self.calendars.for_region(code),
            CalendarRef::Agency(a) => {
                let region =
                    self.directory.agency(a).and_then(|x| x.region.clone()).or_else(|| CalendarRef::agency_region(a));
                self.calendars.for_agency(a, region.as_ref())
            }
            CalendarRef::National => self.calendars.national(),
        }
    }

    /// The tier of an agency (by directory, else by the shape of its id).
    pub fn tier_of(&self, agency: &str) -> Tier {
        if let Some(a) = self.directory.agency(agency) {
            return a.tier();
        }
        match CalendarRef::agency_region(agency) {
            Some(r) if r.kabkota().is_some() => Tier::Kabkota,
            Some(_) => Tier::Province,
            None => Tier::National,
        }
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
    pub fn schedules(&self, pack: &Pack) -> Vec<(String, Schedule)> {
        self.timers
            .iter()
            .map(|(name, t)| (name.clone(), t.timer.schedule(&pack.calendar_for(&t.timer.calendar))))
            .collect()
    }

    fn calendar_ref(&self, clock: &str) -> CalendarRef {
        match (&self.agency, clock) {
            (Some(a), c) if c != "verify" => CalendarRef::Agency(a.clone()),
            _ => self.region.clone().map_or(CalendarRef::National, CalendarRef::Region),
        }
    }
}

/// Collects deadline changes while a decision runs, to journal them in the event.
struct Journal<'p> {
    pack: &'p Pack,
    before: BTreeMap<String, Option<DateTime<Utc>>>,
    started: BTreeMap<String, DateTime<Utc>>,
}

impl<'p> Journal<'p> {
    fn new(pack: &'p Pack, case: &Case) -> Self {
        let before = case.schedules(pack).into_iter().map(|(c, s)| (c, s.due_at())).collect();
        let started = case.timers.iter().map(|(c, t)| (c.clone(), t.timer.started_at)).collect();
        Self { pack, before, started }
    }

    /// The changes between the start of the decision and now. A clock that appeared is `started`, one
    /// that disappeared `stopped`, a paused one `paused`; a clock that moved takes `moved`.
    fn changes(&self, case: &Case, moved: ChangeReason) -> Vec<DeadlineChange> {
        let after: BTreeMap<String, Option<DateTime<Utc>>> =
            case.schedules(self.pack).into_iter().map(|(c, s)| (c, s.due_at())).collect();
        let reason_of = |c: &str| match (self.before.contains_key(c), case.timers.get(c)) {
            (false, Some(_)) => ChangeReason::Started,
            (true, None) => ChangeReason::Stopped,
            (_, Some(t)) if t.timer.is_paused() => ChangeReason::Paused,
            (true, Some(t)) if t.timer.started_at != self.started.get(c).copied().unwrap_or(t.timer.started_at) => {
                ChangeReason::Started
            }
            _ => moved.clone(),
        };
        let mut clocks: Vec<&String> = self.before.keys().chain(after.keys()).collect();
        clocks.sort();
        clocks.dedup();
        clocks
            .into_iter()
            .filter_map(|c| {
                let (old, new) = (self.before.get(c).copied().flatten(), after.get(c).copied().flatten());
                (old != new).then(|| DeadlineChange {
                    clock: c.clone(),
                    old_due_at: old,
                    new_due_at: new,
                    reason: reason_of(c),
                })
            })
            .collect()
    }
}

fn start_clock(pack: &Pack, case: &mut Case, clock: &str, at: DateTime<Utc>) {
    let cal_ref = case.calendar_ref(clock);
    let (region, agency) = match &cal_ref {
        CalendarRef::Region(r) => (Some(r.clone()), None),
        CalendarRef::Agency(a) => (
            pack.directory.agency(a).and_then(|x| x.region.clone()).or_else(|| CalendarRef::agency_region(a)),
            Some(a.clone()),
        ),
        CalendarRef::National => (None, None),
    };
    let basis = SlaBasis {
        level: case.escalation_level,
        category: case.category.clone(),
        investigation: case.state.investigation,
        region: region.map(|r| r.to_string()),
        agency,
    };
    // The workflow validated every clock against the national SLA, so resolution cannot fail.
    let Ok(sla) = basis.resolve(pack, case.kind, clock) else { return };
    let generation = case.state.generations.get(clock).copied().unwrap_or(0) + 1;
    case.state.generations.insert(clock.to_owned(), generation);
    case.state.sla_basis.insert(clock.to_owned(), basis);
    let timer = Timer::start(clock, sla.budget, sla.warn_permille, cal_ref, at);
    case.timers.insert(clock.to_owned(), CaseTimer { timer, generation, sla_source: sla.source.to_string() });
}

/// What recomputing a case's open deadlines on a new pack changed.
#[derive(Debug, Default)]
pub struct Recomputed {
    /// Each clock whose deadline moved, with the old and new `due_at` and why (journaled as one
    /// `deadline_changed` event).
    pub changes: Vec<DeadlineChange>,
    /// Some clock's budget or warning point changed (the timers must be written even when no deadline
    /// moved).
    pub budgets_changed: bool,
}

/// Recomputes every open clock of `case` on `pack` (DESIGN.md invariant 5): re-resolves its SLA from the
/// basis it started on and takes the new budget unless the layer that now sets it says
/// `applies_to: new_cases`, then derives its deadline on the pack's calendars. `old_due` holds each
/// clock's stored `due_at`; a clock whose deadline moved is journaled with reason `sla_changed` (its
/// budget changed) or `calendar_changed`. Clocks started before bases were recorded keep their budget.
/// Nothing else about the case is re-decided.
pub fn recompute_deadlines(
    pack: &Pack,
    case: &mut Case,
    old_due: &BTreeMap<String, Option<DateTime<Utc>>>,
) -> Recomputed {
    let mut out = Recomputed::default();
    let kind = case.kind;
    for (clock, t) in case.timers.iter_mut() {
        let mut sla_changed = false;
        if let Some(Ok(sla)) = case.state.sla_basis.get(clock).map(|b| b.resolve(pack, kind, clock)) {
            if sla.applies_to == crate::sla::AppliesTo::OpenCases
                && (sla.budget != t.timer.budget || sla.warn_permille != t.timer.warn_permille)
            {
                sla_changed = sla.budget != t.timer.budget;
                t.timer.budget = sla.budget;
                t.timer.warn_permille = sla.warn_permille;
                t.sla_source = sla.source.to_string();
                out.budgets_changed = true;
            }
        }
        let new = t.timer.schedule(&pack.calendar_for(&t.timer.calendar)).due_at();
        let old = old_due.get(clock).copied().flatten();
        if new != old {
            let reason = if sla_changed {
                ChangeReason::SlaChanged { pack: pack.hash.clone() }
            } else {
                ChangeReason::CalendarChanged { pack: pack.hash.clone() }
            };
            out.changes.push(DeadlineChange { clock: clock.clone(), old_due_at: old, new_due_at: new, reason });
        }
    }
    out
}

/// Moves every clock except `verify` onto the new holder's calendar (`complete` and `close` count on
/// the holder's calendar).
fn rebase_calendars(case: &mut Case) {
    if let Some(holder) = case.agency.clone() {
        for (name, t) in case.timers.iter_mut() {
            if name != "verify" {
                t.timer.calendar = CalendarRef::Agency(holder.clone());
            }
        }
    }
}

fn pause_running(case: &mut Case, now: DateTime<Utc>) {
    for t in case.timers.values_mut() {
        if !t.timer.is_paused() {
            let _ = t.timer.pause(now);
        }
    }
}

fn resume_paused(case: &mut Case, now: DateTime<Utc>) {
    for t in case.timers.values_mut() {
        if t.timer.is_paused() {
            let _ = t.timer.resume(now);
        }
    }
}

fn deadlines_json(changes: &[DeadlineChange]) -> Value {
    serde_json::to_value(changes).unwrap_or(Value::Null)
}

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
    if let Some(r) =
        pack.directory.agency(&holder).and_then(|a| a.region.clone()).or_else(|| CalendarRef::agency_region(&holder))
    {
        if let Some(k) = r.kabkota() {
            scopes.push(k.to_owned());
        }
        scopes.push(r.province().to_owned());
    }
    scopes.dedup();
    let view = case.policy_view();
    let decided = pack.policies.decide(
        "escalate",
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
                trace.push(TraceStep {
                    policy: "built-in".into(),
                    outcome: "failed".into(),
                    detail: format!("policy named unknown agency `{agency}`"),
                });
            }
            let t = pack.directory.default_escalation_target(&holder);
            let detail = format!("default ladder: {holder} → {}", t.as_deref().unwrap_or("ombudsman referral"));
            trace.push(TraceStep { policy: "built-in".into(), outcome: "decided".into(), detail });
            t.map_or(EscalationTarget::Ombudsman, EscalationTarget::Agency)
        }
    }
}

/// Applies an escalation (manual, forward limit, or a sweep's breach): the holder becomes the target,
/// the level goes up by one, `respond` restarts at `now` with the target tier's budget; an Ombudsman
/// referral flags the case and starts no clock. Returns the `escalated` event.
pub fn apply_escalation(
    pack: &Pack,
    case: &mut Case,
    target: EscalationTarget,
    reason: &str,
    breached: &[String],
    now: DateTime<Utc>,
    out: &mut Outcome,
) {
    let journal = Journal::new(pack, case);
    let from = case.agency.clone();
    if case.status == "awaiting_reporter" {
        case.timers.remove("close");
        resume_paused(case, now);
    }
    case.escalation_level += 1;
    case.status = "assigned".into();
    let referral = target == EscalationTarget::Ombudsman;
    let to = match target {
        EscalationTarget::Agency(a) => a,
        EscalationTarget::Ombudsman => OMBUDSMAN.to_owned(),
    };
    case.agency = Some(to.clone());
    if referral {
        if !case.is_referred() {
            case.flags.push(OMBUDSMAN_REFERRAL.into());
        }
        case.timers.remove("respond");
    } else {
        case.timers.remove("respond");
        start_clock(pack, case, "respond", now);
    }
    // `complete` and `close` now count on the new holder's calendar.
    rebase_calendars(case);
    if let Some(f) = &from {
        out.escalated_from = Some(f.clone());
    }
    out.new_holders.push(to.clone());
    let changes = journal.changes(case, ChangeReason::HolderChanged { from: from.clone(), to: to.clone() });
    out.events.push(NewEvent {
        event_type: "escalated".into(),
        data: json!({
            "from": from,
            "to": to,
            "level": case.escalation_level,
            "reason": reason,
            "referral": referral,
            "clocks": breached,
            "deadlines": deadlines_json(&changes),
            "trace": out.trace,
        }),
    });
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
