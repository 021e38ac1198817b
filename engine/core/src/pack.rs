//! Policy packs: a directory of YAML and rhai that policy authors edit, loaded into one immutable,
//! hashed snapshot (ARCHITECTURE.md invariant 5).
//!
//! The core never touches the filesystem (invariant 1): callers hand in the pack's files as
//! (relative path, bytes) pairs, and [`Pack::from_files`] validates them. Every problem is reported as
//! `file:line:col: message`, all of them at once, so an author fixes a pack in one pass.

use crate::calendar::{Calendar, CalendarLayer};
use crate::directory::{Directory, DirectorySources};
use crate::domain::Tier;
use crate::report::{Zones, REPORTS_FILE};
use crate::rules::Policies;
use crate::sla::{SlaLayer, SlaSet};
use crate::timer::CalendarRef;
use crate::workflow::Workflow;
use serde::Deserialize;
use serde_saphyr::Spanned;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

pub use crate::calendar::CalendarSet;
pub use crate::problem::{parse_yaml, PackError, Problem};

/// One file of a pack as the caller read it.
#[derive(Debug, Clone)]
pub struct PackFile {
    /// Path relative to the pack directory, with `/` separators.
    pub path: String,
    /// The exact bytes.
    pub bytes: Vec<u8>,
}

/// Whether a pack-relative path is one the engine loads (and so one the pack hash covers).
pub fn is_pack_file(path: &str) -> bool {
    let loaded_ext = path.ends_with(".yaml") || path.ends_with(".yml") || path.ends_with(".rhai");
    loaded_ext && !path.starts_with("tests/")
}

/// `pack.yaml`: the pack's name and description.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PackManifest {
    /// Short name, e.g. `lapor`.
    pub name: String,
    /// What the pack is for.
    #[serde(default)]
    pub description: String,
}

/// A loaded, validated policy pack: an immutable snapshot identified by its hash.
#[derive(Debug)]
pub struct Pack {
    /// Hex SHA-256 over the sorted (relative path, bytes) of the files the engine loads.
    pub hash: String,
    /// The same hash over the files deadlines depend on (calendars, SLAs, the directory): when it
    /// changes, open deadlines are recomputed.
    pub deadlines_hash: String,
    /// `pack.yaml`.
    pub manifest: PackManifest,
    /// The calendars, compiled.
    pub calendars: Arc<CalendarSet>,
    /// The SLA layers.
    pub slas: SlaSet,
    /// The agency tree and categories.
    pub directory: Arc<Directory>,
    /// States and actions.
    pub workflow: Workflow,
    /// The compiled rhai policies.
    pub policies: Policies,
    /// Worker schedules (job → cron expression), from `schedules.yaml`.
    pub schedules: Schedules,
    /// The compliance report's zones, from `reports.yaml`; `None` (no such file): reports carry no zone.
    pub zones: Option<Zones>,
}

/// `schedules.yaml`: cron expressions of the workers' jobs (the `cron` crate: seconds first). Each is
/// parsed when the pack loads, so `policy check` and `serve` refuse a pack with a bad schedule; days of
/// the week must be names, since in that crate 1 means Sunday.
#[derive(Debug, Clone, Default)]
pub struct Schedules {
    /// The deadline sweep, in UTC (default: [`Schedules::DEFAULT_SWEEP`]).
    pub sweep: Option<String>,
    /// The morning digest, evaluated in each of the four Indonesian time zones (default:
    /// [`Schedules::DEFAULT_DIGEST`]).
    pub digest: Option<String>,
}

/// `schedules.yaml` as written, with each value's location for problems.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SchedulesSpec {
    sweep: Option<Spanned<String>>,
    digest: Option<Spanned<String>>,
}

impl Schedules {
    /// The sweep's schedule when the pack sets none: every minute.
    pub const DEFAULT_SWEEP: &'static str = "0 * * * * *";
    /// The digest's schedule when the pack sets none: hourly from 08:00 to 11:00 local, Monday to
    /// Saturday. Several fires a morning reach agencies whose hours open later and survive a replica that
    /// was down at 08:00; the digest itself goes out once per agency and local date.
    pub const DEFAULT_DIGEST: &'static str = "0 0 8-11 * * Mon-Sat";

    /// The sweep's expression (the pack's, else the default).
    pub fn sweep_expr(&self) -> &str {
        self.sweep.as_deref().unwrap_or(Self::DEFAULT_SWEEP)
    }

    /// The digest's expression (the pack's, else the default).
    pub fn digest_expr(&self) -> &str {
        self.digest.as_deref().unwrap_or(Self::DEFAULT_DIGEST)
    }

    /// Parses one job's expression; the error names the job (`digest: …`) for a [`Problem`].
    pub fn parse(job: &str, expr: &str) -> Result<cron::Schedule, String> {
        let fields: Vec<&str> = expr.split_whitespace().collect();
        if !(6..=7).contains(&fields.len()) {
            return Err(format!("{job}: `{expr}` needs 6 or 7 fields (seconds first)"));
        }
        if fields[5].chars().any(|c| c.is_ascii_digit()) {
            return Err(format!("{job}: write days of the week as names (Mon-Fri), not numbers: `{expr}`"));
        }
        expr.parse::<cron::Schedule>().map_err(|e| format!("{job}: `{expr}` is not a cron expression ({e})"))
    }

    /// Parses and checks `schedules.yaml`, reporting each bad expression at its line and column.
    pub fn from_yaml(file: &str, text: &str) -> Result<Self, PackError> {
        let spec: SchedulesSpec = parse_yaml(file, text)?;
        let problems: Vec<Problem> = [("sweep", &spec.sweep), ("digest", &spec.digest)]
            .into_iter()
            .filter_map(|(job, expr)| {
                let expr = expr.as_ref()?;
                Self::parse(job, &expr.value).err().map(|m| Problem::at(file, &expr.referenced, m))
            })
            .collect();
        if !problems.is_empty() {
            return Err(PackError(problems));
        }
        Ok(Self { sweep: spec.sweep.map(|s| s.value), digest: spec.digest.map(|s| s.value) })
    }
}

/// [`pack_hash`] over the files that deadlines depend on: `calendars/`, `sla/`, `directory/`.
pub fn deadlines_hash(files: &[PackFile]) -> String {
    let dirs = ["calendars/", "sla/", "directory/"];
    let part: Vec<PackFile> = files.iter().filter(|f| dirs.iter().any(|d| f.path.starts_with(d))).cloned().collect();
    pack_hash(&part)
}

/// The pack hash: SHA-256 over, for each loaded file in path order, the path, a NUL, the length in
/// decimal, a NUL, and the bytes.
pub fn pack_hash(files: &[PackFile]) -> String {
    let mut sorted: Vec<&PackFile> = files.iter().filter(|f| is_pack_file(&f.path)).collect();
    sorted.sort_by(|a, b| a.path.cmp(&b.path));
    let mut h = Sha256::new();
    for f in sorted {
        h.update(f.path.as_bytes());
        h.update([0]);
        h.update(f.bytes.len().to_string().as_bytes());
        h.update([0]);
        h.update(&f.bytes);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl Pack {
    /// Validates a pack from its files. Files the engine does not load (README, licences, `tests/`) are
    /// ignored; a YAML file in a place the engine does not know is an error, since it is most likely a
    /// misplaced policy.
    pub fn from_files(files: &[PackFile]) -> Result<Self, PackError> {
        let mut problems = Vec::new();
        let Parts { manifest, layers, sla_layers, texts, rules } = Parts::read(files, &mut problems);
        let manifest = manifest.ok_or_else(|| Problem::file("pack.yaml", "missing: every pack has a pack.yaml"));
        let schedules = match texts.get("schedules.yaml") {
            Some(t) => Schedules::from_yaml("schedules.yaml", t),
            None => Ok(Schedules::default()),
        };
        if let Err(e) = &schedules {
            problems.extend(e.0.clone());
        }
        let zones = texts.get(REPORTS_FILE).map(|t| Zones::from_yaml(REPORTS_FILE, t)).transpose();
        if let Err(e) = &zones {
            problems.extend(e.0.clone());
        }
        let calendars = CalendarSet::build(layers).map(Arc::new);
        let slas = SlaSet::build(sla_layers);
        let directory = Directory::build(&DirectorySources {
            governments: texts.get("directory/governments.yaml").copied(),
            units: texts.get("directory/units.yaml").copied(),
            national: texts.get("directory/national.yaml").copied(),
            categories: texts.get("categories.yaml").copied(),
            superseded: texts.get("directory/superseded.yaml").copied(),
        })
        .map(Arc::new);
        let workflow = match (texts.get("workflow.yaml"), &slas) {
            (Some(text), Ok(slas)) => Workflow::from_yaml("workflow.yaml", text, &slas.clocks()).map(Some),
            (Some(_), Err(_)) => Ok(None),
            (None, _) => Err(Problem::file("workflow.yaml", "missing: every pack has a workflow").into()),
        };
        let policies = match (&directory, &calendars) {
            (Ok(d), Ok(c)) => Policies::compile(&rules, d.clone(), c.clone()).map(Some).map_err(PackError),
            _ => Ok(None),
        };
        match (manifest, calendars, slas, directory, workflow, policies) {
            (Ok(manifest), Ok(calendars), Ok(slas), Ok(directory), Ok(Some(workflow)), Ok(Some(policies)))
                if problems.is_empty() =>
            {
                Ok(Self {
                    hash: pack_hash(files),
                    deadlines_hash: deadlines_hash(files),
                    manifest,
                    calendars,
                    slas,
                    directory,
                    workflow,
                    policies,
                    schedules: schedules.unwrap_or_default(),
                    zones: zones.unwrap_or_default(),
                })
            }
            (m, c, s, d, w, p) => {
                problems.extend(m.err());
                for e in [c.err(), s.err(), d.err(), w.err(), p.err()].into_iter().flatten() {
                    problems.extend(e.0);
                }
                Err(PackError(problems))
            }
        }
    }
}

/// A pack's files parsed one by one, before the parts that need each other (directory, rules) are built.
struct Parts<'a> {
    manifest: Option<PackManifest>,
    layers: Vec<CalendarLayer>,
    sla_layers: Vec<SlaLayer>,
    /// Files at fixed paths ([`KNOWN_FILES`]), parsed later.
    texts: HashMap<&'a str, &'a str>,
    /// `rules/*.rhai`, by path.
    rules: Vec<(&'a str, &'a str)>,
}

impl<'a> Parts<'a> {
    /// Sorts the files (in path order) into their parts, adding what is wrong with each to `problems`.
    fn read(files: &'a [PackFile], problems: &mut Vec<Problem>) -> Self {
        let mut parts = Parts {
            manifest: None,
            layers: Vec::new(),
            sla_layers: Vec::new(),
            texts: HashMap::new(),
            rules: Vec::new(),
        };
        let mut sorted: Vec<&PackFile> = files.iter().filter(|f| is_pack_file(&f.path)).collect();
        sorted.sort_by(|a, b| a.path.cmp(&b.path));
        for f in sorted {
            match std::str::from_utf8(&f.bytes) {
                Ok(text) => {
                    if let Err(e) = parts.add(f.path.as_str(), text) {
                        problems.extend(e.0);
                    }
                }
                Err(e) => problems.push(Problem::file(&f.path, format!("not UTF-8 text ({e})"))),
            }
        }
        parts
    }

    fn add(&mut self, path: &'a str, text: &'a str) -> Result<(), PackError> {
        if path == "pack.yaml" {
            self.manifest = Some(parse_yaml::<PackManifest>(path, text)?);
        } else if in_dir(path, "calendars/") {
            self.layers.push(CalendarLayer::from_yaml(path, text)?);
        } else if in_dir(path, "sla/") {
            self.sla_layers.push(SlaLayer::from_yaml(path, text)?);
        } else if KNOWN_FILES.contains(&path) {
            self.texts.insert(path, text);
        } else if path.starts_with("rules/") && path.ends_with(".rhai") {
            self.rules.push((path, text));
        } else {
            return Err(
                Problem::file(path, "not a file the engine loads (see policies/README.md for the layout)").into()
            );
        }
        Ok(())
    }
}

/// Pack files at fixed paths that are parsed after the layer files.
const KNOWN_FILES: [&str; 8] = [
    "workflow.yaml",
    "categories.yaml",
    "schedules.yaml",
    REPORTS_FILE,
    "directory/governments.yaml",
    "directory/units.yaml",
    "directory/national.yaml",
    "directory/superseded.yaml",
];

fn in_dir(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|rest| !rest.contains('/'))
}

/// The pack as decisions need it: calendars by reference.
impl Pack {
    /// The calendar a clock counts on.
    pub fn calendar_for(&self, r: &CalendarRef) -> Arc<Calendar> {
        match r {
            CalendarRef::Region(code) => self.calendars.for_region(code),
            CalendarRef::Agency(a) => self.calendars.for_agency(a, self.directory.region_of(a).as_ref()),
            CalendarRef::National => self.calendars.national(),
        }
    }

    /// The tier of an agency (by directory, else by the shape of its id).
    pub fn tier_of(&self, agency: &str) -> Tier {
        if let Some(a) = self.directory.agency(agency) {
            return a.tier();
        }
        match self.directory.region_of(agency) {
            Some(r) if r.kabkota().is_some() => Tier::Kabkota,
            Some(_) => Tier::Province,
            None => Tier::National,
        }
    }
}
