//! `aduan token create | list | revoke` (docs/cli.md#token): API tokens, which need only the database
//! (and the pack's directory, to check an agency).

use crate::Config;
use anyhow::anyhow;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// API tokens.
#[derive(Subcommand, Debug)]
pub enum TokenCommand {
    /// Make a token and print it once, as one JSON line `{"name","role","agency","token"}`.
    Create(CreateArgs),
    /// Every token (never its secret), revoked ones included, one JSON line each.
    List,
    /// Revoke a token by name: it stops working at once, on every replica.
    Revoke {
        /// The token's name.
        name: String,
    },
}

/// `aduan token create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// admin, officer, supervisor, policy_author or integration.
    #[arg(long)]
    pub role: String,
    /// The root of the agency subtree the token reaches (default: kemenpanrb, everything).
    #[arg(long)]
    pub agency: Option<String>,
    /// A name for the history and for revoking, [a-z0-9._-]{1,64} (default: the role and a random suffix).
    #[arg(long)]
    pub name: Option<String>,
}

/// Runs a token command.
pub fn run(cmd: TokenCommand, config: &Config) -> anyhow::Result<ExitCode> {
    super::sweep::runtime()?.block_on(async {
        let service = super::sweep::service(config).await?;
        let now = aduan_service::clock::now().utc();
        match cmd {
            TokenCommand::Create(a) => {
                let made = service
                    .create_token(&a.role, a.agency.as_deref(), a.name.as_deref(), now)
                    .await
                    .map_err(|e| anyhow!("{e}"))?;
                println!("{}", serde_json::to_string(&made)?);
            }
            TokenCommand::List => {
                for t in service.tokens().await.map_err(|e| anyhow!("{e}"))? {
                    println!("{}", serde_json::to_string(&t)?);
                }
            }
            TokenCommand::Revoke { name } => {
                service.revoke_token(&name, now).await.map_err(|e| anyhow!("{e}"))?;
                eprintln!("revoked {name}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
