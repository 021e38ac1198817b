//! A small tmpfs for disk-full tests: mounted on a new temp dir, unmounted (and the dir removed) when
//! the guard drops, also while a test panics. Mounting needs root (or `CAP_SYS_ADMIN`); where it is not
//! permitted, [`Tmpfs::mount`] says why, so the test can report a skip.

use std::path::Path;
use std::process::Command;

use tempfile::TempDir;

/// A mounted tmpfs.
pub struct Tmpfs {
    dir: TempDir,
    mounted: bool,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (as `mount -o size=` takes it: `32m`) on a new temp dir
    /// `aduan-test-tmpfs-*`. Err with the reason when mounting is not permitted here.
    pub fn mount(size: &str) -> Result<Tmpfs, String> {
        let dir = crate::process::tempdir("tmpfs");
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", format!("size={size},mode=0755").as_str(), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("cannot run mount: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "mount -t tmpfs failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Tmpfs { dir, mounted: true })
    }

    /// Where it is mounted.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        if !self.mounted {
            return;
        }
        self.mounted = false;
        let unmounted = Command::new("umount").arg(self.dir.path()).status().is_ok_and(|s| s.success());
        // Still busy (a process that has not exited yet): detach it now, the kernel frees it later.
        if !unmounted && !Command::new("umount").arg("-l").arg(self.dir.path()).status().is_ok_and(|s| s.success()) {
            eprintln!("aduan-testkit: could not unmount {}", self.dir.path().display());
        }
    }
}
