//! The hand-worked table (tests/data/calendar_cases.yaml): real cases across 2025–2027 and past them,
//! each worked out by hand from the published calendar, checked against the national pack's calendars.

mod common;

use aduan_core::calendar::Calendar;
use aduan_core::region::RegionCode;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    name: String,
    op: String,
    region: String,
    start: String,
    n: Option<u32>,
    hours: Option<u32>,
    end: Option<String>,
    due_date: Option<String>,
    due_at: Option<String>,
    warn_at: Option<String>,
    provisional: Option<bool>,
    expected: Option<i64>,
    #[allow(dead_code)]
    why: String,
}

fn instant(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s}: {e}")).with_timezone(&Utc)
}

fn same_instant(expected: &str, got: DateTime<Utc>) -> bool {
    instant(expected) == got
}

// Tests read the pack from disk; the core itself does not (engine/core/clippy.toml).
#[allow(clippy::disallowed_methods)]
#[test]
fn every_hand_worked_case_holds() {
    let pack = common::national_pack();
    let text = std::fs::read_to_string(common::manifest_dir().join("tests/data/calendar_cases.yaml")).unwrap();
    let cases: Vec<Case> = serde_saphyr::from_str(&text).expect("cases parse");
    assert!(cases.len() >= 30, "the table keeps at least 30 cases");
    let mut failures = Vec::new();
    let mut ops = std::collections::BTreeMap::<String, usize>::new();
    for c in &cases {
        *ops.entry(c.op.clone()).or_default() += 1;
        // An empty region means the complaint named none: the national calendar in Asia/Jakarta.
        let cal: Arc<Calendar> = match c.region.as_str() {
            "" => pack.calendars.national(),
            r => pack.calendars.for_region(&RegionCode::parse(r).expect("region")),
        };
        let start = instant(&c.start);
        let got = match c.op.as_str() {
            "add_days" => {
                let d = cal.add_working_days(start, c.n.expect("n"));
                let ok = d.due_date.to_string() == *c.due_date.as_ref().expect("due_date")
                    && same_instant(c.due_at.as_ref().expect("due_at"), d.due_at)
                    && Some(d.provisional) == c.provisional;
                (!ok).then(|| format!("{} / {} / provisional {}", d.due_date, d.due_at, d.provisional))
            }
            "count" => {
                let n = cal.count_working_days(start, instant(c.end.as_ref().expect("end")));
                (Some(n.days) != c.expected).then(|| format!("{}", n.days))
            }
            "add_hours" => {
                let d = cal.add_working_seconds(start, u64::from(c.hours.expect("hours")) * 3600);
                (!same_instant(c.due_at.as_ref().expect("due_at"), d.due_at)).then(|| d.due_at.to_string())
            }
            "warn" => {
                let n = c.n.expect("n");
                let day = n * 3 / 4 + 1;
                let w = cal.opening_of_working_day(start, day.min(n));
                (!same_instant(c.warn_at.as_ref().expect("warn_at"), w)).then(|| w.to_string())
            }
            other => panic!("unknown op {other}"),
        };
        if let Some(got) = got {
            failures.push(format!(
                "{}: got {got}\n   skipped: {:?}",
                c.name,
                cal.explain_span(cal.local_date(start), cal.local_date(start) + chrono::Days::new(20))
            ));
        }
    }
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.len(), failures.join("\n"));
    for op in ["add_days", "count", "add_hours", "warn"] {
        assert!(ops.get(op).copied().unwrap_or(0) >= 4, "at least 4 `{op}` cases");
    }
}
