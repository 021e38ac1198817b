//! `reports.yaml`: the thresholds of the compliance report's zones (hijau, kuning, merah), and the zone
//! of a measure. The zones grade complaint handling only; they are not the Ombudsman's own compliance
//! assessment (penilaian kepatuhan), which weighs much more than complaints.

use crate::problem::{parse_yaml, PackError, Problem};
use serde::Deserialize;
use serde_saphyr::Spanned;

/// The pack file that sets the zones.
pub const REPORTS_FILE: &str = "reports.yaml";

/// A zone of the compliance report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Zone {
    /// Green: the measure is at or above `hijau`.
    Hijau,
    /// Yellow: at or above `kuning`, below `hijau`.
    Kuning,
    /// Red: below `kuning`.
    Merah,
}

/// The zones' thresholds, from `reports.yaml`: shares from 0 to 1 of the zone's measure
/// ([`super::Figures::on_time_share`]).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Zones {
    /// The lowest share that is green.
    pub hijau: f64,
    /// The lowest share that is yellow; below it is red.
    pub kuning: f64,
    /// A row is graded only when at least this many of its cases are settled (the measure's
    /// denominator); fewer leave it without a zone.
    pub min_cases: u64,
}

/// `reports.yaml` as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportsSpec {
    zones: ZonesSpec,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ZonesSpec {
    hijau: Spanned<f64>,
    kuning: Spanned<f64>,
    #[serde(default)]
    min_cases: Option<Spanned<u64>>,
}

impl Zones {
    /// Parses and checks `reports.yaml`: both thresholds are shares in [0, 1], `kuning` is not above
    /// `hijau`, and `min_cases` (default 1) is at least 1; each problem at its line and column.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, PackError> {
        let spec: ReportsSpec = parse_yaml(file, text)?;
        let z = spec.zones;
        let mut problems = Vec::new();
        for (name, v) in [("hijau", &z.hijau), ("kuning", &z.kuning)] {
            if !(0.0..=1.0).contains(&v.value) {
                problems.push(Problem::at(file, &v.referenced, format!("zones.{name}: a share from 0 to 1")));
            }
        }
        if z.kuning.value > z.hijau.value {
            problems.push(Problem::at(file, &z.kuning.referenced, "zones.kuning: above zones.hijau"));
        }
        if let Some(m) = z.min_cases.as_ref().filter(|m| m.value == 0) {
            problems.push(Problem::at(file, &m.referenced, "zones.min_cases: at least 1"));
        }
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(Self { hijau: z.hijau.value, kuning: z.kuning.value, min_cases: z.min_cases.map_or(1, |m| m.value) })
    }

    /// The zone of `share` (settled cases completed within deadline) over `settled` cases, or none when
    /// fewer than `min_cases` are settled.
    pub fn zone_of(&self, share: Option<f64>, settled: u64) -> Option<Zone> {
        let share = share.filter(|_| settled >= self.min_cases)?;
        Some(if share >= self.hijau {
            Zone::Hijau
        } else if share >= self.kuning {
            Zone::Kuning
        } else {
            Zone::Merah
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_grade_a_share() {
        let z = Zones::from_yaml(REPORTS_FILE, "zones: {hijau: 0.9, kuning: 0.7, min_cases: 2}\n").unwrap();
        assert_eq!(z.zone_of(Some(0.9), 2), Some(Zone::Hijau));
        assert_eq!(z.zone_of(Some(0.89), 2), Some(Zone::Kuning));
        assert_eq!(z.zone_of(Some(0.7), 5), Some(Zone::Kuning));
        assert_eq!(z.zone_of(Some(0.0), 5), Some(Zone::Merah));
        assert_eq!(z.zone_of(Some(1.0), 1), None, "fewer settled cases than min_cases");
        assert_eq!(z.zone_of(None, 0), None);
    }

    #[test]
    fn problems_name_line_and_column() {
        let text = "zones:\n  hijau: 0.6\n  kuning: 1.5\n  min_cases: 0\n";
        let err = Zones::from_yaml(REPORTS_FILE, text).unwrap_err().to_string();
        assert!(err.contains("reports.yaml:3:11: zones.kuning: a share from 0 to 1"), "{err}");
        assert!(err.contains("reports.yaml:3:11: zones.kuning: above zones.hijau"), "{err}");
        assert!(err.contains("reports.yaml:4:14: zones.min_cases: at least 1"), "{err}");
        let err = Zones::from_yaml(REPORTS_FILE, "zones: {hijau: 0.9, kuning: 0.7, merah: 0}\n").unwrap_err();
        assert!(err.to_string().starts_with("reports.yaml:1:"), "{err}");
        assert!(Zones::from_yaml(REPORTS_FILE, "zones: {hijau: 0.9}\n").is_err(), "kuning is required");
    }
}
