//! Deadline sweeps in the core, with time controlled by the test: the whole ladder from a unit to the
//! Ombudsman referral, repeated sweeps that change nothing, warnings only inside working hours, the
//! verify breach, auto-close, and rollout switches.

mod common;

use aduan_core::case::{decide, submit, Actor, Case, Command, NewCase, Privacy};
use aduan_core::clock::Clock;
use aduan_core::domain::Kind;
use aduan_core::pack::{Pack, PackFile};
use aduan_core::region::RegionCode;
use aduan_core::sweep::{next_action_at, sweep_case, Fired, SweepOutcome};

use common::{assigned, t};

/// Sweeps like the service does: acts, then records the fired rungs.
fn sweep(pack: &Pack, case: &mut Case, fired: &mut Fired, at: &str) -> SweepOutcome {
    let out = sweep_case(pack, case, fired, t(at));
    for (c, g, r) in &out.fire {
        assert!(fired.insert((c.clone(), *g, *r)), "rung {c}/{g}/{r} fired twice");
    }
    out
}

fn types(o: &SweepOutcome) -> Vec<&str> {
    o.outcome.events.iter().map(|e| e.event_type.as_str()).collect()
}

#[test]
fn a_silent_case_climbs_the_whole_ladder_to_the_ombudsman() {
    let pack = common::national_pack();
    // Mon 2 Mar 2026 09:00 WIB. respond: 5 working days → due end of Mon 9 Mar.
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    let mut fired = Fired::new();
    // Warning at the opening of day 4 (Fri 6 Mar 07:30) inside working hours.
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-06T08:00:00+07:00");
    assert_eq!((o.warned, types(&o)), (1, vec!["deadline_warning"]));
    // The same instant again: nothing.
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-06T08:00:00+07:00");
    assert_eq!((o.warned, o.escalated, o.held, o.fire.len()), (0, 0, 0, 0));
    // Breach at 00:00 Tue 10 Mar, at any hour: unit → Kota Surabaya.
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-10T00:00:00+07:00");
    assert_eq!((o.escalated, types(&o)), (1, vec!["escalated"]));
    assert_eq!(c.agency.as_deref(), Some("35.78"));
    assert_eq!(c.escalation_level, 1);
    assert_eq!(o.outcome.events[0].data["clocks"], serde_json::json!(["respond"]));
    assert_eq!(c.timers["respond"].timer.budget.to_string(), "5 working days", "kab/kota tier");
    // Each later breach climbs one level; respond restarts at the sweep's now with the tier's budget.
    let ladder = [
        ("2026-04-02T00:00:00+07:00", "35", 2),
        ("2026-04-16T00:00:00+07:00", "kemenpanrb", 3),
        ("2026-04-30T00:00:00+07:00", "ombudsman", 4),
    ];
    for (at, holder, level) in ladder {
        let o = sweep(&pack, &mut c, &mut fired, at);
        assert_eq!(o.escalated, 1, "{at}");
        assert_eq!((c.agency.as_deref(), c.escalation_level), (Some(holder), level), "{at}");
    }
    assert_eq!(c.flags, ["ombudsman_referral"]);
    assert!(!c.timers.contains_key("respond"), "a referral starts no clock");
    // complete (14 days) breached back in March and escalated once, together with respond? It breached on
    // 21 Mar: that sweep escalated for both clocks at most once; later its breach never escalates again.
    let o = sweep(&pack, &mut c, &mut fired, "2026-06-30T00:00:00+07:00");
    assert_eq!((o.escalated, o.warned), (0, 0), "a referred case never escalates again");
    assert_eq!(next_action_at(&pack, &c, &Clock::COMPLETE, &fired, t("2026-06-30T00:00:00+07:00")), None);
}

#[test]
fn one_sweep_escalates_once_and_lists_every_breached_clock() {
    let pack = common::national_pack();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    let mut fired = Fired::new();
    // Far past both respond and complete: one escalation naming both.
    let o = sweep(&pack, &mut c, &mut fired, "2026-05-04T10:00:00+07:00");
    assert_eq!(o.escalated, 1);
    let mut clocks: Vec<String> =
        serde_json::from_value(o.outcome.events.last().unwrap().data["clocks"].clone()).unwrap();
    clocks.sort();
    assert_eq!(clocks, ["complete", "respond"]);
    assert_eq!(o.warned, 0, "warnings of breached clocks are dropped");
    assert!(c.state.breach_escalated.contains("complete"));
}

#[test]
fn warnings_wait_for_working_hours_and_move_next_action_to_the_opening() {
    let pack = common::national_pack();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    let mut fired = Fired::new();
    // Fri 6 Mar 03:00 WIB: the warning point passed (07:30 is the point itself, so use Sat instead).
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-07T10:00:00+07:00");
    assert_eq!((o.warned, o.held), (0, 1), "Saturday: held");
    assert!(o.fire.is_empty());
    // next_action_at for respond is the warning moved to Monday's opening, before the breach.
    let next = next_action_at(&pack, &c, &Clock::RESPOND, &fired, t("2026-03-07T10:00:00+07:00")).unwrap();
    assert_eq!(next, t("2026-03-09T07:30:00+07:00"), "the held warning waits for Monday's opening");
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-09T07:45:00+07:00");
    assert_eq!(o.warned, 1, "Monday morning");
}

#[test]
fn verify_breach_queues_once_and_close_runs_out() {
    let pack = common::national_pack();
    let n = NewCase {
        id: "c2".into(),
        tracking_id: "ABCDE-22222".into(),
        kind: Kind::Aspirasi,
        channel: "sms".into(),
        category: None,
        region: Some(RegionCode::parse("73.71").unwrap()),
        privacy: Privacy::Public,
        title: "Usul".into(),
        received_at: t("2026-12-21T10:00:00+08:00"),
    };
    let (mut c, _) = submit(&pack, n, t("2026-12-21T10:00:00+08:00"));
    let mut fired = Fired::new();
    // verify 3 in WITA: 22, 23, (24, 25 off, 26-27), 28 → due 29 Dec 00:00 WITA.
    let o = sweep(&pack, &mut c, &mut fired, "2026-12-29T00:00:00+08:00");
    assert!(types(&o).contains(&"verify_overdue"));
    assert_eq!((c.status.as_str(), c.escalation_level), ("submitted", 0));
    assert!(sweep(&pack, &mut c, &mut fired, "2027-01-05T00:00:00+08:00").outcome.events.is_empty(), "once");
    // Resolved with no reply: close runs out after 10 working days.
    decide(
        &pack,
        &mut c,
        &Actor::system(),
        &Command::Verify { agency: Some("73.71/dinas-pu".into()), category: None, investigation: None },
        t("2027-01-05T09:00:00+08:00"),
    )
    .unwrap();
    decide(
        &pack,
        &mut c,
        &Actor::system(),
        &Command::Resolve { message: "Diterima".into() },
        t("2027-01-05T10:00:00+08:00"),
    )
    .unwrap();
    let o = sweep(&pack, &mut c, &mut fired, "2027-01-19T00:00:00+08:00");
    assert_eq!(o.closed, 0, "day 10 not over yet");
    let o = sweep(&pack, &mut c, &mut fired, "2027-01-21T00:00:00+08:00");
    assert_eq!((o.closed, c.status.as_str()), (1, "closed"));
    assert_eq!(o.outcome.events.last().unwrap().data["reason"], "no_reply");
}

#[test]
fn a_paused_clock_does_not_breach_and_resumes_with_its_days_added_back() {
    let pack = common::national_pack();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    decide(
        &pack,
        &mut c,
        &Actor::system(),
        &Command::RequestInfo { message: "?".into() },
        t("2026-03-03T09:00:00+07:00"),
    )
    .unwrap();
    let mut fired = Fired::new();
    // Paused for months: no complete breach; close (10 days from 3 Mar → 17 Mar, Nyepi/Lebaran later) runs.
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-17T12:00:00+07:00");
    assert_eq!((o.escalated, o.closed), (0, 0));
    assert_eq!(next_action_at(&pack, &c, &Clock::COMPLETE, &fired, t("2026-03-17T12:00:00+07:00")), None, "paused");
    decide(
        &pack,
        &mut c,
        &Actor::system(),
        &Command::ProvideInfo { message: "Ini".into() },
        t("2026-03-17T12:00:00+07:00"),
    )
    .unwrap();
    // complete 14 from Mon 2 Mar = 19 Mar (18 Mar cuti, 19 Nyepi…): count(3 Mar, 17 Mar) = 10 days added back.
    let s = c.schedules(&pack).into_iter().find(|(n, _)| n == "complete").unwrap().1;
    assert_eq!(s.added_back, 10);
}

#[test]
fn rungs_off_or_report_only_are_held_not_acted_on() {
    let mut files = common::pack_files(&common::pack_dir());
    let national = files.iter_mut().find(|f| f.path == "sla/national.yaml").unwrap();
    let text = String::from_utf8(national.bytes.clone()).unwrap().replace(
        "respond: {working_days: 5}",
        "respond: {working_days: 5, rungs: {warning: off, breach: report_only}}",
    );
    *national = PackFile { path: national.path.clone(), bytes: text.into_bytes() };
    let pack = Pack::from_files(&files).unwrap();
    let mut c = assigned(&pack, "2026-03-02T09:00:00+07:00");
    let mut fired = Fired::new();
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-06T08:00:00+07:00");
    assert_eq!((o.warned, o.held), (0, 1));
    let o = sweep(&pack, &mut c, &mut fired, "2026-03-10T08:00:00+07:00");
    assert_eq!((o.escalated, o.held), (0, 1));
    assert_eq!(c.escalation_level, 0);
}
