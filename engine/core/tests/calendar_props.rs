//! Properties of working-day arithmetic on the national pack's real calendars (every zone, Bali's
//! layer, the covered years and past them).

mod common;

use aduan_core::calendar::{Calendar, CalendarLayer};
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::sla::Budget;
use aduan_core::timer::{CalendarRef, Timer};
use chrono::{DateTime, Datelike, Days, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use proptest::prelude::*;
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

const REGIONS: [&str; 7] = ["35.78", "51.71", "51", "61.71", "73.71", "91.71", "99.01"];

fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(common::national_pack)
}

fn calendar(region: usize) -> Arc<Calendar> {
    pack().calendars.for_region(&RegionCode::parse(REGIONS[region]).unwrap())
}

/// Every day off the published data names for a region, read independently of the compiled tables.
fn days_off(region: usize) -> &'static HashSet<NaiveDate> {
    static SETS: OnceLock<Vec<HashSet<NaiveDate>>> = OnceLock::new();
    &SETS.get_or_init(|| {
        REGIONS
            .iter()
            .map(|r| {
                pack()
                    .calendars
                    .layers()
                    .iter()
                    .filter(|l| match &l.scope {
                        aduan_core::calendar::LayerScope::National => true,
                        aduan_core::calendar::LayerScope::Region(code) => r.starts_with(code.as_str()),
                        aduan_core::calendar::LayerScope::Agency(_) => false,
                    })
                    .flat_map(|l| l.days.iter().map(|d| d.date))
                    .collect()
            })
            .collect()
    })[region]
}

fn is_day_off(region: usize, date: NaiveDate) -> bool {
    matches!(date.weekday(), Weekday::Sat | Weekday::Sun) || days_off(region).contains(&date)
}

/// Instants from mid-2024 (before the covered years) to mid-2028 (after them).
fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_717_200_000i64..1_845_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

/// Instants inside the covered years, where a holiday can be added.
fn covered_instant() -> impl Strategy<Value = DateTime<Utc>> {
    (1_735_700_000i64..1_820_000_000).prop_map(|s| DateTime::from_timestamp(s, 0).unwrap())
}

proptest! {
    #![proptest_config(ProptestConfig { max_global_rejects: 20_000, ..ProptestConfig::with_cases(2_000) })]

    #[test]
    fn adding_lands_on_a_working_day_and_grows_with_n(region in 0..REGIONS.len(), start in instant(), n in 1u32..=60) {
        let cal = calendar(region);
        let d = cal.add_working_days(start, n);
        prop_assert!(cal.day_status(d.due_date).working);
        prop_assert!(!is_day_off(region, d.due_date), "{} is a day off", d.due_date);
        let next = cal.add_working_days(start, n + 1);
        prop_assert!(next.due_date > d.due_date);
        prop_assert!(next.due_at > d.due_at);
        prop_assert!(d.due_date > cal.local_date(start));
    }

    #[test]
    fn counting_from_the_start_to_day_n_gives_n(region in 0..REGIONS.len(), start in instant(), n in 0u32..=60) {
        let cal = calendar(region);
        let d = cal.add_working_days(start, n);
        let last_moment_of_day_n = d.due_at - chrono::Duration::seconds(1);
        prop_assert_eq!(cal.count_working_days(start, last_moment_of_day_n).days, i64::from(n));
    }

    #[test]
    fn no_day_counted_is_a_day_off(region in 0..REGIONS.len(), start in instant(), n in 1u32..=60) {
        let cal = calendar(region);
        let d = cal.add_working_days(start, n);
        let local = cal.local_date(start);
        let mut counted = 0;
        let mut day = local;
        while day < d.due_date {
            day = day + Days::new(1);
            if !is_day_off(region, day) {
                counted += 1;
            } else {
                prop_assert!(cal.explain_span(local, d.due_date).iter().any(|s| s.date == day), "{} not explained", day);
            }
        }
        prop_assert_eq!(counted, n);
    }

    #[test]
    fn pausing_for_k_working_days_moves_due_at_by_k(region in 0..REGIONS.len(), start in instant(), n in 1u32..=60, pause_after in 0i64..40 * 86_400, pause_len in 0i64..30 * 86_400) {
        let cal = calendar(region);
        let code = RegionCode::parse(REGIONS[region]).unwrap();
        let mut timer = Timer::start(&aduan_core::clock::Clock::COMPLETE, Budget::WorkingDays(n), 750, CalendarRef::Region(code), start);
        let before = timer.schedule(&cal).due.unwrap();
        let p = start + chrono::Duration::seconds(pause_after);
        let r = p + chrono::Duration::seconds(pause_len);
        timer.pause(p).unwrap();
        prop_assert!(timer.schedule(&cal).paused);
        timer.resume(r).unwrap();
        let after = timer.schedule(&cal).due.unwrap();
        let k = cal.count_working_days(p, r).days;
        prop_assert_eq!(cal.count_working_days(before.due_at - chrono::Duration::seconds(1), after.due_at - chrono::Duration::seconds(1)).days, k);
        prop_assert!(cal.day_status(after.due_date).working);
    }

    #[test]
    fn a_new_holiday_moves_only_the_deadlines_that_cross_it(region in 0..REGIONS.len(), start in covered_instant(), n in 1u32..=60, offset in 1u64..90) {
        let cal = calendar(region);
        let holiday = cal.local_date(start) + Days::new(offset);
        prop_assume!(cal.day_status(holiday).working && (2025..=2027).contains(&holiday.year()));
        let extra = CalendarLayer::from_yaml(
            "calendars/extra.yaml",
            &format!("region: \"{}\"\ndays_off:\n  - {{date: {holiday}, name: Added mid-year}}\n", REGIONS[region]),
        ).unwrap();
        let code = RegionCode::parse(REGIONS[region]).unwrap();
        let mut chain: Vec<&CalendarLayer> = pack().calendars.layers().iter().filter(|l| match &l.scope {
            aduan_core::calendar::LayerScope::National => true,
            aduan_core::calendar::LayerScope::Region(c) => REGIONS[region].starts_with(c.as_str()),
            aduan_core::calendar::LayerScope::Agency(_) => false,
        }).collect();
        chain.sort_by_key(|l| l.scope != aduan_core::calendar::LayerScope::National);
        chain.push(&extra);
        let tz = code.time_zone().unwrap_or(Tz::Asia__Jakarta);
        let changed = Calendar::compile(&chain, tz).unwrap();
        let old = cal.add_working_days(start, n);
        let new = changed.add_working_days(start, n);
        if holiday <= old.due_date {
            prop_assert_eq!(cal.count_working_days(old.due_at - chrono::Duration::seconds(1), new.due_at - chrono::Duration::seconds(1)).days, 1);
        } else {
            prop_assert_eq!(old, new);
        }
    }

    #[test]
    fn working_hours_added_are_working_hours_counted(region in 0..REGIONS.len(), start in instant(), hours in 1u64..=72) {
        let cal = calendar(region);
        let d = cal.add_working_seconds(start, hours * 3600);
        prop_assert_eq!(cal.working_seconds_between(start, d.due_at), hours * 3600);
        prop_assert!(cal.day_status(d.due_date).working);
    }
}
