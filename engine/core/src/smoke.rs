//! The smoke run: every policy of a pack called on a set of complaints before the pack goes live
//! (policies/README.md#limits), so a rule that loops, recurses, allocates without bound or returns an
//! agency the directory lacks is refused by `policy check` and by every reload, not found by a citizen.
//!
//! The set is deterministic and small (a few hundred calls per policy): a policy bound to a scope gets
//! complaints from inside its scope; a national one gets one government of each province. Every category
//! (and none) is tried, and kinds, privacy settings, escalation levels and clocks rotate across the set.
//! Each policy stops at its first failure, so a runaway one costs one call's operation budget.

use crate::case::Privacy;
use crate::clock::Clock;
use crate::directory::{Agency, Directory};
use crate::domain::Kind;
use crate::pack::Pack;
use crate::problem::Problem;
use crate::region::RegionCode;
use crate::rules::{escalate_args, route_args, Hook, PolicyComplaint, PolicyDecision, PolicyError};
use chrono::{DateTime, Utc};

/// The highest escalation level the smoke set tries (the Ombudsman's rung).
const LEVELS: u32 = 5;

/// Runs every policy of `pack` on the smoke set at `now`; each problem names the policy's file and line
/// and the complaint it failed on.
pub fn smoke(pack: &Pack, now: DateTime<Utc>) -> Vec<Problem> {
    let clocks: Vec<&Clock> = pack.slas.clocks();
    let mut problems = Vec::new();
    for (hook, scope) in pack.policies.bound() {
        let holders = holders_in(&pack.directory, scope);
        if let Err(p) = smoke_one(pack, hook, scope, &holders, &clocks, now) {
            problems.push(p);
        }
    }
    problems
}

/// The governments (or, for an agency scope, the agency) whose complaints a policy bound to `scope`
/// decides: a region's governments, or one per province for the national scope.
fn holders_in<'a>(dir: &'a Directory, scope: &str) -> Vec<&'a Agency> {
    let governments = dir.governments();
    if scope.is_empty() {
        let mut seen = std::collections::BTreeSet::new();
        return governments
            .into_iter()
            .filter(|g| g.region.as_ref().is_some_and(|r| seen.insert(r.province().to_owned())))
            .collect();
    }
    match RegionCode::parse(scope) {
        Ok(_) => governments.into_iter().filter(|g| g.region.as_ref().is_some_and(|r| in_scope(r, scope))).collect(),
        Err(_) => dir.agency(scope).into_iter().collect(),
    }
}

fn in_scope(region: &RegionCode, scope: &str) -> bool {
    region.province() == scope || region.kabkota() == Some(scope)
}

/// One policy over the set; the first failure is its problem.
fn smoke_one(
    pack: &Pack,
    hook: Hook,
    scope: &str,
    holders: &[&Agency],
    clocks: &[&Clock],
    now: DateTime<Utc>,
) -> Result<(), Problem> {
    let mut categories: Vec<Option<&str>> = pack.directory.categories().map(|c| Some(c.id.as_str())).collect();
    categories.push(None);
    let mut i = 0usize;
    for holder in holders {
        for category in &categories {
            let complaint = complaint(holder, *category, i);
            let args = match hook {
                Hook::Route => route_args(&complaint, now),
                Hook::Escalate => {
                    let level = (i as u32 % LEVELS) + 1;
                    let clock = clocks.get(i % clocks.len().max(1)).map_or("respond", |c| c.as_str());
                    let (held_by, _) = pack.directory.default_route(holder.region.as_ref(), *category);
                    let held_by = if pack.directory.agency(scope).is_some() { scope.to_owned() } else { held_by };
                    escalate_args(&complaint, &held_by, level, clock, now)
                }
            };
            i += 1;
            let outcome = pack.policies.run(hook, scope, args).unwrap_or(Ok(None));
            check(pack, pack.policies.file_of(hook, scope), outcome).map_err(|e| problem(e, &complaint))?;
        }
    }
    Ok(())
}

/// The complaint of the `i`-th call: filed in the holder's region, kind and privacy rotating.
fn complaint(holder: &Agency, category: Option<&str>, i: usize) -> PolicyComplaint {
    let privacy = Privacy::ALL[i % Privacy::ALL.len()];
    PolicyComplaint {
        kind: Kind::ALL[i % Kind::ALL.len()].as_str().into(),
        category: category.map(str::to_owned),
        region: holder.region.as_ref().map(|r| r.to_string()),
        channel: "web".into(),
        privacy: privacy.as_str().into(),
        title: if privacy == Privacy::Confidential { String::new() } else { "Uji coba kebijakan".into() },
    }
}

/// A decision is sound when it names an agency of the directory (or refers to the Ombudsman).
fn check(pack: &Pack, file: &str, outcome: Result<Option<PolicyDecision>, PolicyError>) -> Result<(), PolicyError> {
    match outcome? {
        Some(PolicyDecision::Agency { agency, .. }) if pack.directory.agency(&agency).is_none() => Err(PolicyError {
            file: file.to_owned(),
            line: 0,
            message: format!("returned agency `{agency}`, which is not in the directory,"),
        }),
        _ => Ok(()),
    }
}

fn problem(e: PolicyError, c: &PolicyComplaint) -> Problem {
    let on = format!(
        "on the smoke complaint {{kind: {}, category: {}, region: {}, privacy: {}}}",
        c.kind,
        c.category.as_deref().unwrap_or("none"),
        c.region.as_deref().unwrap_or("none"),
        c.privacy
    );
    Problem { file: e.file, line: (e.line > 0).then_some((e.line as u64, 1)), message: format!("{} {on}", e.message) }
}
