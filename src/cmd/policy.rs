//! `aduan policy check|access|test|explain|replay|publish`: tools for policy authors. Only `replay` reads
//! the database (`src/cmd/replay.rs`); `publish` (`publish.rs`) needs NATS, or a server to publish to.

use super::publish::{publish, Target};
use crate::Config;
use aduan_core::domain::Kind;
use aduan_core::explain::{explain, explain_route, ComplaintFacts, Explanation};
use aduan_core::pack::Pack;
use aduan_core::pack_test::{self, Verdict};
use aduan_core::region::RegionCode;
use aduan_service::packs::{load_pack, read_pack, LoadError};
use anyhow::{anyhow, bail, Context};
use chrono::{DateTime, Utc};
use clap::Subcommand;
use serde::Deserialize;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum PolicyCommand {
    /// Validate a policy pack; exit 1 with `file:line:col: message` for each problem.
    Check {
        /// The pack directory (default: the configured pack).
        dir: Option<PathBuf>,
    },
    /// Print who may do what (docs/access.md): the role × operation × reach table and, from the pack's
    /// workflow, each action's roles and states, as one JSON object.
    Access {
        /// The pack directory (default: the configured pack).
        dir: Option<PathBuf>,
    },
    /// Run the pack's own test cases.
    Test {
        /// The pack directory (default: the configured pack).
        dir: Option<PathBuf>,
    },
    /// Explain one complaint: its route, every clock's deadline with the days skipped and the SLA layer
    /// that set it, and the rule trace.
    Explain {
        /// The pack directory (default: the configured pack).
        dir: Option<PathBuf>,
        /// A submission as JSON (plus optional `at` and `investigation`); `.jsonl` for one per line.
        #[arg(long)]
        complaint: PathBuf,
        /// Start every clock at this instant (RFC 3339; default: now, or the line's own `at`).
        #[arg(long)]
        at: Option<DateTime<Utc>>,
    },
    /// What a candidate pack would decide differently about the stored cases: routes, deadlines,
    /// escalations. Changes nothing.
    Replay(crate::cmd::replay::ReplayArgs),
    /// Publish a pack to the running replicas: over HTTP to `--server` with a policy author's token
    /// (only the files of its scope may change), else straight into the `{PREFIX}_PACKS` bucket with
    /// NATS credentials.
    Publish {
        /// The pack directory.
        dir: PathBuf,
        /// A running serve's base URL (`https://lapor.example.go.id`): publish through `POST /v1/packs`.
        #[arg(long)]
        server: Option<String>,
        /// The policy author's bearer token for `--server` (an API token or a JWT).
        #[arg(long, env = "ADUAN_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
}

pub fn run(cmd: PolicyCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let dir = |d: Option<PathBuf>| d.unwrap_or_else(|| config.policy_dir.clone());
    match cmd {
        PolicyCommand::Check { dir: d } => check(&dir(d)),
        PolicyCommand::Access { dir: d } => {
            println!("{}", access_table(&load(&dir(d))?));
            Ok(ExitCode::SUCCESS)
        }
        PolicyCommand::Explain { dir: d, complaint, at } => {
            let pack = load(&dir(d))?;
            explain_file(&pack, &complaint, at)
        }
        PolicyCommand::Publish { dir, server, token } => {
            let target = match (&server, &token) {
                (None, _) => Target::Bucket,
                (Some(url), Some(token)) => Target::Server { url, token },
                (Some(_), None) => bail!("--server needs a policy author's token: --token TOKEN or ADUAN_TOKEN"),
            };
            publish(&dir, target, config)
        }
        PolicyCommand::Test { dir: d } => {
            let dir = dir(d);
            test(&load(&dir)?, &dir)
        }
        PolicyCommand::Replay(args) => crate::cmd::replay::run(args, config),
    }
}

/// The pack for `explain`: statically checked only, so a policy that fails shows where.
fn load(dir: &Path) -> anyhow::Result<Pack> {
    read_pack(dir).map_err(|e| match e {
        LoadError::Invalid(p) => anyhow!("the pack in {} is invalid:\n{p}", dir.display()),
        io => anyhow!(io),
    })
}

/// `policy check DIR`: exit 0, or 1 printing every problem.
pub(super) fn check(dir: &Path) -> anyhow::Result<ExitCode> {
    let Some(pack) = validated(dir)? else { return Ok(ExitCode::FAILURE) };
    println!("ok: pack `{}` {} ({})", pack.manifest.name, pack.hash, dir.display());
    Ok(ExitCode::SUCCESS)
}

/// The pack in `dir` validated as it would be before going live, or `None` after printing each problem
/// on stdout as `file:line:col: message` (`policy check`'s lines).
pub(crate) fn validated(dir: &Path) -> anyhow::Result<Option<Pack>> {
    match load_pack(dir) {
        Ok(pack) => Ok(Some(pack)),
        Err(LoadError::Invalid(problems)) => {
            for p in &problems.0 {
                println!("{p}");
            }
            Ok(None)
        }
        Err(refused @ LoadError::Refused { .. }) => {
            println!("{refused}");
            Ok(None)
        }
        Err(e) => Err(e.into()),
    }
}

/// `policy test`: every case of every `tests/**/*.yaml`, one line per failure, then `N passed, M failed`;
/// exit 1 when one failed, 2 when a test file is malformed (each problem as `file:line:col: message`).
fn test(pack: &Pack, dir: &Path) -> anyhow::Result<ExitCode> {
    let mut files = Vec::new();
    test_files(&dir.join("tests"), &mut files)?;
    files.sort();
    let mut cases = Vec::new();
    let mut malformed = false;
    for path in files {
        let text = std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.strip_prefix(dir).unwrap_or(&path).to_string_lossy().replace('\\', "/");
        match pack_test::parse(&name, &text) {
            Ok(c) => cases.extend(c),
            Err(problems) => {
                malformed = true;
                for p in &problems.0 {
                    eprintln!("error: {p}");
                }
            }
        }
    }
    if malformed {
        return Ok(ExitCode::from(2));
    }
    let mut out = std::io::stdout().lock();
    let (mut passed, mut failed, mut known) = (0, 0, 0);
    for report in pack_test::run(pack, &cases) {
        for line in report.lines() {
            writeln!(out, "{line}")?;
        }
        match report.verdict() {
            Verdict::Passed => passed += 1,
            Verdict::Failed => failed += 1,
            Verdict::KnownIssue => known += 1,
        }
    }
    if known > 0 {
        writeln!(out, "{known} known issues (failing as marked; not counted)")?;
    }
    writeln!(out, "{passed} passed, {failed} failed")?;
    Ok(if failed > 0 { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The `.yaml` and `.yml` files under `dir`, at any depth (none when it does not exist).
fn test_files(dir: &Path, out: &mut Vec<PathBuf>) -> anyhow::Result<()> {
    if !dir.exists() {
        return Ok(());
    }
    for e in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = e?.path();
        if path.is_dir() {
            test_files(&path, out)?;
        } else if path.extension().is_some_and(|x| x == "yaml" || x == "yml") {
            out.push(path);
        }
    }
    Ok(())
}

/// `policy access`: `{"reach": {ROLE: {OPERATION: REACH}}, "token_roles": [...], "actions": {ACTION:
/// {"roles": [...], "from": [...]}}}` (docs/cli.md#policy-access).
fn access_table(pack: &Pack) -> serde_json::Value {
    use aduan_core::access::{reach, Operation, ROLES, TOKEN_ROLES};
    use aduan_core::workflow::KNOWN_ACTIONS;
    use serde_json::{json, Map, Value};
    let row = |role| Operation::ALL.iter().map(|op| (op.as_str().to_owned(), json!(reach(role, *op).id()))).collect();
    let table: Map<String, Value> = ROLES.iter().map(|r| (r.as_str().to_owned(), Value::Object(row(*r)))).collect();
    let actions: Map<String, Value> = KNOWN_ACTIONS
        .iter()
        .filter_map(|a| pack.workflow.action(a))
        .map(|a| {
            let roles: Vec<&str> = a.roles.iter().map(|r| r.as_str()).collect();
            (a.name.clone(), json!({"roles": roles, "from": a.from}))
        })
        .collect();
    json!({"reach": table, "token_roles": TOKEN_ROLES.map(|r| r.as_str()), "actions": actions})
}

/// A submission as `policy explain` reads it: the fields of `POST /v1/complaints`, plus `at` and
/// `investigation`. Unknown fields are errors.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExplainInput {
    kind: Kind,
    channel: Option<String>,
    title: Option<String>,
    #[allow(dead_code)]
    body: Option<String>,
    category: Option<String>,
    region: Option<String>,
    #[allow(dead_code)]
    privacy: Option<String>,
    #[allow(dead_code)]
    reporter: Option<serde_json::Value>,
    #[allow(dead_code)]
    command_id: Option<String>,
    // Read by no policy: the location and the photo do not route a case.
    #[allow(dead_code)]
    location: Option<serde_json::Value>,
    #[allow(dead_code)]
    media_url: Option<String>,
    received_at: Option<DateTime<Utc>>,
    at: Option<DateTime<Utc>>,
    #[serde(default)]
    investigation: bool,
}

/// One explanation, and whether a policy failed while making it.
fn explain_one(pack: &Pack, text: &str, at: Option<DateTime<Utc>>) -> anyhow::Result<(Explanation, bool)> {
    let input: ExplainInput = serde_json::from_str(text).context("the complaint is not a valid submission")?;
    let region = match input.region.as_deref() {
        None => None,
        Some(r) => Some(RegionCode::parse(r).map_err(|e| anyhow!("region: {e}"))?),
    };
    let facts = ComplaintFacts {
        kind: input.kind,
        category: input.category,
        region,
        investigation: input.investigation,
        channel: input.channel.unwrap_or_else(|| "web".into()),
        title: input.title.unwrap_or_default(),
    };
    let at = at.or(input.at).or(input.received_at).unwrap_or_else(Utc::now);
    let mut trace = Vec::new();
    let (route, failed) = explain_route(pack, &facts, at, &mut trace);
    Ok((explain(pack, &facts, at, route, trace), failed.is_some()))
}

fn explain_file(pack: &Pack, file: &Path, at: Option<DateTime<Utc>>) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
    if text.trim().is_empty() {
        bail!("{}: empty file", file.display());
    }
    let mut out = std::io::stdout().lock();
    let mut failed = false;
    if file.extension().is_some_and(|e| e == "jsonl") {
        for (i, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let (v, f) = explain_one(pack, line, at).with_context(|| format!("{}:{}", file.display(), i + 1))?;
            failed |= f;
            writeln!(out, "{}", serde_json::to_string(&v)?)?;
        }
    } else {
        let (v, f) = explain_one(pack, &text, at).with_context(|| file.display().to_string())?;
        failed |= f;
        writeln!(out, "{}", serde_json::to_string_pretty(&v)?)?;
    }
    if failed {
        eprintln!("a policy failed (see route.reason)");
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
