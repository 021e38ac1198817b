//! Reading a policy pack directory into the file list `aduan_core::pack::Pack::from_files` takes.
//! (The core does no IO; this is where the pack meets the filesystem.)
//!
//! A pack is written by people outside the engine, so reading one is bounded (policies/README.md#limits):
//! only regular files inside the pack are read (a FIFO, a device or a link out of the pack is refused
//! without being opened), each under [`MAX_FILE_BYTES`], at most [`MAX_FILES`] of them and
//! [`MAX_PACK_BYTES`] in all, no deeper than [`MAX_DEPTH`] directories.

use aduan_core::pack::{is_pack_file, Pack, PackError, PackFile};
use aduan_core::smoke::smoke;
use chrono::Utc;
use std::fs::{File, Metadata};
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest file a pack may hold (a full national directory is well under a megabyte).
pub const MAX_FILE_BYTES: u64 = 4 * 1024 * 1024;
/// The most bytes a pack's loaded files may hold together.
pub const MAX_PACK_BYTES: u64 = 32 * 1024 * 1024;
/// The most files a pack may load.
pub const MAX_FILES: usize = 5_000;
/// The deepest directory nesting a pack may use.
pub const MAX_DEPTH: usize = 16;

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
    /// A file the engine would load is not one it may read (a FIFO, a link out of the pack, too big…).
    #[error("{path}: {reason}")]
    Refused {
        /// The path, relative to the pack.
        path: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The files were read but the pack is invalid.
    #[error("{0}")]
    Invalid(#[from] PackError),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io { path: path.display().to_string(), source }
}

/// The walk over one pack directory, with what it has read so far.
struct Walk {
    root: PathBuf,
    files: Vec<PackFile>,
    bytes: u64,
}

impl Walk {
    fn rel(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).to_string_lossy().replace('\\', "/")
    }

    fn refuse(&self, path: &Path, reason: impl Into<String>) -> LoadError {
        LoadError::Refused { path: self.rel(path), reason: reason.into() }
    }

    fn dir(&mut self, dir: &Path, depth: usize) -> Result<(), LoadError> {
        if depth > MAX_DEPTH {
            return Err(self.refuse(dir, format!("nested deeper than {MAX_DEPTH} directories")));
        }
        let mut entries = Vec::new();
        for entry in std::fs::read_dir(dir).map_err(io(dir))? {
            entries.push(entry.map_err(io(dir))?.path());
        }
        entries.sort();
        for path in entries {
            let meta = std::fs::symlink_metadata(&path).map_err(io(&path))?;
            let hidden = path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
            if meta.is_dir() {
                if !hidden {
                    self.dir(&path, depth + 1)?;
                }
            } else if is_pack_file(&self.rel(&path)) {
                self.file(&path, &meta)?;
            }
        }
        Ok(())
    }

    /// Reads one file the engine loads, after checking what it is without opening it.
    fn file(&mut self, path: &Path, meta: &Metadata) -> Result<(), LoadError> {
        let meta = if meta.file_type().is_symlink() { self.link_target(path)? } else { meta.clone() };
        if !meta.is_file() {
            return Err(self.refuse(path, "not a regular file (a pack holds only regular files)"));
        }
        if self.files.len() >= MAX_FILES {
            return Err(self.refuse(path, format!("the pack loads more than {MAX_FILES} files")));
        }
        let mut f = File::open(path).map_err(io(path))?;
        // The file may have been swapped since it was looked at: check what was opened.
        if !f.metadata().map_err(io(path))?.is_file() {
            return Err(self.refuse(path, "not a regular file (a pack holds only regular files)"));
        }
        let mut bytes = Vec::new();
        (&mut f).take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes).map_err(io(path))?;
        let len = bytes.len() as u64;
        if len > MAX_FILE_BYTES {
            return Err(self.refuse(path, format!("larger than {} MiB", MAX_FILE_BYTES >> 20)));
        }
        self.bytes += len;
        if self.bytes > MAX_PACK_BYTES {
            return Err(self.refuse(path, format!("the pack's files exceed {} MiB in all", MAX_PACK_BYTES >> 20)));
        }
        self.files.push(PackFile { path: self.rel(path), bytes });
        Ok(())
    }

    /// What a link inside the pack points at, refused when it leads out of the pack.
    fn link_target(&self, path: &Path) -> Result<Metadata, LoadError> {
        let target = std::fs::canonicalize(path).map_err(io(path))?;
        if !target.starts_with(&self.root) {
            return Err(self.refuse(path, "a link that leads out of the pack"));
        }
        std::fs::metadata(&target).map_err(io(path))
    }
}

/// Reads every file under `dir` that the engine loads (YAML and rhai outside `tests/`), with paths
/// relative to `dir` and `/` separators, sorted; hidden directories (`.git`) are skipped.
pub fn read_pack_dir(dir: &Path) -> Result<Vec<PackFile>, LoadError> {
    let root = std::fs::canonicalize(dir).map_err(io(dir))?;
    if !root.is_dir() {
        return Err(LoadError::Refused { path: dir.display().to_string(), reason: "not a directory".into() });
    }
    let mut walk = Walk { root: root.clone(), files: Vec::new(), bytes: 0 };
    walk.dir(&root, 0)?;
    let mut out = walk.files;
    out.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(out)
}

/// Why files that came over the wire (`POST /v1/packs`) are not a pack the engine may read: the
/// field at fault (`files[3].path`) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct BadUpload {
    /// `files[N].path` or `files[N].content`, or `files`.
    pub field: String,
    /// What is wrong with it.
    pub detail: String,
}

/// The longest path a file sent over the wire may have.
pub const MAX_PATH_BYTES: usize = 512;

/// Checks files that came over the wire as [`read_pack_dir`] bounds a directory: at most
/// [`MAX_FILES`], each under [`MAX_FILE_BYTES`], [`MAX_PACK_BYTES`] in all; each path relative,
/// `/`-separated, at most [`MAX_DEPTH`] directories deep, without `.`/`..`, hidden directories or
/// control characters, naming a file the engine loads (YAML or rhai outside `tests/`), and each once.
pub fn check_upload(files: &[PackFile]) -> Result<(), BadUpload> {
    let bad = |field: String, detail: String| Err(BadUpload { field, detail });
    if files.len() > MAX_FILES {
        return bad("files".into(), format!("a pack loads at most {MAX_FILES} files"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut total = 0u64;
    for (i, f) in files.iter().enumerate() {
        if let Some(why) = path_refusal(&f.path) {
            return bad(format!("files[{i}].path"), why);
        }
        if !seen.insert(f.path.as_str()) {
            return bad(format!("files[{i}].path"), format!("`{}` is given twice", f.path));
        }
        let len = f.bytes.len() as u64;
        total += len;
        if len > MAX_FILE_BYTES {
            return bad(
                format!("files[{i}].content"),
                format!("{} is larger than {} MiB", f.path, MAX_FILE_BYTES >> 20),
            );
        }
        if total > MAX_PACK_BYTES {
            return bad(format!("files[{i}].content"), format!("the files exceed {} MiB in all", MAX_PACK_BYTES >> 20));
        }
    }
    Ok(())
}

/// Why `path` cannot name a file of a pack sent over the wire, or `None`.
fn path_refusal(path: &str) -> Option<String> {
    if path.is_empty() || path.len() > MAX_PATH_BYTES || path.chars().any(|c| c.is_control() || c == '\\') {
        return Some(format!(
            "a path is 1 to {MAX_PATH_BYTES} bytes, `/`-separated, without backslashes or control characters"
        ));
    }
    let segments: Vec<&str> = path.split('/').collect();
    let (dirs, _) = segments.split_at(segments.len() - 1);
    if segments.iter().any(|s| s.is_empty() || *s == "." || *s == "..") || dirs.iter().any(|d| d.starts_with('.')) {
        return Some(format!(
            "`{path}` is not a relative path inside the pack (no `/` first, `.`, `..` or hidden directories)"
        ));
    }
    if dirs.len() > MAX_DEPTH {
        return Some(format!("`{path}` is nested deeper than {MAX_DEPTH} directories"));
    }
    if !is_pack_file(path) {
        return Some(format!("`{path}` is not a file the engine loads (YAML or rhai outside tests/)"));
    }
    None
}

/// Validates a candidate pack: its files as [`Pack::from_files`] checks them, then every policy on the
/// smoke set ([`aduan_core::smoke`]). Every way a pack goes live (a directory, a stored pack) passes here.
pub fn validate(files: &[PackFile]) -> Result<Pack, PackError> {
    let pack = Pack::from_files(files)?;
    let problems = smoke(&pack, Utc::now());
    if problems.is_empty() {
        Ok(pack)
    } else {
        Err(PackError(problems))
    }
}

/// Reads the pack in `dir` with the static checks only, skipping the smoke run: for `policy explain`,
/// which must show a failing policy failing.
pub fn read_pack(dir: &Path) -> Result<Pack, LoadError> {
    let files = read_pack_dir(dir)?;
    Ok(Pack::from_files(&files)?)
}

/// Reads and validates the pack in `dir`.
pub fn load_pack(dir: &Path) -> Result<Pack, LoadError> {
    let files = read_pack_dir(dir)?;
    Ok(validate(&files)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, bytes: &[u8]) -> PackFile {
        PackFile { path: path.to_owned(), bytes: bytes.to_vec() }
    }

    #[test]
    fn an_upload_names_its_bad_file() {
        let field = |files: &[PackFile]| check_upload(files).err().map(|e| e.field);
        assert_eq!(field(&[file("pack.yaml", b"x"), file("sla/a.yaml", b"y")]), None);
        for bad in
            ["", "/pack.yaml", "sla//a.yaml", "../x.yaml", "sla/../x.yaml", ".git/x.yaml", "a\\b.yaml", "a\0.yaml"]
        {
            assert_eq!(field(&[file("pack.yaml", b""), file(bad, b"")]), Some("files[1].path".into()), "{bad:?}");
        }
        assert_eq!(field(&[file("README.md", b"")]), Some("files[0].path".into()));
        assert_eq!(field(&[file("tests/a.yaml", b"")]), Some("files[0].path".into()));
        assert_eq!(field(&[file("pack.yaml", b""), file("pack.yaml", b"")]), Some("files[1].path".into()));
        let deep = format!("{}x.yaml", "d/".repeat(MAX_DEPTH + 1));
        assert_eq!(field(&[file(&deep, b"")]), Some("files[0].path".into()));
        let big = vec![b'#'; MAX_FILE_BYTES as usize + 1];
        assert_eq!(field(&[file("pack.yaml", &big)]), Some("files[0].content".into()));
    }
}
