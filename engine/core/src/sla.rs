//! Service-level agreements: the budget of each clock, resolved from national defaults by kind and
//! category, then a region overlay, then an agency overlay, with provenance (which layer, file and line
//! set it).
//!
//! Overlays apply at escalation level 0 only; from level 1 on, a clock with `tiers` takes the budget of
//! the escalation target's tier (CONTRACT.md §3).

use crate::calendar::{MAX_WORKING_DAYS, MAX_WORKING_HOURS};
use crate::clock::Clock;
use crate::domain::{Kind, Tier};
use crate::problem::{parse_yaml, PackError, Problem};
use crate::region::RegionCode;
use serde::{Deserialize, Serialize};
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;

/// A clock's budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Budget {
    /// N working days (day 1 is the first working day after the start's local date).
    WorkingDays(u32),
    /// N working hours (time inside working hours on working days).
    WorkingHours(u32),
}

impl fmt::Display for Budget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Budget::WorkingDays(n) => write!(f, "{n} working days"),
            Budget::WorkingHours(n) => write!(f, "{n} working hours"),
        }
    }
}

/// Whether a change to an overlay reaches cases already open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AppliesTo {
    /// Open timers are recomputed with the new budget (the default).
    #[default]
    OpenCases,
    /// Only clocks started after the pack is active use it.
    NewCases,
}

/// The rollout of one rung: whether a sweep acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Rollout {
    /// Never acts; a due rung is counted as held.
    Off,
    /// Counted as held (and logged), not acted on: for trying a new rung safely.
    ReportOnly,
    /// Acts.
    #[default]
    Enforce,
}

/// The rollout of a clock's two rungs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Rungs {
    /// The warning rung (at `warn_at` of the budget).
    #[serde(default)]
    pub warning: Rollout,
    /// The breach rung (at `due_at`).
    #[serde(default)]
    pub breach: Rollout,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetSpec {
    working_days: Option<u32>,
    working_hours: Option<u32>,
    warn_at: Option<f64>,
    rungs: Option<Rungs>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleSpec {
    clock: Clock,
    kind: Option<Kind>,
    category: Option<String>,
    investigation: Option<bool>,
    working_days: Option<u32>,
    working_hours: Option<u32>,
    warn_at: Option<f64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TierSpec {
    kabkota: Option<Spanned<u32>>,
    province: Option<Spanned<u32>>,
    national: Option<Spanned<u32>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SlaFile {
    country: Option<String>,
    region: Option<Spanned<String>>,
    agency: Option<String>,
    #[serde(default)]
    name: String,
    #[serde(default)]
    applies_to: AppliesTo,
    warn_at: Option<f64>,
    #[serde(default)]
    clocks: BTreeMap<Clock, Spanned<BudgetSpec>>,
    #[serde(default)]
    rules: Vec<Spanned<RuleSpec>>,
    #[serde(default)]
    tiers: BTreeMap<Clock, TierSpec>,
}

/// Who an SLA layer belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SlaScope {
    /// The national defaults (PermenPANRB 62/2018).
    National,
    /// A province's or kab/kota's overlay.
    Region(RegionCode),
    /// One agency's overlay.
    Agency(String),
}

/// Which complaints a rule matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Criteria {
    kind: Option<Kind>,
    category: Option<String>,
    investigation: Option<bool>,
}

impl Criteria {
    fn matches(&self, q: &SlaQuery<'_>) -> bool {
        self.kind.is_none_or(|k| k == q.kind)
            && self.category.as_deref().is_none_or(|c| Some(c) == q.category)
            && self.investigation.is_none_or(|i| i == q.investigation)
    }

    fn specificity(&self) -> usize {
        usize::from(self.kind.is_some())
            + usize::from(self.category.is_some())
            + usize::from(self.investigation.is_some())
    }

    fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(k) = self.kind {
            parts.push(format!("kind={}", k.as_str()));
        }
        if let Some(c) = &self.category {
            parts.push(format!("category={c}"));
        }
        if let Some(i) = self.investigation {
            parts.push(format!("investigation={i}"));
        }
        parts.join(", ")
    }
}

#[derive(Debug, Clone)]
struct Entry {
    clock: Clock,
    criteria: Criteria,
    budget: Budget,
    warn_permille: Option<u16>,
    line: u64,
}

/// One validated SLA file.
#[derive(Debug, Clone)]
pub struct SlaLayer {
    /// Who it belongs to.
    pub scope: SlaScope,
    /// Pack-relative file.
    pub file: String,
    /// A human name (`Kota Semarang: tanggapan 7 hari kerja`).
    pub name: String,
    /// Whether it reaches open cases.
    pub applies_to: AppliesTo,
    warn_permille: Option<u16>,
    /// Clock defaults (no criteria) and rules, in file order.
    entries: Vec<Entry>,
    /// clock → tier → (budget in working days, line).
    tiers: BTreeMap<Clock, BTreeMap<Tier, (u32, u64)>>,
    /// clock → rung rollout (national layer).
    rungs: BTreeMap<Clock, Rungs>,
}

/// Whose SLA a file is: exactly one of `country`, `region` or `agency`.
fn scope_of(file: &str, raw: &SlaFile) -> Result<SlaScope, PackError> {
    match (&raw.country, &raw.region, &raw.agency) {
        (Some(_), None, None) => Ok(SlaScope::National),
        (None, Some(r), None) => match RegionCode::parse(&r.value) {
            Ok(code) => Ok(SlaScope::Region(code)),
            Err(e) => Err(Problem::at(file, &r.referenced, e.to_string()).into()),
        },
        (None, None, Some(a)) => Ok(SlaScope::Agency(a.clone())),
        _ => Err(Problem::file(file, "an SLA file names exactly one of `country`, `region` or `agency`").into()),
    }
}

/// One `rules:` entry, or `None` (with the problem noted) when its budget is wrong.
fn rule_entry(file: &str, rule: &Spanned<RuleSpec>, problems: &mut Vec<Problem>) -> Option<Entry> {
    let r = &rule.value;
    let criteria = Criteria { kind: r.kind, category: r.category.clone(), investigation: r.investigation };
    if criteria.specificity() == 0 {
        problems.push(Problem::at(
            file,
            &rule.referenced,
            "a rule matches on at least one of `kind`, `category`, `investigation` (set the clock's default under `clocks:` instead)",
        ));
    }
    let budget = budget_of(file, &rule.referenced, r.working_days, r.working_hours, problems)?;
    Some(Entry {
        clock: r.clock.clone(),
        criteria,
        budget,
        warn_permille: permille(file, r.warn_at, problems),
        line: rule.referenced.line(),
    })
}

impl TierSpec {
    /// tier → (budget in working days, line), for the tiers the file sets; a budget out of range is a
    /// problem instead.
    fn by_tier(&self, file: &str, problems: &mut Vec<Problem>) -> BTreeMap<Tier, (u32, u64)> {
        [(Tier::Kabkota, &self.kabkota), (Tier::Province, &self.province), (Tier::National, &self.national)]
            .into_iter()
            .filter_map(|(tier, v)| v.as_ref().map(|v| (tier, v)))
            .filter(|(tier, v)| {
                let ok = v.value <= MAX_WORKING_DAYS;
                if !ok {
                    let message =
                        format!("{} budget {} is out of range: at most {MAX_WORKING_DAYS}", tier.as_str(), v.value);
                    problems.push(Problem::at(file, &v.referenced, message));
                }
                ok
            })
            .map(|(tier, v)| (tier, (v.value, v.referenced.line())))
            .collect()
    }
}

fn permille(file: &str, w: Option<f64>, problems: &mut Vec<Problem>) -> Option<u16> {
    let w = w?;
    if (0.0..=1.0).contains(&w) {
        Some((w * 1000.0).round() as u16)
    } else {
        problems.push(Problem::file(file, format!("warn_at {w} is not a fraction between 0 and 1")));
        None
    }
}

fn budget_of(
    file: &str,
    line: &serde_saphyr::Location,
    days: Option<u32>,
    hours: Option<u32>,
    problems: &mut Vec<Problem>,
) -> Option<Budget> {
    match (days, hours) {
        (Some(d), None) if d <= MAX_WORKING_DAYS => Some(Budget::WorkingDays(d)),
        (None, Some(h)) if (1..=MAX_WORKING_HOURS).contains(&h) => Some(Budget::WorkingHours(h)),
        (Some(d), None) => {
            problems.push(Problem::at(
                file,
                line,
                format!("working_days {d} is out of range: at most {MAX_WORKING_DAYS}"),
            ));
            None
        }
        (None, Some(h)) => {
            let message = format!("working_hours {h} is out of range: from 1 to {MAX_WORKING_HOURS}");
            problems.push(Problem::at(file, line, message));
            None
        }
        _ => {
            problems.push(Problem::at(file, line, "give exactly one of `working_days` or `working_hours`"));
            None
        }
    }
}

impl SlaLayer {
    /// Parses and validates one SLA file.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, PackError> {
        let raw: SlaFile = parse_yaml(file, text)?;
        let mut problems = Vec::new();
        let scope = scope_of(file, &raw)?;
        let warn_permille = permille(file, raw.warn_at, &mut problems);
        let mut entries = Vec::new();
        let mut rungs = BTreeMap::new();
        for (clock, spec) in &raw.clocks {
            let s = &spec.value;
            if let Some(r) = s.rungs {
                if scope != SlaScope::National {
                    problems.push(Problem::at(file, &spec.referenced, "only the national SLA sets `rungs`"));
                }
                rungs.insert(clock.clone(), r);
            }
            if let Some(budget) = budget_of(file, &spec.referenced, s.working_days, s.working_hours, &mut problems) {
                entries.push(Entry {
                    clock: clock.clone(),
                    criteria: Criteria::default(),
                    budget,
                    warn_permille: permille(file, s.warn_at, &mut problems),
                    line: spec.referenced.line(),
                });
            }
        }
        entries.extend(raw.rules.iter().filter_map(|rule| rule_entry(file, rule, &mut problems)));
        if scope != SlaScope::National {
            // One problem per tiered clock, as each is a separate mistake.
            problems.extend(raw.tiers.keys().map(|_| Problem::file(file, "only the national SLA sets `tiers`")));
        }
        let tiers = raw.tiers.iter().map(|(clock, t)| (clock.clone(), t.by_tier(file, &mut problems))).collect();
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(Self {
            scope,
            file: file.to_owned(),
            name: raw.name,
            applies_to: raw.applies_to,
            warn_permille,
            entries,
            tiers,
            rungs,
        })
    }

    fn label(&self) -> String {
        match &self.scope {
            SlaScope::National => "national".into(),
            SlaScope::Region(r) => format!("region {r}"),
            SlaScope::Agency(a) => format!("agency {a}"),
        }
    }

    /// The entry of this layer that decides `q`: the most specific match, the later one on a tie.
    fn decide(&self, q: &SlaQuery<'_>) -> Option<&Entry> {
        let mut best: Option<&Entry> = None;
        for e in self.entries.iter().filter(|e| e.clock == *q.clock && e.criteria.matches(q)) {
            if best.is_none_or(|b| e.criteria.specificity() >= b.criteria.specificity()) {
                best = Some(e);
            }
        }
        best
    }
}

/// What an SLA is resolved for.
#[derive(Debug, Clone, Copy)]
pub struct SlaQuery<'a> {
    /// The clock (`verify`, `respond`, `complete`, `close`, or a pack's own).
    pub clock: &'a Clock,
    /// The report kind.
    pub kind: Kind,
    /// The complaint's category, once known.
    pub category: Option<&'a str>,
    /// The admin marked the complaint as needing investigation (berkadar pengawasan).
    pub investigation: bool,
    /// The case's escalation level (0 until escalated).
    pub escalation_level: u32,
    /// The tier of the agency the clock runs at, when known.
    pub tier: Option<Tier>,
    /// The region whose overlays apply (the clock's calendar region).
    pub region: Option<&'a RegionCode>,
    /// The agency whose overlay applies.
    pub agency: Option<&'a str>,
}

/// Which layer, file and line set a budget.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SlaSource {
    /// `national`, `region 33.74`, `agency pln`.
    pub layer: String,
    /// Pack-relative file.
    pub file: String,
    /// Line of the deciding entry.
    pub line: u64,
    /// What matched: `clocks.respond`, `rule kind=aspirasi`, `tiers.respond.province`.
    pub entry: String,
}

impl fmt::Display for SlaSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {} ({}:{})", self.layer, self.entry, self.file, self.line)
    }
}

/// A resolved SLA: budget, warning point and provenance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sla {
    /// The budget.
    pub budget: Budget,
    /// Where the warning falls, in thousandths of the budget (750 = 75 %).
    pub warn_permille: u16,
    /// The layer that set the budget.
    pub source: SlaSource,
    /// Whether that layer reaches open cases when it changes.
    pub applies_to: AppliesTo,
}

/// Why no SLA could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no SLA for clock `{0}`: the national SLA has no default for it")]
pub struct UnknownClock(pub Clock);

/// The SLA layers of a pack.
#[derive(Debug, Clone)]
pub struct SlaSet {
    national: SlaLayer,
    overlays: Vec<SlaLayer>,
}

/// The default warning point: 75 % of the budget.
pub const DEFAULT_WARN_PERMILLE: u16 = 750;

impl SlaSet {
    pub(crate) fn build(layers: Vec<SlaLayer>) -> Result<Self, PackError> {
        let mut national = None;
        let mut overlays = Vec::new();
        let mut problems = Vec::new();
        for l in layers {
            if l.scope == SlaScope::National {
                if national.is_some() {
                    problems.push(Problem::file(&l.file, "a second national SLA (`country:`)"));
                } else {
                    national = Some(l);
                }
            } else {
                overlays.push(l);
            }
        }
        let Some(national) = national else {
            problems.push(Problem::file("sla/", "the pack has no national SLA (`country:`)"));
            return Err(PackError(problems));
        };
        let defaults: Vec<&Clock> =
            national.entries.iter().filter(|e| e.criteria.specificity() == 0).map(|e| &e.clock).collect();
        for layer in std::iter::once(&national).chain(&overlays) {
            for e in &layer.entries {
                if !defaults.contains(&&e.clock) {
                    problems.push(Problem::file(
                        &layer.file,
                        format!("line {}: clock `{}` has no national default under `clocks:`", e.line, e.clock),
                    ));
                }
            }
        }
        for clock in national.tiers.keys() {
            if !defaults.contains(&clock) {
                problems.push(Problem::file(
                    &national.file,
                    format!("tiers name clock `{clock}`, which has no national default"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(Self { national, overlays })
    }

    /// The rollout of a clock's rungs (enforce unless the national SLA says otherwise).
    pub fn rungs(&self, clock: &Clock) -> Rungs {
        self.national.rungs.get(clock).copied().unwrap_or_default()
    }

    /// The clocks the national SLA defines, in the order its file lists them.
    pub fn clocks(&self) -> Vec<&Clock> {
        let mut defaults: Vec<&Entry> =
            self.national.entries.iter().filter(|e| e.criteria.specificity() == 0).collect();
        defaults.sort_by_key(|e| e.line);
        defaults.into_iter().map(|e| &e.clock).collect()
    }

    /// The SLA of one clock for one complaint: national default, national rules, then (at level 0) the
    /// province, kab/kota and agency overlays; from level 1, the target tier's budget where set.
    pub fn resolve(&self, q: &SlaQuery<'_>) -> Result<Sla, UnknownClock> {
        let pick = |layer: &SlaLayer, e: &Entry| {
            let entry = if e.criteria.specificity() == 0 {
                format!("clocks.{}", e.clock)
            } else {
                format!("rule {} {}", e.clock, e.criteria.describe())
            };
            let warn = e.warn_permille.or(layer.warn_permille);
            let source = SlaSource { layer: layer.label(), file: layer.file.clone(), line: e.line, entry };
            (e.budget, warn, source, layer.applies_to)
        };
        let e = self.national.decide(q).ok_or_else(|| UnknownClock(q.clock.clone()))?;
        let (mut budget, mut warn, mut source, mut applies_to) = pick(&self.national, e);
        if q.escalation_level == 0 {
            for layer in self.overlays_for(q) {
                if let Some(e) = layer.decide(q) {
                    let (b, w, s, a) = pick(layer, e);
                    budget = b;
                    warn = w.or(warn);
                    source = s;
                    applies_to = a;
                }
            }
        } else if let Some((days, line)) = q.tier.and_then(|t| self.national.tiers.get(q.clock)?.get(&t)) {
            budget = Budget::WorkingDays(*days);
            source = SlaSource {
                layer: "national".into(),
                file: self.national.file.clone(),
                line: *line,
                entry: format!("tiers.{}.{}", q.clock, q.tier.expect("matched").as_str()),
            };
        }
        let warn_permille = warn.or(self.national.warn_permille).unwrap_or(DEFAULT_WARN_PERMILLE);
        Ok(Sla { budget, warn_permille, source, applies_to })
    }

    /// Overlays that apply to the query, most general first: province, kab/kota, agency.
    fn overlays_for<'s>(&'s self, q: &SlaQuery<'_>) -> impl Iterator<Item = &'s SlaLayer> {
        let province = q.region.map(|r| r.province().to_owned());
        let kabkota = q.region.and_then(|r| r.kabkota().map(str::to_owned));
        let agency = q.agency.map(str::to_owned);
        let rank = move |l: &SlaLayer| match &l.scope {
            SlaScope::Region(r) if Some(r.as_str()) == province.as_deref() => Some(0),
            SlaScope::Region(r) if Some(r.as_str()) == kabkota.as_deref() => Some(1),
            SlaScope::Agency(a) if Some(a.as_str()) == agency.as_deref() => Some(2),
            _ => None,
        };
        let mut v: Vec<(u8, &SlaLayer)> = self.overlays.iter().filter_map(|l| rank(l).map(|r| (r, l))).collect();
        v.sort_by_key(|(r, _)| *r);
        v.into_iter().map(|(_, l)| l)
    }
}
