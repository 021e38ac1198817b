//! `--config FILE`: a YAML file holding any of the settings the flags and variables take
//! (docs/configuration.md#config-file). It sits under both: a flag wins over its variable, the variable
//! over the file, the file over the default. Parsed strictly by the same YAML reader as the packs
//! (`aduan_core::problem::parse_yaml`): an unknown key, a wrong type or a duplicate key is an error
//! naming the file, line and column.

use crate::cmd::serve::ServeArgs;
use crate::{Config, LogFormat};
use clap::parser::ValueSource;
use clap::ArgMatches;
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// The largest configuration file read (it is a handful of lines).
const MAX_BYTES: u64 = 1024 * 1024;

/// Every key a configuration file may hold: the flags' names with `_` for `-`. Absent keys leave the
/// variable or the default in place.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    database_url: Option<String>,
    nats_url: Option<String>,
    http_addr: Option<String>,
    policy_dir: Option<PathBuf>,
    nats_prefix: Option<String>,
    data_key: Option<String>,
    rate_limit: Option<u32>,
    log_format: Option<LogFormat>,
    /// The log filter, as `RUST_LOG` takes it (the variable wins).
    log: Option<String>,
    jwks_file: Option<PathBuf>,
    jwks_url: Option<String>,
    jwt_issuer: Option<String>,
    jwt_audience: Option<String>,
    jwt_role_claim: Option<String>,
    jwt_agency_claim: Option<String>,
    jwt_name_claim: Option<String>,
    oidc_client_id: Option<String>,
    oidc_client_secret: Option<String>,
    /// `serve --pack-poll`.
    pack_poll: Option<u64>,
    /// `serve --nats-replicas` (1 to 5; another value stops serve when it connects).
    nats_replicas: Option<u8>,
    /// `serve --nats-duplicate-window` (seconds, at least 1).
    nats_duplicate_window: Option<u64>,
    /// `serve --webhook-attempts` (1 to 100).
    webhook_attempts: Option<u32>,
    /// `serve --webhook-backoff-ms` (at least 1).
    webhook_backoff_ms: Option<u64>,
}

impl FileConfig {
    /// Reads and parses `path`; the error names the file (and the line and column, when it parsed).
    pub fn load(path: &Path) -> Result<FileConfig, String> {
        let name = path.display().to_string();
        let size = std::fs::metadata(path).map_err(|e| format!("{name}: cannot read: {e}"))?.len();
        if size > MAX_BYTES {
            return Err(format!("{name}: over {MAX_BYTES} bytes; not a configuration file"));
        }
        let text = std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read: {e}"))?;
        if text.trim().is_empty() {
            return Ok(FileConfig::default());
        }
        aduan_core::problem::parse_yaml(&name, &text).map_err(|e| with_key(&name, &text, e.to_string().trim_end()))
    }

    /// The log filter the file names, if any.
    pub fn log_filter(&self) -> Option<&str> {
        self.log.as_deref()
    }

    /// Fills in `config` (and `serve`'s `pack_poll`, `nats_replicas` and `nats_duplicate_window`) from the file, for every
    /// setting that neither a flag nor a variable gave (`matches` tell which did).
    pub fn apply(self, config: &mut Config, serve: Option<&mut ServeArgs>, matches: &ArgMatches) {
        let unset = |id: &str| from_default(matches, id);
        macro_rules! take {
            ($($target:expr => $key:ident),* $(,)?) => {$(
                if let Some(v) = self.$key {
                    if unset(stringify!($key)) {
                        $target = v;
                    }
                }
            )*};
        }
        macro_rules! take_opt {
            ($($target:expr => $key:ident),* $(,)?) => {$(
                if self.$key.is_some() && unset(stringify!($key)) {
                    $target = self.$key;
                }
            )*};
        }
        take! {
            config.database_url => database_url,
            config.nats_url => nats_url,
            config.http_addr => http_addr,
            config.policy_dir => policy_dir,
            config.nats_prefix => nats_prefix,
            config.rate_limit => rate_limit,
            config.log_format => log_format,
            config.oidc.jwt_role_claim => jwt_role_claim,
            config.oidc.jwt_agency_claim => jwt_agency_claim,
            config.oidc.jwt_name_claim => jwt_name_claim,
        }
        take_opt! {
            config.data_key => data_key,
            config.oidc.jwks_url => jwks_url,
            config.oidc.jwt_issuer => jwt_issuer,
            config.oidc.jwt_audience => jwt_audience,
            config.oidc.oidc_client_id => oidc_client_id,
            config.oidc.oidc_client_secret => oidc_client_secret,
        }
        // A JWKS file from the file gives way to a JWKS URL from a flag or variable, as the two
        // exclude each other.
        if self.jwks_file.is_some() && unset("jwks_file") && unset("jwks_url") {
            config.oidc.jwks_file = self.jwks_file;
        }
        if let Some(args) = serve {
            let serve = matches.subcommand_matches("serve");
            let unset = |id: &str| serve.is_none_or(|m| from_default(m, id));
            if let Some(v) = self.pack_poll.filter(|_| unset("pack_poll")) {
                args.pack_poll = v;
            }
            if let Some(v) = self.nats_replicas.filter(|_| unset("nats_replicas")) {
                args.nats_replicas = v;
            }
            if let Some(v) = self.nats_duplicate_window.filter(|_| unset("nats_duplicate_window")) {
                args.nats_duplicate_window = v;
            }
            if let Some(v) = self.webhook_attempts.filter(|_| unset("webhook_attempts")) {
                args.webhook_attempts = v.clamp(1, 100);
            }
            if let Some(v) = self.webhook_backoff_ms.filter(|_| unset("webhook_backoff_ms")) {
                args.webhook_backoff_ms = v.max(1);
            }
        }
    }
}

/// `error` (`FILE:LINE:COL: message`) naming the key of its line when the parser's message does not
/// (a wrong type says only `invalid u32`): every key of the file is at the top level, so the key is
/// what stands before the line's first `:`.
fn with_key(name: &str, text: &str, error: &str) -> String {
    let parsed = error.strip_prefix(name).and_then(|r| r.strip_prefix(':')).and_then(|r| {
        let (line, r) = r.split_once(':')?;
        let (col, message) = r.split_once(':')?;
        Some((line.parse::<usize>().ok()?, col, message.trim()))
    });
    let Some((line, col, message)) = parsed else { return error.to_owned() };
    let key = text.lines().nth(line.saturating_sub(1)).and_then(|l| l.split_once(':')).map(|(k, _)| k.trim());
    match key {
        Some(key) if !key.is_empty() && !key.starts_with('#') && !message.contains(key) => {
            format!("{name}:{line}:{col}: {key}: {message}")
        }
        _ => error.to_owned(),
    }
}

/// Whether the argument `id` took its default (or nothing): neither a flag nor a variable set it.
fn from_default(matches: &ArgMatches, id: &str) -> bool {
    !matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
}
