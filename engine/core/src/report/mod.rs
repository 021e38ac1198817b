//! Compliance reports (docs/reports.md): per agency and month, how the cases it received were handled
//! against their deadlines, one row per unit of the agency's subtree and a total.
//!
//! Pure: the store reads each case's row and events ([`CaseRecord`]), [`facts`] turns one into what the
//! report counts ([`CaseFacts`]), and [`compile`] adds them up into rows with their zone.
//!
//! Rows: the agency itself (`covers: own`: the cases it received itself, and for a regional government
//! its queue of cases not yet dispatched) and each agency directly below it in the directory
//! (`covers: subtree`: the cases it or any agency under it received), so a provincial supervisor reads
//! its kab/kota and its own units on one page and asks for a kab/kota's report to see that kab/kota's
//! units. Each case counts once, in the row of the agency that received it ([`CaseFacts::received_by`]).

mod facts;
mod month;
mod zones;

pub use facts::{facts, first_response_days, CaseFacts, CaseRecord, FollowUp};
pub use month::{BadMonth, Month};
pub use zones::{Zone, Zones, REPORTS_FILE};

use crate::directory::Directory;

/// What a row covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covers {
    /// The cases the agency received itself (and a government's queue awaiting dispatch).
    Own,
    /// The cases the agency or any agency under it received.
    Subtree,
}

impl Covers {
    /// The name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Covers::Own => "own",
            Covers::Subtree => "subtree",
        }
    }
}

/// The figures of one row (docs/reports.md#figures).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Figures {
    /// Cases received in the month.
    pub received: u64,
    /// Of them, dispatched (`verify`).
    pub dispatched: u64,
    /// Dispatched before `verify`'s deadline.
    pub dispatched_within_deadline: u64,
    /// Followed up at least once.
    pub followed_up: u64,
    /// First followed up before the `respond` deadline in force then.
    pub followed_up_within_deadline: u64,
    /// Resolved at least once.
    pub completed: u64,
    /// First resolved before `complete`'s deadline.
    pub completed_within_deadline: u64,
    /// Open now with a clock past its deadline.
    pub overdue: u64,
    /// Escalated at least once.
    pub escalated: u64,
    /// Completed cases the reporter rated.
    pub rated: u64,
    /// `rated / completed`; `None` without completed cases.
    pub rating_share: Option<f64>,
    /// Median of the first response times in working days; `None` without follow-ups.
    pub median_first_response_working_days: Option<f64>,
    /// Cases settled for the zone: completed, or overdue now.
    pub settled: u64,
    /// The zone's measure: settled cases completed within deadline and not overdue now, over
    /// `settled`; `None` when nothing is settled.
    pub on_time_share: Option<f64>,
    /// The zone of `on_time_share`, when the pack sets zones and enough cases are settled.
    pub zone: Option<Zone>,
}

/// One row of the report.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// Agency id.
    pub agency: String,
    /// Its name in the directory (the id when the directory has none).
    pub name: String,
    /// Its own cases, or its whole subtree's.
    pub covers: Covers,
    /// The figures.
    pub figures: Figures,
}

/// A compliance report: the rows and the total of the agency's subtree (each case once).
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// The agency whose subtree it covers.
    pub agency: String,
    /// The month.
    pub month: Month,
    /// The agency's own row first, then each agency directly below it, by id.
    pub rows: Vec<Row>,
    /// Every case of the report.
    pub total: Figures,
}

/// Figures being added up.
#[derive(Debug, Default)]
struct Tally {
    figures: Figures,
    on_time: u64,
    first_responses: Vec<i64>,
}

impl Tally {
    fn add(&mut self, c: &CaseFacts) {
        let f = &mut self.figures;
        let n = |b: bool| u64::from(b);
        f.received += 1;
        f.dispatched += n(c.dispatched.is_some());
        f.dispatched_within_deadline += n(c.dispatched == Some(true));
        f.followed_up += n(c.followed_up.is_some());
        f.followed_up_within_deadline += n(c.followed_up.is_some_and(|u| u.within_deadline));
        f.completed += n(c.completed.is_some());
        f.completed_within_deadline += n(c.completed == Some(true));
        f.overdue += n(c.overdue);
        f.escalated += n(c.escalated);
        f.rated += n(c.rated && c.completed.is_some());
        f.settled += n(c.completed.is_some() || c.overdue);
        self.on_time += n(c.completed == Some(true) && !c.overdue);
        self.first_responses.extend(c.followed_up.map(|u| u.working_days));
    }

    fn figures(mut self, zones: Option<&Zones>) -> Figures {
        let mut f = self.figures;
        f.rating_share = share(f.rated, f.completed);
        f.median_first_response_working_days = median(&mut self.first_responses);
        f.on_time_share = share(self.on_time, f.settled);
        f.zone = zones.and_then(|z| z.zone_of(f.on_time_share, f.settled));
        f
    }
}

fn share(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The median of `values` (the mean of the middle two for an even count); `None` when empty.
pub fn median(values: &mut [i64]) -> Option<f64> {
    values.sort_unstable();
    let n = values.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(values[n / 2] as f64),
        _ => Some((values[n / 2 - 1] + values[n / 2]) as f64 / 2.0),
    }
}

/// The row of `agency`'s report a case received by `received_by` counts in: `agency` itself, or the
/// agency directly below it on the way down to `received_by` (an id the directory does not place
/// under `agency` counts in the agency's own row).
fn row_of<'d>(dir: &'d Directory, agency: &str, received_by: &'d str) -> Option<&'d str> {
    let up = dir.ancestors(received_by);
    let i = up.iter().position(|a| *a == agency)?;
    i.checked_sub(1).map(|j| up[j])
}

/// Adds up `cases` (those the agency's subtree received in `month`) into `agency`'s report: its own row,
/// one row for each agency directly below it in `dir` (with nothing received, a row of zeros), and the
/// total. `zones` grades each row; none (a pack without `reports.yaml`) leaves every zone out.
pub fn compile(dir: &Directory, agency: &str, month: Month, cases: &[CaseFacts], zones: Option<&Zones>) -> Report {
    let children = dir.children(agency);
    let mut own = Tally::default();
    let mut below: Vec<Tally> = children.iter().map(|_| Tally::default()).collect();
    let mut total = Tally::default();
    for c in cases {
        total.add(c);
        match row_of(dir, agency, &c.received_by).and_then(|r| children.iter().position(|a| a.id == r)) {
            Some(i) => below[i].add(c),
            None => own.add(c),
        }
    }
    let name = |id: &str| dir.agency(id).map_or_else(|| id.to_owned(), |a| a.name.clone());
    let mut rows =
        vec![Row { agency: agency.to_owned(), name: name(agency), covers: Covers::Own, figures: own.figures(zones) }];
    rows.extend(children.iter().zip(below).map(|(a, t)| Row {
        agency: a.id.clone(),
        name: a.name.clone(),
        covers: Covers::Subtree,
        figures: t.figures(zones),
    }));
    Report { agency: agency.to_owned(), month, rows, total: total.figures(zones) }
}
