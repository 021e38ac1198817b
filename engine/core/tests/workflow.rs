//! The national workflow end to end in the core: lifecycle, 409s with the allowed actions, the forward
//! limit, the escalation ladder to the Ombudsman, pausing, and the rhai sandbox.

mod common;

use aduan_core::case::{decide, submit, Actor, Case, Command, DecideError};
use aduan_core::pack::Pack;
use aduan_core::workflow::Role;
use chrono::{DateTime, Utc};

fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

fn new_case(pack: &Pack, region: &str, category: &str, at: &str) -> Case {
    let n = common::filing(region, category, at);
    let (case, out) = submit(pack, n, t(at));
    assert_eq!(out.events[0].event_type, "submitted");
    case
}

fn sys() -> Actor {
    Actor::system()
}

fn act(pack: &Pack, case: &mut Case, cmd: Command, at: &str) -> Vec<String> {
    let out = decide(pack, case, &sys(), &cmd, t(at)).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    out.events.into_iter().map(|e| e.event_type).collect()
}

/// Verify as received (the routing rules choose the agency).
fn verify() -> Command {
    Command::Verify { agency: None, category: None, investigation: None }
}

fn msg(s: &str) -> String {
    s.to_owned()
}

#[test]
fn a_complaint_lives_its_whole_life() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    assert_eq!(c.status, "submitted");
    assert_eq!(c.timers.keys().collect::<Vec<_>>(), ["verify"]);
    // Routed by rules/route.rhai to Surabaya's public works.
    assert_eq!(act(&pack, &mut c, verify(), "2026-03-03T09:00:00+07:00"), ["assigned"]);
    assert_eq!(c.agency.as_deref(), Some("35.78/dinas-pu"));
    assert_eq!(c.timers.keys().collect::<Vec<_>>(), ["complete", "respond"]);
    act(&pack, &mut c, Command::Respond { message: msg("Sedang kami cek") }, "2026-03-04T09:00:00+07:00");
    assert_eq!(c.status, "in_progress");
    assert!(!c.timers.contains_key("respond"), "at level 0 the first follow-up stops respond");
    assert_eq!(c.first_followup_agency.as_deref(), Some("35.78/dinas-pu"));
    act(&pack, &mut c, Command::RequestInfo { message: msg("Lokasi persisnya?") }, "2026-03-05T09:00:00+07:00");
    assert_eq!(c.status, "awaiting_reporter");
    assert!(c.timers["complete"].timer.is_paused());
    assert!(c.timers.contains_key("close"));
    let before = c.schedules(&pack);
    assert!(before.iter().any(|(n, s)| n == "complete" && s.paused));
    // Paused Thu 5 Mar → resumed Wed 11 Mar: count = 6, 9, 10, 11 = 4 working days added back.
    act(&pack, &mut c, Command::ProvideInfo { message: msg("Depan pasar") }, "2026-03-11T15:00:00+07:00");
    assert!(!c.timers.contains_key("close"));
    let complete = c.schedules(&pack).into_iter().find(|(n, _)| n == "complete").unwrap().1;
    assert_eq!(complete.added_back, 4);
    // 14 days from Tue 3 Mar (4..20 with 18, 19, 20 Nyepi/cuti off) = 23 Mar… plus 4 = 27 Mar? Lebaran:
    // 4,5,6,9,10,11,12,13,16,17 (10), 18-24 off, 25,26,27,30 (14) → +4: 31, 1, 2, 6 Apr (3 Apr Good Friday).
    assert_eq!(complete.due_date().unwrap().to_string(), "2026-04-06");
    act(&pack, &mut c, Command::Resolve { message: msg("Sudah ditambal") }, "2026-03-12T09:00:00+07:00");
    assert_eq!(c.status, "resolved");
    assert_eq!(c.timers.keys().collect::<Vec<_>>(), ["close"]);
    act(&pack, &mut c, Command::Reopen { message: msg("Belum rapi") }, "2026-03-13T09:00:00+07:00");
    assert_eq!(c.status, "in_progress");
    assert_eq!(c.timers.keys().collect::<Vec<_>>(), ["complete"], "reopen restarts complete with its full budget");
    assert_eq!(c.timers["complete"].generation.get(), 2);
    act(&pack, &mut c, Command::Resolve { message: msg("Sudah") }, "2026-03-16T09:00:00+07:00");
    assert_eq!(act(&pack, &mut c, Command::Rate { score: 5 }, "2026-03-17T09:00:00+07:00"), ["rated", "closed"]);
    assert_eq!(c.status, "closed");
    assert!(c.timers.is_empty());
    // A second rating is refused, and nothing leaves `closed`.
    let e =
        decide(&pack, &mut c.clone(), &sys(), &Command::Rate { score: 4 }, t("2026-03-18T09:00:00+07:00")).unwrap_err();
    assert!(matches!(e, DecideError::NotAllowed { .. }), "{e}");
}

#[test]
fn an_action_not_allowed_names_the_allowed_ones() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    let before = c.clone();
    match decide(&pack, &mut c, &sys(), &Command::Resolve { message: msg("x") }, t("2026-03-02T10:00:00+07:00")) {
        Err(DecideError::NotAllowed { allowed, status, .. }) => {
            assert_eq!(status, "submitted");
            assert_eq!(allowed, ["archive", "verify"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c, before, "a refused command changes nothing");
    let e = decide(&pack, &mut c, &sys(), &Command::Archive { reason: " ".into() }, t("2026-03-02T10:00:00+07:00"))
        .unwrap_err();
    assert_eq!(e.to_string(), "reason: required");
    let e = decide(
        &pack,
        &mut c,
        &sys(),
        &Command::Verify { agency: Some("nowhere".into()), category: None, investigation: None },
        t("2026-03-02T10:00:00+07:00"),
    )
    .unwrap_err();
    assert_eq!(e.to_string(), "agency: unknown agency `nowhere`");
}

#[test]
fn roles_and_scopes_are_enforced() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    let admin_elsewhere = Actor { role: Role::Admin, agency: Some("33".into()), name: "jateng".into() };
    let e = decide(&pack, &mut c, &admin_elsewhere, &verify(), t("2026-03-02T10:00:00+07:00")).unwrap_err();
    // Out of reach, not of role, on a case not dispatched yet: the verify may still be on its way.
    assert!(matches!(e, DecideError::OutOfReach(_)), "{e}");
    let admin_jatim = Actor { role: Role::Admin, agency: Some("35".into()), name: "jatim".into() };
    decide(&pack, &mut c, &admin_jatim, &verify(), t("2026-03-02T10:00:00+07:00")).unwrap();
    let other_officer = Actor { role: Role::Officer, agency: Some("35.78/dinkes".into()), name: "o".into() };
    let e =
        decide(&pack, &mut c, &other_officer, &Command::Respond { message: msg("x") }, t("2026-03-02T11:00:00+07:00"))
            .unwrap_err();
    assert!(matches!(e, DecideError::Forbidden(_)), "{e}");
    let officer = Actor { role: Role::Officer, agency: Some("35.78/dinas-pu".into()), name: "o".into() };
    decide(&pack, &mut c, &officer, &Command::Respond { message: msg("x") }, t("2026-03-02T11:00:00+07:00")).unwrap();
    let e = decide(
        &pack,
        &mut c,
        &Actor::reporter(),
        &Command::Resolve { message: msg("x") },
        t("2026-03-02T11:00:00+07:00"),
    )
    .unwrap_err();
    assert!(matches!(e, DecideError::Forbidden(_)));
}

#[test]
fn routing_follows_category_and_region() {
    let pack = common::national_pack();
    let cases = [
        ("35.78.01", "infrastruktur", "35.78/dinas-pu"), // a kecamatan belongs to its kab/kota
        ("35.78", "listrik", "pln"),                     // vertical
        ("94.71", "infrastruktur", "91.71/dinas-pu"),    // superseded: old Kota Jayapura
        ("51.71", "pertanahan", "atr-bpn"),
        ("35.78", "lainnya", "kemenpanrb"),
    ];
    // A code in no table is dispatched by hand (tests/handover.rs).
    for (region, cat, expected) in cases {
        let mut c = new_case(&pack, region, cat, "2026-03-02T09:00:00+07:00");
        act(&pack, &mut c, verify(), "2026-03-03T09:00:00+07:00");
        assert_eq!(c.agency.as_deref(), Some(expected), "{region} {cat}");
    }
}

#[test]
fn the_third_forward_escalates_to_the_common_ancestor() {
    let pack = common::national_pack();
    let verify = |a: &str| Command::Verify { agency: Some(a.into()), category: None, investigation: None };
    let fwd = |a: &str| Command::Forward { agency: a.into(), reason: "bukan wewenang".into() };
    // 35.78/dinas-pu ↔ 35.78/dinkes: the third forward goes to 35.78.
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    act(&pack, &mut c, verify("35.78/dinas-pu"), "2026-03-02T10:00:00+07:00");
    assert_eq!(act(&pack, &mut c, fwd("35.78/dinkes"), "2026-03-02T11:00:00+07:00"), ["forwarded"]);
    assert_eq!(c.agency.as_deref(), Some("35.78/dinkes"));
    act(&pack, &mut c, fwd("35.78/dinas-pu"), "2026-03-02T12:00:00+07:00");
    assert_eq!(act(&pack, &mut c, fwd("35.78/dinkes"), "2026-03-02T13:00:00+07:00"), ["escalated"]);
    assert_eq!(c.agency.as_deref(), Some("35.78"));
    assert_eq!(c.escalation_level, 1);
    // 35.78/dinas-pu with pln → kemenpanrb.
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    act(&pack, &mut c, verify("35.78/dinkes"), "2026-03-02T10:00:00+07:00");
    act(&pack, &mut c, fwd("35.78/dinas-pu"), "2026-03-02T11:00:00+07:00");
    act(&pack, &mut c, fwd("35.78/dinkes"), "2026-03-02T11:30:00+07:00");
    c.agency = Some("35.78/dinas-pu".into());
    act(&pack, &mut c, fwd("pln"), "2026-03-02T12:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("kemenpanrb"));
    // Counts are per level: at level 1 forwarding starts again.
    act(&pack, &mut c, fwd("pln"), "2026-03-02T13:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("pln"));
    assert_eq!(c.state.forwards.get(&1), Some(&1));
}

#[test]
fn manual_escalation_climbs_the_ladder_to_the_ombudsman() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "33.74", "infrastruktur", "2026-03-02T09:00:00+07:00");
    act(&pack, &mut c, verify(), "2026-03-02T10:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("33.74/dinas-pu"));
    let esc = || Command::Escalate { reason: "tidak ada tanggapan".into() };
    let ladder = [("33.74", 1, "5 working days"), ("33", 2, "3 working days"), ("kemenpanrb", 3, "3 working days")];
    for (holder, level, budget) in ladder {
        let gen_before = c.timers["complete"].generation;
        assert_eq!(act(&pack, &mut c, esc(), "2026-03-03T10:00:00+07:00"), ["escalated"]);
        assert_eq!(c.agency.as_deref(), Some(holder));
        assert_eq!(c.escalation_level, level);
        assert_eq!(c.status, "assigned");
        assert_eq!(c.timers["respond"].timer.budget.to_string(), budget, "respond takes the target tier's budget");
        assert!(c.timers["respond"].sla_source.contains("tiers.respond"), "{}", c.timers["respond"].sla_source);
        assert!(c.timers["complete"].generation > gen_before, "a manual escalation starts a new generation");
    }
    // From level 1, a follow-up does not stop respond.
    act(&pack, &mut c, Command::Respond { message: msg("Kami tindak lanjuti") }, "2026-03-04T10:00:00+07:00");
    assert!(c.timers.contains_key("respond"));
    act(&pack, &mut c, esc(), "2026-03-05T10:00:00+07:00");
    assert_eq!(c.agency.as_deref(), Some("ombudsman"));
    assert_eq!(c.escalation_level, 4);
    assert_eq!(c.flags, ["ombudsman_referral"]);
    assert!(!c.timers.contains_key("respond"), "a referral starts no clock");
    for cmd in [esc(), Command::Forward { agency: "pln".into(), reason: "x".into() }] {
        let e = decide(&pack, &mut c.clone(), &sys(), &cmd, t("2026-03-06T10:00:00+07:00")).unwrap_err();
        assert!(matches!(e, DecideError::NotAllowed { .. }), "{e}");
    }
}

#[test]
fn escalating_a_case_awaiting_the_reporter_resumes_its_clocks() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    act(&pack, &mut c, verify(), "2026-03-02T10:00:00+07:00");
    act(&pack, &mut c, Command::RequestInfo { message: msg("?") }, "2026-03-03T10:00:00+07:00");
    act(&pack, &mut c, Command::Escalate { reason: "x".into() }, "2026-03-05T10:00:00+07:00");
    assert_eq!(c.status, "assigned");
    assert!(!c.timers.contains_key("close"));
    assert!(!c.timers["complete"].timer.is_paused());
    assert_eq!(c.timers["complete"].timer.suspensions.len(), 1);
}

#[test]
fn a_resume_before_the_pause_is_refused_and_changes_nothing() {
    let pack = common::national_pack();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    act(&pack, &mut c, verify(), "2026-03-02T10:00:00+07:00");
    act(&pack, &mut c, Command::RequestInfo { message: msg("?") }, "2026-03-03T10:00:00+07:00");
    let before = c.clone();
    // A request timed before the pause that a later one made (a race): no clock stays stuck paused.
    for cmd in [Command::ProvideInfo { message: msg("Depan pasar") }, Command::Escalate { reason: "x".into() }] {
        let e = decide(&pack, &mut c, &sys(), &cmd, t("2026-03-03T09:59:59+07:00")).unwrap_err();
        match e {
            DecideError::NotAllowed { status, allowed, .. } => {
                assert!(status.starts_with("awaiting_reporter (clock `"), "{status}");
                assert!(allowed.contains(&"provide_info".to_owned()), "{allowed:?}");
            }
            other => panic!("{cmd:?}: {other}"),
        }
        assert_eq!(c, before, "{cmd:?}");
    }
    act(&pack, &mut c, Command::ProvideInfo { message: msg("Depan pasar") }, "2026-03-03T10:00:00+07:00");
    assert!(c.timers.values().all(|t| !t.timer.is_paused()));
}

#[test]
fn a_region_can_plug_its_own_routing_and_defer() {
    let pack = common::pack_with(&[(
        "rules/35.78/route.rhai",
        "fn route(complaint, now) { if complaint.category == \"kesehatan\" { return #{agency: \"35.78/dinsos\", reason: \"Surabaya: Command Center 112\"}; } defer() }",
    )])
    .unwrap();
    let mut c = new_case(&pack, "35.78", "kesehatan", "2026-03-02T09:00:00+07:00");
    let out = decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap();
    assert_eq!(c.agency.as_deref(), Some("35.78/dinsos"));
    assert_eq!(out.trace[0].policy, "rules/35.78/route.rhai");
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    let out = decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap();
    assert_eq!(c.agency.as_deref(), Some("35.78/dinas-pu"));
    let steps: Vec<(&str, Option<&str>, &str)> =
        out.trace.iter().map(|s| (s.policy.as_str(), s.scope.as_deref(), s.outcome.as_str())).collect();
    assert_eq!(
        steps,
        [
            ("rules/35.78/route.rhai", Some("35.78"), "deferred"),
            ("rules/35/route.rhai", Some("35"), "absent"),
            ("rules/route.rhai", Some("national"), "decided"),
        ],
        "every scope consulted is named, the one without a policy too"
    );
}

#[test]
fn a_policy_names_its_branches_in_the_trace() {
    let pack = common::pack_with(&[(
        "rules/35.78/route.rhai",
        "fn route(complaint, now) { if complaint.category != \"kesehatan\" { note(`not health: ${complaint.category}`); return defer(); } note(\"health: Command Center 112\"); #{agency: \"35.78/dinsos\", reason: \"Surabaya\"} }",
    )])
    .unwrap();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    let out = decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap();
    let first: Vec<(&str, &str, &str)> =
        out.trace[..2].iter().map(|s| (s.policy.as_str(), s.outcome.as_str(), s.detail.as_str())).collect();
    assert_eq!(
        first,
        [
            ("rules/35.78/route.rhai", "note", "not health: infrastruktur"),
            ("rules/35.78/route.rhai", "deferred", "35.78 deferred outward"),
        ]
    );
    let mut c = new_case(&pack, "35.78", "kesehatan", "2026-03-02T09:00:00+07:00");
    let out = decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap();
    assert_eq!(out.trace.iter().map(|s| s.outcome.as_str()).collect::<Vec<_>>(), ["note", "decided"]);
    assert_eq!(out.trace[0].detail, "health: Command Center 112");
}

#[test]
fn hostile_policies_are_stopped_and_lose_nothing() {
    // An endless loop hits the operation limit; the case stays submitted; the error names file:line.
    let pack = common::pack_with(&[(
        "rules/35.78/route.rhai",
        "fn route(complaint, now) {\n  let x = 0;\n  loop { x += 1; }\n}\n",
    )])
    .unwrap();
    let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
    let before = c.clone();
    let e = decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap_err();
    match &e {
        DecideError::Policy(p) => {
            assert_eq!(p.file, "rules/35.78/route.rhai");
            assert_eq!(p.line, 1, "no position for the limit: the line of `fn route`; {p:?}");
            assert!(p.message.contains("ran past 200000 operations"), "{p}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(c, before);
    // With an explicit agency the admin still dispatches.
    decide(
        &pack,
        &mut c,
        &sys(),
        &Command::Verify { agency: Some("35.78/dinas-pu".into()), category: None, investigation: None },
        t("2026-03-02T10:00:00+07:00"),
    )
    .unwrap();

    // No eval, no sleep, no exit, no print side effects, no undeclared variables: compile or run errors.
    for (src, needle) in [
        ("fn route(complaint, now) { eval(\"1\") }", "eval"),
        ("fn route(complaint, now) { sleep(1); defer() }", "sleep"),
        ("fn route(complaint, now) { exit(); }", "exit"),
        ("fn route(complaint, now) { undeclared }", "undeclared"),
        ("fn route(complaint, now) { let s = \"x\"; loop { s += s; } }", "length"),
        ("fn route(complaint, now) { 42 }", "must return a map"),
        ("fn route(complaint, now) { #{agency: \"nowhere\", reason: \"x\"} }", "unknown agency"),
    ] {
        let result = common::pack_with(&[("rules/35.78/route.rhai", src)]);
        let msg = match result {
            Err(e) => e.to_string(),
            Ok(pack) => {
                let mut c = new_case(&pack, "35.78", "infrastruktur", "2026-03-02T09:00:00+07:00");
                decide(&pack, &mut c, &sys(), &verify(), t("2026-03-02T10:00:00+07:00")).unwrap_err().to_string()
            }
        };
        assert!(msg.to_lowercase().contains(needle), "{src}: {msg}");
        assert!(msg.contains("rules/35.78/route.rhai"), "{src}: {msg}");
    }
}

#[test]
fn a_broken_script_is_a_pack_error_with_its_location() {
    let e = common::pack_with(&[("rules/35/route.rhai", "fn route(complaint, now) {\n  let x = ;\n}\n")])
        .unwrap_err()
        .to_string();
    assert!(e.starts_with("rules/35/route.rhai:2:"), "{e}");
    let e = common::pack_with(&[("rules/35/triage.rhai", "fn triage(c) { 1 }")]).unwrap_err().to_string();
    assert!(e.contains("unknown hook `triage`"), "{e}");
}
