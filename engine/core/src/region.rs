//! Kemendagri region codes (`PP`, `PP.KK`, `PP.KK.CC`, `PP.KK.CC.DDDD`) and the time zone of each province.

use chrono_tz::Tz;
use std::fmt;

/// A well-formed Kemendagri region code: province, kab/kota (kabupaten/kota), kecamatan or desa.
///
/// Only the shape is checked here; whether the code exists is the directory's business, and a
/// well-formed code missing from the directory is still accepted (docs/http.md#region-codes).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RegionCode(String);

/// Why a string is not a region code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not a Kemendagri region code (expected PP, PP.KK, PP.KK.CC or PP.KK.CC.DDDD)")]
pub struct BadRegionCode(pub String);

impl RegionCode {
    /// Parses `^\d{2}(\.\d{2}(\.\d{2}(\.\d{4})?)?)?$`.
    pub fn parse(s: &str) -> Result<Self, BadRegionCode> {
        let parts: Vec<&str> = s.split('.').collect();
        let widths = [2usize, 2, 2, 4];
        let ok = !parts.is_empty()
            && parts.len() <= 4
            && parts.iter().zip(widths).all(|(p, w)| p.len() == w && p.bytes().all(|b| b.is_ascii_digit()));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadRegionCode(s.to_owned()))
        }
    }

    /// The code as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The province part (`35` of `35.78.01`).
    pub fn province(&self) -> &str {
        &self.0[..2]
    }

    /// The kab/kota part (`35.78` of `35.78.01`), if the code goes that deep.
    pub fn kabkota(&self) -> Option<&str> {
        (self.0.len() >= 5).then(|| &self.0[..5])
    }

    /// The time zone the province keeps, or `None` for a province code Indonesia does not use.
    pub fn time_zone(&self) -> Option<Tz> {
        province_time_zone(self.province())
    }
}

impl fmt::Display for RegionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every time zone a province keeps: WIB (Asia/Jakarta, Asia/Pontianak), WITA (Asia/Makassar) and WIT
/// (Asia/Jayapura). Jobs that run "in the region's time zone" (the morning digest) run once per zone.
pub const TIME_ZONES: [Tz; 4] = [Tz::Asia__Jakarta, Tz::Asia__Pontianak, Tz::Asia__Makassar, Tz::Asia__Jayapura];

/// The national calendar's zone (WIB), for a case whose region names no province.
pub const NATIONAL_TIME_ZONE: Tz = Tz::Asia__Jakarta;

/// The zone a case's times are shown in, from its region code as stored (`35.78`): its province's,
/// else [`NATIONAL_TIME_ZONE`].
pub fn time_zone_of_code(code: Option<&str>) -> Tz {
    code.and_then(|c| RegionCode::parse(c).ok()).and_then(|r| r.time_zone()).unwrap_or(NATIONAL_TIME_ZONE)
}

/// What Indonesians call a zone: `WIB` (Asia/Jakarta, Asia/Pontianak), `WITA` (Asia/Makassar), `WIT`
/// (Asia/Jayapura); any other zone by its tz name.
pub fn zone_abbreviation(tz: Tz) -> &'static str {
    match tz {
        Tz::Asia__Jakarta | Tz::Asia__Pontianak => "WIB",
        Tz::Asia__Makassar => "WITA",
        Tz::Asia__Jayapura => "WIT",
        other => other.name(),
    }
}

/// The time zone of a province by its two-digit code (docs/deadlines.md#calendar-of-a-clock).
///
/// Kalimantan Barat (61) and Kalimantan Tengah (62) keep Asia/Pontianak, which is WIB like
/// Asia/Jakarta but a zone of its own in the tz database.
pub fn province_time_zone(province: &str) -> Option<Tz> {
    let code: u8 = province.parse().ok()?;
    Some(match code {
        11..=19 | 21 | 31..=36 => Tz::Asia__Jakarta,
        61 | 62 => Tz::Asia__Pontianak,
        51..=53 | 63..=65 | 71..=76 => Tz::Asia__Makassar,
        81 | 82 | 91..=96 => Tz::Asia__Jayapura,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_level_and_rejects_the_rest() {
        for ok in ["35", "35.78", "35.78.01", "35.78.01.1001"] {
            assert_eq!(RegionCode::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "3", "357", "35.7", "35.78.", "35.78.01.100", "ab", "35-78", "35.78.01.1001.1"] {
            assert!(RegionCode::parse(bad).is_err(), "{bad:?} accepted");
        }
        let r = RegionCode::parse("35.78.01").unwrap();
        assert_eq!(r.province(), "35");
        assert_eq!(r.kabkota(), Some("35.78"));
        assert_eq!(RegionCode::parse("35").unwrap().kabkota(), None);
    }

    #[test]
    fn time_zones_follow_the_province() {
        let tz = |p: &str| province_time_zone(p);
        assert_eq!(tz("31"), Some(Tz::Asia__Jakarta));
        assert_eq!(tz("21"), Some(Tz::Asia__Jakarta));
        assert_eq!(tz("61"), Some(Tz::Asia__Pontianak));
        assert_eq!(tz("62"), Some(Tz::Asia__Pontianak));
        assert_eq!(tz("63"), Some(Tz::Asia__Makassar));
        assert_eq!(tz("51"), Some(Tz::Asia__Makassar));
        assert_eq!(tz("76"), Some(Tz::Asia__Makassar));
        assert_eq!(tz("81"), Some(Tz::Asia__Jayapura));
        assert_eq!(tz("96"), Some(Tz::Asia__Jayapura));
        assert_eq!(tz("20"), None);
        assert_eq!(tz("99"), None);
    }
}
