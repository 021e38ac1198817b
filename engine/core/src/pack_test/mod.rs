//! A pack's own test cases (`aduan policy test`; policies/README.md#tests): table-driven YAML under the
//! pack's `tests/`, each a complaint at an instant and what the engine must decide for it: the route,
//! each clock's deadline, the escalation ladder up to the Ombudsman and what the trace says.
//!
//! Pure like the rest of the core: the caller reads the files and hands in their text; [`parse`] checks
//! a file and [`run`] compares each case's expectations with what the engine decides ([`actual`]: the
//! `policy explain` answer, then the case played through the workflow and the sweep).

mod actual;
mod check;
mod format;

use crate::case::Privacy;
use crate::domain::Kind;
use crate::pack::{parse_yaml, Pack, PackError, Problem};
use crate::region::RegionCode;
use chrono::{DateTime, Utc};
use format::{CaseSpec, ExpectSpec};
use serde_saphyr::Spanned;
use std::collections::HashSet;
use std::fmt;

/// One test case, checked and ready to run.
#[derive(Debug)]
pub struct TestCase {
    /// Its name, unique in its file.
    pub name: String,
    /// The test file (pack-relative).
    pub file: String,
    /// The line of its `name`.
    pub line: u64,
    /// The complaint's kind.
    pub kind: Kind,
    /// Channel (default `web`).
    pub channel: String,
    /// Title (policies may read it).
    pub title: String,
    /// Category.
    pub category: Option<String>,
    /// Region code.
    pub region: Option<RegionCode>,
    /// Privacy (default public).
    pub privacy: Privacy,
    /// Marked for investigation.
    pub investigation: bool,
    /// When it is received, verified and dispatched.
    pub at: DateTime<Utc>,
    /// Agencies the holder forwards to after dispatch, in order, at `at`.
    pub forwards: Vec<String>,
    /// A known disagreement, written down: the case states the intended value and is reported apart.
    pub known_issue: Option<String>,
    expect: ExpectSpec,
}

/// One expectation that did not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The line of the expectation (the case's line for an engine error).
    pub line: u64,
    /// Expected and actual.
    pub message: String,
}

/// How a case ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Every expectation held.
    Passed,
    /// An expectation did not hold (or a `known_issue` case passes now, so its mark is stale).
    Failed,
    /// A `known_issue` case failed, as its mark says it does.
    KnownIssue,
}

/// The result of one case.
#[derive(Debug)]
pub struct CaseReport<'a> {
    /// The case.
    pub case: &'a TestCase,
    /// What did not hold.
    pub failures: Vec<Failure>,
}

impl CaseReport<'_> {
    /// Passed, failed, or failed as a known issue.
    pub fn verdict(&self) -> Verdict {
        match (&self.case.known_issue, self.failures.is_empty()) {
            (None, true) => Verdict::Passed,
            (Some(_), false) => Verdict::KnownIssue,
            _ => Verdict::Failed,
        }
    }

    /// One line per failure: `file:line: case name: what: expected …, got …`.
    pub fn lines(&self) -> Vec<String> {
        let c = self.case;
        match (&c.known_issue, self.failures.is_empty()) {
            (Some(_), true) => {
                vec![format!("{}:{}: {}: marked known_issue but passes now: remove the mark", c.file, c.line, c.name)]
            }
            (known, _) => {
                let tag = known.as_ref().map(|k| format!("known issue ({k}): ")).unwrap_or_default();
                self.failures.iter().map(|f| format!("{}:{}: {}: {tag}{}", c.file, f.line, c.name, f.message)).collect()
            }
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Passed => "passed",
            Verdict::Failed => "failed",
            Verdict::KnownIssue => "known issue",
        })
    }
}

/// Parses and checks one test file: a YAML list of cases. Every problem names `file:line:col`.
pub fn parse(file: &str, text: &str) -> Result<Vec<TestCase>, PackError> {
    let specs: Vec<Spanned<CaseSpec>> = parse_yaml(file, text)?;
    if specs.is_empty() {
        return Err(Problem::file(file, "no cases: a test file is a list of cases (policies/README.md#tests)").into());
    }
    let mut problems = Vec::new();
    let mut names = HashSet::new();
    let mut cases = Vec::new();
    for spec in specs {
        let s = spec.value;
        if !names.insert(s.name.value.clone()) {
            problems.push(Problem::at(file, &s.name.referenced, format!("a second case named `{}`", s.name.value)));
        }
        match case(file, s) {
            Ok(c) => cases.push(c),
            Err(p) => problems.extend(p),
        }
    }
    if problems.is_empty() {
        Ok(cases)
    } else {
        Err(PackError(problems))
    }
}

/// Checks one case's values that YAML cannot (instants, region codes, privacy).
fn case(file: &str, s: CaseSpec) -> Result<TestCase, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut problem = |loc: &serde_saphyr::Location, m: String| problems.push(Problem::at(file, loc, m));
    let at = DateTime::parse_from_rfc3339(&s.at.value).map(|t| t.with_timezone(&Utc));
    if let Err(e) = &at {
        problem(&s.at.referenced, format!("at: `{}` is not an RFC 3339 instant ({e})", s.at.value));
    }
    let c = s.complaint.value;
    let region = c.region.as_ref().map(|r| RegionCode::parse(&r.value).map_err(|e| (r, e)));
    if let Some(Err((r, e))) = &region {
        problem(&r.referenced, format!("region: {e}"));
    }
    let privacy = match &c.privacy {
        None => Some(Privacy::Public),
        Some(p) => {
            let v = Privacy::from_wire(&p.value);
            if v.is_none() {
                problem(&p.referenced, format!("privacy: `{}` is not public, anonymous or confidential", p.value));
            }
            v
        }
    };
    for (clock, d) in &s.expect.value.deadlines {
        for (field, v) in [("due_at", &d.value.0.due_at), ("warn_at", &d.value.0.warn_at)] {
            if let Some(Err(e)) = v.as_deref().map(DateTime::parse_from_rfc3339) {
                problem(&d.referenced, format!("deadlines.{clock}.{field}: not an RFC 3339 instant ({e})"));
            }
        }
    }
    for (i, r) in s.expect.value.escalation.iter().enumerate() {
        if let Some(Err(e)) = r.value.0.at.as_deref().map(DateTime::parse_from_rfc3339) {
            problem(&r.referenced, format!("escalation level {}: at: not an RFC 3339 instant ({e})", i + 1));
        }
    }
    let (Ok(at), Some(privacy)) = (at, privacy) else { return Err(problems) };
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(TestCase {
        name: s.name.value,
        file: file.to_owned(),
        line: s.name.referenced.line(),
        kind: c.kind,
        channel: c.channel.unwrap_or_else(|| "web".into()),
        title: c.title.unwrap_or_default(),
        category: c.category,
        region: region.and_then(Result::ok),
        privacy,
        investigation: c.investigation,
        at,
        forwards: s.forwards.into_iter().map(|f| f.value).collect(),
        known_issue: s.known_issue,
        expect: s.expect.value,
    })
}

/// Runs every case against the pack, in order.
pub fn run<'a>(pack: &Pack, cases: &'a [TestCase]) -> Vec<CaseReport<'a>> {
    cases
        .iter()
        .map(|case| {
            let a = actual::actual(pack, case);
            CaseReport { case, failures: check::check(&case.expect, &a, case.line) }
        })
        .collect()
}
