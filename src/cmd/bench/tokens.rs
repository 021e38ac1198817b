//! The bench's API tokens, as a deployment would hand them out: one national admin verifies; each
//! agency's officer (a token made the first time a case reaches it, outside any command's timing but
//! inside the run, so its one write counts against throughput) acts for the holder.

use aduan_service::service::Service;
use anyhow::anyhow;
use chrono::Utc;
use std::collections::HashMap;

pub(super) struct Tokens {
    service: Service,
    pub admin: String,
    officers: tokio::sync::Mutex<HashMap<String, String>>,
}

impl Tokens {
    pub(super) async fn new(service: Service) -> anyhow::Result<Self> {
        let admin = service.create_token("admin", None, None, Utc::now()).await.map_err(|e| anyhow!("{e}"))?.token;
        Ok(Self { service, admin, officers: tokio::sync::Mutex::default() })
    }

    /// The token of an officer of `agency`.
    pub(super) async fn officer_of(&self, agency: &str) -> anyhow::Result<String> {
        let mut officers = self.officers.lock().await;
        if let Some(t) = officers.get(agency) {
            return Ok(t.clone());
        }
        let made = self.service.create_token("officer", Some(agency), None, Utc::now()).await;
        let token = made.map_err(|e| anyhow!("an officer token for {agency}: {e}"))?.token;
        officers.insert(agency.to_owned(), token.clone());
        Ok(token)
    }
}
