//! The month a compliance report covers (`YYYY-MM`), and its bounds in a time zone.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;
use std::str::FromStr;

/// A calendar month, `YYYY-MM` (years 1970 to 9999).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    year: i32,
    month: u32,
}

/// Why a string is not a month.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a month: expected YYYY-MM, a year from 1970 to 9999 and a month from 01 to 12")]
pub struct BadMonth(pub String);

impl Month {
    /// The month `month` (1–12) of `year`, if both are in range.
    pub fn new(year: i32, month: u32) -> Option<Self> {
        ((1970..=9999).contains(&year) && (1..=12).contains(&month)).then_some(Self { year, month })
    }

    /// The month after this one.
    fn next(self) -> (i32, u32) {
        if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        }
    }

    /// `[start, end)`: the instants of the month in time zone `tz`, from the local midnight that begins
    /// its first day to the one that begins the next month's.
    pub fn bounds(self, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
        let (ny, nm) = self.next();
        (local_midnight(tz, self.year, self.month), local_midnight(tz, ny, nm))
    }
}

/// The local midnight that begins day 1 of `month` in `tz`, as an instant. Indonesia keeps no daylight
/// saving time; where a zone skips that midnight, the earliest instant of the day is taken.
fn local_midnight(tz: Tz, year: i32, month: u32) -> DateTime<Utc> {
    let day = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

impl FromStr for Month {
    type Err = BadMonth;

    fn from_str(s: &str) -> Result<Self, BadMonth> {
        let bad = || BadMonth(s.chars().take(40).collect());
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        let digits = |p: &str, n: usize| p.len() == n && p.bytes().all(|b| b.is_ascii_digit());
        if !digits(y, 4) || !digits(m, 2) {
            return Err(bad());
        }
        Month::new(y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?).ok_or_else(bad)
    }
}

impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_yyyy_mm() {
        assert_eq!("2026-03".parse::<Month>().unwrap().to_string(), "2026-03");
        for bad in ["2026-3", "2026-13", "2026-00", "26-03", "2026/03", "0000-01", "2026-03-01", "", "२०२६-०३"]
        {
            assert!(bad.parse::<Month>().is_err(), "{bad}");
        }
    }

    #[test]
    fn bounds_are_local_midnights() {
        let m: Month = "2026-12".parse().unwrap();
        let (from, to) = m.bounds(chrono_tz::Asia::Jakarta);
        assert_eq!(from.to_rfc3339(), "2026-11-30T17:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-12-31T17:00:00+00:00");
        let (from, _) = m.bounds(chrono_tz::Asia::Jayapura);
        assert_eq!(from.to_rfc3339(), "2026-11-30T15:00:00+00:00");
    }
}
