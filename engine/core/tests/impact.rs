//! What a candidate pack changes about stored cases (`aduan_core::impact`, behind `policy replay`):
//! real histories decided by the core under the national pack, then compared with candidates that
//! differ by one known edit each (an SLA overlay, a holiday, a route rule, an escalation rule).

mod common;

use aduan_core::case::Command;
use aduan_core::clock::Clock;
use aduan_core::impact::{differences, Change, Difference, Group, Moved, Packs};
use aduan_core::pack::Pack;
use common::life::{verify, Life};
use common::t;

/// The national pack with `text` replacing `from` in `file` (or `file` added when `from` is empty).
fn candidate(file: &str, from: &str, text: &str) -> Pack {
    let mut files = common::pack_files(&common::pack_dir());
    match files.iter_mut().find(|f| f.path == file) {
        Some(f) => {
            let old = String::from_utf8(f.bytes.clone()).unwrap();
            assert!(old.contains(from), "{file} holds {from:?}");
            f.bytes = old.replacen(from, text, 1).into_bytes();
        }
        None => files.push(aduan_core::pack::PackFile { path: file.into(), bytes: text.as_bytes().to_vec() }),
    }
    Pack::from_files(&files).unwrap_or_else(|e| panic!("candidate invalid:\n{e}"))
}

/// Semarang's `respond` at 10 working days instead of 7.
fn semarang_respond_10() -> Pack {
    candidate("sla/33.74-kota-semarang.yaml", "respond: {working_days: 7}", "respond: {working_days: 10}")
}

fn diffs(active: &Pack, candidate: &Pack, life: &Life, at: &str) -> Vec<Difference> {
    differences(Packs { active, candidate }, &life.case, &life.history(), t(at))
}

fn clock(d: &Difference) -> &str {
    d.clock.as_ref().map_or("-", Clock::as_str)
}

/// A case of Kota Semarang verified on Mon 2 Mar 2026 10:00 WIB: `respond` 7 working days (due Wed 11
/// Mar), `complete` 14.
fn semarang() -> Life {
    let pack = common::national_pack();
    let mut l = Life::new(&pack, "33.74", "2026-03-02T09:00:00+07:00");
    l.act(&pack, verify(), "2026-03-02T10:00:00+07:00");
    l
}

#[test]
fn an_identical_candidate_changes_nothing_over_a_whole_life() {
    let (active, same) = (common::national_pack(), common::national_pack());
    let mut l = semarang();
    l.act(&active, Command::RequestInfo { message: "Lokasi?".into() }, "2026-03-03T10:00:00+07:00");
    l.act(&active, Command::ProvideInfo { message: "Depan pasar".into() }, "2026-03-05T10:00:00+07:00");
    assert_eq!(l.sweep(&active, "2026-04-30T10:00:00+07:00"), 1, "complete breached");
    for at in ["2026-03-04T10:00:00+07:00", "2026-05-20T10:00:00+07:00", "2026-09-01T10:00:00+07:00"] {
        assert_eq!(diffs(&active, &same, &l, at), vec![], "{at}");
    }
}

#[test]
fn a_longer_sla_moves_the_open_deadline_and_holds_back_a_due_escalation() {
    let (active, cand) = (common::national_pack(), semarang_respond_10());
    let l = semarang();
    let d = diffs(&active, &cand, &l, "2026-03-04T10:00:00+07:00");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(
        (d[0].tracking_id.as_str(), d[0].region.as_deref(), clock(&d[0])),
        ("ABCDE-FGHJK", Some("33.74"), "respond")
    );
    let Change::Deadline { before, after, reason } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!((before.due_date.to_string(), after.due_date.to_string()), ("2026-03-11".into(), "2026-03-16".into()));
    assert_eq!(before.due_at, t("2026-03-12T00:00:00+07:00"));
    assert_eq!(*reason, Moved::SlaChanged);
    // On Thu 12 Mar `respond` is due under the active pack only: the sweep would escalate, the
    // candidate's would not.
    let d = diffs(&active, &cand, &l, "2026-03-12T10:00:00+07:00");
    let kinds: Vec<(&str, &str)> = d.iter().map(|d| (d.change.kind(), clock(d))).collect();
    assert_eq!(kinds, [("deadline", "respond"), ("would_not_escalate", "respond")]);
    assert_eq!(d[1].change.group(), Group::Escalation);
    // On Tue 17 Mar both would escalate, to the same target: only the deadline differs.
    let d = diffs(&active, &cand, &l, "2026-03-17T10:00:00+07:00");
    assert_eq!(d.iter().map(|d| d.change.kind()).collect::<Vec<_>>(), ["deadline"]);
    // Swapped, the candidate is the one that escalates.
    let d = diffs(&cand, &active, &l, "2026-03-12T10:00:00+07:00");
    let Change::WouldEscalate { target, .. } = &d[1].change else { panic!("{d:#?}") };
    assert_eq!(target, "33.74", "the unit's government");
}

#[test]
fn a_past_breach_escalation_the_candidate_would_not_have_made() {
    let (active, cand) = (common::national_pack(), semarang_respond_10());
    let mut l = semarang();
    assert_eq!(l.sweep(&active, "2026-03-12T00:00:00+07:00"), 1);
    assert_eq!(l.case.agency.as_deref(), Some("33.74"));
    // Level 1: `respond` restarted with the kab/kota tier's 5 days (overlays apply at level 0 only), so
    // the only difference is the escalation itself.
    let d = diffs(&active, &cand, &l, "2026-03-12T10:00:00+07:00");
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(clock(&d[0]), "respond");
    let Change::WouldNotHaveEscalated { at, before, after } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!(*at, t("2026-03-12T00:00:00+07:00"));
    assert_eq!((before.due_date.to_string(), after.due_date.to_string()), ("2026-03-11".into(), "2026-03-16".into()));
    let json = serde_json::to_value(&d[0]).unwrap();
    assert_eq!(json["kind"], "would_not_have_escalated");
    assert_eq!(json["tracking_id"], "ABCDE-FGHJK");
    assert_eq!(json["clock"], "respond");
    assert_eq!(json["after"]["due_date"], "2026-03-16");
}

#[test]
fn a_pause_counts_in_the_rebuilt_clock() {
    // Surabaya, verified Mon 6 Jul 2026 (a month without holidays); a follow-up on Tue 7 stops
    // `respond`; `complete` paused from Wed 8 to Fri 10 Jul gets two working days back: 14 + 2 from
    // Jul 6 is due end of Tue 28 Jul, and the sweep escalated at 00:00 Wed 29. With 16, due Thu 30.
    let active = common::national_pack();
    let cand = candidate("sla/national.yaml", "complete: {working_days: 14}", "complete: {working_days: 16}");
    let mut l = Life::new(&active, "35.78", "2026-07-06T09:00:00+07:00");
    l.act(&active, verify(), "2026-07-06T10:00:00+07:00");
    l.act(&active, Command::Respond { message: "Kami cek".into() }, "2026-07-07T10:00:00+07:00");
    l.act(&active, Command::RequestInfo { message: "Lokasi?".into() }, "2026-07-08T10:00:00+07:00");
    l.act(&active, Command::ProvideInfo { message: "Depan pasar".into() }, "2026-07-10T10:00:00+07:00");
    assert_eq!(l.sweep(&active, "2026-07-28T23:59:00+07:00"), 0, "not yet due");
    assert_eq!(l.sweep(&active, "2026-07-29T00:00:00+07:00"), 1);
    let d = diffs(&active, &cand, &l, "2026-07-29T10:00:00+07:00");
    let kinds: Vec<(&str, &str)> = d.iter().map(|d| (d.change.kind(), clock(d))).collect();
    assert_eq!(kinds, [("deadline", "complete"), ("would_not_have_escalated", "complete")], "{d:#?}");
    let Change::WouldNotHaveEscalated { before, after, .. } = &d[1].change else { panic!("{d:#?}") };
    assert_eq!((before.due_date.to_string(), after.due_date.to_string()), ("2026-07-28".into(), "2026-07-30".into()));
}

#[test]
fn a_holiday_moves_every_open_clock_that_crosses_it() {
    // Surabaya, verified Mon 2 Mar: `respond` 5 (due Mon 9) and `complete` 14 both cross Thu 5 Mar.
    let active = common::national_pack();
    let cand = candidate(
        "calendars/indonesia.yaml",
        "  2026:\n    public:\n",
        "  2026:\n    public:\n      - {date: 2026-03-05, name: \"Added\"}\n",
    );
    let mut l = Life::new(&active, "35.78", "2026-03-02T09:00:00+07:00");
    l.act(&active, verify(), "2026-03-02T10:00:00+07:00");
    let d = diffs(&active, &cand, &l, "2026-03-03T10:00:00+07:00");
    let got: Vec<(&str, String, String)> = d
        .iter()
        .map(|d| match &d.change {
            Change::Deadline { before, after, reason: Moved::CalendarChanged } => {
                (clock(d), before.due_date.to_string(), after.due_date.to_string())
            }
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), ["complete", "respond"]);
    assert_eq!((got[1].1.as_str(), got[1].2.as_str()), ("2026-03-09", "2026-03-10"));
}

#[test]
fn a_route_rule_sends_routed_cases_elsewhere_but_not_the_admins_dispatch() {
    let active = common::national_pack();
    let cand = candidate(
        "rules/route.rhai",
        "fn route(complaint, now) {\n",
        "fn route(complaint, now) {\n    if complaint.region == \"33.74\" { return #{ agency: \"33.74/bpbd\", reason: \"Semarang: roads to BPBD\" }; }\n",
    );
    let l = semarang();
    let d = diffs(&active, &cand, &l, "2026-03-03T10:00:00+07:00");
    assert_eq!(d.len(), 1, "{d:#?}");
    let Change::Route { before, after } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!(before.agency.as_deref(), Some("33.74/dinas-pu"));
    assert_eq!((after.agency.as_deref(), after.reason.as_str()), (Some("33.74/bpbd"), "Semarang: roads to BPBD"));
    assert_eq!(after.policy, "rules/route.rhai");
    assert_eq!(d[0].clock, None);
    // The admin named the agency: routing did not decide, so the candidate's routing does not matter.
    let mut by_hand = Life::new(&active, "33.74", "2026-03-02T09:00:00+07:00");
    let dispatch = Command::Verify { agency: Some("33.74/dinas-pu".into()), category: None, investigation: None };
    by_hand.act(&active, dispatch, "2026-03-02T10:00:00+07:00");
    assert_eq!(diffs(&active, &cand, &by_hand, "2026-03-03T10:00:00+07:00"), vec![]);
    // A route policy that fails on the case is a difference too, naming the file.
    let broken = candidate(
        "rules/route.rhai",
        "fn route(complaint, now) {\n",
        "fn route(complaint, now) {\n    let x = [1][5];\n",
    );
    let d = diffs(&active, &broken, &l, "2026-03-03T10:00:00+07:00");
    let Change::Route { after, .. } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!(after.agency, None);
    assert!(after.reason.starts_with("rules/route.rhai:"), "{}", after.reason);
}

#[test]
fn an_escalation_rule_sends_past_and_due_escalations_elsewhere() {
    let active = common::national_pack();
    let cand = candidate(
        "rules/33.74/escalate.rhai",
        "",
        "fn escalate(complaint, holder, level, clock, now) {\n    if level == 0 { return #{ agency: \"33\", reason: \"Semarang: to the province\" }; }\n    defer()\n}\n",
    );
    // Due now under both packs: the same breach, another target.
    let l = semarang();
    let d = diffs(&active, &cand, &l, "2026-03-12T10:00:00+07:00");
    assert_eq!(d.len(), 1, "{d:#?}");
    let Change::EscalationTarget { at, before, after } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!((*at, before.as_str(), after.as_str()), (t("2026-03-12T10:00:00+07:00"), "33.74", "33"));
    // Escalated by a sweep: the past escalation would have gone to the province.
    let mut swept = semarang();
    swept.sweep(&active, "2026-03-12T00:00:00+07:00");
    let d = diffs(&active, &cand, &swept, "2026-03-12T10:00:00+07:00");
    assert_eq!(d.len(), 1, "{d:#?}");
    let Change::EscalationTarget { at, before, after } = &d[0].change else { panic!("{d:#?}") };
    assert_eq!((*at, before.as_str(), after.as_str()), (t("2026-03-12T00:00:00+07:00"), "33.74", "33"));
}
