//! Test support: load the national pack from `policies/lapor` through the same `Pack::from_files` the
//! engine uses.

pub mod life;

use aduan_core::pack::{Pack, PackFile};
use std::path::{Path, PathBuf};

/// The national pack in this checkout. The package's directory is read when the test runs (cargo and
/// nextest set it), so a test binary built from another checkout sharing the target dir finds this one.
pub fn pack_dir() -> PathBuf {
    manifest_dir().join("../../policies/lapor")
}

/// This package's directory, as the test runner gives it (else as it was at build time). A test may read
/// its runner's environment; the core may not.
#[allow(clippy::disallowed_methods)]
pub fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

// Tests read the pack from disk; the core itself does not (engine/core/clippy.toml).
#[allow(clippy::disallowed_methods)]
pub fn pack_files(dir: &Path) -> Vec<PackFile> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PackFile>) {
        for entry in std::fs::read_dir(dir).expect("readable pack dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let rel = path.strip_prefix(root).expect("under root").to_string_lossy().replace('\\', "/");
                out.push(PackFile { path: rel, bytes: std::fs::read(&path).expect("readable file") });
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out
}

#[allow(dead_code)]
pub fn national_pack() -> Pack {
    Pack::from_files(&pack_files(&pack_dir())).unwrap_or_else(|e| panic!("national pack invalid:\n{e}"))
}

/// The national pack with `extra` files added or replacing its own.
#[allow(dead_code)]
pub fn pack_with(extra: &[(&str, &str)]) -> Result<Pack, aduan_core::pack::PackError> {
    let mut files = pack_files(&pack_dir());
    for (p, text) in extra {
        files.retain(|f| f.path != *p);
        files.push(PackFile { path: (*p).into(), bytes: text.as_bytes().to_vec() });
    }
    Pack::from_files(&files)
}

/// An instant from RFC 3339.
#[allow(dead_code)]
pub fn t(s: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&chrono::Utc)
}

/// A public pengaduan titled "Jalan berlubang" of `category` filed in `region` at `at`, as the
/// suites submit it.
#[allow(dead_code)]
pub fn filing(region: &str, category: &str, at: &str) -> aduan_core::case::NewCase {
    aduan_core::case::NewCase {
        id: "c1".into(),
        tracking_id: "ABCDE-FGHJK".into(),
        kind: aduan_core::domain::Kind::Pengaduan,
        channel: "web".into(),
        category: Some(category.into()),
        region: Some(aduan_core::region::RegionCode::parse(region).unwrap()),
        privacy: aduan_core::case::Privacy::Public,
        title: "Jalan berlubang".into(),
        received_at: t(at),
    }
}

/// A pengaduan about a road in Surabaya, submitted and verified at `at` (so dispatched, with its clocks
/// running).
#[allow(dead_code)]
pub fn assigned(pack: &Pack, at: &str) -> aduan_core::case::Case {
    use aduan_core::case::{decide, submit, Actor, Command};
    let (mut c, _) = submit(pack, filing("35.78", "infrastruktur", at), t(at));
    let verify = Command::Verify { agency: None, category: None, investigation: None };
    decide(pack, &mut c, &Actor::system(), &verify, t(at)).unwrap();
    c
}
