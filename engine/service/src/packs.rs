//! Reading a policy pack directory into the file list `aduan_core::pack::Pack::from_files` takes.
//! (The core does no IO; this is where the pack meets the filesystem.)

use aduan_core::pack::{is_pack_file, Pack, PackError, PackFile};
use std::path::Path;

/// Why a pack could not be loaded from disk.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The directory or a file in it could not be read.
    #[error("{path}: {source}")]
    Io {
        /// What was being read.
        path: String,
        /// The OS error.
        source: std::io::Error,
    },
    /// The files were read but the pack is invalid.
    #[error("{0}")]
    Invalid(#[from] PackError),
}

/// Reads every file under `dir` that the engine loads (YAML and rhai outside `tests/`), with paths
/// relative to `dir` and `/` separators, sorted.
pub fn read_pack_dir(dir: &Path) -> Result<Vec<PackFile>, LoadError> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PackFile>) -> Result<(), LoadError> {
        fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
            move |source| LoadError::Io { path: path.display().to_string(), source }
        }
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            let path = entry.map_err(io(dir))?.path();
            if path.is_dir() {
                walk(root, &path, out)?;
                continue;
            }
            let rel = path.strip_prefix(root).unwrap_or(&path).to_string_lossy().replace('\\', "/");
            if is_pack_file(&rel) {
                let bytes = std::fs::read(&path).map_err(io(&path))?;
                out.push(PackFile { path: rel, bytes });
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Reads and validates the pack in `dir`.
pub fn load_pack(dir: &Path) -> Result<Pack, LoadError> {
    let files = read_pack_dir(dir)?;
    Ok(Pack::from_files(&files)?)
}
