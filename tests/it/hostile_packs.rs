//! Packs written to hurt the engine: each is refused by `policy check` (exit 1, the file and what is
//! wrong) in bounded time, and `serve` will not start on one. See policies/README.md#limits.

use crate::{aduan_within, pack_copy, stdout};
use std::path::Path;
use std::process::Output;
use std::time::Duration;

/// Long enough for a slow CI machine; far shorter than an unbounded read or an endless loop.
const BOUND: Duration = Duration::from_secs(30);

fn check(dir: &Path) -> Output {
    aduan_within(&["policy", "check", dir.to_str().unwrap()], BOUND)
}

/// `policy check` of the national pack with `file` written as `text` fails, printing a line that
/// starts with `starts` and contains each of `contains`.
fn refused_with(file: &str, text: &str, starts: &str, contains: &[&str]) {
    let dir = pack_copy();
    let path = dir.path().join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    assert_refused(dir.path(), starts, contains);
}

fn assert_refused(dir: &Path, starts: &str, contains: &[&str]) {
    let o = check(dir);
    let out = format!("{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.lines().any(|l| l.contains(starts) && contains.iter().all(|c| l.contains(c))),
        "expected a line with `{starts}` and {contains:?}:\n{out}"
    );
    assert!(!out.contains("panicked"), "{out}");
}

#[test]
fn a_runaway_rule_is_stopped_by_the_smoke_run() {
    refused_with(
        "rules/35.78/route.rhai",
        "fn route(complaint, now) {\n  let x = 0;\n  loop { x += 1; }\n}\n",
        "rules/35.78/route.rhai:",
        &["operations", "smoke complaint", "35.78"],
    );
}

#[test]
fn a_rule_that_loops_only_for_one_category_is_found() {
    let src = "fn route(complaint, now) {\n  if complaint.category == \"kesehatan\" { while true {} }\n  defer()\n}\n";
    refused_with("rules/route.rhai", src, "rules/route.rhai:", &["operations", "category: kesehatan"]);
}

#[test]
fn a_recursive_rule_is_stopped() {
    let src = "fn deeper(n) { deeper(n + 1) }\nfn escalate(complaint, holder, level, clock, now) {\n  deeper(0)\n}\n";
    refused_with("rules/33/escalate.rhai", src, "rules/33/escalate.rhai:", &["smoke complaint"]);
}

#[test]
fn a_rule_that_allocates_without_bound_is_stopped() {
    let src = "fn route(complaint, now) {\n  let s = \"x\";\n  loop { s += s; }\n}\n";
    refused_with("rules/51/route.rhai", src, "rules/51/route.rhai:", &["smoke complaint"]);
    let src = "fn route(complaint, now) {\n  let a = [];\n  loop { a.push(a.len()); }\n}\n";
    refused_with("rules/51/route.rhai", src, "rules/51/route.rhai:", &["smoke complaint"]);
}

#[test]
fn a_rule_that_routes_to_an_unknown_agency_is_refused() {
    let src = "fn route(complaint, now) {\n  #{ agency: \"35.78/dinas-tidak-ada\", reason: \"typo\" }\n}\n";
    refused_with(
        "rules/35.78/route.rhai",
        src,
        "rules/35.78/route.rhai",
        &["35.78/dinas-tidak-ada", "not in the directory"],
    );
}

#[test]
fn a_rule_asking_the_calendar_for_billions_of_days_fails_cleanly() {
    let src = "fn route(complaint, now) {\n  add_working_days(\"35.78\", now, 4000000000);\n  defer()\n}\n";
    refused_with("rules/35.78/route.rhai", src, "rules/35.78/route.rhai:2", &["add_working_days", "from 0 to 366"]);
}

#[test]
fn out_of_range_budgets_are_refused_where_they_are_written() {
    let sla = "region: \"33.74\"\nname: typo\nclocks:\n  respond: {working_days: 4000000000}\n";
    refused_with(
        "sla/33.74-kota-semarang.yaml",
        sla,
        "sla/33.74-kota-semarang.yaml:4:",
        &["working_days 4000000000", "at most 366"],
    );
    let sla = "region: \"33.74\"\nclocks:\n  respond: {working_hours: 100000}\n";
    refused_with(
        "sla/33.74-kota-semarang.yaml",
        sla,
        "sla/33.74-kota-semarang.yaml:3:",
        &["working_hours 100000", "out of range"],
    );
    let dir = pack_copy();
    let national = dir.path().join("sla/national.yaml");
    let text = std::fs::read_to_string(&national).unwrap();
    assert!(text.contains("warn_at: 0.75"), "the national SLA sets warn_at");
    std::fs::write(&national, text.replacen("warn_at: 0.75", "warn_at: 75", 1)).unwrap();
    assert_refused(dir.path(), "sla/national.yaml", &["warn_at 75", "between 0 and 1"]);
}

#[test]
fn a_calendar_of_absurd_years_is_refused_before_it_allocates() {
    let mut cal = String::from("country: ID\ntime_zone: Asia/Jakarta\nyears:\n");
    cal.push_str("  -2147483648: {}\n  2147483647: {}\n");
    refused_with("calendars/indonesia.yaml", &cal, "calendars/indonesia.yaml", &["years"]);
    let mut cal = String::from("country: ID\ntime_zone: Asia/Jakarta\nyears:\n");
    for y in 2000..2100 {
        cal.push_str(&format!("  {y}: {{}}\n"));
    }
    refused_with("calendars/indonesia.yaml", &cal, "calendars/indonesia.yaml", &["at most 50"]);
}

#[test]
fn a_yaml_alias_bomb_is_refused_at_once() {
    let mut bomb = String::from(
        "name: lapor\ndescription: &a0 \"ha\"\nx0: &b0 [*a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0, *a0]\n",
    );
    for i in 1..9 {
        let p = i - 1;
        bomb.push_str(&format!("x{i}: &b{i} [*b{p}, *b{p}, *b{p}, *b{p}, *b{p}, *b{p}, *b{p}, *b{p}, *b{p}, *b{p}]\n"));
    }
    refused_with("pack.yaml", &bomb, "pack.yaml", &[]);
}

#[test]
fn files_that_are_not_regular_files_are_refused_unopened() {
    let dir = pack_copy();
    let fifo = dir.path().join("sla/fifo.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    assert_refused(dir.path(), "sla/fifo.yaml", &["not a regular file"]);

    let dir = pack_copy();
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("sla/zero.yaml")).unwrap();
    assert_refused(dir.path(), "sla/zero.yaml", &["out of the pack"]);

    let dir = pack_copy();
    let outside = aduan_testkit::process::tempdir("outside");
    std::fs::write(outside.path().join("x.yaml"), "region: \"35\"\n").unwrap();
    std::os::unix::fs::symlink(outside.path().join("x.yaml"), dir.path().join("sla/35.yaml")).unwrap();
    assert_refused(dir.path(), "sla/35.yaml", &["out of the pack"]);

    let dir = pack_copy();
    std::os::unix::fs::symlink("..", dir.path().join("rules/loop.rhai")).unwrap();
    assert_refused(dir.path(), "rules/loop.rhai", &[]);
}

#[test]
fn a_link_inside_the_pack_is_read_and_an_oversized_file_refused() {
    let dir = pack_copy();
    std::fs::rename(dir.path().join("calendars/bali.yaml"), dir.path().join("bali-layer.txt")).unwrap();
    std::os::unix::fs::symlink(dir.path().join("bali-layer.txt"), dir.path().join("calendars/bali.yaml")).unwrap();
    let o = check(dir.path());
    assert!(o.status.success(), "a link to a file inside the pack is read: {}", stdout(&o));

    let dir = pack_copy();
    let big = format!("region: \"35\"\nname: \"{}\"\n", "x".repeat(5 * 1024 * 1024));
    std::fs::write(dir.path().join("sla/35-big.yaml"), big).unwrap();
    assert_refused(dir.path(), "sla/35-big.yaml", &["larger than 4 MiB"]);
}

#[test]
fn serve_refuses_a_pack_that_check_refuses() {
    let dir = pack_copy();
    std::fs::write(dir.path().join("rules/route.rhai"), "fn route(complaint, now) { loop {} }\n").unwrap();
    let db = aduan_testkit::process::tempdir("db");
    let url = format!("sqlite://{}/a.db", db.path().display());
    let o = aduan_within(
        &[
            "--database-url",
            &url,
            "--policy-dir",
            dir.path().to_str().unwrap(),
            "--nats-url",
            "nats://127.0.0.1:1",
            "--http-addr",
            "127.0.0.1:0",
            "serve",
        ],
        BOUND,
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert_ne!(o.status.code(), Some(0));
    assert!(err.contains("rules/route.rhai") && err.contains("operations"), "{err}");
}
