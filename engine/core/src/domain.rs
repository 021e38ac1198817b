//! Domain vocabulary shared by the whole core: report kinds, agency tiers.

use serde::{Deserialize, Serialize};

/// The kind of report a citizen files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Pengaduan: a complaint about a public service.
    Pengaduan,
    /// Aspirasi: a suggestion or aspiration.
    Aspirasi,
    /// Permintaan informasi: a request for public information.
    PermintaanInformasi,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 3] = [Kind::Pengaduan, Kind::Aspirasi, Kind::PermintaanInformasi];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Pengaduan => "pengaduan",
            Kind::Aspirasi => "aspirasi",
            Kind::PermintaanInformasi => "permintaan_informasi",
        }
    }
}

/// The tier of government an agency belongs to, which sets the escalated `respond` budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// A kabupaten or kota government, or one of its units.
    Kabkota,
    /// A province government, or one of its units.
    Province,
    /// A national body (kemenpanrb, a ministry, a state company).
    National,
}

impl Tier {
    /// The pack name.
    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Kabkota => "kabkota",
            Tier::Province => "province",
            Tier::National => "national",
        }
    }
}
