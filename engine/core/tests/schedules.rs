//! `schedules.yaml`: every job's cron expression is parsed when the pack loads, days of the week by name
//! only, and each problem names the file, line, column and job.

mod common;

use aduan_core::pack::Schedules;

fn problems(text: &str) -> Vec<String> {
    match Schedules::from_yaml("schedules.yaml", text) {
        Ok(s) => panic!("accepted: {s:?}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn the_national_pack_sets_the_sweep_and_the_morning_digest() {
    let pack = common::national_pack();
    assert_eq!(pack.schedules.sweep_expr(), "0 * * * * *");
    assert_eq!(pack.schedules.digest_expr(), "0 0 8-11 * * Mon-Sat");
}

#[test]
fn digest_and_sweep_default_when_absent() {
    let s = Schedules::from_yaml("schedules.yaml", "sweep: \"0 */5 * * * *\"\n").unwrap();
    assert_eq!(s.sweep_expr(), "0 */5 * * * *");
    assert_eq!(s.digest, None);
    assert_eq!(s.digest_expr(), Schedules::DEFAULT_DIGEST);
    Schedules::parse("digest", Schedules::DEFAULT_DIGEST).unwrap();
    Schedules::parse("sweep", Schedules::DEFAULT_SWEEP).unwrap();
}

#[test]
fn digest_day_of_week_numbers_are_refused_at_their_line() {
    let p = problems("sweep: \"0 * * * * *\"\ndigest: \"0 0 8 * * 1-5\"\n");
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("schedules.yaml:2:"), "{p:?}");
    assert!(p[0].contains("digest: write days of the week as names"), "{p:?}");
}

#[test]
fn digest_that_is_not_a_cron_expression_is_refused() {
    let p = problems("digest: \"0 0 25 * * Mon\"\n");
    assert!(p[0].starts_with("schedules.yaml:1:") && p[0].contains("digest: `0 0 25 * * Mon` is not a cron"), "{p:?}");
    let p = problems("digest: \"0 8 * * Mon\"\n");
    assert!(p[0].contains("digest: `0 8 * * Mon` needs 6 or 7 fields"), "{p:?}");
    // Both jobs are reported at once.
    let p = problems("sweep: \"every minute\"\ndigest: \"soon\"\n");
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(p[0].contains("sweep:") && p[1].contains("digest:"), "{p:?}");
}

#[test]
fn digest_unknown_fields_are_refused() {
    let p = problems("digest: \"0 0 8 * * Mon-Fri\"\nauto_close: \"0 0 * * * *\"\n");
    assert!(p[0].starts_with("schedules.yaml:2:") && p[0].contains("auto_close"), "{p:?}");
}
