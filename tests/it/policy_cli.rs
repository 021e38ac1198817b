//! `aduan policy check`, `explain` and `test` on the national pack, and the command table.

use crate::{aduan, pack_copy, stderr, stdout};
use serde_json::Value;
use std::io::Write;

fn complaint_file(ext: &str, text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().prefix("aduan-test-complaint-").suffix(ext).tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

#[test]
fn check_accepts_the_national_pack() {
    let o = aduan(&["policy", "check"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("ok: pack `lapor` "), "{out}");
    assert_eq!(out.split_whitespace().nth(3).unwrap().len(), 64, "prints the pack hash: {out}");
}

#[test]
fn check_reports_every_problem_as_file_line_col() {
    let dir = pack_copy();
    std::fs::write(
        dir.path().join("calendars/bali.yaml"),
        "region: \"51\"\ndays_off:\n  - {date: 2026-06-17, name: Galungan, provisional: true, extra: 1}\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("sla/33.74-kota-semarang.yaml"), "region: \"33.74\"\nregion: \"33.75\"\n").unwrap();
    std::fs::write(dir.path().join("stray.yaml"), "a: 1\n").unwrap();
    let o = aduan(&["policy", "check", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines.iter().any(|l| l.starts_with("calendars/bali.yaml:3:") && l.contains("extra")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("sla/33.74-kota-semarang.yaml:2:") && l.contains("region")), "{out}");
    assert!(lines.iter().any(|l| l.starts_with("stray.yaml: not a file the engine loads")), "{out}");
}

#[test]
fn help_lists_every_command() {
    // Every command of CONTRACT's table is built (`policy replay`, the last, in tests/it/policy_replay.rs).
    let help = stdout(&aduan(&["--help"]));
    for c in ["serve", "migrate", "sweep", "seed", "policy", "audit", "token", "bench"] {
        assert!(help.contains(&format!("  {c} ")), "--help lists {c}");
    }
}

#[test]
fn explain_prints_every_clock_with_skipped_days_and_sla_source() {
    // Kota Semarang, Tue 17 Mar 2026 before Lebaran: respond is Semarang's own 7 working days.
    let f = complaint_file(
        ".json",
        r#"{"kind": "pengaduan", "channel": "web", "title": "Jalan berlubang", "body": "Di depan pasar",
            "category": "infrastruktur", "region": "33.74", "privacy": "public",
            "reporter": {"name": "Sri", "contact": "0812"}, "at": "2026-03-17T10:00:00+07:00"}"#,
    );
    let o = aduan(&["policy", "explain", "--complaint", f.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["route"]["agency"], "33.74/dinas-pu");
    assert_eq!(v["route"]["reason"], "category infrastruktur in 33.74");
    // Every scope consulted is named, in order: Semarang and Jawa Tengah have no route policy.
    let steps: Vec<(&str, &str, &str)> = v["trace"].as_array().unwrap()[..3]
        .iter()
        .map(|s| (s["policy"].as_str().unwrap(), s["scope"].as_str().unwrap(), s["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("rules/33.74/route.rhai", "33.74", "absent"),
            ("rules/33/route.rhai", "33", "absent"),
            ("rules/route.rhai", "national", "decided")
        ]
    );
    let deadlines = v["deadlines"].as_array().unwrap();
    let clocks: Vec<&str> = deadlines.iter().map(|d| d["clock"].as_str().unwrap()).collect();
    assert_eq!(clocks, ["verify", "respond", "complete", "close"]);
    let by = |c: &str| deadlines.iter().find(|d| d["clock"] == c).unwrap();
    // verify 3: 18-24 off (Nyepi, Lebaran, cuti bersama, weekend) → 25, 26, 27.
    assert_eq!(by("verify")["due_date"], "2026-03-27");
    assert_eq!(by("verify")["due_at"], "2026-03-28T00:00:00+07:00");
    assert_eq!(by("verify")["provisional"], false);
    let skipped: Vec<&str> =
        by("verify")["skipped"].as_array().unwrap().iter().map(|s| s["date"].as_str().unwrap()).collect();
    assert_eq!(
        skipped,
        ["2026-03-18", "2026-03-19", "2026-03-20", "2026-03-21", "2026-03-22", "2026-03-23", "2026-03-24"]
    );
    assert!(by("verify")["skipped"][1]["reason"].as_str().unwrap().contains("libur nasional"));
    // respond 7 (Semarang): 25, 26, 27, 30, 31, 1 Apr, 2 Apr.
    assert_eq!(by("respond")["due_date"], "2026-04-02");
    assert!(by("respond")["sla_source"].as_str().unwrap().starts_with("region 33.74"), "{}", by("respond"));
    // complete 14: …, 3 Apr Good Friday off → 25,26,27,30,31,1,2,6,7,8,9,10,13,14.
    assert_eq!(by("complete")["due_date"], "2026-04-14");
    assert!(by("complete")["sla_source"].as_str().unwrap().starts_with("national: clocks.complete"));
    // close 10: 25, 26, 27, 30, 31, 1, 2, (3 Good Friday), 6, 7, 8.
    assert_eq!(by("close")["due_date"], "2026-04-08");
    assert!(v["trace"].as_array().unwrap().len() >= 4);
}

#[test]
fn explain_reads_jsonl_line_by_line_each_with_its_own_at() {
    let f = complaint_file(
        ".jsonl",
        concat!(
            r#"{"kind": "aspirasi", "region": "51.71", "at": "2026-06-15T10:00:00+08:00"}"#,
            "\n",
            r#"{"kind": "pengaduan", "region": "35.78", "investigation": true, "at": "2027-12-20T10:00:00+07:00"}"#,
            "\n"
        ),
    );
    let o = aduan(&["policy", "explain", "--complaint", f.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<Value> = stdout(&o).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    // Denpasar, Mon 15 Jun 2026: 16 Jun Islamic New Year, 17 Jun Galungan (provisional) → verify on 22 Jun.
    let verify = &lines[0]["deadlines"][0];
    assert_eq!(verify["due_date"], "2026-06-22");
    assert_eq!(verify["provisional"], true);
    assert_eq!(lines[0]["deadlines"][2]["budget"], "5 working days", "aspirasi completes in 5");
    // Investigation: 60 working days from late 2027 reaches past the covered years → provisional.
    let complete = &lines[1]["deadlines"][2];
    assert_eq!(complete["budget"], "60 working days");
    assert_eq!(complete["provisional"], true);
}

#[test]
fn explain_rejects_bad_input_with_one_clear_line() {
    for (text, needle) in [
        (r#"{"kind": "pengaduan", "region": "35-78"}"#, "region"),
        (r#"{"kind": "pengaduan", "regoin": "35.78"}"#, "regoin"),
        (r#"{"kind": "keluhan"}"#, "keluhan"),
        (r#"{"kind": "#, "EOF"),
    ] {
        let f = complaint_file(".json", text);
        let o = aduan(&["policy", "explain", "--complaint", f.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(1), "{text}");
        let err = stderr(&o);
        assert!(err.contains(needle), "{text}: {err}");
        assert!(o.stdout.is_empty(), "{text}");
    }
}

#[test]
fn explain_prints_what_it_can_then_exits_1_when_a_policy_fails() {
    let dir = pack_copy();
    std::fs::create_dir_all(dir.path().join("rules/35.78")).unwrap();
    std::fs::write(
        dir.path().join("rules/35.78/route.rhai"),
        "fn route(complaint, now) {\n  let x = 1;\n  x.nope()\n}\n",
    )
    .unwrap();
    let f = complaint_file(
        ".json",
        r#"{"kind": "pengaduan", "category": "infrastruktur", "region": "35.78", "at": "2026-03-02T09:00:00+07:00"}"#,
    );
    let o = aduan(&["policy", "explain", dir.path().to_str().unwrap(), "--complaint", f.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let v: Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(v["route"]["agency"], Value::Null);
    let reason = v["route"]["reason"].as_str().unwrap();
    assert!(reason.starts_with("policy failed: rules/35.78/route.rhai:3:"), "{reason}");
    assert_eq!(v["deadlines"].as_array().unwrap().len(), 4, "deadlines are still explained");
}

#[test]
fn test_passes_the_national_pack_with_at_least_50_cases() {
    let o = aduan(&["policy", "test"]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    let last = out.lines().last().unwrap();
    let passed: usize = last.strip_suffix(" passed, 0 failed").and_then(|n| n.parse().ok()).unwrap_or(0);
    assert!(passed >= 50, "{out}");
    assert_eq!(out.lines().count(), 1, "no failure and no known issue: {out}");
}

#[test]
fn test_names_the_case_and_file_line_of_a_wrong_expectation() {
    let dir = pack_copy();
    let file = dir.path().join("tests/escalation.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    // The Surabaya ladder's level-2 respond is due 27 March 2026 (province tier, 3 working days).
    let needle = "respond: {due_date: 2026-03-27, budget: 3 working days}";
    let line = text.lines().position(|l| l.contains(needle)).expect("the ladder case") + 1;
    std::fs::write(&file, text.replacen(needle, "respond: {due_date: 2026-03-26, budget: 3 working days}", 1)).unwrap();
    let o = aduan(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "one failure, then the summary: {out}");
    assert!(lines[0].starts_with(&format!("tests/escalation.yaml:{line}: Surabaya public works")), "{out}");
    assert!(lines[0].ends_with("escalation level 2.respond.due_date: expected 2026-03-26, got 2026-03-27"), "{out}");
    let total = aduan(&["policy", "test"]);
    let n: usize = stdout(&total).lines().last().unwrap().split(' ').next().unwrap().parse().unwrap();
    assert_eq!(lines[1], format!("{} passed, 1 failed", n - 1));
}

#[test]
fn test_refuses_a_malformed_test_file_naming_file_line() {
    for (text, needle) in [
        ("- name: a\n  complaint: {kind: pengaduan}\n  at: 2026-03-02T09:00:00+07:00\n  expect: {agnecy: x}\n", ":4:"),
        ("- name: a\n  complaint: {kind: pengaduan, region: \"35-78\"}\n  at: 2026-03-02T09:00:00+07:00\n  expect: {}\n", ":2:"),
        ("- name: a\n  complaint: {kind: pengaduan}\n  at: yesterday\n  expect: {}\n", ":3:"),
        ("- name: a\n  complaint: {kind: pengaduan}\n  at: 2026-03-02T09:00:00+07:00\n  expect: {escalation: [35.78]}\n", ":4:"),
    ] {
        let dir = pack_copy();
        std::fs::write(dir.path().join("tests/zz-broken.yaml"), text).unwrap();
        let o = aduan(&["policy", "test", dir.path().to_str().unwrap()]);
        assert_eq!(o.status.code(), Some(2), "{text}");
        let err = stderr(&o);
        assert!(err.starts_with(&format!("error: tests/zz-broken.yaml{needle}")), "{text}: {err}");
        assert!(o.stdout.is_empty(), "{text}: nothing runs");
    }
}

#[test]
fn the_test_examples_of_policies_readme_pass() {
    let readme = std::fs::read_to_string(crate::root().join("policies/README.md")).unwrap();
    let dir = pack_copy();
    std::fs::remove_dir_all(dir.path().join("tests")).unwrap();
    let mut files = 0;
    for block in readme.split("```yaml\n").skip(1) {
        let block = block.split("```").next().unwrap();
        let Some(path) = block.lines().next().and_then(|l| l.strip_prefix("# ")).filter(|p| p.starts_with("tests/"))
        else {
            continue;
        };
        let dest = dir.path().join(path.trim());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(dest, block).unwrap();
        files += 1;
    }
    assert!(files >= 1, "policies/README.md has a `# tests/…` example");
    let o = aduan(&["policy", "test", dir.path().to_str().unwrap()]);
    let out = stdout(&o);
    assert!(o.status.success(), "{out}{}", stderr(&o));
    assert!(out.ends_with(" passed, 0 failed\n") && !out.starts_with("0 "), "{out}");
}

#[test]
fn test_counts_a_failing_known_issue_apart_and_a_stale_mark_as_a_failure() {
    let case = |name: &str, due: &str| {
        format!(
            "- name: {name}\n  complaint: {{kind: pengaduan, category: infrastruktur, region: \"35.78\"}}\n  \
             at: 2026-03-02T09:00:00+07:00\n  known_issue: \"engine and CONTRACT differ\"\n  \
             expect:\n    deadlines: {{verify: {due}}}\n"
        )
    };
    let dir = pack_copy();
    std::fs::remove_dir_all(dir.path().join("tests")).unwrap();
    std::fs::create_dir_all(dir.path().join("tests")).unwrap();
    std::fs::write(dir.path().join("tests/known.yaml"), case("still differs", "2026-03-04")).unwrap();
    let o = aduan(&["policy", "test", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].starts_with("tests/known.yaml:6: still differs: known issue (engine and CONTRACT differ): "),
        "{out}"
    );
    assert_eq!(lines[1..], ["1 known issues (failing as marked; not counted)", "0 passed, 0 failed"], "{out}");
    std::fs::write(dir.path().join("tests/known.yaml"), case("fixed now", "2026-03-05")).unwrap();
    let o = aduan(&["policy", "test", dir.path().to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stdout(&o).starts_with("tests/known.yaml:1: fixed now: marked known_issue but passes now"),
        "{}",
        stdout(&o)
    );
}
