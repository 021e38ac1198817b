//! What a hand-over and the Ombudsman referral do to the running clocks (docs/deadlines.md#hand-over),
//! the decision log in the events (docs/workflow.md#decision-log), and superseded or unknown region codes
//! (docs/workflow.md#region-codes).

mod common;

use aduan_core::case::{decide, submit, Actor, Case, Command, DecideError, NewCase, Outcome};
use aduan_core::pack::Pack;
use common::{assigned, national_pack, pack_with, t};
use serde_json::Value;

/// A day off of Kota Surabaya's own (not the province's), inside the first `complete` of a case verified
/// on Monday 2 March 2026.
const SURABAYA_DAY_OFF: &str = "region: \"35.78\"\ndays_off:\n  - {date: 2026-03-10, name: \"Hari libur daerah\"}\n";

// Tests read the pack from disk; the core itself does not (engine/core/clippy.toml).
#[allow(clippy::disallowed_methods)]
fn workflow_with(from: &str, to: &str) -> String {
    let text = std::fs::read_to_string(common::pack_dir().join("workflow.yaml")).unwrap();
    assert!(text.contains(from), "workflow.yaml has `{from}`");
    text.replace(from, to)
}

const COMPLETE_RULE: &str = "complete: {after_handover: keep, after_referral: stop}";

fn escalate(pack: &Pack, c: &mut Case, at: &str) -> Outcome {
    let cmd = Command::Escalate { reason: "tidak ada tanggapan".into() };
    decide(pack, c, &Actor::system(), &cmd, t(at)).unwrap_or_else(|e| panic!("escalate: {e}"))
}

fn due_date(pack: &Pack, c: &Case, clock: &str) -> Option<String> {
    c.schedules(pack).into_iter().find(|(n, _)| n == clock).and_then(|(_, s)| s.due_date()).map(|d| d.to_string())
}

fn event<'a>(out: &'a Outcome, event_type: &str) -> &'a Value {
    &out.events.iter().find(|e| e.event_type == event_type).unwrap_or_else(|| panic!("no {event_type}")).data
}

#[test]
fn a_hand_over_keeps_the_completion_date_promised_to_the_citizen() {
    let pack = pack_with(&[("calendars/35.78-surabaya.yaml", SURABAYA_DAY_OFF)]).unwrap();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("35.78/dinas-pu"));
    let promised = due_date(&pack, &c, "complete").unwrap();
    escalate(&pack, &mut c, "2026-03-04T09:00:00+07:00");
    escalate(&pack, &mut c, "2026-03-05T09:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("35"), "up the ladder to the province, off Surabaya's calendar");
    assert_eq!(due_date(&pack, &c, "complete").unwrap(), promised, "the date promised does not move");

    // A pack that moves `complete` to the holder's calendar: the province has no 10 March off.
    let holder = workflow_with(COMPLETE_RULE, "complete: {after_handover: holder, after_referral: stop}");
    let pack = pack_with(&[("calendars/35.78-surabaya.yaml", SURABAYA_DAY_OFF), ("workflow.yaml", &holder)]).unwrap();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    assert_eq!(due_date(&pack, &c, "complete").unwrap(), promised);
    escalate(&pack, &mut c, "2026-03-04T09:00:00+07:00");
    let out = escalate(&pack, &mut c, "2026-03-05T09:00:00+07:00");
    let moved = due_date(&pack, &c, "complete").unwrap();
    assert!(moved < promised, "{moved} is a working day earlier than {promised} on the province's calendar");
    let journal = &event(&out, "escalated")["deadlines"];
    assert!(journal.as_array().unwrap().iter().any(|d| d["clock"] == "complete"), "journaled: {journal}");
}

fn refer(pack: &Pack, c: &mut Case) -> Outcome {
    let days = ["04", "05", "06", "09", "10", "11"];
    for d in days {
        let out = escalate(pack, c, &format!("2026-03-{d}T09:00:00+07:00"));
        if c.is_referred() {
            return out;
        }
    }
    panic!("not referred after {} escalations: held by {:?}", days.len(), c.agency);
}

#[test]
fn the_referral_stops_the_agencys_clocks_with_a_journal_entry() {
    let pack = national_pack();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    let out = refer(&pack, &mut c);
    assert_eq!(c.agency.as_deref(), Some("ombudsman"));
    assert!(c.timers.is_empty(), "no clock runs after the referral: {:?}", c.timers.keys().collect::<Vec<_>>());
    let journal = event(&out, "escalated")["deadlines"].as_array().unwrap().clone();
    let complete = journal.iter().find(|d| d["clock"] == "complete").expect("complete journaled");
    assert_eq!(complete["reason"]["kind"], "stopped");
    assert!(complete["new_due_at"].is_null());

    let run = workflow_with(COMPLETE_RULE, "complete: {after_handover: keep, after_referral: run}");
    let pack = pack_with(&[("workflow.yaml", &run)]).unwrap();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    refer(&pack, &mut c);
    assert!(c.timers.contains_key("complete"), "the pack keeps `complete` running after the referral");
    assert!(!c.timers.contains_key("respond"), "respond always stops at the referral");
}

#[test]
fn a_clock_rule_is_checked_at_load() {
    let bad = workflow_with(COMPLETE_RULE, "complete: {after_handover: sideways}");
    assert!(pack_with(&[("workflow.yaml", &bad)]).unwrap_err().to_string().contains("workflow.yaml"));
    let bad = workflow_with(COMPLETE_RULE, "verify: {after_handover: holder}");
    let e = pack_with(&[("workflow.yaml", &bad)]).unwrap_err().to_string();
    assert!(e.contains("`verify` counts on the complaint's region"), "{e}");
    let bad = workflow_with(COMPLETE_RULE, "resolve_by: {after_referral: run}");
    let e = pack_with(&[("workflow.yaml", &bad)]).unwrap_err().to_string();
    assert!(e.contains("clock `resolve_by` has no SLA"), "{e}");
}

#[test]
fn routing_and_escalation_decisions_are_logged_with_inputs_pack_and_result() {
    let pack = national_pack();
    let n = new_case("35.78", "2026-03-02T09:00:00+07:00");
    let (mut c, _) = submit(&pack, n, t("2026-03-02T09:00:00+07:00"));
    let verify = Command::Verify { agency: None, category: None, investigation: None };
    let out = decide(&pack, &mut c, &Actor::system(), &verify, t("2026-03-02T10:00:00+07:00")).unwrap();
    let d = &event(&out, "assigned")["decision"];
    assert_eq!(d["by"], "route");
    assert_eq!(d["pack"], pack.hash.as_str());
    assert_eq!(d["inputs"]["complaint"]["region"], "35.78");
    assert_eq!(d["inputs"]["complaint"]["category"], "infrastruktur");
    assert!(d["inputs"]["complaint"].get("title").is_none(), "the title stays in `submitted`: {d}");
    assert_eq!(d["result"]["agency"], "35.78/dinas-pu");
    assert!(event(&out, "assigned")["trace"].as_array().is_some_and(|t| !t.is_empty()));

    let out = escalate(&pack, &mut c, "2026-03-04T09:00:00+07:00");
    let d = &event(&out, "escalated")["decision"];
    assert_eq!(d["by"], "escalate");
    assert_eq!(d["inputs"]["holder"], "35.78/dinas-pu");
    assert_eq!(d["inputs"]["level"], 0);
    assert_eq!(d["inputs"]["clock"], "manual");
    assert_eq!(d["result"]["to"], c.agency.as_deref().unwrap());
    assert_eq!(d["result"]["referral"], false);

    // An admin's own dispatch is no engine decision.
    let (mut c, _) = submit(&pack, new_case("35.78", "2026-03-02T09:00:00+07:00"), t("2026-03-02T09:00:00+07:00"));
    let by_hand = Command::Verify { agency: Some("35.78/dinkes".into()), category: None, investigation: None };
    let out = decide(&pack, &mut c, &Actor::system(), &by_hand, t("2026-03-02T10:00:00+07:00")).unwrap();
    assert!(event(&out, "assigned").get("decision").is_none());
}

fn new_case(region: &str, at: &str) -> NewCase {
    common::filing(region, "infrastruktur", at)
}

#[test]
fn a_superseded_region_code_is_mapped_and_flagged() {
    let pack = national_pack();
    let (mut c, out) = submit(&pack, new_case("94.71", "2026-03-02T09:00:00+09:00"), t("2026-03-02T09:00:00+09:00"));
    assert_eq!(c.region.as_ref().map(|r| r.as_str()), Some("91.71"), "old Kota Jayapura is 91.71 today");
    assert_eq!(c.flags, ["superseded_region"]);
    assert_eq!(event(&out, "submitted")["region"], "91.71");
    assert_eq!(event(&out, "submitted")["region_given"], "94.71");
    let verify = Command::Verify { agency: None, category: None, investigation: None };
    decide(&pack, &mut c, &Actor::system(), &verify, t("2026-03-02T10:00:00+09:00")).unwrap();
    assert_eq!(c.agency.as_deref(), Some("91.71/dinas-pu"), "not Papua Tengah's (94) public works");

    let (c, _) = submit(&pack, new_case("94.71.01", "2026-03-02T09:00:00+09:00"), t("2026-03-02T09:00:00+09:00"));
    assert_eq!(c.region.as_ref().map(|r| r.as_str()), Some("91.71.01"), "a kecamatan keeps its digits");
}

#[test]
fn an_unknown_region_code_is_flagged_and_dispatched_by_hand() {
    let pack = national_pack();
    for code in ["94.99", "99", "35.99.01"] {
        let (mut c, _) = submit(&pack, new_case(code, "2026-03-02T09:00:00+07:00"), t("2026-03-02T09:00:00+07:00"));
        assert_eq!(c.region.as_ref().map(|r| r.as_str()), Some(code), "kept as given");
        assert_eq!(c.flags, ["unknown_region"], "{code}");
        let verify = Command::Verify { agency: None, category: None, investigation: None };
        let before = c.clone();
        match decide(&pack, &mut c, &Actor::system(), &verify, t("2026-03-02T10:00:00+07:00")) {
            Err(DecideError::Invalid { field, message }) => {
                assert_eq!(field, "agency");
                assert!(message.contains(&format!("region `{code}` is in no table")), "{message}");
            }
            other => panic!("{code}: routed as if known: {other:?}"),
        }
        assert_eq!(c, before, "nothing changed");
        let by_hand = Command::Verify { agency: Some("kemenpanrb".into()), category: None, investigation: None };
        decide(&pack, &mut c, &Actor::system(), &by_hand, t("2026-03-02T10:00:00+07:00")).unwrap();
        assert_eq!(c.status, "assigned");
    }
    let (c, _) = submit(&pack, new_case("35.78", "2026-03-02T09:00:00+07:00"), t("2026-03-02T09:00:00+07:00"));
    assert!(c.flags.is_empty(), "a region of today is not flagged");
}
