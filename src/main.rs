//! `aduan`: the one binary. A thin CLI over the service and core crates; each command lives in its own
//! file under `src/cmd/`.

mod cmd;

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Aduan: public-service complaint handling in the style of SP4N-LAPOR!. Routes complaints to the
/// agency with the authority, counts deadlines in working days on the right regional calendar, and
/// escalates silent cases up the hierarchy.
#[derive(Parser, Debug)]
#[command(name = "aduan", version, propagate_version = true)]
struct Cli {
    #[command(flatten)]
    config: Config,
    #[command(subcommand)]
    command: Command,
}

/// Configuration (docs/configuration.md): environment variables, overridden by flags of the same name.
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
}

/// How logs are written to stderr.
#[derive(ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
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
    /// The benchmark suite.
    Bench(cmd::bench::BenchArgs),
}

#[derive(Subcommand, Debug)]
enum AuditCommand {
    /// Walk every case's hash chain; exit 1 naming any case whose history was altered.
    Verify(cmd::audit::VerifyArgs),
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.config.log_format);
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
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}
