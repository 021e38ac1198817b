//! The bench's API tokens, as a deployment would hand them out: one national admin verifies; each
//! agency's officer (a token made the first time a case reaches it, outside any command's timing but
//! inside the run, so its one write counts against throughput) acts for the holder.

use aduan_service::service::Service;
use anyhow::anyhow;
use chrono::Utc;
use std::collections::HashMap;
use std::sync::Mutex;

pub(super) struct Tokens {
    service: Service,
    pub admin: String,
    officers: Mutex<HashMap<String, String>>,
}

impl Tokens {
    pub(super) async fn new(service: Service) -> anyhow::Result<Self> {
        let admin = service.create_token("admin", None, None, Utc::now()).await.map_err(|e| anyhow!("{e}"))?.token;
        Ok(Self { service, admin, officers: Mutex::default() })
    }

    /// The token of an officer of `agency`, made on first use. Two clients that reach a new agency at
    /// once may both make one (the first kept wins): cheaper than making every client wait for a write.
    pub(super) async fn officer_of(&self, agency: &str) -> anyhow::Result<String> {
        if let Some(t) = self.officers.lock().unwrap().get(agency) {
            return Ok(t.clone());
        }
        let made = self.service.create_token("officer", Some(agency), None, Utc::now()).await;
        let token = made.map_err(|e| anyhow!("an officer token for {agency}: {e}"))?.token;
        Ok(self.officers.lock().unwrap().entry(agency.to_owned()).or_insert(token).clone())
    }

    /// How many agencies' officers have a token.
    pub(super) fn officers(&self) -> usize {
        self.officers.lock().unwrap().len()
    }
}
