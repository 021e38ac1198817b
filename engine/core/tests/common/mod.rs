//! Test support: load the national pack from `policies/lapor` through the same `Pack::from_files` the
//! engine uses.

use aduan_core::pack::{Pack, PackFile};
use std::path::{Path, PathBuf};

pub fn pack_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/lapor")
}

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
