//! Source systems (docs/integrations.md): a city's own hotline or app registered with an integration
//! token of its own (`aduan source create`), and the check that a submission's source reference is
//! its own token's.

use super::auth::{check_case, denied};
use super::{Caller, Service, ServiceError};
use crate::crypto::new_token;
use crate::store::{FailedWebhook, SourceRow, StoreError};
use crate::wire::{text, SourceRef};
use aduan_core::access::{self, Operation};
use aduan_core::case::Actor;
use chrono::{DateTime, Utc};

/// Longest source name: its token is named `source-NAME`, and token names have 64 characters.
const MAX_NAME: usize = 40;

/// A webhook delivery given up after its last attempt, as the dashboard lists it: the delivery and
/// its case's tracking id.
#[derive(Debug, Clone, serde::Serialize)]
pub struct FailedWebhookView {
    /// The case's tracking id.
    pub tracking_id: String,
    /// The delivery.
    #[serde(flatten)]
    pub delivery: FailedWebhook,
}

/// How many dead-lettered deliveries the dashboard lists.
const FAILED_LISTED: i64 = 200;

/// A source just registered: its integration token and webhook secret, each shown once.
#[derive(Debug, Clone, serde::Serialize)]
pub struct NewSource {
    /// The name submissions give as `source.system`.
    pub name: String,
    /// The integration token's name (`source-NAME`).
    pub token_name: String,
    /// The agency subtree the token reaches.
    pub agency: String,
    /// The integration token's secret.
    pub token: String,
    /// Where its cases' events are posted, if anywhere.
    pub webhook_url: Option<String>,
    /// The key of the webhooks' HMAC-SHA256 signatures, when there is a webhook.
    pub webhook_secret: Option<String>,
}

/// A registered source, without secrets (`aduan source list`).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceInfo {
    /// The name submissions give as `source.system`.
    pub name: String,
    /// The integration token it submits with.
    pub token_name: String,
    /// Where its cases' events are posted, if anywhere.
    pub webhook_url: Option<String>,
    /// When it was registered.
    pub created_at: DateTime<Utc>,
}

/// How a new source is set up (`aduan source create`'s options).
#[derive(Debug, Clone, Copy, Default)]
pub struct SourceSettings<'a> {
    /// The root of the subtree its token reaches (the root when none).
    pub agency: Option<&'a str>,
    /// Where its cases' events are posted.
    pub webhook_url: Option<&'a str>,
    /// For an agency's WhatsApp number: the Meta app's secret and the subscription's verify token
    /// (docs/integrations.md#whatsapp).
    pub whatsapp: Option<(&'a str, &'a str)>,
}

impl Service {
    /// Registers source `name` (`[a-z0-9-]`, at most 40 characters, not taken) with a new integration
    /// token reaching `settings.agency` and, with a webhook URL, a webhook secret.
    pub async fn create_source(
        &self,
        name: &str,
        settings: &SourceSettings<'_>,
        now: DateTime<Utc>,
    ) -> Result<NewSource, ServiceError> {
        let SourceSettings { agency, webhook_url, whatsapp } = *settings;
        let plain = name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if name.is_empty() || name.len() > MAX_NAME || !plain {
            return Err(ServiceError::invalid("name", format!("`{name}` is not [a-z0-9-]{{1,{MAX_NAME}}}")));
        }
        if let Some(why) = webhook_url.and_then(text::url_refusal) {
            return Err(ServiceError::invalid("webhook_url", why));
        }
        if let Some((secret, verify)) = whatsapp {
            for (field, value) in [("whatsapp_app_secret", secret), ("whatsapp_verify_token", verify)] {
                if value.trim().is_empty() || value.len() > text::SHORT || value.contains('\0') {
                    return Err(ServiceError::invalid(field, "1 to 200 characters, no NUL"));
                }
            }
        }
        if self.inner.store.source(name).await?.is_some() {
            return Err(taken(name));
        }
        let token = self.create_token("integration", agency, Some(&format!("source-{name}")), now).await?;
        let secret = webhook_url.map(|_| new_token());
        let row = SourceRow {
            name: name.to_owned(),
            token_name: token.name.clone(),
            webhook_url: webhook_url.map(str::to_owned),
            webhook_secret: secret.as_deref().map(|s| self.inner.key.seal(s)),
            whatsapp_app_secret: whatsapp.map(|(s, _)| self.inner.key.seal(s)),
            whatsapp_verify_sha256: whatsapp.map(|(_, v)| crate::crypto::sha256_hex(v.as_bytes())),
            created_at: now,
        };
        match self.inner.store.insert_source(&row).await {
            Err(StoreError::Conflict(_)) => return Err(taken(name)),
            other => other?,
        }
        Ok(NewSource {
            name: row.name,
            token_name: token.name,
            agency: token.agency,
            token: token.token,
            webhook_url: row.webhook_url,
            webhook_secret: secret,
        })
    }

    /// Every registered source, by name; no secret.
    pub async fn sources(&self) -> Result<Vec<SourceInfo>, ServiceError> {
        let rows = self.inner.store.sources().await?;
        Ok(rows
            .into_iter()
            .map(|r| SourceInfo {
                name: r.name,
                token_name: r.token_name,
                webhook_url: r.webhook_url,
                created_at: r.created_at,
            })
            .collect())
    }

    /// The latest dead-lettered webhook deliveries of the cases an admin reaches, newest first (403 for
    /// any other role).
    pub async fn failed_webhooks(&self, caller: &Caller) -> Result<Vec<FailedWebhookView>, ServiceError> {
        let actor = caller.actor()?;
        access::check(&self.pack().directory, &actor, Operation::ReadDeliveries, None)
            .map_err(|d| denied(d, ServiceError::Forbidden))?;
        let mut seen = Vec::new();
        for f in self.inner.store.failed_webhooks(FAILED_LISTED).await? {
            let Some(row) = self.inner.store.case_by_id(&f.complaint_id).await? else { continue };
            if check_case(self, &actor, Operation::ReadDeliveries, &row).is_ok() {
                seen.push(FailedWebhookView { tracking_id: row.tracking_id, delivery: f });
            }
        }
        Ok(seen)
    }

    /// The caller an import of source `name` files as: the source's own integration token (`aduan
    /// import`); refused when the source is unknown or its token revoked.
    pub async fn source_caller(&self, name: &str) -> Result<Caller, ServiceError> {
        let source = self
            .inner
            .store
            .source(name)
            .await?
            .ok_or_else(|| ServiceError::invalid("source", format!("no source system `{name}` is registered")))?;
        self.caller_of(&source).await
    }

    /// The caller `source` files as: its own integration token (403 when revoked).
    pub(super) async fn caller_of(&self, source: &SourceRow) -> Result<Caller, ServiceError> {
        let revoked =
            || ServiceError::Forbidden(format!("the integration token of source `{}` is revoked", source.name));
        let token = self.inner.store.token_by_name(&source.token_name).await?.ok_or_else(revoked)?;
        if token.revoked_at.is_some() {
            return Err(revoked());
        }
        Ok(Caller::Principal(self.token_actor(&token)?))
    }

    /// A submission's source reference must name a registered source, and come with its token.
    pub(super) async fn check_source(&self, src: &SourceRef, actor: &Actor) -> Result<(), ServiceError> {
        let source = self.inner.store.source(&src.system).await?.ok_or_else(|| {
            ServiceError::invalid("source.system", format!("no source system `{}` is registered", src.system))
        })?;
        if actor.name != source.token_name {
            return Err(ServiceError::Forbidden(format!(
                "a submission from source `{}` comes with that source's own integration token",
                src.system
            )));
        }
        if src.id.trim().is_empty() {
            return Err(ServiceError::invalid("source.id", "empty"));
        }
        Ok(())
    }
}

fn taken(name: &str) -> ServiceError {
    ServiceError::invalid("name", format!("a source named `{name}` exists already"))
}
