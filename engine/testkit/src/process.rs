//! Child processes that cannot outlive the test process, and temp dirs with a recognisable name.
//!
//! A test's guards ([`crate::nats::NatsServer`], the end-to-end suite's `Server`) kill their child on
//! drop, also while a panic unwinds. What no guard covers is a test process that dies without
//! unwinding: killed by the test runner's timeout, by Ctrl-C, or a `static` that is never dropped.
//! For those, [`spawn`] has the kernel send the child `SIGKILL` when the test process goes
//! (`PR_SET_PDEATHSIG`). The kernel ties that signal to the *thread* that forked the child, not the
//! process, so every child is forked by one keeper thread that lives as long as the process: a test
//! thread that ends (as each does under `cargo test`) takes no shared child with it.
//!
//! Temp dirs made by [`tempdir`] are named `aduan-test-{kind}-…` so that `deploy/test.sh`, which
//! also points `TMPDIR` at a directory of its own per run, can tell and report what a run left behind.

use std::io;
use std::process::{Child, Command};
use std::sync::mpsc::{self, Sender};
use std::sync::{Mutex, OnceLock};

use tempfile::TempDir;

/// The prefix of every temp dir the test suites make (see [`tempdir`]).
pub const TEMP_PREFIX: &str = "aduan-test-";

/// A spawn request for the keeper thread: the command and where to send the child.
type Job = (Command, Sender<io::Result<Child>>);

/// Spawns `command` from the keeper thread, with `SIGKILL` on the test process's death. Standard IO
/// and everything else are as the caller set them on `command`.
pub fn spawn(mut command: Command) -> io::Result<Child> {
    die_with_parent(&mut command);
    let (reply, answer) = mpsc::channel();
    keeper().lock().unwrap_or_else(|e| e.into_inner()).send((command, reply)).map_err(io::Error::other)?;
    answer.recv().map_err(io::Error::other)?
}

/// A new temp dir `aduan-test-{kind}-XXXXXX` under `TMPDIR` (removed when the guard drops).
pub fn tempdir(kind: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("{TEMP_PREFIX}{kind}-"))
        .tempdir()
        .unwrap_or_else(|e| panic!("create a temp dir for {kind}: {e}"))
}

/// The keeper thread's queue. The thread forks every child and never ends.
fn keeper() -> &'static Mutex<Sender<Job>> {
    static KEEPER: OnceLock<Mutex<Sender<Job>>> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("aduan-testkit-keeper".into())
            .spawn(move || {
                for (mut command, reply) in queue {
                    let _ = reply.send(command.spawn());
                }
            })
            .expect("start the testkit's keeper thread");
        Mutex::new(jobs)
    })
}

/// Asks the kernel to kill the child when the thread that forks it (the keeper, alive as long as the
/// process) goes; exits at once if that already happened between fork and `prctl`.
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    let parent = std::process::id();
    // SAFETY: the closure runs in the forked child before exec and only makes async-signal-safe
    // system calls (prctl, getppid); it allocates nothing and takes no lock.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL as libc::c_ulong, 0, 0, 0) != 0 {
                return Err(io::Error::last_os_error());
            }
            if libc::getppid() as u32 != parent {
                libc::_exit(1);
            }
            Ok(())
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Stdio;

    #[test]
    fn a_child_dies_with_the_process_that_spawned_it() {
        // A child test process (this binary, re-run with a marker) spawns `sleep` and dies by SIGKILL
        // without unwinding; the sleep must go with it.
        if let Some(file) = std::env::var_os("ADUAN_TESTKIT_PDEATHSIG_CHILD") {
            let mut cmd = Command::new("sleep");
            cmd.arg("300").stdin(Stdio::null());
            // Deliberately not waited for: the process dies below, and the kernel is to kill the child.
            #[allow(clippy::zombie_processes)]
            let child = spawn(cmd).unwrap();
            std::fs::write(&file, child.id().to_string()).unwrap();
            // SAFETY: raise has no preconditions; the process ends here.
            unsafe { libc::raise(libc::SIGKILL) };
            unreachable!();
        }
        let dir = tempdir("process");
        let file = dir.path().join("pid");
        let status = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "process::tests::a_child_dies_with_the_process_that_spawned_it", "--nocapture"])
            .env("ADUAN_TESTKIT_PDEATHSIG_CHILD", &file)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(!status.success());
        let pid: i32 = std::fs::read_to_string(&file).unwrap().parse().unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while alive(pid) {
            assert!(std::time::Instant::now() < deadline, "sleep {pid} outlived its parent");
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// Whether `pid` runs (a zombie, dead but not yet reaped by whoever adopted it, does not).
    fn alive(pid: i32) -> bool {
        match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
            Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
            Err(_) => false,
        }
    }

    #[test]
    fn temp_dirs_carry_the_prefix() {
        let dir = tempdir("x");
        let name = dir.path().file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("aduan-test-x-"), "{name}");
    }
}
