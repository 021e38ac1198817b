//! Region-scoped publishing (docs/access.md#publishing-packs): whose each file of a pack is, what a
//! candidate changes against the active pack, and which of those changes a policy author may not
//! publish. A regional government customises its own SLAs, days off and rules without touching
//! anyone else's; the national author publishes the rest.
//!
//! A file's scope comes from its path, and for calendars and SLAs from the one header field their
//! content names:
//! - `rules/{scope}/…`: that region (`rules/33.74/route.rhai`) or agency (`rules/33.74/dinkes/…`);
//! - `sla/*.yaml`, `calendars/*.yaml`: the `region:` or `agency:` the file names (`country:` is
//!   national);
//! - everything else (`pack.yaml`, `workflow.yaml`, `categories.yaml`, `schedules.yaml`, the
//!   directory, `rules/{hook}.rhai`): national.
//!
//! Whose the scope is, is the directory's answer: a region's government, an agency itself, the root
//! for national files. Whether an author may publish it is [`access::check`] on that agency, so a
//! province's author (`33`) reaches `33.74`'s files and a Semarang author (`33.74`) does not reach
//! Jakarta's (`31`); the national author (`kemenpanrb`) reaches everything.

use crate::access::{self, Operation, Target};
use crate::case::Actor;
use crate::directory::{region_in_id, Directory, ROOT};
use crate::pack::{is_pack_file, parse_yaml, PackFile};
use crate::region::RegionCode;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt;

/// Whose a file of a pack is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileScope {
    /// The national author's: every file not bound to a region or an agency.
    National,
    /// A province's or kab/kota's (`rules/33.74/…`, an SLA or calendar naming `region: "33.74"`).
    Region(RegionCode),
    /// One agency's (`rules/33.74/dinkes/…`, an SLA or calendar naming `agency: …`).
    Agency(String),
}

impl fmt::Display for FileScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileScope::National => f.write_str("national"),
            FileScope::Region(r) => write!(f, "region {r}"),
            FileScope::Agency(a) => write!(f, "agency {a}"),
        }
    }
}

impl FileScope {
    /// The agency whose subtree holds this scope: its authors, and those above it, may publish it. A
    /// region is its government (a kecamatan's is its kab/kota's; an unknown kab/kota's, its
    /// province's); an agency the directory lacks belongs to the government its id names; what no
    /// agency holds is the root's.
    pub fn owner(&self, dir: &Directory) -> String {
        let region = |r: &RegionCode| dir.government_of(r).unwrap_or(ROOT).to_owned();
        match self {
            FileScope::National => ROOT.to_owned(),
            FileScope::Region(r) => region(r),
            FileScope::Agency(a) if dir.agency(a).is_some() => a.clone(),
            FileScope::Agency(a) => region_in_id(a).as_ref().map_or_else(|| ROOT.to_owned(), region),
        }
    }
}

/// The header of a calendar or SLA file: the one field that says whose it is. Other fields are the
/// loader's business.
#[derive(Deserialize)]
struct Header {
    country: Option<serde::de::IgnoredAny>,
    region: Option<String>,
    agency: Option<String>,
}

/// The scope of one file of a pack, from its path and, for `sla/` and `calendars/`, the header its
/// content names. `Err` says why the content cannot tell (it does not parse, or names no single
/// scope); such a file does not load either, since the loader reads the same header strictly.
pub fn file_scope(path: &str, bytes: &[u8]) -> Result<FileScope, String> {
    if let Some(rest) = path.strip_prefix("rules/") {
        return Ok(match rest.rsplit_once('/') {
            None => FileScope::National,
            Some((scope, _)) => match RegionCode::parse(scope) {
                Ok(r) => FileScope::Region(r),
                Err(_) => FileScope::Agency(scope.to_owned()),
            },
        });
    }
    if !(path.starts_with("sla/") || path.starts_with("calendars/")) {
        return Ok(FileScope::National);
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8 text ({e})"))?;
    let header: Header = parse_yaml(path, text).map_err(|e| e.to_string())?;
    match (header.country, header.region, header.agency) {
        (Some(_), None, None) => Ok(FileScope::National),
        (None, Some(r), None) => RegionCode::parse(&r).map(FileScope::Region).map_err(|e| e.to_string()),
        (None, None, Some(a)) => Ok(FileScope::Agency(a)),
        _ => Err("it names not exactly one of `country`, `region` or `agency`".into()),
    }
}

/// How a file differs between the active pack and a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    /// Only the candidate has it.
    Added,
    /// Only the active pack has it.
    Removed,
    /// Both have it, with other bytes.
    Modified,
}

impl ChangeKind {
    /// The wire name: `added`, `removed`, `modified`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Modified => "modified",
        }
    }
}

/// A file the candidate changes, with its scope on each side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The pack-relative path.
    pub path: String,
    /// Added, removed or modified.
    pub kind: ChangeKind,
    /// Its scope in the active pack (`None` when added).
    pub before: Option<Result<FileScope, String>>,
    /// Its scope in the candidate (`None` when removed).
    pub after: Option<Result<FileScope, String>>,
}

impl Change {
    /// The scope to show for the change: the candidate's, else the active pack's; national when
    /// neither can tell.
    pub fn scope(&self) -> FileScope {
        [&self.after, &self.before]
            .into_iter()
            .find_map(|s| s.as_ref().and_then(|s| s.as_ref().ok()).cloned())
            .unwrap_or(FileScope::National)
    }
}

/// Every loaded file (those the pack hash covers) that differs between `active` and `candidate`, in
/// path order.
pub fn changed_files(active: &[PackFile], candidate: &[PackFile]) -> Vec<Change> {
    let index = |files: &[PackFile]| -> BTreeMap<String, Vec<u8>> {
        files.iter().filter(|f| is_pack_file(&f.path)).map(|f| (f.path.clone(), f.bytes.clone())).collect()
    };
    let (old, new) = (index(active), index(candidate));
    let mut paths: Vec<&String> = old.keys().chain(new.keys()).collect();
    paths.sort();
    paths.dedup();
    paths
        .into_iter()
        .filter_map(|path| {
            let (before, after) = (old.get(path), new.get(path));
            let kind = match (before, after) {
                (Some(b), Some(a)) if a == b => return None,
                (Some(_), Some(_)) => ChangeKind::Modified,
                (None, Some(_)) => ChangeKind::Added,
                (Some(_), None) => ChangeKind::Removed,
                (None, None) => return None,
            };
            let scope = |bytes: Option<&Vec<u8>>| bytes.map(|b| file_scope(path, b));
            Some(Change { path: path.clone(), kind, before: scope(before), after: scope(after) })
        })
        .collect()
}

/// A changed file the author may not publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutOfScope {
    /// The file.
    pub path: String,
    /// Whose it is (national when its content cannot tell).
    pub scope: FileScope,
    /// Why the scope is national although the content names another, when it cannot be told.
    pub untold: Option<String>,
}

impl fmt::Display for OutOfScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}", self.path, self.scope)?;
        if let Some(why) = &self.untold {
            write!(f, ": its scope cannot be told, {why}")?;
        }
        f.write_str(")")
    }
}

/// Every change `author` may not publish, in path order: a file must lie in the author's subtree on
/// both sides (so a file cannot be moved out of a region, nor into it). A file whose content cannot
/// tell its scope is national, except the candidate's version of a file the active pack already has:
/// it keeps the active version's scope, as it cannot load (and the candidate is refused as invalid).
pub fn out_of_scope(dir: &Directory, author: &Actor, changes: &[Change]) -> Vec<OutOfScope> {
    let mut refused = Vec::new();
    for c in changes {
        let sides = [&c.before, &c.after];
        for (i, side) in sides.into_iter().enumerate() {
            let (scope, untold) = match side {
                None => continue,
                Some(Ok(s)) => (s.clone(), None),
                // The candidate's unreadable version of a file the active pack has: judged by the
                // active version, which is checked on its own.
                Some(Err(_)) if i == 1 && c.before.is_some() => continue,
                Some(Err(why)) => (FileScope::National, Some(why.clone())),
            };
            let owner = scope.owner(dir);
            let target = Target { holder: None, subject: &owner };
            if access::check(dir, author, Operation::Publish, Some(target)).is_err() {
                refused.push(OutOfScope { path: c.path.clone(), scope, untold });
                break;
            }
        }
    }
    refused
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::directory::DirectorySources;
    use crate::workflow::Role;

    fn dir() -> Directory {
        let governments = "governments:\n  - {id: \"33\", name: \"Jawa Tengah\", level: province}\n  - {id: \"33.74\", name: \"Kota Semarang\", level: kabkota}\n  - {id: \"31\", name: \"DKI Jakarta\", level: province}\n";
        let units = "unit_types:\n  - {slug: dinkes, name: \"Dinas Kesehatan\", levels: [province, kabkota], categories: [kesehatan]}\n";
        let national = "national_bodies:\n  - {id: kemenpanrb, name: \"KemenPANRB\", root: true, categories: [lainnya]}\n  - {id: pln, name: \"PLN\", categories: []}\n";
        let categories = "categories:\n  - {id: kesehatan, name: \"Kesehatan\", unit: dinkes}\n  - {id: lainnya, name: \"Lainnya\", national: kemenpanrb}\n";
        Directory::build(&DirectorySources {
            governments: Some(governments),
            units: Some(units),
            national: Some(national),
            categories: Some(categories),
            superseded: None,
        })
        .expect("directory")
    }

    fn author(agency: &str) -> Actor {
        Actor { role: Role::PolicyAuthor, agency: Some(agency.to_owned()), name: "a".into() }
    }

    fn file(path: &str, text: &str) -> PackFile {
        PackFile { path: path.to_owned(), bytes: text.as_bytes().to_vec() }
    }

    fn scope(path: &str, text: &str) -> Result<FileScope, String> {
        file_scope(path, text.as_bytes())
    }

    #[test]
    fn a_file_is_national_unless_its_path_or_header_names_a_region_or_agency() {
        let region = |r: &str| Ok(FileScope::Region(RegionCode::parse(r).unwrap()));
        assert_eq!(scope("rules/route.rhai", ""), Ok(FileScope::National));
        assert_eq!(scope("rules/33.74/route.rhai", ""), region("33.74"));
        assert_eq!(scope("rules/33.74/dinkes/escalate.rhai", ""), Ok(FileScope::Agency("33.74/dinkes".into())));
        assert_eq!(scope("sla/x.yaml", "region: \"33.74\"\nclocks: {}\n"), region("33.74"));
        assert_eq!(scope("sla/national.yaml", "country: ID\n"), Ok(FileScope::National));
        assert_eq!(scope("calendars/bali.yaml", "region: \"51\"\ndays_off: []\n"), region("51"));
        assert_eq!(
            scope("calendars/s.yaml", "agency: \"35.78/samsat\"\n"),
            Ok(FileScope::Agency("35.78/samsat".into()))
        );
        for national in ["workflow.yaml", "pack.yaml", "categories.yaml", "directory/units.yaml", "schedules.yaml"] {
            assert_eq!(scope(national, "region: \"33.74\"\n"), Ok(FileScope::National), "{national}");
        }
        assert!(scope("sla/x.yaml", "region: [\n").is_err());
        assert!(scope("sla/x.yaml", "region: \"33.74\"\nagency: pln\n").is_err());
        assert!(scope("sla/x.yaml", "region: \"Semarang\"\n").is_err());
    }

    #[test]
    fn the_owner_is_the_government_of_the_region_or_the_agency_itself() {
        let d = dir();
        let owner = |s: FileScope| s.owner(&d);
        let region = |r: &str| FileScope::Region(RegionCode::parse(r).unwrap());
        assert_eq!(owner(region("33.74")), "33.74");
        assert_eq!(owner(region("33.74.01")), "33.74", "a kecamatan belongs to its kab/kota");
        assert_eq!(owner(region("33.99")), "33", "an unknown kab/kota belongs to its province");
        assert_eq!(owner(region("99")), ROOT);
        assert_eq!(owner(FileScope::Agency("33.74/dinkes".into())), "33.74/dinkes");
        assert_eq!(owner(FileScope::Agency("33.74/samsat".into())), "33.74", "an unknown unit: its government");
        assert_eq!(owner(FileScope::Agency("pln".into())), "pln");
        assert_eq!(owner(FileScope::Agency("nobody".into())), ROOT);
    }

    #[test]
    fn changes_are_added_removed_and_modified_loaded_files_in_path_order() {
        let active = [file("pack.yaml", "a"), file("sla/x.yaml", "country: ID\n"), file("rules/route.rhai", "r")];
        let candidate = [
            file("pack.yaml", "a"),
            file("sla/x.yaml", "region: \"33.74\"\n"),
            file("rules/33.74/route.rhai", "s"),
            file("tests/t.yaml", "not loaded"),
        ];
        let c = changed_files(&active, &candidate);
        let kinds: Vec<(&str, ChangeKind)> = c.iter().map(|c| (c.path.as_str(), c.kind)).collect();
        assert_eq!(
            kinds,
            [
                ("rules/33.74/route.rhai", ChangeKind::Added),
                ("rules/route.rhai", ChangeKind::Removed),
                ("sla/x.yaml", ChangeKind::Modified),
            ]
        );
        assert_eq!(c[2].before, Some(Ok(FileScope::National)));
        assert_eq!(c[2].scope().to_string(), "region 33.74");
        assert!(changed_files(&active, &active).is_empty());
    }

    fn refused(agency: &str, active: &[PackFile], candidate: &[PackFile]) -> Vec<String> {
        let d = dir();
        out_of_scope(&d, &author(agency), &changed_files(active, candidate)).iter().map(|o| o.to_string()).collect()
    }

    #[test]
    fn an_author_publishes_its_own_subtree_only_and_the_national_author_everything() {
        let semarang = "region: \"33.74\"\nclocks:\n  respond: {working_days: 7}\n";
        let active = [file("sla/national.yaml", "country: ID\n"), file("sla/33.74.yaml", semarang)];
        let mine = [
            file("sla/national.yaml", "country: ID\n"),
            file("sla/33.74.yaml", "region: \"33.74\"\nclocks:\n  respond: {working_days: 6}\n"),
            file("rules/33.74/route.rhai", "fn route(c, n) { defer() }"),
            file("rules/33.74/dinkes/route.rhai", "fn route(c, n) { defer() }"),
        ];
        assert!(refused("33.74", &active, &mine).is_empty());
        assert!(refused("33", &active, &mine).is_empty(), "the province reaches its kab/kota");
        assert!(refused(ROOT, &active, &mine).is_empty());
        assert_eq!(refused("31", &active, &mine).len(), 3);
        assert_eq!(
            refused("33.74/dinkes", &active, &mine),
            ["rules/33.74/route.rhai (region 33.74)", "sla/33.74.yaml (region 33.74)"]
        );

        let theirs = [
            file("sla/national.yaml", "country: ID\nwarn_at: 0.5\n"),
            file("sla/33.74.yaml", semarang),
            file("rules/31/route.rhai", "fn route(c, n) { defer() }"),
        ];
        assert_eq!(
            refused("33.74", &active, &theirs),
            ["rules/31/route.rhai (region 31)", "sla/national.yaml (national)"]
        );
        assert!(refused(ROOT, &active, &theirs).is_empty());
    }

    #[test]
    fn a_file_cannot_move_out_of_its_region_and_an_unreadable_new_file_is_national() {
        let active = [file("sla/33.74.yaml", "region: \"33.74\"\n")];
        let moved = [file("sla/33.74.yaml", "region: \"31\"\n")];
        assert_eq!(refused("33.74", &active, &moved), ["sla/33.74.yaml (region 31)"]);
        assert_eq!(refused("31", &active, &moved), ["sla/33.74.yaml (region 33.74)"]);
        // The Semarang author's broken edit of its own file is left to validation (it cannot load).
        let broken = [file("sla/33.74.yaml", "region: [\n")];
        assert!(refused("33.74", &active, &broken).is_empty());
        let added = [file("sla/33.74.yaml", "region: \"33.74\"\n"), file("sla/new.yaml", "region: [\n")];
        let r = refused("33.74", &active, &added);
        assert_eq!(r.len(), 1);
        assert!(r[0].starts_with("sla/new.yaml (national: its scope cannot be told, sla/new.yaml:"), "{r:?}");
        assert!(refused(ROOT, &active, &added).is_empty());
    }

    #[test]
    fn only_policy_authors_publish() {
        let d = dir();
        let changes = changed_files(&[], &[file("rules/33.74/route.rhai", "")]);
        for role in [Role::Admin, Role::Officer, Role::Supervisor, Role::Integration] {
            let a = Actor { role, agency: Some(ROOT.into()), name: "x".into() };
            assert_eq!(out_of_scope(&d, &a, &changes).len(), 1, "{role:?}");
        }
    }
}
