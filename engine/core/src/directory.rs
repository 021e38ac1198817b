//! The agency directory: one tree rooted at `kemenpanrb` whose children are the provinces and the other
//! national bodies; kab/kota under their province; units (OPD: dinas, badan) under their government.
//!
//! Agency ids follow docs/http.md#agency-ids: a government is its Kemendagri code (`35`, `35.78`), a unit is
//! `{code}/{slug}` (`35.78/dinas-pu`), a national body is a slug (`pln`). The pack lists governments
//! and national bodies; units are instantiated from `unit_types` under every government at their levels.

use crate::domain::Tier;
use crate::problem::{parse_yaml, PackError, Problem};
use crate::region::RegionCode;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

mod regions;
pub use regions::RegionStatus;

/// The national admin at the root of the tree.
pub const ROOT: &str = "kemenpanrb";
/// The Ombudsman: the top of every escalation ladder.
pub const OMBUDSMAN: &str = "ombudsman";

/// The region an agency id names by its shape: the Kemendagri code before any `/{slug}`
/// (`35.78/dinas-pu` → `35.78`, `35` → `35`); a national body's slug (`pln`) names none. Prefer
/// [`Directory::region_of`], which asks the directory first.
pub fn region_in_id(agency: &str) -> Option<RegionCode> {
    RegionCode::parse(agency.split('/').next().unwrap_or(agency)).ok()
}

/// Where an agency sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// A national body (kemenpanrb, a ministry, a state company).
    National,
    /// A province government.
    Province,
    /// A kabupaten or kota government.
    Kabkota,
    /// A unit (OPD) of a province or kab/kota government.
    Unit,
}

impl Level {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::National => "national",
            Level::Province => "province",
            Level::Kabkota => "kabkota",
            Level::Unit => "unit",
        }
    }
}

/// One agency of the directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agency {
    /// Agency id.
    pub id: String,
    /// Official name.
    pub name: String,
    /// Where it sits.
    pub level: Level,
    /// Its parent in the tree (`None` for kemenpanrb).
    pub parent: Option<String>,
    /// Its region (governments and their units); `None` for national bodies.
    pub region: Option<RegionCode>,
    /// The categories it handles.
    pub categories: Vec<String>,
}

impl Agency {
    /// The tier that sets its escalated `respond` budget.
    pub fn tier(&self) -> Tier {
        match (self.level, &self.region) {
            (Level::National, _) => Tier::National,
            (Level::Province, _) => Tier::Province,
            (Level::Kabkota, _) => Tier::Kabkota,
            (Level::Unit, Some(r)) if r.kabkota().is_some() => Tier::Kabkota,
            (Level::Unit, _) => Tier::Province,
        }
    }
}

/// Who handles a category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handler {
    /// The unit of this type under the lowest government that has it (a regional matter).
    Unit(String),
    /// Always this national body (a vertical matter).
    National(String),
}

/// One complaint category.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Category {
    /// Id (`infrastruktur`).
    pub id: String,
    /// Indonesian display name.
    pub name: String,
    /// A short description (English in the national pack; empty when the pack gives none).
    pub description: String,
    /// Who handles it.
    pub handler: Handler,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GovernmentsFile {
    governments: Vec<GovernmentEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GovernmentEntry {
    id: String,
    name: String,
    level: Level,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitsFile {
    unit_types: Vec<UnitType>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UnitType {
    slug: String,
    name: Option<String>,
    name_province: Option<String>,
    name_kabkota: Option<String>,
    levels: Vec<Level>,
    categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalFile {
    national_bodies: Vec<NationalEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NationalEntry {
    id: String,
    name: String,
    #[serde(default)]
    root: bool,
    categories: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoriesFile {
    categories: Vec<CategoryEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CategoryEntry {
    id: String,
    name: String,
    #[serde(default)]
    description: String,
    unit: Option<String>,
    national: Option<String>,
}

/// The directory files of a pack, as read.
#[derive(Debug, Default)]
pub struct DirectorySources<'a> {
    /// `directory/governments.yaml`.
    pub governments: Option<&'a str>,
    /// `directory/units.yaml`.
    pub units: Option<&'a str>,
    /// `directory/national.yaml`.
    pub national: Option<&'a str>,
    /// `categories.yaml`.
    pub categories: Option<&'a str>,
    /// `directory/superseded.yaml`.
    pub superseded: Option<&'a str>,
}

/// The agency tree and the category list of a pack.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    agencies: HashMap<String, Agency>,
    categories: BTreeMap<String, Category>,
    /// Superseded kab/kota code → today's.
    superseded: HashMap<String, String>,
}

const GOV_FILE: &str = "directory/governments.yaml";
const NATIONAL_FILE: &str = "directory/national.yaml";
const CATEGORIES_FILE: &str = "categories.yaml";

/// Parses one directory file, adding its problems to `problems` when it does not parse.
fn parse_or_report<T: serde::de::DeserializeOwned>(file: &str, text: &str, problems: &mut Vec<Problem>) -> Option<T> {
    parse_yaml(file, text).map_err(|e| problems.extend(e.0)).ok()
}

fn check_unit_types(units: &[UnitType], problems: &mut Vec<Problem>) {
    for u in units {
        if !is_slug(&u.slug) {
            problems.push(Problem::file("directory/units.yaml", format!("`{}` is not a slug", u.slug)));
        }
        if u.name.is_none() && (u.name_province.is_none() || u.name_kabkota.is_none()) {
            problems.push(Problem::file(
                "directory/units.yaml",
                format!("unit type {} needs `name` (or both level names)", u.slug),
            ));
        }
    }
}

fn is_slug(s: &str) -> bool {
    let mut b = s.bytes();
    b.next().is_some_and(|c| c.is_ascii_lowercase())
        && b.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

impl Directory {
    /// Builds and validates the directory. A pack without directory files gets an empty directory
    /// (every complaint then routes to kemenpanrb).
    pub fn build(src: &DirectorySources<'_>) -> Result<Self, PackError> {
        let mut problems = Vec::new();
        let mut dir = Directory::default();
        let units: Vec<UnitType> = src.units.map_or_else(Vec::new, |t| {
            parse_or_report::<UnitsFile>("directory/units.yaml", t, &mut problems)
                .map_or_else(Vec::new, |f| f.unit_types)
        });
        if let Some(f) = src.national.and_then(|t| parse_or_report::<NationalFile>(NATIONAL_FILE, t, &mut problems)) {
            dir.add_national_bodies(f.national_bodies, &mut problems);
        }
        if let Some(f) = src.governments.and_then(|t| parse_or_report::<GovernmentsFile>(GOV_FILE, t, &mut problems)) {
            for g in f.governments {
                dir.add_government(g, &units, &mut problems);
            }
        }
        if let Some(f) = src.superseded.and_then(|t| parse_or_report(regions::SUPERSEDED_FILE, t, &mut problems)) {
            dir.add_superseded(f, &mut problems);
        }
        check_unit_types(&units, &mut problems);
        if let Some(f) =
            src.categories.and_then(|t| parse_or_report::<CategoriesFile>(CATEGORIES_FILE, t, &mut problems))
        {
            for c in f.categories {
                dir.add_category(c, &units, &mut problems);
            }
        }
        dir.check_tree(&mut problems);
        problems.sort_by_key(|p| p.to_string());
        problems.dedup();
        if problems.is_empty() {
            Ok(dir)
        } else {
            Err(PackError(problems))
        }
    }

    fn add_national_bodies(&mut self, bodies: Vec<NationalEntry>, problems: &mut Vec<Problem>) {
        for b in bodies {
            if !is_slug(&b.id) {
                problems.push(Problem::file(NATIONAL_FILE, format!("`{}` is not a slug", b.id)));
            }
            let parent = (!b.root).then(|| ROOT.to_owned());
            let body = Agency {
                id: b.id,
                name: b.name,
                level: Level::National,
                parent,
                region: None,
                categories: b.categories,
            };
            self.insert(body, problems);
        }
    }

    /// A province or kab/kota government, and the units of its level under it.
    fn add_government(&mut self, g: GovernmentEntry, units: &[UnitType], problems: &mut Vec<Problem>) {
        let region = match RegionCode::parse(&g.id) {
            Ok(r) => r,
            Err(e) => return problems.push(Problem::file(GOV_FILE, e.to_string())),
        };
        let parent = match (g.level, region.kabkota()) {
            (Level::Province, None) => ROOT.to_owned(),
            (Level::Kabkota, Some(_)) if g.id.len() == 5 => region.province().to_owned(),
            _ => return problems.push(Problem::file(GOV_FILE, format!("{} cannot be a {}", g.id, g.level.as_str()))),
        };
        for u in units.iter().filter(|u| u.levels.contains(&g.level)) {
            let name = match g.level {
                Level::Province => u.name_province.as_ref().or(u.name.as_ref()),
                _ => u.name_kabkota.as_ref().or(u.name.as_ref()),
            };
            let unit = Agency {
                id: format!("{}/{}", g.id, u.slug),
                name: format!(
                    "{} {}",
                    name.map_or(u.slug.as_str(), |n| n.as_str()),
                    g.name.trim_start_matches("Pemerintah ")
                ),
                level: Level::Unit,
                parent: Some(g.id.clone()),
                region: Some(region.clone()),
                categories: u.categories.clone(),
            };
            self.insert(unit, problems);
        }
        let gov = Agency {
            id: g.id,
            name: g.name,
            level: g.level,
            parent: Some(parent),
            region: Some(region),
            categories: Vec::new(),
        };
        self.insert(gov, problems);
    }

    fn add_category(&mut self, c: CategoryEntry, units: &[UnitType], problems: &mut Vec<Problem>) {
        let handler = match (c.unit, c.national) {
            (Some(u), None) => {
                if !units.iter().any(|t| t.slug == u) {
                    problems.push(Problem::file(CATEGORIES_FILE, format!("category {}: no unit type `{u}`", c.id)));
                }
                Handler::Unit(u)
            }
            (None, Some(n)) => {
                if !self.agencies.get(&n).is_some_and(|a| a.level == Level::National) {
                    problems.push(Problem::file(CATEGORIES_FILE, format!("category {}: no national body `{n}`", c.id)));
                }
                Handler::National(n)
            }
            _ => {
                let message = format!("category {}: give exactly one of `unit` or `national`", c.id);
                return problems.push(Problem::file(CATEGORIES_FILE, message));
            }
        };
        let category = Category { id: c.id.clone(), name: c.name, description: c.description, handler };
        if self.categories.insert(c.id.clone(), category).is_some() {
            problems.push(Problem::file(CATEGORIES_FILE, format!("category {} is listed twice", c.id)));
        }
    }

    /// The tree has its root, every parent is in it, and every agency's categories exist.
    fn check_tree(&self, problems: &mut Vec<Problem>) {
        if !self.agencies.is_empty() && !self.agencies.contains_key(ROOT) {
            problems.push(Problem::file(NATIONAL_FILE, format!("the directory has no `{ROOT}` (root: true)")));
        }
        for a in self.agencies.values() {
            if let Some(p) = &a.parent {
                if !self.agencies.contains_key(p) {
                    problems.push(Problem::file(GOV_FILE, format!("{}: parent {p} is not in the directory", a.id)));
                }
            }
            for c in &a.categories {
                if !self.categories.is_empty() && !self.categories.contains_key(c) {
                    problems.push(Problem::file("directory/", format!("{} handles unknown category `{c}`", a.id)));
                }
            }
        }
    }

    fn insert(&mut self, a: Agency, problems: &mut Vec<Problem>) {
        if let Some(prev) = self.agencies.insert(a.id.clone(), a) {
            problems.push(Problem::file("directory/", format!("agency {} is listed twice", prev.id)));
        }
    }

    /// Number of agencies.
    pub fn len(&self) -> usize {
        self.agencies.len()
    }

    /// The directory has no agencies.
    pub fn is_empty(&self) -> bool {
        self.agencies.is_empty()
    }

    /// The province and kab/kota governments, by id.
    pub fn governments(&self) -> Vec<&Agency> {
        let mut out: Vec<&Agency> =
            self.agencies.values().filter(|a| matches!(a.level, Level::Province | Level::Kabkota)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// Every agency, in no particular order.
    pub fn agencies(&self) -> impl Iterator<Item = &Agency> {
        self.agencies.values()
    }

    /// One agency by id.
    pub fn agency(&self, id: &str) -> Option<&Agency> {
        self.agencies.get(id)
    }

    /// The region of the government an agency belongs to: a government's own code (`35.78`), a unit's
    /// government's (`35.78/dinas-pu` → `35.78`): the directory's entry, else what the id names
    /// ([`region_in_id`]), so a national body (`pln`) has none.
    pub fn region_of(&self, agency: &str) -> Option<RegionCode> {
        self.agencies.get(agency).and_then(|a| a.region.clone()).or_else(|| region_in_id(agency))
    }

    /// The region a regional government governs (`35.78` → `35.78`), or `None` for a unit, a national
    /// body or an unknown id. Cases not yet dispatched belong to the government of their region, not to
    /// its units (docs/http.md#list, #statistics).
    pub fn governed_region(&self, agency: &str) -> Option<RegionCode> {
        let a = self.agencies.get(agency)?;
        matches!(a.level, Level::Province | Level::Kabkota).then(|| a.region.clone()).flatten()
    }

    /// One category by id.
    pub fn category(&self, id: &str) -> Option<&Category> {
        self.categories.get(id)
    }

    /// Every category, by id.
    pub fn categories(&self) -> impl Iterator<Item = &Category> {
        self.categories.values()
    }

    /// An agency's parent id.
    pub fn parent(&self, id: &str) -> Option<&str> {
        self.agencies.get(id)?.parent.as_deref()
    }

    /// The lowest government the directory knows for a region: its kab/kota (kecamatan and desa codes
    /// belong to their kab/kota), else its province.
    pub fn government_of(&self, region: &RegionCode) -> Option<&str> {
        region
            .kabkota()
            .and_then(|k| self.agencies.get(k))
            .or_else(|| self.agencies.get(region.province()))
            .map(|a| a.id.as_str())
    }

    /// The unit under `government` that handles `category`, if that government has one.
    pub fn unit_for(&self, government: &str, category: &str) -> Option<&str> {
        let Handler::Unit(slug) = &self.categories.get(category)?.handler else { return None };
        self.agencies.get(&format!("{government}/{slug}")).map(|a| a.id.as_str())
    }

    /// The agencies directly below `id`, by id (a compliance report's rows).
    pub fn children(&self, id: &str) -> Vec<&Agency> {
        let mut out: Vec<&Agency> = self.agencies.values().filter(|a| a.parent.as_deref() == Some(id)).collect();
        out.sort_by(|a, b| a.id.cmp(&b.id));
        out
    }

    /// The agency and its ancestors, itself first, ending at the root.
    pub fn ancestors<'a>(&'a self, id: &'a str) -> Vec<&'a str> {
        let mut out = vec![id];
        let mut cur = id;
        while let Some(p) = self.parent(cur) {
            if out.contains(&p) {
                break;
            }
            out.push(p);
            cur = p;
        }
        out
    }

    /// Whether `id` is `root` or lies under it.
    pub fn in_subtree(&self, root: &str, id: &str) -> bool {
        self.ancestors(id).contains(&root)
    }

    /// The lowest common ancestor of two agencies in the tree (kemenpanrb when they share nothing else).
    pub fn lowest_common_ancestor(&self, a: &str, b: &str) -> String {
        let up_b = self.ancestors(b);
        self.ancestors(a).into_iter().find(|x| up_b.contains(x)).unwrap_or(ROOT).to_owned()
    }

    /// The built-in escalation ladder: unit → its government → province → kemenpanrb → Ombudsman
    /// referral; any other national body → kemenpanrb. `None` means an Ombudsman referral.
    pub fn default_escalation_target(&self, holder: &str) -> Option<String> {
        if holder == ROOT || holder == OMBUDSMAN {
            return None;
        }
        match self.agencies.get(holder) {
            Some(a) => a.parent.clone().or_else(|| Some(ROOT.to_owned())),
            // Unknown holder: climb by id shape (a unit to its government, a kab/kota to its province).
            None => match holder.split_once('/') {
                Some((gov, _)) => Some(gov.to_owned()),
                None => match RegionCode::parse(holder) {
                    Ok(r) if r.kabkota().is_some() => Some(r.province().to_owned()),
                    _ => Some(ROOT.to_owned()),
                },
            },
        }
    }

    /// The built-in routing (what `rules/route.rhai` of the national pack also does): a vertical
    /// category goes to its national body; a regional one to the unit of the lowest government of the
    /// region that has it; an unknown region to its province; otherwise kemenpanrb.
    pub fn default_route(&self, region: Option<&RegionCode>, category: Option<&str>) -> (String, String) {
        let cat = category.and_then(|c| self.categories.get(c));
        if let Some(Category { handler: Handler::National(body), id, .. }) = cat {
            return (body.clone(), format!("vertical category {id}: {body}"));
        }
        let Some(region) = region else {
            return (ROOT.to_owned(), "no region: the national admin dispatches".into());
        };
        let Some(gov) = self.government_of(region) else {
            return (
                ROOT.to_owned(),
                format!("region {region} is not in the directory: the national admin dispatches"),
            );
        };
        let mut g = Some(gov);
        while let (Some(gov_id), Some(c)) = (g, cat) {
            if let Some(unit) = self.unit_for(gov_id, &c.id) {
                return (unit.to_owned(), format!("category {} in {region}: {unit}", c.id));
            }
            g = self.parent(gov_id).filter(|p| *p != ROOT);
        }
        (
            gov.to_owned(),
            format!("no unit for category {} in {region}: its government {gov}", category.unwrap_or("(none)")),
        )
    }
}
