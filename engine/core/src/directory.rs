//! The agency directory: one tree rooted at `kemenpanrb` whose children are the provinces and the other
//! national bodies; kab/kota under their province; units (OPD: dinas, badan) under their government.
//!
//! Agency ids follow CONTRACT.md §7: a government is its Kemendagri code (`35`, `35.78`), a unit is
//! `{code}/{slug}` (`35.78/dinas-pu`), a national body is a slug (`pln`). The pack lists governments
//! and national bodies; units are instantiated from `unit_types` under every government at their levels.

use crate::domain::Tier;
use crate::problem::{parse_yaml, PackError, Problem};
use crate::region::RegionCode;
use serde::Deserialize;
use std::collections::{BTreeMap, HashMap};

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
    #[allow(dead_code)]
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
}

/// The agency tree and the category list of a pack.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    agencies: HashMap<String, Agency>,
    categories: BTreeMap<String, Category>,
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
        let gov_file = "directory/governments.yaml";
        let units: Vec<UnitType> = match src.units {
            Some(t) => parse_yaml::<UnitsFile>("directory/units.yaml", t).map(|f| f.unit_types).unwrap_or_else(|e| {
                problems.extend(e.0);
                Vec::new()
            }),
            None => Vec::new(),
        };
        if let Some(text) = src.national {
            match parse_yaml::<NationalFile>("directory/national.yaml", text) {
                Ok(f) => {
                    for b in f.national_bodies {
                        if !is_slug(&b.id) {
                            problems
                                .push(Problem::file("directory/national.yaml", format!("`{}` is not a slug", b.id)));
                        }
                        let parent = (!b.root).then(|| ROOT.to_owned());
                        dir.insert(
                            Agency {
                                id: b.id,
                                name: b.name,
                                level: Level::National,
                                parent,
                                region: None,
                                categories: b.categories,
                            },
                            &mut problems,
                        );
                    }
                }
                Err(e) => problems.extend(e.0),
            }
        }
        if let Some(text) = src.governments {
            match parse_yaml::<GovernmentsFile>(gov_file, text) {
                Ok(f) => {
                    for g in f.governments {
                        let region = match RegionCode::parse(&g.id) {
                            Ok(r) => r,
                            Err(e) => {
                                problems.push(Problem::file(gov_file, e.to_string()));
                                continue;
                            }
                        };
                        let parent = match (g.level, region.kabkota()) {
                            (Level::Province, None) => ROOT.to_owned(),
                            (Level::Kabkota, Some(_)) if g.id.len() == 5 => region.province().to_owned(),
                            _ => {
                                problems.push(Problem::file(
                                    gov_file,
                                    format!("{} cannot be a {}", g.id, g.level.as_str()),
                                ));
                                continue;
                            }
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
                            dir.insert(unit, &mut problems);
                        }
                        let gov = Agency {
                            id: g.id,
                            name: g.name,
                            level: g.level,
                            parent: Some(parent),
                            region: Some(region),
                            categories: Vec::new(),
                        };
                        dir.insert(gov, &mut problems);
                    }
                }
                Err(e) => problems.extend(e.0),
            }
        }
        for u in &units {
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
        if let Some(text) = src.categories {
            match parse_yaml::<CategoriesFile>("categories.yaml", text) {
                Ok(f) => {
                    for c in f.categories {
                        let handler = match (c.unit, c.national) {
                            (Some(u), None) => {
                                if !units.iter().any(|t| t.slug == u) {
                                    problems.push(Problem::file(
                                        "categories.yaml",
                                        format!("category {}: no unit type `{u}`", c.id),
                                    ));
                                }
                                Handler::Unit(u)
                            }
                            (None, Some(n)) => {
                                if !dir.agencies.get(&n).is_some_and(|a| a.level == Level::National) {
                                    problems.push(Problem::file(
                                        "categories.yaml",
                                        format!("category {}: no national body `{n}`", c.id),
                                    ));
                                }
                                Handler::National(n)
                            }
                            _ => {
                                problems.push(Problem::file(
                                    "categories.yaml",
                                    format!("category {}: give exactly one of `unit` or `national`", c.id),
                                ));
                                continue;
                            }
                        };
                        if dir
                            .categories
                            .insert(c.id.clone(), Category { id: c.id.clone(), name: c.name, handler })
                            .is_some()
                        {
                            problems
                                .push(Problem::file("categories.yaml", format!("category {} is listed twice", c.id)));
                        }
                    }
                }
                Err(e) => problems.extend(e.0),
            }
        }
        if !dir.agencies.is_empty() && !dir.agencies.contains_key(ROOT) {
            problems
                .push(Problem::file("directory/national.yaml", format!("the directory has no `{ROOT}` (root: true)")));
        }
        for a in dir.agencies.values() {
            if let Some(p) = &a.parent {
                if !dir.agencies.contains_key(p) {
                    problems.push(Problem::file(gov_file, format!("{}: parent {p} is not in the directory", a.id)));
                }
            }
            for c in &a.categories {
                if !dir.categories.is_empty() && !dir.categories.contains_key(c) {
                    problems.push(Problem::file("directory/", format!("{} handles unknown category `{c}`", a.id)));
                }
            }
        }
        problems.sort_by_key(|p| p.to_string());
        problems.dedup();
        if problems.is_empty() {
            Ok(dir)
        } else {
            Err(PackError(problems))
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
