//! Working-day calendars: is a date a working day, add N working days or hours to an instant, count the
//! working days between two instants (docs/deadlines.md#counting).
//!
//! A calendar is a chain of layers (national → province → kab/kota → agency) compiled once per pack into
//! a table over the covered years: one cumulative count of working days per date, and the date of the
//! k-th working day. Adding and counting are O(1) lookups that allocate nothing and return a small `Copy`
//! result; the explanation (which dates were skipped and why) comes from the separate `explain_*` calls,
//! which walk the same dates. Past the covered years only weekends are skipped and results are flagged
//! provisional: a calendar never stops a complaint.

mod set;
mod source;

pub use set::CalendarSet;
pub use source::{CalendarLayer, LayerDay, LayerScope};

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Seconds in a day.
const DAY: i64 = 86_400;
/// `NaiveDate::num_days_from_ce` of 1970-01-01: epoch days are our date index.
const EPOCH_CE: i32 = 719_163;

/// The longest span, in working days, that a budget or a policy may ask the calendar to count: about a
/// year and a half. Packs are checked against it (an SLA of four billion days is a typo, not a policy);
/// the arithmetic below saturates rather than panics past it.
pub const MAX_WORKING_DAYS: u32 = 366;

/// The longest budget in working hours: [`MAX_WORKING_DAYS`] of eight hours.
pub const MAX_WORKING_HOURS: u32 = MAX_WORKING_DAYS * 8;

/// The years a national calendar may cover: a pack can be written for these, and no more than
/// [`MAX_COVERED_YEARS`] of them at once (each covered day costs memory in every compiled calendar).
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;

/// At most this many consecutive years in one national calendar.
pub const MAX_COVERED_YEARS: i32 = 50;

/// A day of the week, written `mon` … `sun` in pack files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Weekday {
    /// Monday.
    Mon,
    /// Tuesday.
    Tue,
    /// Wednesday.
    Wed,
    /// Thursday.
    Thu,
    /// Friday.
    Fri,
    /// Saturday.
    Sat,
    /// Sunday.
    Sun,
}

impl Weekday {
    /// Monday is 0.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What a dated calendar entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// Libur nasional.
    NationalHoliday,
    /// Cuti bersama: collective leave, a day off for government offices.
    CutiBersama,
    /// A region's or agency's own day off.
    DayOff,
    /// A date that is a working day although the week says otherwise (Saturday service).
    ExtraWorkingDay,
}

/// The result of adding a budget to an instant: small and `Copy`, computed without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// The local date of the last working day (or of the instant the hours run out).
    pub due_date: NaiveDate,
    /// The exclusive bound: a clock is breached when now ≥ `due_at`.
    pub due_at: DateTime<Utc>,
    /// The span reached past the covered years or skipped a provisional date.
    pub provisional: bool,
}

/// The result of counting working days between two instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    /// Working days d with localdate(from) < d ≤ localdate(to); negative when `to` is earlier.
    pub days: i64,
    /// The span reached outside the covered years or crossed a provisional date.
    pub provisional: bool,
}

/// Whether one date is a working day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayStatus {
    /// It is a working day.
    pub working: bool,
    /// The answer rests on an estimate (a provisional entry, or a date outside the covered years).
    pub provisional: bool,
}

/// A date a computation skipped, and why (for `policy explain` and decision traces).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SkippedDay {
    /// The local date.
    pub date: NaiveDate,
    /// Why it is not a working day, naming the layer that says so.
    pub reason: String,
}

/// One reason a date is what it is, from one layer.
#[derive(Debug, Clone)]
struct DayNote {
    kind: DayKind,
    name: String,
    layer: String,
    provisional: bool,
}

/// Default working hours (Perpres 21/2023 practice): Mon–Thu 07:30–16:00, Fri 07:30–16:30; a weekend
/// day made working by a layer keeps 07:30–16:00 unless the layer sets its own.
const DEFAULT_HOURS: [(u32, u32); 7] = [
    (27_000, 57_600),
    (27_000, 57_600),
    (27_000, 57_600),
    (27_000, 57_600),
    (27_000, 59_400),
    (27_000, 57_600),
    (27_000, 57_600),
];

/// A compiled calendar: a layer chain in one time zone, ready for O(1) arithmetic.
#[derive(Debug, Clone)]
pub struct Calendar {
    label: String,
    tz: Tz,
    /// The zone's UTC offset in seconds when it is fixed over the dates we handle (all of Indonesia's
    /// zones are); conversions then need no tz lookup.
    offset: Option<i32>,
    /// Working weekdays, Monday first.
    weekly: [bool; 7],
    per_week: i64,
    hours: [(u32, u32); 7],
    /// Epoch day of the first and last covered date.
    first: i32,
    last: i32,
    /// `cum[i]`: working days in [first, first + i].
    cum: Vec<u32>,
    /// `nth[k]`: offset from `first` of the (k+1)-th working day.
    nth: Vec<u32>,
    /// `prov[i]`: provisional days off in [first, first + i].
    prov: Vec<u32>,
    notes: BTreeMap<i32, Vec<DayNote>>,
}

/// Why a chain of layers does not compile.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CalendarError {
    /// The first layer must be the national one, which names the covered years.
    #[error("a calendar chain starts with the national calendar")]
    NoNationalLayer,
    /// The national calendar's years are outside [`YEARS`] or span more than [`MAX_COVERED_YEARS`].
    #[error("the national calendar covers {first}–{last}: its years must lie in {}–{} and span at most {MAX_COVERED_YEARS}", YEARS.start(), YEARS.end())]
    YearsOutOfRange {
        /// First year listed.
        first: i32,
        /// Last year listed.
        last: i32,
    },
    /// A layer dates something outside the years the national calendar covers.
    #[error("{file}: {date} lies outside the years the national calendar covers ({first}–{last})")]
    OutsideCoveredYears {
        /// The layer's file.
        file: String,
        /// The offending date.
        date: NaiveDate,
        /// First covered year.
        first: i32,
        /// Last covered year.
        last: i32,
    },
}

fn epoch_day(date: NaiveDate) -> i32 {
    date.num_days_from_ce() - EPOCH_CE
}

/// The date of an epoch day, saturating at chrono's range (only reachable by arithmetic far past
/// [`MAX_WORKING_DAYS`]).
fn date_of(day: i32) -> NaiveDate {
    let fallback = if day < 0 { NaiveDate::MIN } else { NaiveDate::MAX };
    day.checked_add(EPOCH_CE).and_then(NaiveDate::from_num_days_from_ce_opt).unwrap_or(fallback)
}

/// Monday is 0; 1970-01-01 was a Thursday.
fn weekday_of(day: i32) -> usize {
    (day + 3).rem_euclid(7) as usize
}

const WEEKDAY_NAMES: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];

impl Calendar {
    /// Compiles a chain of layers, most general first (national, province, kab/kota, agency), in `tz`
    /// (the last layer that names a zone overrides it).
    pub fn compile(layers: &[&CalendarLayer], tz: Tz) -> Result<Self, CalendarError> {
        let national =
            layers.first().filter(|l| l.scope == LayerScope::National).ok_or(CalendarError::NoNationalLayer)?;
        let (y0, y1) = national.years.ok_or(CalendarError::NoNationalLayer)?;
        let year_span = y1.checked_sub(y0).map(|d| d + 1).unwrap_or(i32::MAX);
        if !YEARS.contains(&y0) || !YEARS.contains(&y1) || !(1..=MAX_COVERED_YEARS).contains(&year_span) {
            return Err(CalendarError::YearsOutOfRange { first: y0, last: y1 });
        }
        let (Some(jan1), Some(dec31)) = (NaiveDate::from_ymd_opt(y0, 1, 1), NaiveDate::from_ymd_opt(y1, 12, 31)) else {
            return Err(CalendarError::YearsOutOfRange { first: y0, last: y1 });
        };
        let (first, last) = (epoch_day(jan1), epoch_day(dec31));

        let mut tz = tz;
        let mut weekend = [false, false, false, false, false, true, true];
        let mut hours = DEFAULT_HOURS;
        for layer in layers {
            if let Some(z) = layer.time_zone {
                tz = z;
            }
            if let Some(w) = layer.weekend {
                weekend = w;
            }
            for (i, h) in layer.working_hours.iter().enumerate() {
                if let Some(h) = h {
                    hours[i] = *h;
                }
            }
        }
        let weekly = weekend.map(|off| !off);

        // Per-date state: the weekly rule, then each layer in order (a later layer wins).
        let n = (last - first + 1) as usize;
        let mut working: Vec<bool> = (first..=last).map(|d| weekly[weekday_of(d)]).collect();
        let mut provisional = vec![false; n];
        let mut notes: BTreeMap<i32, Vec<DayNote>> = BTreeMap::new();
        for layer in layers {
            for d in &layer.days {
                let day = epoch_day(d.date);
                if day < first || day > last {
                    return Err(CalendarError::OutsideCoveredYears {
                        file: layer.file.clone(),
                        date: d.date,
                        first: y0,
                        last: y1,
                    });
                }
                let i = (day - first) as usize;
                let off = d.kind != DayKind::ExtraWorkingDay;
                working[i] = !off;
                provisional[i] = off && (d.provisional || provisional[i]);
                notes.entry(day).or_default().push(DayNote {
                    kind: d.kind,
                    name: d.name.clone(),
                    layer: layer.label(),
                    provisional: d.provisional,
                });
            }
        }

        let mut cum = Vec::with_capacity(n);
        let mut prov = Vec::with_capacity(n);
        let mut nth = Vec::new();
        let (mut c, mut p) = (0u32, 0u32);
        for i in 0..n {
            if working[i] {
                c += 1;
                nth.push(i as u32);
            }
            if !working[i] && provisional[i] {
                p += 1;
            }
            cum.push(c);
            prov.push(p);
        }

        let label = layers.iter().map(|l| l.label()).collect::<Vec<_>>().join(" + ");
        let offset_at =
            |day: i32| tz.offset_from_utc_datetime(&date_of(day).and_time(NaiveTime::MIN)).fix().local_minus_utc();
        let o = offset_at(first);
        let offset = (offset_at(first - 36_500) == o && offset_at(last + 36_500) == o).then_some(o);
        let per_week = weekly.iter().filter(|w| **w).count() as i64;
        Ok(Self { label, tz, offset, weekly, per_week, hours, first, last, cum, nth, prov, notes })
    }

    /// The chain this calendar was built from, e.g. `national + region 51`.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The time zone days are counted in.
    pub fn time_zone(&self) -> Tz {
        self.tz
    }

    /// The first and last year the calendar's holidays cover.
    pub fn covered_years(&self) -> (i32, i32) {
        (date_of(self.first).year(), date_of(self.last).year())
    }

    /// The local date of an instant, as an epoch day, and the seconds since local midnight.
    fn local(&self, t: DateTime<Utc>) -> (i32, u32) {
        let secs = match self.offset {
            Some(o) => t.timestamp() + i64::from(o),
            None => t.with_timezone(&self.tz).naive_local().and_utc().timestamp(),
        };
        (secs.div_euclid(DAY) as i32, secs.rem_euclid(DAY) as u32)
    }

    /// The instant of a local date and time of day.
    fn instant(&self, day: i32, secs: u32) -> DateTime<Utc> {
        match self.offset {
            Some(o) => {
                let at = i64::from(day) * DAY + i64::from(secs) - i64::from(o);
                DateTime::from_timestamp(at, 0).unwrap_or(if at < 0 {
                    DateTime::<Utc>::MIN_UTC
                } else {
                    DateTime::<Utc>::MAX_UTC
                })
            }
            None => {
                let midnight = date_of(day).and_time(NaiveTime::MIN);
                let naive = midnight.checked_add_signed(chrono::Duration::seconds(i64::from(secs))).unwrap_or(midnight);
                self.tz
                    .from_local_datetime(&naive)
                    .earliest()
                    .unwrap_or_else(|| self.tz.from_utc_datetime(&naive))
                    .with_timezone(&Utc)
            }
        }
    }

    /// The local date of an instant in this calendar's zone.
    pub fn local_date(&self, t: DateTime<Utc>) -> NaiveDate {
        date_of(self.local(t).0)
    }

    fn is_working(&self, day: i32) -> bool {
        if day < self.first || day > self.last {
            return self.weekly[weekday_of(day)];
        }
        let i = (day - self.first) as usize;
        self.cum[i] > if i == 0 { 0 } else { self.cum[i - 1] }
    }

    /// Working days in (a, b] by the weekly rule alone.
    fn weekly_count(&self, a: i32, b: i32) -> i64 {
        if b <= a {
            return 0;
        }
        let len = i64::from(b - a);
        let mut count = len / 7 * self.per_week;
        for d in (b - (len % 7) as i32 + 1)..=b {
            count += i64::from(self.weekly[weekday_of(d)]);
        }
        count
    }

    /// The m-th (m ≥ 1) working day after day `a` by the weekly rule alone.
    fn weekly_forward(&self, a: i32, m: i64) -> i32 {
        let weeks = (m - 1) / self.per_week;
        let mut rem = m - weeks * self.per_week;
        let mut d = i32::try_from(i64::from(a) + weeks * 7).unwrap_or(i32::MAX - 7);
        loop {
            d += 1;
            if self.weekly[weekday_of(d)] {
                rem -= 1;
                if rem == 0 {
                    return d;
                }
            }
        }
    }

    /// W(d): working days in [first, d] (negative before the covered years), continuous everywhere.
    fn running(&self, day: i32) -> i64 {
        if day < self.first {
            -self.weekly_count(day, self.first - 1)
        } else if day <= self.last {
            i64::from(self.cum[(day - self.first) as usize])
        } else {
            i64::from(*self.cum.last().expect("non-empty")) + self.weekly_count(self.last, day)
        }
    }

    /// The smallest day d > `after` with W(d) = W(after) + n (n ≥ 1).
    fn nth_after(&self, after: i32, n: u32) -> i32 {
        let k = self.running(after) + i64::from(n);
        let total = i64::from(*self.cum.last().expect("non-empty"));
        if k <= 0 {
            self.weekly_forward(after, i64::from(n))
        } else if k <= total {
            self.first + self.nth[(k - 1) as usize] as i32
        } else {
            self.weekly_forward(self.last, k - total)
        }
    }

    /// Whether the span (after, through] leaves the covered years or crosses a provisional day off.
    fn span_provisional(&self, after: i32, through: i32) -> bool {
        if after < self.first - 1 || through > self.last {
            return true;
        }
        if through <= after {
            return false;
        }
        let at = |d: i32| if d < self.first { 0 } else { self.prov[(d - self.first) as usize] };
        at(through) > at(after)
    }

    /// Whether `date` is a working day here.
    pub fn day_status(&self, date: NaiveDate) -> DayStatus {
        let day = epoch_day(date);
        DayStatus { working: self.is_working(day), provisional: self.span_provisional(day - 1, day) }
    }

    /// The deadline of an N-working-day clock started at `start`: day 1 is the first working day after
    /// the start's local date, `due_date` is day N, `due_at` the local midnight that ends it.
    pub fn add_working_days(&self, start: DateTime<Utc>, n: u32) -> Deadline {
        let (l, _) = self.local(start);
        let d = if n == 0 { l } else { self.nth_after(l, n) };
        Deadline { due_date: date_of(d), due_at: self.instant(d + 1, 0), provisional: self.span_provisional(l, d) }
    }

    /// The local date of the n-th working day after `date` (n ≥ 1), with its opening instant.
    pub fn opening_of_working_day(&self, start: DateTime<Utc>, n: u32) -> DateTime<Utc> {
        let (l, _) = self.local(start);
        let d = self.nth_after(l, n.max(1));
        self.instant(d, self.hours[weekday_of(d)].0)
    }

    /// count(from, to): working days d with localdate(from) < d ≤ localdate(to).
    pub fn count_working_days(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> Count {
        let (a, b) = (self.local(from).0, self.local(to).0);
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        Count { days: self.running(b) - self.running(a), provisional: self.span_provisional(lo, hi) }
    }

    /// The deadline of a budget of `secs` working seconds from `start`: only time inside working hours
    /// on working days counts, from `start` if it is inside them, else from the next opening.
    pub fn add_working_seconds(&self, start: DateTime<Utc>, secs: u64) -> Deadline {
        let (l, t) = self.local(start);
        let mut remaining = secs;
        let (mut day, mut from) = (l, t);
        loop {
            if self.is_working(day) {
                let (open, close) = self.hours[weekday_of(day)];
                let begin = from.max(open);
                if begin < close {
                    let avail = u64::from(close - begin);
                    if remaining <= avail {
                        let end = begin + remaining as u32;
                        return Deadline {
                            due_date: date_of(day),
                            due_at: self.instant(day, end),
                            provisional: self.span_provisional(l - 1, day),
                        };
                    }
                    remaining -= avail;
                }
            }
            day += 1;
            from = 0;
        }
    }

    /// Whether `t` falls inside working hours on a working day.
    pub fn within_working_hours(&self, t: DateTime<Utc>) -> bool {
        let (day, secs) = self.local(t);
        let (open, close) = self.hours[weekday_of(day)];
        self.is_working(day) && secs >= open && secs < close
    }

    /// `t` itself when inside working hours, else the next opening.
    pub fn next_opening(&self, t: DateTime<Utc>) -> DateTime<Utc> {
        if self.within_working_hours(t) {
            return t;
        }
        let (mut day, secs) = self.local(t);
        if !(self.is_working(day) && secs < self.hours[weekday_of(day)].0) {
            day = self.nth_after(day, 1);
        }
        self.instant(day, self.hours[weekday_of(day)].0)
    }

    /// Working seconds inside working hours between two instants (0 when `to` ≤ `from`).
    pub fn working_seconds_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
        if to <= from {
            return 0;
        }
        let ((a, ta), (b, tb)) = (self.local(from), self.local(to));
        let mut total = 0u64;
        for day in a..=b {
            if !self.is_working(day) {
                continue;
            }
            let (open, close) = self.hours[weekday_of(day)];
            let lo = if day == a { ta.max(open) } else { open };
            let hi = if day == b { tb.min(close) } else { close };
            total += u64::from(hi.saturating_sub(lo));
        }
        total
    }

    /// The dates in (after, through] that are not working days, each with its reason.
    pub fn explain_span(&self, after: NaiveDate, through: NaiveDate) -> Vec<SkippedDay> {
        (epoch_day(after) + 1..=epoch_day(through))
            .filter(|d| !self.is_working(*d))
            .map(|d| SkippedDay { date: date_of(d), reason: self.reason(d) })
            .collect()
    }

    /// The skipped dates of `add_working_days(start, n)`.
    pub fn explain_add_working_days(&self, start: DateTime<Utc>, n: u32) -> Vec<SkippedDay> {
        let due = self.add_working_days(start, n);
        self.explain_span(self.local_date(start), due.due_date)
    }

    /// Why a date is not a working day (or what makes it one), naming the deciding layers.
    pub fn reason_for(&self, date: NaiveDate) -> String {
        self.reason(epoch_day(date))
    }

    fn reason(&self, day: i32) -> String {
        let mut parts: Vec<String> = self
            .notes
            .get(&day)
            .into_iter()
            .flatten()
            .map(|n| {
                let what = match n.kind {
                    DayKind::NationalHoliday => "libur nasional",
                    DayKind::CutiBersama => "cuti bersama",
                    DayKind::DayOff => "day off",
                    DayKind::ExtraWorkingDay => "extra working day",
                };
                let prov = if n.provisional { ", provisional" } else { "" };
                format!("{what}: {} ({}{prov})", n.name, n.layer)
            })
            .collect();
        if !self.weekly[weekday_of(day)] {
            let past = if day < self.first || day > self.last { ", outside the covered years" } else { "" };
            parts.push(format!("weekend ({}{past})", WEEKDAY_NAMES[weekday_of(day)]));
        }
        if parts.is_empty() {
            "working day".into()
        } else {
            parts.join("; ")
        }
    }
}

#[cfg(test)]
mod tests;
