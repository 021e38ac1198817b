//! End-to-end tests of the `aduan` binary (one test binary; modules by area).

/// Generates `sqlite::$name` and `postgres::$name` for each `fn $name(db: Db)` of the calling module:
/// one body, run on both backends (the model is `conformance!` in engine/service/tests/store.rs).
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Db::Sqlite);
                }
            )*
        }
        mod postgres {
            $(
                #[test]
                fn $name() {
                    super::$name($crate::support::Db::Postgres);
                }
            )*
        }
    };
}

mod access_matrix;
mod audit;
mod bench;
mod bridges;
mod cluster;
mod deploy;
mod digest;
mod duplicates;
mod e2e;
mod fault;
mod hostile_packs;
mod import;
mod invariants;
mod open311;
mod operator;
mod policy_cli;
mod policy_replay;
mod privacy;
mod publish_scope;
mod queue;
mod reload;
mod reports;
mod shapes;
mod sources;
mod sso;
mod support;
mod sweeps;
mod web;
mod webhooks;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
///
/// Read when the test runs (cargo and nextest set it), so a test binary built from another checkout
/// sharing the target dir still finds this one.
pub fn root() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR").map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from)
}

/// Runs the real binary with `args` from the repository root, with a clean configuration environment.
pub fn aduan(args: &[&str]) -> Output {
    aduan_in(&root(), args)
}

pub fn aduan_in(dir: &Path, args: &[&str]) -> Output {
    command_in(dir, args).output().expect("aduan runs")
}

/// The binary with `args`, run from `dir`, with no `ADUAN_*` variable of the test's environment.
fn command_in(dir: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_aduan"));
    cmd.current_dir(dir).args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("ADUAN_") {
            cmd.env_remove(k);
        }
    }
    cmd
}

/// Runs the binary like [`aduan`], killing it and failing the test if it runs past `bound` (for inputs
/// that could make it hang).
pub fn aduan_within(args: &[&str], bound: std::time::Duration) -> Output {
    let mut cmd = command_in(&root(), args);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let mut child = aduan_testkit::process::spawn(cmd).expect("aduan runs");
    let deadline = std::time::Instant::now() + bound;
    while child.try_wait().expect("waits").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("aduan {args:?} ran past {bound:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Copies the national pack into a temp dir so a test can break it.
pub fn pack_copy() -> tempfile::TempDir {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let p = e.unwrap().path();
            let dest = to.join(p.file_name().unwrap());
            if p.is_dir() {
                copy(&p, &dest);
            } else {
                std::fs::copy(&p, &dest).unwrap();
            }
        }
    }
    let dir = aduan_testkit::process::tempdir("pack");
    copy(&root().join("policies/lapor"), dir.path());
    dir
}
