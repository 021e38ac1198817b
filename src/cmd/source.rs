//! `aduan source create | list` (docs/cli.md#source): the source systems connected to Aduan
//! (docs/integrations.md), which need only the database (and the pack's directory, for the agency).

use crate::Config;
use anyhow::anyhow;
use clap::{Args, Subcommand};
use std::process::ExitCode;

/// Source systems.
#[derive(Subcommand, Debug)]
pub enum SourceCommand {
    /// Register a source system and print, once, its integration token (and webhook secret) as one
    /// JSON line `{"name","token_name","agency","token","webhook_url","webhook_secret"}`.
    Create(CreateArgs),
    /// Every source system (never a secret), one JSON line each.
    List,
}

/// `aduan source create`.
#[derive(Args, Debug)]
pub struct CreateArgs {
    /// The name its submissions give as `source.system`, [a-z0-9-]{1,40}.
    pub name: String,
    /// The root of the agency subtree its token reaches (default: kemenpanrb, everything).
    #[arg(long)]
    pub agency: Option<String>,
    /// Where its cases' events are posted as signed webhooks (http or https).
    #[arg(long)]
    pub webhook_url: Option<String>,
    /// For an agency's WhatsApp number: the Meta app's secret, which signs what Meta posts.
    #[arg(long, requires = "whatsapp_verify_token", hide_env_values = true)]
    pub whatsapp_app_secret: Option<String>,
    /// For an agency's WhatsApp number: the verify token of Meta's subscription handshake.
    #[arg(long, requires = "whatsapp_app_secret")]
    pub whatsapp_verify_token: Option<String>,
}

/// Runs a source command.
pub fn run(cmd: SourceCommand, config: &Config) -> anyhow::Result<ExitCode> {
    super::sweep::runtime()?.block_on(async {
        let service = super::sweep::service_keyed(config, true).await?;
        match cmd {
            SourceCommand::Create(a) => {
                let now = aduan_service::clock::now().utc();
                let settings = aduan_service::service::SourceSettings {
                    agency: a.agency.as_deref(),
                    webhook_url: a.webhook_url.as_deref(),
                    whatsapp: a.whatsapp_app_secret.as_deref().zip(a.whatsapp_verify_token.as_deref()),
                };
                let made = service.create_source(&a.name, &settings, now).await.map_err(|e| anyhow!("{e}"))?;
                println!("{}", serde_json::to_string(&made)?);
            }
            SourceCommand::List => {
                for s in service.sources().await.map_err(|e| anyhow!("{e}"))? {
                    println!("{}", serde_json::to_string(&s)?);
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}
