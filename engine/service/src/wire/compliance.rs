//! `GET /v1/reports/compliance` on the wire (docs/reports.md): the report as JSON, and the same rows as
//! CSV ([`csv`], the one rendering of a report as a table, for the API and later the web pages).

use aduan_core::report::{Figures, Report, Row, Zone, Zones};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What the zones grade, said in every report.
pub const ZONE_NOTE: &str = "Complaint-handling measures from this engine's cases only; not the Ombudsman's \
compliance assessment (penilaian kepatuhan), which weighs more than complaints.";

/// How a report is answered (`format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ReportFormat {
    /// `application/json`: [`ComplianceReport`].
    #[default]
    Json,
    /// `text/csv`: one line per row and the total ([`csv`]).
    Csv,
}

/// A zone (`hijau` green, `kuning` yellow, `merah` red).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ZoneName {
    /// Green: `on_time_share` at or above `zones.hijau`.
    Hijau,
    /// Yellow: at or above `zones.kuning`, below `zones.hijau`.
    Kuning,
    /// Red: below `zones.kuning`.
    Merah,
}

impl ZoneName {
    /// The name on the wire (and in the CSV).
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneName::Hijau => "hijau",
            ZoneName::Kuning => "kuning",
            ZoneName::Merah => "merah",
        }
    }
}

impl From<Zone> for ZoneName {
    fn from(z: Zone) -> Self {
        match z {
            Zone::Hijau => ZoneName::Hijau,
            Zone::Kuning => ZoneName::Kuning,
            Zone::Merah => ZoneName::Merah,
        }
    }
}

/// The zones' thresholds the report was graded with (the pack's `reports.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ZoneThresholds {
    /// The lowest `on_time_share` that is green.
    pub hijau: f64,
    /// The lowest `on_time_share` that is yellow; below it is red.
    pub kuning: f64,
    /// Rows with fewer settled cases get no zone.
    pub min_cases: u64,
    /// What the zones grade: complaint handling, not the Ombudsman's compliance assessment.
    pub note: String,
}

impl From<&Zones> for ZoneThresholds {
    fn from(z: &Zones) -> Self {
        Self { hijau: z.hijau, kuning: z.kuning, min_cases: z.min_cases, note: ZONE_NOTE.to_owned() }
    }
}

/// The figures of one row (docs/reports.md#figures).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceFigures {
    /// Cases received in the month.
    pub received: u64,
    /// Of them, dispatched (`verify`).
    pub dispatched: u64,
    /// Dispatched before the `verify` deadline.
    pub dispatched_within_deadline: u64,
    /// Followed up (`respond`, `request_info` or `resolve`).
    pub followed_up: u64,
    /// First followed up before the `respond` deadline in force then.
    pub followed_up_within_deadline: u64,
    /// Resolved at least once.
    pub completed: u64,
    /// First resolved before the `complete` deadline.
    pub completed_within_deadline: u64,
    /// Open now, with a running clock past its deadline.
    pub overdue: u64,
    /// Escalated at least once.
    pub escalated: u64,
    /// Completed cases the reporter rated.
    pub rated: u64,
    /// `rated / completed`; null without completed cases.
    pub rating_share: Option<f64>,
    /// Median working days from the first dispatch to the first follow-up; null without follow-ups.
    pub median_first_response_working_days: Option<f64>,
    /// Cases settled for the zone: completed, or overdue now.
    pub settled: u64,
    /// The zone's measure: settled cases completed within deadline and not overdue now, over `settled`;
    /// null when nothing is settled.
    pub on_time_share: Option<f64>,
    /// The zone of `on_time_share`; null when the pack sets no zones or fewer than `min_cases` are settled.
    pub zone: Option<ZoneName>,
}

impl From<&Figures> for ComplianceFigures {
    fn from(f: &Figures) -> Self {
        Self {
            received: f.received,
            dispatched: f.dispatched,
            dispatched_within_deadline: f.dispatched_within_deadline,
            followed_up: f.followed_up,
            followed_up_within_deadline: f.followed_up_within_deadline,
            completed: f.completed,
            completed_within_deadline: f.completed_within_deadline,
            overdue: f.overdue,
            escalated: f.escalated,
            rated: f.rated,
            rating_share: f.rating_share,
            median_first_response_working_days: f.median_first_response_working_days,
            settled: f.settled,
            on_time_share: f.on_time_share,
            zone: f.zone.map(ZoneName::from),
        }
    }
}

/// One row: an agency's own cases, or the cases of an agency directly below and its subtree.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceRow {
    /// Agency id.
    pub agency: String,
    /// Its name in the directory.
    pub name: String,
    /// `own`: the cases the agency received itself (a government also its queue awaiting dispatch);
    /// `subtree`: the cases it or any agency under it received.
    pub covers: String,
    /// The figures.
    pub figures: ComplianceFigures,
}

impl From<&Row> for ComplianceRow {
    fn from(r: &Row) -> Self {
        Self {
            agency: r.agency.clone(),
            name: r.name.clone(),
            covers: r.covers.as_str().to_owned(),
            figures: (&r.figures).into(),
        }
    }
}

/// `GET /v1/reports/compliance`: an agency's subtree in one month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ComplianceReport {
    /// The agency whose subtree it covers.
    pub agency: String,
    /// `YYYY-MM`.
    pub month: String,
    /// The time zone the month is counted in (the agency's calendar's).
    pub time_zone: String,
    /// The month's first instant.
    pub from: DateTime<Utc>,
    /// The next month's first instant (exclusive).
    pub to: DateTime<Utc>,
    /// When the report was made: `overdue` is judged then.
    pub as_of: DateTime<Utc>,
    /// The thresholds of the zones; null when the pack has no `reports.yaml` (no row has a zone).
    pub zones: Option<ZoneThresholds>,
    /// The agency's own row first, then each agency directly below it, by id.
    pub rows: Vec<ComplianceRow>,
    /// Every case of the report, each once.
    pub total: ComplianceFigures,
}

impl ComplianceReport {
    /// The wire form of `report`, counted in `time_zone` over `[from, to)` as of `as_of`.
    pub fn new(
        report: &Report,
        zones: Option<&Zones>,
        time_zone: String,
        bounds: (DateTime<Utc>, DateTime<Utc>),
        as_of: DateTime<Utc>,
    ) -> Self {
        Self {
            agency: report.agency.clone(),
            month: report.month.to_string(),
            time_zone,
            from: bounds.0,
            to: bounds.1,
            as_of,
            zones: zones.map(ZoneThresholds::from),
            rows: report.rows.iter().map(ComplianceRow::from).collect(),
            total: (&report.total).into(),
        }
    }
}

/// The CSV header: the row's columns, then the figures in [`ComplianceFigures`]' order.
const COLUMNS: [&str; 18] = [
    "agency",
    "name",
    "covers",
    "received",
    "dispatched",
    "dispatched_within_deadline",
    "followed_up",
    "followed_up_within_deadline",
    "completed",
    "completed_within_deadline",
    "overdue",
    "escalated",
    "rated",
    "rating_share",
    "median_first_response_working_days",
    "settled",
    "on_time_share",
    "zone",
];

/// The report as CSV (RFC 4180, the `csv` crate's quoting): a header, one line per row, then the total
/// (`covers` = `total`, under the report's agency). An absent share or median is an empty field.
pub fn csv(report: &ComplianceReport) -> String {
    let mut w = ::csv::Writer::from_writer(Vec::new());
    let mut lines = vec![COLUMNS.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>()];
    for r in &report.rows {
        lines.push(line(&r.agency, &r.name, &r.covers, &r.figures));
    }
    let name = report.rows.first().map_or("", |r| r.name.as_str());
    lines.push(line(&report.agency, name, "total", &report.total));
    for l in lines {
        // Writing to a Vec cannot fail.
        let _ = w.write_record(&l);
    }
    String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
}

fn line(agency: &str, name: &str, covers: &str, f: &ComplianceFigures) -> Vec<String> {
    let opt = |v: Option<f64>| v.map(|v| v.to_string()).unwrap_or_default();
    let mut l = vec![agency.to_owned(), name.to_owned(), covers.to_owned()];
    l.extend(
        [
            f.received,
            f.dispatched,
            f.dispatched_within_deadline,
            f.followed_up,
            f.followed_up_within_deadline,
            f.completed,
            f.completed_within_deadline,
            f.overdue,
            f.escalated,
            f.rated,
        ]
        .map(|n| n.to_string()),
    );
    l.push(opt(f.rating_share));
    l.push(opt(f.median_first_response_working_days));
    l.push(f.settled.to_string());
    l.push(opt(f.on_time_share));
    l.push(f.zone.map(ZoneName::as_str).unwrap_or_default().to_owned());
    l
}
