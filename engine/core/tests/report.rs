//! Compliance reports from hand-worked histories (docs/reports.md): each case's life decided by the
//! core on the national pack, its facts derived from the history, the figures and zones added up.

mod common;

use aduan_core::case::Command;
use aduan_core::report::{compile, facts, CaseFacts, CaseRecord, Covers, Month, Zone};
use common::life::{verify, Life};
use common::national_pack;

fn msg(m: &str) -> String {
    m.to_owned()
}

/// The facts of `life`, with the store's `overdue` as given.
fn facts_of(pack: &aduan_core::pack::Pack, life: &Life, overdue: bool) -> CaseFacts {
    let history = life.history();
    let c = &life.case;
    let record = CaseRecord {
        received_at: c.created_at,
        region: c.region.as_ref(),
        first_assigned_at: c.first_assigned_at,
        first_followup_at: c.first_followup_at,
        first_followup_agency: c.first_followup_agency.as_deref(),
        overdue,
        history: &history,
    };
    facts(pack, &record)
}

/// Case 1: received Monday 3 August 2026 in Surabaya, dispatched on the 10th (after `verify`'s three
/// working days: late), followed up on Tuesday the 18th at 15:00 WIB. `respond`'s five working days from
/// the 10th skip Independence Day (Monday the 17th): 11, 12, 13, 14, 18, so the 18th is still within
/// and the first response took 5 working days. Resolved the same day (within `complete`), rated.
fn on_time_through_a_holiday(pack: &aduan_core::pack::Pack) -> Life {
    let mut l = Life::new(pack, "35.78", "2026-08-03T02:00:00Z");
    l.act(pack, verify(), "2026-08-10T03:00:00Z");
    l.act(pack, Command::Respond { message: msg("Sedang ditinjau") }, "2026-08-18T08:00:00Z");
    l.act(pack, Command::Resolve { message: msg("Sudah diperbaiki") }, "2026-08-18T09:00:00Z");
    l.act(pack, Command::Rate { score: 5 }, "2026-08-19T02:00:00Z");
    l
}

#[test]
fn a_holiday_inside_the_response_period_keeps_a_follow_up_within_deadline() {
    let pack = national_pack();
    let f = facts_of(&pack, &on_time_through_a_holiday(&pack), false);
    assert_eq!(f.received_by, "35.78/dinas-pu");
    assert_eq!(f.dispatched, Some(false), "verify was due at the end of 6 August");
    let up = f.followed_up.unwrap();
    assert!(up.within_deadline, "respond was due at the end of 18 August (17 August is a holiday)");
    assert_eq!(up.working_days, 5);
    assert_eq!((f.completed, f.rated, f.escalated), (Some(true), true, false));

    // The same follow-up a day later, on Wednesday the 19th, is late: 6 working days.
    let mut late = Life::new(&pack, "35.78", "2026-08-10T01:00:00Z");
    late.act(&pack, verify(), "2026-08-10T03:00:00Z");
    late.act(&pack, Command::Respond { message: msg("Maaf terlambat") }, "2026-08-19T02:00:00Z");
    let f = facts_of(&pack, &late, true);
    assert_eq!(f.dispatched, Some(true));
    let up = f.followed_up.unwrap();
    assert_eq!((up.within_deadline, up.working_days), (false, 6));
    assert_eq!(f.completed, None);

    // Submitted and dispatched at one instant (as `aduan seed` and a back-dated intake may): on time.
    let mut at_once = Life::new(&pack, "35.78", "2026-08-10T03:00:00Z");
    at_once.act(&pack, verify(), "2026-08-10T03:00:00Z");
    assert_eq!(facts_of(&pack, &at_once, false).dispatched, Some(true));
}

#[test]
fn figures_rows_and_zones_add_up_each_case_once() {
    let pack = national_pack();
    let one = on_time_through_a_holiday(&pack);
    // Case 2: dispatched at once, first followed up late (6 working days), still open and overdue.
    let mut two = Life::new(&pack, "35.78", "2026-08-10T01:00:00Z");
    two.act(&pack, verify(), "2026-08-10T03:00:00Z");
    two.act(&pack, Command::Respond { message: msg("Maaf terlambat") }, "2026-08-19T02:00:00Z");
    // Case 3: never dispatched; it counts for Surabaya's own queue.
    let three = Life::new(&pack, "35.78.01", "2026-08-12T01:00:00Z");
    // Case 4: escalated to Surabaya before any follow-up; Surabaya follows up within the `respond` that
    // restarted at the escalation, 2 working days after the first dispatch.
    let mut four = Life::new(&pack, "35.78", "2026-08-11T02:00:00Z");
    four.act(&pack, verify(), "2026-08-11T03:00:00Z");
    four.act(&pack, Command::Escalate { reason: msg("Tidak ditanggapi") }, "2026-08-12T03:00:00Z");
    four.act(&pack, Command::Respond { message: msg("Kami tangani") }, "2026-08-13T03:00:00Z");
    assert_eq!(four.case.agency.as_deref(), Some("35.78"));
    // A case of another month and another province would never be read; the report adds what it is given.
    let cases = [
        facts_of(&pack, &one, false),
        facts_of(&pack, &two, true),
        facts_of(&pack, &three, true),
        facts_of(&pack, &four, false),
    ];
    assert_eq!(cases[2].received_by, "35.78");
    assert_eq!(cases[3].followed_up.map(|u| (u.within_deadline, u.working_days)), Some((true, 2)));

    let month: Month = "2026-08".parse().unwrap();
    let report = compile(&pack.directory, "35.78", month, &cases, pack.zones.as_ref());
    assert_eq!(report.rows[0].agency, "35.78");
    assert_eq!(report.rows[0].covers, Covers::Own);
    assert!(report.rows[1..].iter().all(|r| r.covers == Covers::Subtree && r.agency.starts_with("35.78/")));
    let own = &report.rows[0].figures;
    assert_eq!((own.received, own.dispatched, own.overdue, own.settled), (1, 0, 1, 1));
    assert_eq!((own.on_time_share, own.zone), (Some(0.0), Some(Zone::Merah)));
    assert_eq!(own.median_first_response_working_days, None);

    let pu = &report.rows.iter().find(|r| r.agency == "35.78/dinas-pu").unwrap().figures;
    assert_eq!((pu.received, pu.dispatched, pu.dispatched_within_deadline), (3, 3, 2));
    assert_eq!((pu.followed_up, pu.followed_up_within_deadline), (3, 2));
    assert_eq!((pu.completed, pu.completed_within_deadline), (1, 1));
    assert_eq!((pu.overdue, pu.escalated, pu.rated, pu.rating_share), (1, 1, 1, Some(1.0)));
    assert_eq!(pu.median_first_response_working_days, Some(5.0), "the median of 2, 5 and 6");
    assert_eq!((pu.settled, pu.on_time_share, pu.zone), (2, Some(0.5), Some(Zone::Merah)));

    let dinkes = &report.rows.iter().find(|r| r.agency == "35.78/dinkes").unwrap().figures;
    assert_eq!((dinkes.received, dinkes.on_time_share, dinkes.zone), (0, None, None));

    let total = &report.total;
    assert_eq!((total.received, total.dispatched, total.overdue, total.settled), (4, 3, 2, 3));
    assert_eq!(total.on_time_share, Some(1.0 / 3.0));
    assert_eq!(total.median_first_response_working_days, Some(5.0));

    // The province sees Surabaya as one row of its subtree, and the same total.
    let province = compile(&pack.directory, "35", month, &cases, pack.zones.as_ref());
    let sby = province.rows.iter().find(|r| r.agency == "35.78").unwrap();
    assert_eq!((sby.covers, sby.figures.received), (Covers::Subtree, 4));
    assert_eq!(province.total, report.total);
    assert_eq!(province.rows[0].figures.received, 0);
}

#[test]
fn zones_follow_the_thresholds_and_a_pack_without_reports_yaml_has_none() {
    let pack = national_pack();
    let one = facts_of(&pack, &on_time_through_a_holiday(&pack), false);
    let month: Month = "2026-08".parse().unwrap();
    let report = compile(&pack.directory, "35.78/dinas-pu", month, std::slice::from_ref(&one), pack.zones.as_ref());
    assert_eq!((report.total.on_time_share, report.total.zone), (Some(1.0), Some(Zone::Hijau)));
    assert_eq!(report.rows.len(), 1, "a unit has no agencies below it");

    let strict = common::pack_with(&[("reports.yaml", "zones: {hijau: 1.0, kuning: 0.99, min_cases: 2}\n")]).unwrap();
    let r = compile(&strict.directory, "35.78/dinas-pu", month, std::slice::from_ref(&one), strict.zones.as_ref());
    assert_eq!(r.total.zone, None, "one settled case is fewer than min_cases");
    let r = compile(&strict.directory, "35.78/dinas-pu", month, &[one.clone(), one.clone()], strict.zones.as_ref());
    assert_eq!(r.total.zone, Some(Zone::Hijau));

    let bad = common::pack_with(&[("reports.yaml", "zones:\n  hijau: 0.5\n  kuning: 0.8\n")]).unwrap_err().to_string();
    assert!(bad.contains("reports.yaml:3:11: zones.kuning: above zones.hijau"), "{bad}");
}
