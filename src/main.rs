//! `aduan`: the one binary. A thin CLI over the service and core crates; each command lives in its own
//! file under `src/cmd/`.

mod cmd;
mod config;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Aduan: public-service complaint handling in the style of SP4N-LAPOR!. Routes complaints to the
/// agency with the authority, counts deadlines in working days on the right regional calendar, and
/// escalates silent cases up the hierarchy.
#[derive(Parser, Debug)]
#[command(name = "aduan", version, propagate_version = true)]
struct Cli {
    /// A YAML file of settings, under the variables and flags (docs/configuration.md#config-file).
    #[arg(long = "config", global = true, env = "ADUAN_CONFIG", value_name = "FILE")]
    config_file: Option<PathBuf>,
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

/// Configuration (docs/configuration.md): flags over environment variables over the `--config` file
/// over the defaults.
#[derive(Args, Debug, Clone)]
pub struct Config {
    /// Database URL: sqlite://PATH or postgres://…
    #[arg(long, global = true, env = "ADUAN_DATABASE_URL", default_value = "sqlite://data/aduan.db")]
    pub database_url: String,
    /// NATS server URL.
    #[arg(long, global = true, env = "ADUAN_NATS_URL", default_value = "nats://127.0.0.1:4222")]
    pub nats_url: String,
    /// Address the HTTP API listens on.
    #[arg(long, global = true, env = "ADUAN_HTTP_ADDR", default_value = "127.0.0.1:8080")]
    pub http_addr: String,
    /// The active policy pack directory.
    #[arg(long, global = true, env = "ADUAN_POLICY_DIR", default_value = "policies/lapor")]
    pub policy_dir: PathBuf,
    /// Prefix of every NATS subject, stream and bucket.
    #[arg(long, global = true, env = "ADUAN_NATS_PREFIX", default_value = "aduan")]
    pub nats_prefix: String,
    /// 32 bytes, base64: seals anonymous reporters' identities. Unset: generated into data/aduan.key on
    /// SQLite; required on PostgreSQL.
    #[arg(long, global = true, env = "ADUAN_DATA_KEY", hide_env_values = true)]
    pub data_key: Option<String>,
    /// Submissions and reads by tracking id per minute per client IP (per token, with one); 0 turns it off.
    #[arg(long, global = true, env = "ADUAN_RATE_LIMIT", default_value_t = 60)]
    pub rate_limit: u32,
    /// Log format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Single sign-on (docs/access.md#single-sign-on).
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// OIDC JWT bearer tokens: off unless a JWKS file or URL is given.
#[derive(Args, Debug, Clone)]
pub struct OidcArgs {
    /// A JWKS file holding the identity provider's signing keys.
    #[arg(long, global = true, env = "ADUAN_JWKS_FILE", conflicts_with = "jwks_url")]
    pub jwks_file: Option<PathBuf>,
    /// The identity provider's JWKS URL (https; refetched when a token names an unknown key).
    #[arg(long, global = true, env = "ADUAN_JWKS_URL")]
    pub jwks_url: Option<String>,
    /// The `iss` every token must carry (required with a JWKS).
    #[arg(long, global = true, env = "ADUAN_JWT_ISSUER")]
    pub jwt_issuer: Option<String>,
    /// The audience every token must name (required with a JWKS).
    #[arg(long, global = true, env = "ADUAN_JWT_AUDIENCE")]
    pub jwt_audience: Option<String>,
    /// The claim holding the role (admin, officer, supervisor, policy_author, integration).
    #[arg(long, global = true, env = "ADUAN_JWT_ROLE_CLAIM", default_value = "aduan_role")]
    pub jwt_role_claim: String,
    /// The claim holding the agency id the token reaches.
    #[arg(long, global = true, env = "ADUAN_JWT_AGENCY_CLAIM", default_value = "aduan_agency")]
    pub jwt_agency_claim: String,
    /// The claim naming the caller in the history (`sub` when absent).
    #[arg(long, global = true, env = "ADUAN_JWT_NAME_CLAIM", default_value = "preferred_username")]
    pub jwt_name_claim: String,
    /// The dashboard's client id at the identity provider: turns on sign-in by redirect (needs a JWKS).
    #[arg(long, global = true, env = "ADUAN_OIDC_CLIENT_ID")]
    pub oidc_client_id: Option<String>,
    /// The dashboard's client secret (none for a public client, which PKCE alone protects).
    #[arg(long, global = true, env = "ADUAN_OIDC_CLIENT_SECRET", hide_env_values = true)]
    pub oidc_client_secret: Option<String>,
}

/// How logs are written to stderr.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable.
    Pretty,
    /// One JSON object per line.
    Json,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// HTTP API, NATS command consumer, outbox relay and cron workers in one process.
    Serve(cmd::serve::ServeArgs),
    /// Apply the database migrations and exit.
    Migrate,
    /// One deadline sweep as of an instant: warnings, escalations, auto-closes.
    Sweep(cmd::sweep::SweepArgs),
    /// Write N complete, hash-chained cases with their timers (benchmarks, demos).
    Seed(cmd::sweep::SeedArgs),
    /// The morning digest as of an instant: per agency, what falls due today, inside its working hours.
    Digest(cmd::digest::DigestArgs),
    /// Policy pack tools: check, test, explain, replay, publish.
    #[command(subcommand)]
    Policy(cmd::policy::PolicyCommand),
    /// Audit tools.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// API tokens: create, list, revoke.
    #[command(subcommand)]
    Token(cmd::token::TokenCommand),
    /// Bring a source system's existing complaints in, from CSV or JSON lines, with their original dates.
    Import(cmd::import::ImportArgs),
    /// Source systems (a city's own hotline or app): create, list.
    #[command(subcommand)]
    Source(cmd::source::SourceCommand),
    /// The benchmark suite.
    Bench(cmd::bench::BenchArgs),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk every case's hash chain; exit 1 naming any case whose history was altered.
    Verify(cmd::audit::VerifyArgs),
}

/// Logs to stderr: colours only when stderr is a terminal (a file, a pipe or a journal gets plain text).
/// The filter is `RUST_LOG`, else the config file's `log`, else `info`.
fn init_logging(format: LogFormat, file_filter: Option<&str>) {
    use std::io::IsTerminal;
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| file_filter.unwrap_or("info").into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

/// The command line with the `--config` file applied under it; a bad file is a usage error (exit 2).
fn parse() -> Result<(Cli, Option<String>), ExitCode> {
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    let Some(path) = cli.config_file.clone() else { return Ok((cli, None)) };
    let file = config::FileConfig::load(&path).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })?;
    let filter = file.log_filter().map(str::to_owned);
    let serve = match &mut cli.command {
        Command::Serve(args) => Some(args),
        _ => None,
    };
    file.apply(&mut cli.config, serve, &matches);
    Ok((cli, filter))
}

fn main() -> ExitCode {
    let (cli, file_filter) = match parse() {
        Ok(parsed) => parsed,
        Err(code) => return code,
    };
    init_logging(cli.config.log_format, file_filter.as_deref());
    let result = match cli.command {
        Command::Policy(p) => cmd::policy::run(p, &cli.config),
        Command::Serve(args) => cmd::serve::run(args, &cli.config),
        Command::Migrate => cmd::serve::migrate(&cli.config),
        Command::Bench(args) => cmd::bench::run(args, &cli.config),
        Command::Audit(AuditCommand::Verify(args)) => cmd::audit::verify(args, &cli.config),
        Command::Sweep(args) => cmd::sweep::sweep(args, &cli.config),
        Command::Seed(args) => cmd::sweep::seed(args, &cli.config),
        Command::Digest(args) => cmd::digest::run(args, &cli.config),
        Command::Token(t) => cmd::token::run(t, &cli.config),
        Command::Source(s) => cmd::source::run(s, &cli.config),
        Command::Import(i) => cmd::import::run(i, &cli.config),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
