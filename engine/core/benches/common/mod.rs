//! What the benchmarks share: the national pack read from disk, and a deterministic generator.

use aduan_core::pack::{Pack, PackFile};
use chrono::{DateTime, Utc};
use std::path::Path;

/// The national pack's files (`policies/lapor`).
// Benchmarks read the pack from disk; the core itself does not (engine/core/clippy.toml).
#[allow(clippy::disallowed_methods)]
#[allow(dead_code)]
pub fn national_files() -> Vec<PackFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../policies/lapor");
    let mut files = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(&root).unwrap().to_string_lossy().replace('\\', "/");
                files.push(PackFile { path: rel, bytes: std::fs::read(&p).unwrap() });
            }
        }
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
    files
}

/// The national pack, loaded.
pub fn national_pack() -> Pack {
    Pack::from_files(&national_files()).unwrap()
}

/// A small deterministic generator (xorshift), so runs compare.
pub struct Rng(pub u64);
impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    #[allow(dead_code)]
    pub fn instant(&mut self) -> DateTime<Utc> {
        // 2025-01-01 .. 2027-12-31
        DateTime::from_timestamp(1_735_689_600 + (self.next() % 94_600_000) as i64, 0).unwrap()
    }
}
