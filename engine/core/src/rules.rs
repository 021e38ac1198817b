//! Pluggable rhai policies (docs/workflow.md#policies), run in a sandbox (ARCHITECTURE.md invariant 4).
//!
//! A policy is bound by its path: `rules/{hook}.rhai` is national, `rules/{scope}/{hook}.rhai` binds to a
//! province, kab/kota or agency. The most specific scope decides first and may `defer()` outward.
//!
//! The sandbox is `Engine::new_raw()` with only the packages rules need (arithmetic, logic, strings,
//! arrays, maps, iteration, math): no `sleep`, `exit`, `eval`, imports, time or printing. Operations,
//! call depth and sizes are capped deterministically; variables are strict. Scripts compile once per
//! pack. The directory and calendars are native read-only functions over the pack's shared index.

use crate::calendar::{Calendar, CalendarSet, MAX_WORKING_DAYS};
use crate::directory::Directory;
use crate::problem::Problem;
use crate::region::RegionCode;
use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use rhai::packages::{
    ArithmeticPackage, BasicArrayPackage, BasicIteratorPackage, BasicMapPackage, BasicMathPackage, BasicStringPackage,
    LogicPackage, MoreStringPackage, Package,
};
use rhai::{CallFnOptions, Dynamic, Engine, EvalAltResult, Map, Scope, AST};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;

/// Operations a single policy call may take before it is stopped.
pub const MAX_OPERATIONS: u64 = 200_000;

/// A point where a pack can bind policies: a hook knows its name, its file name, the arguments its
/// function takes and which results it accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Hook {
    /// Where `verify` dispatches a case: `fn route(complaint, now)`.
    Route,
    /// Where an escalation goes: `fn escalate(complaint, holder, level, clock, now)`.
    Escalate,
}

impl Hook {
    /// Every hook.
    pub const ALL: [Hook; 2] = [Hook::Route, Hook::Escalate];

    /// Its name: the policy's function and file stem (`route`).
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Route => "route",
            Hook::Escalate => "escalate",
        }
    }

    /// The hook named `name`, if any.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|h| h.as_str() == name)
    }

    /// The file a policy for this hook is written in (`route.rhai`), under `rules/` or `rules/{scope}/`.
    pub fn file_name(self) -> &'static str {
        match self {
            Hook::Route => "route.rhai",
            Hook::Escalate => "escalate.rhai",
        }
    }

    /// The parameters of the policy's function, in order ([`route_args`], [`escalate_args`]).
    pub fn params(self) -> &'static [&'static str] {
        match self {
            Hook::Route => &["complaint", "now"],
            Hook::Escalate => &["complaint", "holder", "level", "clock", "now"],
        }
    }

    /// Whether a policy of this hook may return `#{referral: "ombudsman", reason}` (only escalation can
    /// refer a case to the Ombudsman).
    pub fn accepts_referral(self) -> bool {
        self == Hook::Escalate
    }

    /// The hook and scope of a policy file, from its path under `rules/` (`33.74/route.rhai` binds
    /// `route` to `33.74`; the scope is empty for national). `Err` carries the unknown file stem.
    pub fn of_policy_path(rest: &str) -> Result<(Self, String), String> {
        let (scope, file) = match rest.rsplit_once('/') {
            Some((scope, file)) => (scope.to_owned(), file),
            None => (String::new(), rest),
        };
        match Self::ALL.into_iter().find(|h| h.file_name() == file) {
            Some(h) => Ok((h, scope)),
            None => Err(file.strip_suffix(".rhai").unwrap_or(file).to_owned()),
        }
    }
}

impl fmt::Display for Hook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The complaint as a policy sees it: read-only getters for `kind`, `category`, `region`, `channel`,
/// `privacy`, `title`.
#[derive(Debug, Clone, Default)]
pub struct PolicyComplaint {
    /// Report kind.
    pub kind: String,
    /// Category, if known.
    pub category: Option<String>,
    /// Region code, if given.
    pub region: Option<String>,
    /// Channel.
    pub channel: String,
    /// Privacy.
    pub privacy: String,
    /// Title (empty for confidential complaints).
    pub title: String,
}

/// Marker returned by `defer()`: this scope passes the decision outward.
#[derive(Debug, Clone, Copy)]
struct Defer;

/// What a policy decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Send the case to this agency.
    Agency {
        /// Agency id.
        agency: String,
        /// Why, in the author's words.
        reason: String,
    },
    /// Refer the case to the Ombudsman (escalate hook only).
    Referral {
        /// Why.
        reason: String,
    },
}

/// A policy that failed: its file, line and what went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PolicyError {
    /// Pack-relative file.
    pub file: String,
    /// Line (0 when unknown).
    pub line: usize,
    /// What went wrong.
    pub message: String,
}

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.message)
    }
}

/// One step of a decision trace: which policy was consulted and what it said.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TraceStep {
    /// The policy file (where it would be, for `absent`), or `built-in` for the default.
    pub policy: String,
    /// The scope consulted (`35.78`, `35`, `national`); none for the built-in default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// `decided`, `deferred`, `failed`, `absent` (the scope has no policy for the hook) or `note` (a
    /// branch the policy named with `note(text)`, before its outcome).
    pub outcome: String,
    /// Detail: the decision, the error, or what deferred.
    pub detail: String,
}

impl TraceStep {
    /// A step of the built-in default (the route or the ladder), not of a policy.
    pub fn built_in(outcome: &str, detail: String) -> Self {
        Self { policy: BUILT_IN.into(), scope: None, outcome: outcome.into(), detail }
    }
}

/// The `policy` of a trace step taken by the engine's own default.
pub const BUILT_IN: &str = "built-in";

/// The compiled policies of a pack and the sandbox they run in.
pub struct Policies {
    engine: Engine,
    /// (hook, scope) → (file, compiled script, line of its `fn {hook}`).
    scripts: BTreeMap<(Hook, String), (String, AST, usize)>,
}

impl fmt::Debug for Policies {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policies").field("scripts", &self.scripts.keys().collect::<Vec<_>>()).finish()
    }
}

fn opt(v: &Option<String>) -> Dynamic {
    v.clone().map_or(Dynamic::UNIT, Dynamic::from)
}

fn calendar_of(dir: &Directory, cals: &CalendarSet, agency: &str) -> Arc<Calendar> {
    cals.for_agency(agency, dir.region_of(agency).as_ref())
}

/// The most notes one policy call keeps, and the characters of each.
const MAX_NOTES: usize = 32;
const MAX_NOTE_CHARS: usize = 200;

thread_local! {
    /// The `note(text)`s of the policy call running on this thread (a call runs on one thread).
    static NOTES: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Takes the notes the last policy call on this thread left.
fn take_notes() -> Vec<String> {
    NOTES.with(|n| std::mem::take(&mut *n.borrow_mut()))
}

/// `note(text)`: a policy names the branch it took; the trace keeps it (bounded).
fn register_note(e: &mut Engine) {
    e.register_fn("note", |text: &str| {
        NOTES.with(|n| {
            let mut n = n.borrow_mut();
            if n.len() < MAX_NOTES {
                n.push(text.chars().take(MAX_NOTE_CHARS).collect());
            }
        })
    });
}

/// Builds the sandboxed engine with the pack's directory and calendars as native functions.
fn sandbox(dir: Arc<Directory>, cals: Arc<CalendarSet>) -> Engine {
    let mut e = Engine::new_raw();
    for pkg in [
        ArithmeticPackage::new().as_shared_module(),
        LogicPackage::new().as_shared_module(),
        BasicStringPackage::new().as_shared_module(),
        MoreStringPackage::new().as_shared_module(),
        BasicArrayPackage::new().as_shared_module(),
        BasicMapPackage::new().as_shared_module(),
        BasicIteratorPackage::new().as_shared_module(),
        BasicMathPackage::new().as_shared_module(),
    ] {
        e.register_global_module(pkg);
    }
    e.set_strict_variables(true);
    e.set_max_operations(MAX_OPERATIONS);
    e.set_max_call_levels(32);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(10_000);
    e.set_max_array_size(1_000);
    e.set_max_map_size(1_000);
    e.set_max_functions(256);
    e.set_max_variables(256);
    e.disable_symbol("eval");
    register_types(&mut e);
    register_note(&mut e);
    register_directory(&mut e, &dir);
    register_calendars(&mut e, dir, cals);
    e
}

/// The complaint a policy sees, and `defer()`.
fn register_types(e: &mut Engine) {
    e.register_type_with_name::<PolicyComplaint>("Complaint")
        .register_get("kind", |c: &mut PolicyComplaint| c.kind.clone())
        .register_get("category", |c: &mut PolicyComplaint| opt(&c.category))
        .register_get("region", |c: &mut PolicyComplaint| opt(&c.region))
        .register_get("channel", |c: &mut PolicyComplaint| c.channel.clone())
        .register_get("privacy", |c: &mut PolicyComplaint| c.privacy.clone())
        .register_get("title", |c: &mut PolicyComplaint| c.title.clone());
    e.register_type_with_name::<Defer>("Defer");
    e.register_fn("defer", || Defer);
}

/// The directory's lookups: `agency`, `parent`, `government_of`, `unit_for`, `category`.
fn register_directory(e: &mut Engine, dir: &Arc<Directory>) {
    let d = dir.clone();
    e.register_fn("agency", move |id: &str| -> Dynamic {
        let Some(a) = d.agency(id) else { return Dynamic::UNIT };
        let mut m = Map::new();
        m.insert("id".into(), a.id.clone().into());
        m.insert("name".into(), a.name.clone().into());
        m.insert("level".into(), a.level.as_str().into());
        m.insert("tier".into(), a.tier().as_str().into());
        m.insert("parent".into(), opt(&a.parent));
        m.insert("region".into(), a.region.as_ref().map_or(Dynamic::UNIT, |r| r.to_string().into()));
        m.insert("categories".into(), a.categories.iter().cloned().map(Dynamic::from).collect::<Vec<_>>().into());
        m.into()
    });
    let d = dir.clone();
    e.register_fn("parent", move |id: &str| -> Dynamic { d.parent(id).map_or(Dynamic::UNIT, |p| p.to_owned().into()) });
    let d = dir.clone();
    e.register_fn("government_of", move |region: Dynamic| -> Dynamic {
        let Ok(r) = region.into_string() else { return Dynamic::UNIT };
        let Ok(code) = RegionCode::parse(&r) else { return Dynamic::UNIT };
        d.government_of(&code).map_or(Dynamic::UNIT, |g| g.to_owned().into())
    });
    let d = dir.clone();
    e.register_fn("unit_for", move |gov: &str, category: Dynamic| -> Dynamic {
        let Ok(c) = category.into_string() else { return Dynamic::UNIT };
        d.unit_for(gov, &c).map_or(Dynamic::UNIT, |u| u.to_owned().into())
    });
    let d = dir.clone();
    e.register_fn("category", move |id: Dynamic| -> Dynamic {
        let Ok(id) = id.into_string() else { return Dynamic::UNIT };
        let Some(c) = d.category(&id) else { return Dynamic::UNIT };
        let mut m = Map::new();
        m.insert("id".into(), c.id.clone().into());
        m.insert("name".into(), c.name.clone().into());
        let (unit, national) = match &c.handler {
            crate::directory::Handler::Unit(u) => (u.clone().into(), Dynamic::UNIT),
            crate::directory::Handler::National(n) => (Dynamic::UNIT, n.clone().into()),
        };
        m.insert("unit".into(), unit);
        m.insert("national".into(), national);
        m.into()
    });
}

/// The calendars of agencies: `is_working_day`, `add_working_days`.
fn register_calendars(e: &mut Engine, dir: Arc<Directory>, cals: Arc<CalendarSet>) {
    let (d, c) = (dir.clone(), cals.clone());
    e.register_fn("is_working_day", move |agency: &str, date: &str| -> Result<bool, Box<EvalAltResult>> {
        let date: NaiveDate = date.parse().map_err(|_| format!("is_working_day: `{date}` is not a YYYY-MM-DD date"))?;
        Ok(calendar_of(&d, &c, agency).day_status(date).working)
    });
    let (d, c) = (dir, cals);
    e.register_fn(
        "add_working_days",
        move |agency: &str, instant: &str, n: i64| -> Result<String, Box<EvalAltResult>> {
            let t = DateTime::parse_from_rfc3339(instant)
                .map_err(|_| format!("add_working_days: `{instant}` is not an RFC 3339 instant"))?
                .with_timezone(&Utc);
            let n = u32::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_WORKING_DAYS)
                .ok_or_else(|| format!("add_working_days: {n} is not a day count from 0 to {MAX_WORKING_DAYS}"))?;
            let cal = calendar_of(&d, &c, agency);
            let due = cal.add_working_days(t, n);
            Ok(due.due_at.with_timezone(&cal.time_zone()).to_rfc3339_opts(SecondsFormat::Secs, true))
        },
    );
}

fn eval_error(file: &str, fn_line: usize, err: &EvalAltResult) -> PolicyError {
    // A failure inside the policy's function arrives wrapped in the call; the inner error knows the line.
    let mut inner = err;
    while let EvalAltResult::ErrorInFunctionCall(_, _, e, _) = inner {
        inner = e;
    }
    // Some limits carry no position: point at the policy's `fn` then.
    let line = inner.position().line().or(err.position().line()).unwrap_or(fn_line);
    let mut message = match inner {
        EvalAltResult::ErrorTooManyOperations(_) => {
            format!("the policy ran past {MAX_OPERATIONS} operations (an endless loop?) and was stopped")
        }
        other => other.to_string(),
    };
    if let Some(i) = message.rfind(" (line ") {
        message.truncate(i);
    }
    PolicyError { file: file.to_owned(), line, message }
}

impl Policies {
    /// Compiles every `rules/**/{hook}.rhai` of a pack. Problems name file, line and column.
    pub fn compile(files: &[(&str, &str)], dir: Arc<Directory>, cals: Arc<CalendarSet>) -> Result<Self, Vec<Problem>> {
        let engine = sandbox(dir, cals);
        let mut scripts = BTreeMap::new();
        let mut problems = Vec::new();
        for (path, text) in files {
            let Some(rest) = path.strip_prefix("rules/").filter(|p| p.ends_with(".rhai")) else { continue };
            let (hook, scope) = match Hook::of_policy_path(rest) {
                Ok(bound) => bound,
                Err(name) => {
                    let known: Vec<&str> = Hook::ALL.iter().map(|h| h.as_str()).collect();
                    problems.push(Problem::file(path, format!("unknown hook `{name}` (hooks: {})", known.join(", "))));
                    continue;
                }
            };
            match engine.compile(text) {
                Ok(ast) => {
                    let params = hook.params().len();
                    if !ast.iter_functions().any(|f| f.name == hook.as_str() && f.params.len() == params) {
                        problems.push(Problem::file(path, format!("defines no `fn {hook}` with {params} parameters")));
                    }
                    let needle = format!("fn {hook}");
                    let fn_line = text.lines().position(|l| l.contains(&needle)).map_or(1, |i| i + 1);
                    scripts.insert((hook, scope), ((*path).to_owned(), ast, fn_line));
                }
                Err(e) => {
                    let pos = e.position();
                    let mut message = e.to_string();
                    if let Some(i) = message.rfind(" (line ") {
                        message.truncate(i);
                    }
                    problems.push(Problem {
                        file: (*path).to_owned(),
                        line: pos.line().map(|l| (l as u64, pos.position().unwrap_or(0) as u64)),
                        message,
                    });
                }
            }
        }
        if problems.is_empty() {
            Ok(Self { engine, scripts })
        } else {
            Err(problems)
        }
    }

    /// Runs the `hook` policies bound to `scopes` (most specific first). The first that does not defer
    /// decides. `Ok(None)` means every one deferred (or none exists): the built-in default decides.
    pub fn decide(
        &self,
        hook: Hook,
        scopes: &[String],
        args: impl Fn() -> Vec<Dynamic>,
        trace: &mut Vec<TraceStep>,
    ) -> Result<Option<PolicyDecision>, PolicyError> {
        let national = String::new();
        for scope in scopes.iter().chain(std::iter::once(&national)) {
            let name = if scope.is_empty() { "national" } else { scope.as_str() };
            let step = |policy: String, outcome: &str, detail: String| TraceStep {
                policy,
                scope: Some(name.to_owned()),
                outcome: outcome.into(),
                detail,
            };
            let outcome = self.run(hook, scope, args());
            let notes = take_notes();
            let Some(outcome) = outcome else {
                let path =
                    if scope.is_empty() { format!("rules/{hook}.rhai") } else { format!("rules/{scope}/{hook}.rhai") };
                trace.push(step(path, "absent", format!("no {hook} policy for {name}")));
                continue;
            };
            let file = self.file_of(hook, scope).to_owned();
            trace.extend(notes.into_iter().map(|n| step(file.clone(), "note", n)));
            match outcome {
                Ok(None) => trace.push(step(file, "deferred", format!("{name} deferred outward"))),
                Ok(Some(d)) => {
                    let detail = match &d {
                        PolicyDecision::Agency { agency, reason } => format!("{agency}: {reason}"),
                        PolicyDecision::Referral { reason } => format!("ombudsman referral: {reason}"),
                    };
                    trace.push(step(file, "decided", detail));
                    return Ok(Some(d));
                }
                Err(e) => {
                    trace.push(step(file, "failed", e.to_string()));
                    return Err(e);
                }
            }
        }
        Ok(None)
    }

    /// Runs the one policy bound to (`hook`, `scope`), if there is one: `Ok(None)` when it deferred.
    pub fn run(
        &self,
        hook: Hook,
        scope: &str,
        args: Vec<Dynamic>,
    ) -> Option<Result<Option<PolicyDecision>, PolicyError>> {
        let (file, ast, fn_line) = self.scripts.get(&(hook, scope.to_owned()))?;
        take_notes();
        let mut s = Scope::new();
        let opts = CallFnOptions::new().eval_ast(false).rewind_scope(true);
        let value = match self.engine.call_fn_with_options::<Dynamic>(opts, &mut s, ast, hook.as_str(), args) {
            Ok(v) => v,
            Err(e) => return Some(Err(eval_error(file, *fn_line, &e))),
        };
        if value.is::<Defer>() {
            return Some(Ok(None));
        }
        Some(match value.try_cast::<Map>() {
            Some(m) => interpret(file, hook, &m).map(Some),
            None => Err(PolicyError {
                file: file.clone(),
                line: 0,
                message: format!("`{hook}` must return a map or defer()"),
            }),
        })
    }

    /// The (hook, scope) of every policy, in order: national scope is `""`.
    pub fn bound(&self) -> impl Iterator<Item = (Hook, &str)> {
        self.scripts.keys().map(|(h, s)| (*h, s.as_str()))
    }

    /// The file of the policy bound to (`hook`, `scope`), or `""`.
    pub fn file_of(&self, hook: Hook, scope: &str) -> &str {
        self.scripts.get(&(hook, scope.to_owned())).map_or("", |(f, _, _)| f.as_str())
    }

    /// Whether any policy is bound to `hook`.
    pub fn has(&self, hook: Hook) -> bool {
        self.scripts.keys().any(|(h, _)| *h == hook)
    }
}

fn interpret(file: &str, hook: Hook, m: &Map) -> Result<PolicyDecision, PolicyError> {
    let get = |k: &str| m.get(k).and_then(|v| v.clone().into_string().ok());
    let reason = get("reason").unwrap_or_default();
    let fail = |message: String| PolicyError { file: file.to_owned(), line: 0, message };
    match (get("agency"), get("referral")) {
        (Some(agency), None) => Ok(PolicyDecision::Agency { agency, reason }),
        (None, Some(r)) if r == "ombudsman" && hook.accepts_referral() => Ok(PolicyDecision::Referral { reason }),
        _ => Err(fail(format!(
            "`{hook}` returned {m:?}: expected #{{agency: ID, reason}}{} or defer()",
            if hook.accepts_referral() { ", #{referral: \"ombudsman\", reason}" } else { "" }
        ))),
    }
}

/// The complaint and `now` as a route policy's arguments.
pub fn route_args(c: &PolicyComplaint, now: DateTime<Utc>) -> Vec<Dynamic> {
    vec![Dynamic::from(c.clone()), now.to_rfc3339_opts(SecondsFormat::Secs, true).into()]
}

/// The arguments of an escalate policy: complaint, holder, level, clock, now.
pub fn escalate_args(c: &PolicyComplaint, holder: &str, level: u32, clock: &str, now: DateTime<Utc>) -> Vec<Dynamic> {
    vec![
        Dynamic::from(c.clone()),
        holder.to_owned().into(),
        Dynamic::from(i64::from(level)),
        clock.to_owned().into(),
        now.to_rfc3339_opts(SecondsFormat::Secs, true).into(),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hook_knows_its_file_parameters_and_results() {
        assert_eq!(Hook::of_policy_path("route.rhai"), Ok((Hook::Route, String::new())));
        assert_eq!(Hook::of_policy_path("33.74/escalate.rhai"), Ok((Hook::Escalate, "33.74".to_owned())));
        assert_eq!(Hook::of_policy_path("35/triage.rhai"), Err("triage".to_owned()));
        assert_eq!((Hook::Route.params().len(), Hook::Escalate.params().len()), (2, 5));
        assert!(Hook::Escalate.accepts_referral() && !Hook::Route.accepts_referral());
        assert_eq!(Hook::parse("escalate"), Some(Hook::Escalate));
    }
}
