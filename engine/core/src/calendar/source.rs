//! The YAML shape of a calendar layer file (`calendars/*.yaml` in a pack) and its validation.
//!
//! One file is one layer: the national calendar (`country:`), a region's own days off (`region:`), or an
//! agency's (`agency:`). Every struct denies unknown fields, so a typo is an error with its location.

use super::{DayKind, Weekday};
use crate::problem::{PackError, Problem};
use crate::region::RegionCode;
use chrono::NaiveDate;
use chrono_tz::Tz;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CalendarFile {
    country: Option<String>,
    region: Option<Spanned<String>>,
    agency: Option<Spanned<String>>,
    time_zone: Option<Spanned<String>>,
    weekend: Option<Vec<Weekday>>,
    #[serde(default)]
    working_hours: BTreeMap<Weekday, Spanned<String>>,
    #[serde(default)]
    years: BTreeMap<i32, YearDays>,
    #[serde(default)]
    days_off: Vec<DatedEntry>,
    #[serde(default)]
    working_days: Vec<DatedEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct YearDays {
    #[serde(default)]
    public: Vec<DatedEntry>,
    #[serde(default)]
    cuti_bersama: Vec<DatedEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DatedEntry {
    date: Spanned<NaiveDate>,
    name: String,
    #[serde(default)]
    provisional: bool,
}

/// Who a layer belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LayerScope {
    /// The national calendar (SKB 3 Menteri): holidays and cuti bersama per year.
    National,
    /// A province or kab/kota (its own days off, e.g. Bali's Galungan).
    Region(RegionCode),
    /// One agency (extra days off, or extra working days for a unit that serves on Saturdays).
    Agency(String),
}

/// One dated entry of a layer, validated.
#[derive(Debug, Clone)]
pub struct LayerDay {
    /// The local date.
    pub date: NaiveDate,
    /// What the date is.
    pub kind: DayKind,
    /// Its published name ("Hari Raya Idul Fitri", "Galungan").
    pub name: String,
    /// The date is an estimate (a lunar holiday not yet fixed, a circular not yet checked).
    pub provisional: bool,
}

/// A validated calendar layer: one file of a pack's `calendars/`.
#[derive(Debug, Clone)]
pub struct CalendarLayer {
    /// Who it belongs to.
    pub scope: LayerScope,
    /// The pack-relative file it came from, for provenance.
    pub file: String,
    /// A time zone this layer sets (national bodies outside WIB, say).
    pub time_zone: Option<Tz>,
    /// The days of the week that are not working days, when this layer sets them.
    pub weekend: Option<[bool; 7]>,
    /// Working hours this layer sets, per weekday (Monday first), in seconds since local midnight.
    pub working_hours: [Option<(u32, u32)>; 7],
    /// The years this layer covers (national layer only): first and last.
    pub years: Option<(i32, i32)>,
    /// Its dated entries.
    pub days: Vec<LayerDay>,
}

impl CalendarLayer {
    /// Parses and validates one layer file. `file` is its pack-relative path, used in errors.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, PackError> {
        let raw: CalendarFile = crate::problem::parse_yaml(file, text)?;
        let mut problems = Vec::new();
        let at = |loc: &serde_saphyr::Location, message: String| Problem::at(file, loc, message);

        let scopes = [raw.country.is_some(), raw.region.is_some(), raw.agency.is_some()];
        let scope = match (&raw.country, &raw.region, &raw.agency) {
            _ if scopes.iter().filter(|s| **s).count() != 1 => {
                return Err(
                    Problem::file(file, "a calendar names exactly one of `country`, `region` or `agency`").into()
                );
            }
            (Some(_), _, _) => LayerScope::National,
            (_, Some(region), _) => match RegionCode::parse(&region.value) {
                Ok(code) => LayerScope::Region(code),
                Err(e) => return Err(at(&region.referenced, e.to_string()).into()),
            },
            (_, _, Some(agency)) => LayerScope::Agency(agency.value.clone()),
            _ => unreachable!("one scope is set"),
        };

        let time_zone = time_zone_of(file, &raw, &mut problems);

        let weekend = raw.weekend.as_ref().map(|days| {
            let mut w = [false; 7];
            for d in days {
                w[d.index()] = true;
            }
            w
        });
        if weekend.is_some_and(|w| w.iter().all(|off| *off)) {
            problems.push(Problem::file(file, "`weekend` leaves no working day in the week"));
        }

        let working_hours = working_hours_of(file, &raw, &mut problems);

        let (years, days) = dated_days(file, &raw, &scope, &mut problems);
        let mut seen = BTreeMap::new();
        for d in &days {
            if let Some(prev) = seen.insert(d.date, &d.name) {
                problems.push(Problem::file(file, format!("{} is listed twice (`{prev}` and `{}`)", d.date, d.name)));
            }
        }
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(Self { scope, file: file.to_owned(), time_zone, weekend, working_hours, years, days })
    }

    /// A short name for provenance: `national`, `region 51`, `agency pln`.
    pub fn label(&self) -> String {
        match &self.scope {
            LayerScope::National => "national".into(),
            LayerScope::Region(r) => format!("region {r}"),
            LayerScope::Agency(a) => format!("agency {a}"),
        }
    }
}

fn time_zone_of(file: &str, raw: &CalendarFile, problems: &mut Vec<Problem>) -> Option<Tz> {
    let tz = raw.time_zone.as_ref()?;
    match tz.value.parse::<Tz>() {
        Ok(tz) => Some(tz),
        Err(_) => {
            problems.push(Problem::at(file, &tz.referenced, format!("unknown time zone `{}`", tz.value)));
            None
        }
    }
}

fn working_hours_of(file: &str, raw: &CalendarFile, problems: &mut Vec<Problem>) -> [Option<(u32, u32)>; 7] {
    let at = |loc: &serde_saphyr::Location, message: String| Problem::at(file, loc, message);
    let mut working_hours = [None; 7];
    for (day, span) in &raw.working_hours {
        match parse_hours(&span.value) {
            Some(h) => working_hours[day.index()] = Some(h),
            None => problems.push(at(
                &span.referenced,
                format!("working hours `{}` are not `HH:MM-HH:MM` with opening before closing", span.value),
            )),
        }
    }
    working_hours
}

/// The layer's dated entries: the national calendar's `years` (public holidays and cuti bersama, each
/// under its own year), then `days_off` and `working_days`; and the years covered.
fn dated_days(
    file: &str,
    raw: &CalendarFile,
    scope: &LayerScope,
    problems: &mut Vec<Problem>,
) -> (Option<(i32, i32)>, Vec<LayerDay>) {
    let at = |loc: &serde_saphyr::Location, message: String| Problem::at(file, loc, message);
    let mut days = Vec::new();
    let mut years = None;
    if !raw.years.is_empty() {
        if *scope != LayerScope::National {
            problems.push(Problem::file(file, "only the national calendar (`country:`) lists `years`"));
        }
        let first = *raw.years.keys().next().expect("not empty");
        let last = *raw.years.keys().last().expect("not empty");
        // In i64: the keys may be any i32 (the range itself is checked where the calendar is compiled).
        if i64::from(last) - i64::from(first) + 1 != raw.years.len() as i64 {
            problems.push(Problem::file(file, "`years` must be consecutive"));
        }
        years = Some((first, last));
        for (year, y) in &raw.years {
            for (entries, kind) in [(&y.public, DayKind::NationalHoliday), (&y.cuti_bersama, DayKind::CutiBersama)] {
                for e in entries {
                    if chrono::Datelike::year(&e.date.value) != *year {
                        problems.push(at(&e.date.referenced, format!("{} is listed under year {year}", e.date.value)));
                    }
                    days.push(LayerDay { date: e.date.value, kind, name: e.name.clone(), provisional: e.provisional });
                }
            }
        }
    } else if *scope == LayerScope::National {
        problems.push(Problem::file(file, "the national calendar lists the `years` it covers"));
    }
    for (entries, kind) in [(&raw.days_off, DayKind::DayOff), (&raw.working_days, DayKind::ExtraWorkingDay)] {
        for e in entries {
            days.push(LayerDay { date: e.date.value, kind, name: e.name.clone(), provisional: e.provisional });
        }
    }
    (years, days)
}

fn parse_hours(s: &str) -> Option<(u32, u32)> {
    let (open, close) = s.split_once('-')?;
    let hm = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        let (h, m): (u32, u32) = (h.parse().ok()?, m.parse().ok()?);
        (h <= 24 && m < 60 && h * 60 + m <= 24 * 60).then_some((h * 60 + m) * 60)
    };
    let (open, close) = (hm(open)?, hm(close)?);
    (open < close).then_some((open, close))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_parse_and_reject() {
        assert_eq!(parse_hours("07:30-16:00"), Some((27_000, 57_600)));
        assert_eq!(parse_hours("16:00-07:30"), None);
        assert_eq!(parse_hours("7-16"), None);
        assert_eq!(parse_hours("07:30-25:00"), None);
    }

    #[test]
    fn a_layer_names_one_scope() {
        let e = CalendarLayer::from_yaml("calendars/x.yaml", "region: \"51\"\nagency: pln\n").unwrap_err();
        assert!(e.to_string().contains("exactly one of"), "{e}");
    }

    #[test]
    fn unknown_fields_are_errors_with_a_location() {
        let e =
            CalendarLayer::from_yaml("calendars/x.yaml", "region: \"51\"\ndays_of:\n  - {date: 2026-06-17, name: G}\n")
                .unwrap_err();
        let s = e.to_string();
        assert!(s.starts_with("calendars/x.yaml:2:"), "{s}");
        assert!(s.contains("days_of"), "{s}");
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = CalendarLayer::from_yaml("calendars/x.yaml", "region: \"51\"\nregion: \"52\"\n").unwrap_err();
        assert!(e.to_string().starts_with("calendars/x.yaml:2:"), "{e}");
    }

    #[test]
    fn a_date_under_the_wrong_year_is_named() {
        let text = "country: ID\nyears:\n  2026:\n    public:\n      - {date: 2027-01-01, name: New Year}\n";
        let e = CalendarLayer::from_yaml("calendars/id.yaml", text).unwrap_err();
        assert_eq!(e.to_string(), "calendars/id.yaml:5:16: 2027-01-01 is listed under year 2026");
    }
}
