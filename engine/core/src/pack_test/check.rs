//! Comparing a case's expectations with what the engine decided. Only what the case states is checked;
//! each failure carries the line of the expectation that did not hold.

use super::actual::{Actual, Rung};
use super::format::{DeadlineSpec, ExpectSpec, RungSpec};
use super::Failure;
use crate::explain::DeadlineExplanation;
use chrono::DateTime;
use std::fmt::Display;

/// Every expectation of `e` that `a` does not meet; `line` is the case's own (for engine errors).
pub(super) fn check(e: &ExpectSpec, a: &Actual, line: u64) -> Vec<Failure> {
    let mut out: Vec<Failure> = a.errors.iter().map(|m| Failure { line, message: m.clone() }).collect();
    let mut fail = |line: u64, message: String| out.push(Failure { line, message });
    let route = &a.explanation.route;
    if let Some(x) = &e.agency {
        let got = route.agency.as_deref().unwrap_or("none");
        if x.value != got {
            fail(x.referenced.line(), differ("agency", &x.value, format!("{got} ({})", route.reason)));
        }
    }
    if let Some(x) = &e.reason {
        if !route.reason.contains(&x.value) {
            fail(x.referenced.line(), format!("reason: expected it to contain `{}`, got `{}`", x.value, route.reason));
        }
    }
    if let Some(x) = &e.holder {
        let got = a.holder.as_deref().unwrap_or("none");
        if x.value != got {
            fail(x.referenced.line(), differ("holder", &x.value, got));
        }
    }
    for (clock, spec) in &e.deadlines {
        let at = spec.referenced.line();
        match a.explanation.deadlines.iter().find(|d| &d.clock == clock) {
            Some(d) => deadline(&format!("deadlines.{clock}"), &spec.value.0, d, &mut |m| fail(at, m)),
            None => {
                let have: Vec<&str> = a.explanation.deadlines.iter().map(|d| d.clock.as_str()).collect();
                fail(at, format!("deadlines.{clock}: no such clock (the explanation has {})", have.join(", ")));
            }
        }
    }
    for (i, spec) in e.escalation.iter().enumerate() {
        let at = spec.referenced.line();
        match a.rungs.get(i) {
            Some(r) => rung(i + 1, &spec.value.0, r, &mut |m| fail(at, m)),
            None => fail(
                at,
                format!("escalation level {}: expected {}, got no escalation ({})", i + 1, spec.value.0.to, ladder(a)),
            ),
        }
    }
    for x in &e.trace {
        if !a.trace.iter().any(|l| l.contains(&x.value)) {
            fail(
                x.referenced.line(),
                format!("trace: no step contains `{}` (the trace: {})", x.value, a.trace.join(" | ")),
            );
        }
    }
    for x in &e.not_in_trace {
        if let Some(l) = a.trace.iter().find(|l| l.contains(&x.value)) {
            fail(x.referenced.line(), format!("not_in_trace: a step contains `{}`: {l}", x.value));
        }
    }
    out
}

fn differ(what: &str, expected: impl Display, got: impl Display) -> String {
    format!("{what}: expected {expected}, got {got}")
}

/// Where the case went, for a failure message: `35.78 → 35 → kemenpanrb → ombudsman`.
fn ladder(a: &Actual) -> String {
    if a.rungs.is_empty() {
        return "it never escalated".into();
    }
    let to: Vec<&str> = a.rungs.iter().map(|r| r.to.as_str()).collect();
    format!("it went {}", to.join(" → "))
}

/// Two instants written in any offsets name the same moment.
fn same_instant(expected: &str, got: &str) -> bool {
    match (DateTime::parse_from_rfc3339(expected), DateTime::parse_from_rfc3339(got)) {
        (Ok(x), Ok(y)) => x == y,
        _ => expected == got,
    }
}

fn deadline(what: &str, x: &DeadlineSpec, d: &DeadlineExplanation, fail: &mut dyn FnMut(String)) {
    if let Some(v) = x.due_date {
        if v != d.due_date {
            fail(differ(&format!("{what}.due_date"), v, d.due_date));
        }
    }
    for (field, v, got) in [("due_at", &x.due_at, &d.due_at), ("warn_at", &x.warn_at, &d.warn_at)] {
        if let Some(v) = v {
            if !same_instant(v, got) {
                fail(differ(&format!("{what}.{field}"), v, got));
            }
        }
    }
    if let Some(v) = &x.budget {
        if v != &d.budget {
            fail(differ(&format!("{what}.budget"), v, &d.budget));
        }
    }
    if let Some(v) = x.provisional {
        if v != d.provisional {
            fail(differ(&format!("{what}.provisional"), v, d.provisional));
        }
    }
    for (field, v, got) in [("sla_source", &x.sla_source, &d.sla_source), ("calendar", &x.calendar, &d.calendar)] {
        if let Some(v) = v {
            if !got.contains(v.as_str()) {
                fail(format!("{what}.{field}: expected it to contain `{v}`, got `{got}`"));
            }
        }
    }
    if let Some(v) = &x.skipped {
        let got: Vec<_> = d.skipped.iter().map(|s| s.date).collect();
        if v != &got {
            let show = |ds: &[chrono::NaiveDate]| {
                format!("[{}]", ds.iter().map(|d| d.to_string()).collect::<Vec<_>>().join(", "))
            };
            fail(differ(&format!("{what}.skipped"), show(v), show(&got)));
        }
    }
}

fn rung(level: usize, x: &RungSpec, r: &Rung, fail: &mut dyn FnMut(String)) {
    let what = format!("escalation level {level}");
    if x.to != r.to {
        fail(differ(&format!("{what}.to"), &x.to, &r.to));
    }
    if let Some(v) = &x.clocks {
        if v != &r.clocks {
            let show = |cs: &[crate::clock::Clock]| {
                format!("[{}]", cs.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "))
            };
            fail(differ(&format!("{what}.clocks"), show(v), show(&r.clocks)));
        }
    }
    if let Some(v) = &x.reason {
        if v != &r.reason {
            fail(differ(&format!("{what}.reason"), v, &r.reason));
        }
    }
    if let Some(v) = &x.at {
        if !same_instant(v, &r.at) {
            fail(differ(&format!("{what}.at"), v, &r.at));
        }
    }
    if let Some(v) = &x.respond {
        match &r.respond {
            Some(d) => deadline(&format!("{what}.respond"), &v.0, d, fail),
            None => fail(format!("{what}.respond: no respond clock runs at {}", r.to)),
        }
    }
}
