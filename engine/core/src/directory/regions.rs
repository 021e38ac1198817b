//! What a complaint's region code is to the directory: a region it knows, a superseded code it maps to
//! today's (`directory/superseded.yaml`: Papua's 2022 renumbering), or a well-formed code in no table
//! (docs/workflow.md#region-codes).

use super::{Directory, Level};
use crate::problem::Problem;
use crate::region::RegionCode;
use serde::Deserialize;

pub(super) const SUPERSEDED_FILE: &str = "directory/superseded.yaml";

/// `directory/superseded.yaml` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct SupersededFile {
    superseded: Vec<SupersededEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SupersededEntry {
    code: String,
    now: String,
    name: String,
}

/// A complaint's region as the directory sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegionStatus {
    /// A region of today's tables (or the directory is empty and knows no regions).
    Known,
    /// A superseded code: the complaint counts as filed in `now`.
    Superseded {
        /// Today's code (a kecamatan or desa code keeps its own digits under the new kab/kota).
        now: RegionCode,
    },
    /// Well-formed, but in no table: the admin dispatches it.
    Unknown,
}

impl Directory {
    /// Reads the superseded codes: each maps a code that is no government of today to a kab/kota
    /// government of today named `name`.
    pub(super) fn add_superseded(&mut self, f: SupersededFile, problems: &mut Vec<Problem>) {
        for e in f.superseded {
            let mut bad = |m: String| problems.push(Problem::file(SUPERSEDED_FILE, format!("`{}`: {m}", e.code)));
            if RegionCode::parse(&e.code).map(|c| c.kabkota().is_none() || c.as_str().len() != 5).unwrap_or(true) {
                bad("not a kab/kota code (PP.KK)".into());
            } else if self.agencies.contains_key(&e.code) {
                bad("is a region of today (governments.yaml)".into());
            }
            match self.agencies.get(&e.now) {
                Some(a) if a.level == Level::Kabkota && a.name.ends_with(&e.name) => {}
                Some(a) => bad(format!("`{}` is {}, not a kab/kota named {}", e.now, a.name, e.name)),
                None => bad(format!("`{}` is not a government of governments.yaml", e.now)),
            }
            self.superseded.insert(e.code, e.now);
        }
    }

    /// What `region` is to this directory. A code whose kab/kota (or, for a province code, whose
    /// province) is a government of today is known; otherwise a superseded kab/kota maps to today's.
    pub fn region_status(&self, region: &RegionCode) -> RegionStatus {
        if self.is_empty() {
            return RegionStatus::Known;
        }
        let own = region.kabkota().unwrap_or(region.province());
        if self.agencies.contains_key(own) {
            return RegionStatus::Known;
        }
        let mapped = self.superseded.get(own).and_then(|now| {
            let rest = &region.as_str()[own.len()..];
            RegionCode::parse(&format!("{now}{rest}")).ok()
        });
        mapped.map_or(RegionStatus::Unknown, |now| RegionStatus::Superseded { now })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectorySources;

    fn dir(superseded: &str) -> Result<Directory, crate::problem::PackError> {
        let governments = r#"governments:
  - {id: "91", name: "Pemerintah Provinsi Papua", level: province}
  - {id: "91.71", name: "Pemerintah Kota Jayapura", level: kabkota}
  - {id: "94", name: "Pemerintah Provinsi Papua Tengah", level: province}
"#;
        let national = "national_bodies:\n  - {id: kemenpanrb, name: \"KemenPANRB\", root: true, categories: []}\n";
        Directory::build(&DirectorySources {
            governments: Some(governments),
            national: Some(national),
            superseded: Some(superseded),
            ..DirectorySources::default()
        })
    }

    fn code(s: &str) -> RegionCode {
        RegionCode::parse(s).unwrap()
    }

    #[test]
    fn a_superseded_code_maps_to_today_and_an_unknown_one_is_unknown() {
        let d = dir(r#"superseded: [{code: "94.71", now: "91.71", name: "Kota Jayapura"}]"#).unwrap();
        assert_eq!(d.region_status(&code("91.71")), RegionStatus::Known);
        assert_eq!(d.region_status(&code("94")), RegionStatus::Known);
        assert_eq!(d.region_status(&code("94.71")), RegionStatus::Superseded { now: code("91.71") });
        assert_eq!(d.region_status(&code("94.71.02")), RegionStatus::Superseded { now: code("91.71.02") });
        assert_eq!(d.region_status(&code("94.99")), RegionStatus::Unknown);
        assert_eq!(d.region_status(&code("99")), RegionStatus::Unknown);
    }

    #[test]
    fn a_crosswalk_entry_must_name_todays_government() {
        let e = dir(r#"superseded: [{code: "94.71", now: "91.71", name: "Kabupaten Jayapura"}]"#).unwrap_err();
        assert!(e.to_string().contains("not a kab/kota named Kabupaten Jayapura"), "{e}");
        let e = dir(r#"superseded: [{code: "91.71", now: "91.71", name: "Kota Jayapura"}]"#).unwrap_err();
        assert!(e.to_string().contains("is a region of today"), "{e}");
        let e = dir(r#"superseded: [{code: "94", now: "91.71", name: "Kota Jayapura"}]"#).unwrap_err();
        assert!(e.to_string().contains("not a kab/kota code"), "{e}");
    }
}
