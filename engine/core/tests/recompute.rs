//! Recomputing open deadlines on a new pack: a changed SLA reaches open clocks unless the layer that sets
//! it says `applies_to: new_cases`; a clock keeps the basis it started on (an escalated case's
//! `complete` keeps its level-0 overlay); a calendar change is journaled as such.

mod common;

use aduan_core::case::{recompute_deadlines, Case};
use aduan_core::pack::{Pack, PackFile};
use aduan_core::sweep::{sweep_case, Fired};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;

use common::{assigned, t};

/// The national pack plus extra files (path, text), or with one file's text edited.
fn pack_with(extra: &[(&str, &str)], edit: Option<(&str, &dyn Fn(String) -> String)>) -> Pack {
    let mut files = common::pack_files(&common::pack_dir());
    for (path, text) in extra {
        files.push(PackFile { path: (*path).to_owned(), bytes: text.as_bytes().to_vec() });
    }
    if let Some((path, f)) = edit {
        let file = files.iter_mut().find(|x| x.path == path).expect("file in pack");
        file.bytes = f(String::from_utf8(file.bytes.clone()).unwrap()).into_bytes();
    }
    Pack::from_files(&files).unwrap_or_else(|e| panic!("pack invalid:\n{e}"))
}

fn overlay(clock: &str, days: u32, applies_to: &str) -> String {
    format!("region: \"35.78\"\nname: test overlay\napplies_to: {applies_to}\nclocks:\n  {clock}: {{working_days: {days}}}\n")
}

/// Each clock's `due_at` on `pack`, as the store holds it.
fn due(pack: &Pack, c: &Case) -> BTreeMap<aduan_core::clock::Clock, Option<DateTime<Utc>>> {
    c.schedules(pack).into_iter().map(|(k, s)| (k, s.due_at())).collect()
}

#[test]
fn a_changed_sla_reaches_open_clocks() {
    let old = common::national_pack();
    let mut c = assigned(&old, "2026-03-02T09:00:00+07:00");
    assert_eq!(c.timers["respond"].timer.budget.to_string(), "5 working days");
    let stored = due(&old, &c);
    let new = pack_with(&[("sla/35.78-test.yaml", &overlay("respond", 8, "open_cases"))], None);
    let r = recompute_deadlines(&new, &mut c, &stored);
    assert!(r.budgets_changed);
    assert_eq!(r.changes.len(), 1, "only respond moved: {:?}", r.changes);
    let ch = &r.changes[0];
    assert_eq!(ch.clock, "respond");
    assert_eq!(serde_json::to_value(&ch.reason).unwrap()["kind"], "sla_changed");
    assert_eq!(ch.old_due_at, stored["respond"]);
    // 8 working days from Mon 2 Mar 2026: due at the end of Thu 12 Mar (WIB).
    assert_eq!(ch.new_due_at, Some(t("2026-03-13T00:00:00+07:00")));
    assert_eq!(c.timers["respond"].timer.budget.to_string(), "8 working days");
    assert!(c.timers["respond"].sla_source.contains("35.78"), "{}", c.timers["respond"].sla_source);
    // Recomputing again on the same pack changes nothing.
    let stored = due(&new, &c);
    let r = recompute_deadlines(&new, &mut c, &stored);
    assert!(r.changes.is_empty() && !r.budgets_changed);
}

#[test]
fn a_change_for_new_cases_only_leaves_open_clocks_alone() {
    let old = common::national_pack();
    let mut c = assigned(&old, "2026-03-02T09:00:00+07:00");
    let stored = due(&old, &c);
    let new = pack_with(&[("sla/35.78-test.yaml", &overlay("respond", 8, "new_cases"))], None);
    let r = recompute_deadlines(&new, &mut c, &stored);
    assert!(r.changes.is_empty() && !r.budgets_changed, "{:?}", r.changes);
    assert_eq!(c.timers["respond"].timer.budget.to_string(), "5 working days");
    // A case opened under the new pack takes the new budget.
    let fresh = assigned(&new, "2026-03-02T09:00:00+07:00");
    assert_eq!(fresh.timers["respond"].timer.budget.to_string(), "8 working days");
}

#[test]
fn an_escalated_case_keeps_the_basis_each_clock_started_on() {
    // complete starts at level 0 under a 35.78 overlay (20 working days); respond's breach escalates the
    // case to Kota Surabaya (level 1), where respond restarts with the kab/kota tier's budget.
    let pack = pack_with(&[("sla/35.78-test.yaml", &overlay("complete", 20, "open_cases"))], None);
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    assert_eq!(c.timers["complete"].timer.budget.to_string(), "20 working days");
    let out = sweep_case(&pack, &mut c, &Fired::new(), t("2026-03-10T00:00:00+07:00"));
    assert_eq!(out.escalated, 1);
    assert_eq!(c.escalation_level, 1);
    // Recomputing on the same pack re-resolves each clock on its own basis: nothing changes (resolving
    // complete at the case's current level would drop the level-0 overlay and give 14 days).
    let stored = due(&pack, &c);
    let r = recompute_deadlines(&pack, &mut c, &stored);
    assert!(r.changes.is_empty() && !r.budgets_changed, "{:?}", r.changes);
    assert_eq!(c.timers["complete"].timer.budget.to_string(), "20 working days");
}

#[test]
fn a_new_holiday_is_journaled_as_a_calendar_change() {
    let old = common::national_pack();
    let mut c = assigned(&old, "2026-03-02T09:00:00+07:00");
    let stored = due(&old, &c);
    // respond is due at the end of Mon 9 Mar 2026; make that day a national holiday.
    let new = pack_with(
        &[],
        Some(("calendars/indonesia.yaml", &|s: String| {
            s.replacen(
                "  2026:\n    public:\n",
                "  2026:\n    public:\n      - {date: 2026-03-09, name: \"Added mid-year\"}\n",
                1,
            )
        })),
    );
    let r = recompute_deadlines(&new, &mut c, &stored);
    assert!(!r.budgets_changed);
    let respond = r.changes.iter().find(|x| x.clock == "respond").expect("respond moved");
    assert_eq!(serde_json::to_value(&respond.reason).unwrap()["kind"], "calendar_changed");
    assert_eq!(respond.old_due_at, Some(t("2026-03-10T00:00:00+07:00")));
    assert_eq!(respond.new_due_at, Some(t("2026-03-11T00:00:00+07:00")));
}
