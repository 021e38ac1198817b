use super::*;

fn national() -> CalendarLayer {
    CalendarLayer::from_yaml(
        "calendars/id.yaml",
        "country: ID\nweekend: [sat, sun]\nyears:\n  2026:\n    public:\n      - {date: 2026-12-25, name: Christmas Day}\n    cuti_bersama:\n      - {date: 2026-12-24, name: Christmas Joint Holiday}\n",
    )
    .unwrap()
}

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

#[test]
fn day_one_is_the_first_working_day_after_the_start_date() {
    let n = national();
    let cal = Calendar::compile(&[&n], Tz::Asia__Jakarta).unwrap();
    // Mon 21 Dec 2026 10:00 WIB: days 22, 23, (24, 25 off, 26-27 weekend), 28 → 3 days due Mon 28.
    let d = cal.add_working_days(utc("2026-12-21T10:00:00+07:00"), 3);
    assert_eq!(d.due_date, NaiveDate::from_ymd_opt(2026, 12, 28).unwrap());
    assert_eq!(d.due_at, utc("2026-12-29T00:00:00+07:00"));
    assert!(!d.provisional);
    let skipped = cal.explain_add_working_days(utc("2026-12-21T10:00:00+07:00"), 3);
    let reasons: Vec<String> = skipped.iter().map(|s| format!("{} {}", s.date, s.reason)).collect();
    assert_eq!(
        reasons,
        [
            "2026-12-24 cuti bersama: Christmas Joint Holiday (national)",
            "2026-12-25 libur nasional: Christmas Day (national)",
            "2026-12-26 weekend (Saturday)",
            "2026-12-27 weekend (Sunday)",
        ]
    );
}

#[test]
fn past_the_covered_years_only_weekends_count_and_the_result_is_provisional() {
    let n = national();
    let cal = Calendar::compile(&[&n], Tz::Asia__Jakarta).unwrap();
    let d = cal.add_working_days(utc("2026-12-30T10:00:00+07:00"), 3);
    // 31 Dec, then 2027 (uncovered): Fri 1 Jan counts, Mon 4 Jan.
    assert_eq!(d.due_date, NaiveDate::from_ymd_opt(2027, 1, 4).unwrap());
    assert!(d.provisional);
    let before = cal.add_working_days(utc("2025-12-30T10:00:00+07:00"), 3);
    assert_eq!(before.due_date, NaiveDate::from_ymd_opt(2026, 1, 2).unwrap());
    assert!(before.provisional, "starts before the covered years");
    assert!(cal
        .explain_span(NaiveDate::from_ymd_opt(2027, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2027, 1, 3).unwrap())[0]
        .reason
        .contains("outside the covered years"));
}

#[test]
fn an_agency_layer_can_add_saturday_service() {
    let n = national();
    let agency = CalendarLayer::from_yaml(
        "calendars/samsat.yaml",
        "agency: \"35.78/samsat\"\nweekend: [sun]\nworking_hours:\n  sat: \"08:00-12:00\"\n",
    )
    .unwrap();
    let cal = Calendar::compile(&[&n, &agency], Tz::Asia__Jakarta).unwrap();
    // Fri 18 Dec 2026: Sat 19 is day 1.
    let d = cal.add_working_days(utc("2026-12-18T10:00:00+07:00"), 1);
    assert_eq!(d.due_date, NaiveDate::from_ymd_opt(2026, 12, 19).unwrap());
    // Holidays still hold: from Wed 23, day 1 is Sat 26 (24, 25 off).
    let d = cal.add_working_days(utc("2026-12-23T10:00:00+07:00"), 1);
    assert_eq!(d.due_date, NaiveDate::from_ymd_opt(2026, 12, 26).unwrap());
    // Saturday hours come from the layer: 2 hours from Sat 08:00 end at 10:00.
    let h = cal.add_working_seconds(utc("2026-12-19T07:00:00+07:00"), 2 * 3600);
    assert_eq!(h.due_at, utc("2026-12-19T10:00:00+07:00"));
}

#[test]
fn counting_is_the_inverse_of_adding() {
    let n = national();
    let cal = Calendar::compile(&[&n], Tz::Asia__Makassar).unwrap();
    let start = utc("2026-12-20T23:30:00+08:00");
    for k in 0..40 {
        let d = cal.add_working_days(start, k);
        assert_eq!(cal.count_working_days(start, d.due_at - chrono::Duration::seconds(1)).days, i64::from(k));
    }
}

#[test]
fn a_chain_must_start_with_the_national_layer() {
    let bali = CalendarLayer::from_yaml("calendars/bali.yaml", "region: \"51\"\n").unwrap();
    assert_eq!(Calendar::compile(&[&bali], Tz::Asia__Makassar).unwrap_err(), CalendarError::NoNationalLayer);
    let late =
        CalendarLayer::from_yaml("calendars/bali.yaml", "region: \"51\"\ndays_off:\n  - {date: 2030-01-02, name: X}\n")
            .unwrap();
    let e = Calendar::compile(&[&national(), &late], Tz::Asia__Makassar).unwrap_err();
    assert!(e.to_string().contains("outside the years"), "{e}");
}

#[test]
fn working_hours_and_the_next_opening() {
    let n = national();
    let cal = Calendar::compile(&[&n], Tz::Asia__Jakarta).unwrap();
    assert!(cal.within_working_hours(utc("2026-12-21T07:30:00+07:00")));
    assert!(!cal.within_working_hours(utc("2026-12-21T16:00:00+07:00")));
    assert!(cal.within_working_hours(utc("2026-12-18T16:15:00+07:00")), "Friday closes at 16:30");
    assert!(!cal.within_working_hours(utc("2026-12-24T10:00:00+07:00")), "cuti bersama");
    assert_eq!(cal.next_opening(utc("2026-12-21T10:00:00+07:00")), utc("2026-12-21T10:00:00+07:00"));
    assert_eq!(cal.next_opening(utc("2026-12-21T03:00:00+07:00")), utc("2026-12-21T07:30:00+07:00"));
    assert_eq!(cal.next_opening(utc("2026-12-23T17:00:00+07:00")), utc("2026-12-28T07:30:00+07:00"));
    assert_eq!(cal.next_opening(utc("2026-12-26T12:00:00+07:00")), utc("2026-12-28T07:30:00+07:00"));
}
