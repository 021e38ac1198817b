//! SLA resolution on the national pack: national defaults by kind, the investigation rule, Kota
//! Semarang's overlay at level 0 only, the escalated tiers, and provenance naming file and line.

mod common;

use aduan_core::clock::Clock;
use aduan_core::domain::{Kind, Tier};
use aduan_core::pack::{Pack, PackFile};
use aduan_core::region::RegionCode;
use aduan_core::sla::{Budget, SlaQuery};

/// The national clocks, for queries that borrow one.
static CLOCKS: [Clock; 5] = [Clock::VERIFY, Clock::RESPOND, Clock::COMPLETE, Clock::CLOSE, Clock::from_static("nope")];

fn query<'a>(clock: &str, kind: Kind, region: Option<&'a RegionCode>) -> SlaQuery<'a> {
    let clock = CLOCKS.iter().find(|c| *c == clock).expect("a national clock");
    SlaQuery {
        clock,
        kind,
        category: None,
        investigation: false,
        escalation_level: 0,
        tier: None,
        region,
        agency: None,
    }
}

#[test]
fn national_defaults_follow_permenpanrb_62_2018() {
    let pack = common::national_pack();
    let surabaya = RegionCode::parse("35.78").unwrap();
    let budget = |q: SlaQuery<'_>| pack.slas.resolve(&q).unwrap().budget;
    assert_eq!(budget(query("verify", Kind::Pengaduan, Some(&surabaya))), Budget::WorkingDays(3));
    assert_eq!(budget(query("respond", Kind::Pengaduan, Some(&surabaya))), Budget::WorkingDays(5));
    assert_eq!(budget(query("complete", Kind::Pengaduan, Some(&surabaya))), Budget::WorkingDays(14));
    assert_eq!(budget(query("complete", Kind::Aspirasi, Some(&surabaya))), Budget::WorkingDays(5));
    assert_eq!(budget(query("complete", Kind::PermintaanInformasi, None)), Budget::WorkingDays(5));
    assert_eq!(
        budget(SlaQuery { investigation: true, ..query("complete", Kind::Pengaduan, None) }),
        Budget::WorkingDays(60)
    );
    assert_eq!(budget(query("close", Kind::Pengaduan, None)), Budget::WorkingDays(10));
    assert!(pack.slas.resolve(&query("nope", Kind::Pengaduan, None)).is_err());
    assert_eq!(pack.slas.clocks(), ["verify", "respond", "complete", "close"]);
}

#[test]
fn semarang_overlay_applies_at_level_zero_with_provenance() {
    let pack = common::national_pack();
    let semarang_unit = RegionCode::parse("33.74.01").unwrap();
    let sla = pack.slas.resolve(&query("respond", Kind::Pengaduan, Some(&semarang_unit))).unwrap();
    assert_eq!(sla.budget, Budget::WorkingDays(7));
    assert_eq!(sla.source.to_string(), "region 33.74: clocks.respond (sla/33.74-kota-semarang.yaml:6)");
    assert_eq!(sla.warn_permille, 750);
    // Kabupaten Semarang (33.22) is not Kota Semarang.
    let kab = RegionCode::parse("33.22").unwrap();
    assert_eq!(
        pack.slas.resolve(&query("respond", Kind::Pengaduan, Some(&kab))).unwrap().budget,
        Budget::WorkingDays(5)
    );
    // Escalated to Kota Semarang: the tier decides, not the overlay.
    let escalated = SlaQuery {
        escalation_level: 1,
        tier: Some(Tier::Kabkota),
        ..query("respond", Kind::Pengaduan, Some(&semarang_unit))
    };
    let sla = pack.slas.resolve(&escalated).unwrap();
    assert_eq!(sla.budget, Budget::WorkingDays(5));
    assert!(
        sla.source.to_string().starts_with("national: tiers.respond.kabkota (sla/national.yaml:"),
        "{}",
        sla.source
    );
    let province =
        SlaQuery { escalation_level: 2, tier: Some(Tier::Province), ..query("respond", Kind::Pengaduan, None) };
    assert_eq!(pack.slas.resolve(&province).unwrap().budget, Budget::WorkingDays(3));
    let national =
        SlaQuery { escalation_level: 3, tier: Some(Tier::National), ..query("respond", Kind::Pengaduan, None) };
    assert_eq!(pack.slas.resolve(&national).unwrap().budget, Budget::WorkingDays(3));
    // `complete` has no tiers: it keeps its budget when escalated.
    let complete =
        SlaQuery { escalation_level: 2, tier: Some(Tier::Province), ..query("complete", Kind::Pengaduan, None) };
    assert_eq!(pack.slas.resolve(&complete).unwrap().budget, Budget::WorkingDays(14));
}

#[test]
fn an_agency_overlay_beats_its_region_and_rules_pick_the_most_specific() {
    let mut files = common::pack_files(&common::pack_dir());
    files.push(PackFile {
        path: "sla/agency-dinkes.yaml".into(),
        bytes: b"agency: \"33.74/dinkes\"\nwarn_at: 0.5\nclocks:\n  respond: {working_hours: 24}\nrules:\n  - {clock: complete, kind: pengaduan, category: kesehatan, working_days: 7}\n".to_vec(),
    });
    let pack = Pack::from_files(&files).unwrap();
    let region = RegionCode::parse("33.74").unwrap();
    let q = SlaQuery { agency: Some("33.74/dinkes"), ..query("respond", Kind::Pengaduan, Some(&region)) };
    let sla = pack.slas.resolve(&q).unwrap();
    assert_eq!(sla.budget, Budget::WorkingHours(24));
    assert_eq!(sla.warn_permille, 500);
    let q = SlaQuery {
        agency: Some("33.74/dinkes"),
        category: Some("kesehatan"),
        ..query("complete", Kind::Pengaduan, Some(&region))
    };
    assert_eq!(pack.slas.resolve(&q).unwrap().budget, Budget::WorkingDays(7));
    let q = SlaQuery {
        agency: Some("33.74/dinkes"),
        category: Some("infrastruktur"),
        ..query("complete", Kind::Pengaduan, Some(&region))
    };
    assert_eq!(pack.slas.resolve(&q).unwrap().budget, Budget::WorkingDays(14));
}

#[test]
fn broken_sla_files_are_reported_with_their_location() {
    let mut files = common::pack_files(&common::pack_dir());
    files.push(PackFile {
        path: "sla/broken.yaml".into(),
        bytes: b"region: \"33.74\"\nclocks:\n  respond: {working_days: 7, working_hours: 3}\n  answer: {working_days: 2}\nrules:\n  - {clock: respond, working_days: 1}\n".to_vec(),
    });
    let err = Pack::from_files(&files).unwrap_err().to_string();
    assert!(err.contains("sla/broken.yaml:3:12: give exactly one of `working_days` or `working_hours`"), "{err}");
    assert!(err.contains("sla/broken.yaml:6:5: a rule matches on at least one of"), "{err}");
}
