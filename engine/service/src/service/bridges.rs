//! Channel bridges (docs/integrations.md#bridges): a message a channel's gateway received becomes a
//! submission like any other, filed through `submit` as the gateway's own source, with the message's
//! id as its source reference (a gateway's retry files nothing new). What a message lacks (category,
//! region) the verifier fills in at verification: nothing is dropped for being incomplete.

use super::{Caller, Reply, Service, ServiceError};
use crate::wire::whatsapp::Notification;
use crate::wire::{text, Reporter, SmsMessage, SourceRef, Submission};
use aduan_core::region::RegionCode;
use aduan_core::time::Timestamp;

/// Longest title taken from a message's first line, in characters.
const TITLE: usize = 80;
/// The keywords an SMS may start with (`LAPOR jalan rusak …`), dropped from the text.
const KEYWORDS: [&str; 3] = ["lapor", "aduan", "1708"];

/// What one WhatsApp notification came to: the messages filed, and those skipped (not text, or
/// refused) with Meta still answered 200, so that it does not post them again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct BridgeOutcome {
    /// Messages filed, or found filed before (a retry).
    pub filed: usize,
    /// Messages not filed.
    pub skipped: usize,
}

/// The `object` of a WhatsApp Business notification.
const WHATSAPP_OBJECT: &str = "whatsapp_business_account";

impl Service {
    /// Files the text message `msg` from the SMS gateway that `caller` authenticates as (a registered
    /// source's integration token): channel `sms`, the sender as the reporter's contact, a region
    /// code the text names after `#` (`#33.74`), the text's first line as the title.
    pub async fn receive_sms(&self, msg: SmsMessage, caller: &Caller, now: Timestamp) -> Result<Reply, ServiceError> {
        let actor = caller.actor()?;
        if *caller == Caller::Public {
            return Err(ServiceError::Unauthenticated("a gateway posts with its source's integration token".into()));
        }
        let source = self.inner.store.source_by_token(&actor.name).await?.ok_or_else(|| {
            ServiceError::Forbidden("only a registered source's own token posts messages (aduan source create)".into())
        })?;
        let sub = message_submission("sms", source.name, msg.from, &msg.text, msg.id)?;
        self.submit(sub, None, caller, now).await
    }

    /// Meta's subscription handshake for the WhatsApp number `source`: fine when `mode` is
    /// `subscribe` and `token` is the source's verify token; 403 otherwise.
    pub async fn whatsapp_handshake(
        &self,
        source: &str,
        mode: Option<&str>,
        token: Option<&str>,
    ) -> Result<(), ServiceError> {
        let refused = || ServiceError::Forbidden("the verify token does not match this WhatsApp number's".into());
        let row = self.inner.store.source(source).await?.ok_or_else(refused)?;
        let expected = row.whatsapp_verify_sha256.ok_or_else(refused)?;
        match (mode, token) {
            (Some("subscribe"), Some(t)) if crate::crypto::sha256_hex(t.as_bytes()) == expected => Ok(()),
            _ => Err(refused()),
        }
    }

    /// A notification Meta posted for the WhatsApp number `source`, signed in `signature`
    /// (`X-Hub-Signature-256: sha256=HEX`, the HMAC-SHA256 of the body under the app's secret): each
    /// text message filed as the source, on channel `whatsapp`. 401 when the signature does not
    /// verify, 404 for a source that is no WhatsApp number, 422 for a body that is no notification.
    pub async fn receive_whatsapp(
        &self,
        source: &str,
        body: &[u8],
        signature: Option<&str>,
        now: Timestamp,
    ) -> Result<BridgeOutcome, ServiceError> {
        let unknown = || ServiceError::NotFound(format!("no WhatsApp number `{source}` is registered"));
        let row = self.inner.store.source(source).await?.ok_or_else(unknown)?;
        let sealed = row.whatsapp_app_secret.as_deref().ok_or_else(unknown)?;
        let secret =
            self.inner.key.open(sealed).map_err(|_| ServiceError::Internal("the app secret does not open".into()))?;
        if !signed_by(secret.as_bytes(), body, signature) {
            return Err(ServiceError::Unauthenticated("the X-Hub-Signature-256 signature does not verify".into()));
        }
        let note: Notification = serde_json::from_slice(body)
            .map_err(|e| ServiceError::invalid("body", format!("not a WhatsApp notification: {e}")))?;
        if note.object != WHATSAPP_OBJECT {
            return Err(ServiceError::invalid("object", format!("not `{WHATSAPP_OBJECT}`")));
        }
        let caller = self.caller_of(&row).await?;
        let mut outcome = BridgeOutcome::default();
        let messages = note.entry.into_iter().flat_map(|e| e.changes).flat_map(|c| c.value.messages);
        for m in messages {
            let filed = match (m.kind.as_str(), m.text) {
                ("text", Some(text)) => {
                    match message_submission("whatsapp", source.to_owned(), m.from, &text.body, m.id.clone()) {
                        Ok(sub) => self.submit(sub, None, &caller, now).await.map(|_| ()),
                        Err(e) => Err(e),
                    }
                }
                _ => Err(ServiceError::invalid("type", "only text messages are filed")),
            };
            match filed {
                Ok(()) => outcome.filed += 1,
                Err(e) => {
                    tracing::info!(source, message_id = %m.id.chars().take(100).collect::<String>(), error = %e, "WhatsApp message not filed");
                    outcome.skipped += 1;
                }
            }
        }
        Ok(outcome)
    }
}

/// Whether `signature` (`sha256=HEX`) is the HMAC-SHA256 of `body` under `secret` (compared in
/// constant time by the hmac crate).
fn signed_by(secret: &[u8], body: &[u8], signature: Option<&str>) -> bool {
    use hmac::{Hmac, Mac};
    let Some(hex) = signature.and_then(|s| s.strip_prefix("sha256=")) else { return false };
    let Some(bytes) = decode_hex(hex) else { return false };
    let Ok(mut mac) = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret) else { return false };
    mac.update(body);
    mac.verify_slice(&bytes).is_ok()
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if hex.len() != 64 {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

/// A message of `channel` from `from` as a submission of source `system` with reference `id`.
fn message_submission(
    channel: &str,
    system: String,
    from: String,
    text: &str,
    id: String,
) -> Result<Submission, ServiceError> {
    let text = without_keyword(text).trim().to_owned();
    if text.is_empty() {
        return Err(ServiceError::invalid("text", "empty"));
    }
    for (field, value) in [("from", &from), ("id", &id)] {
        if let Some(why) = text::refusal(value, text::SHORT) {
            return Err(ServiceError::invalid(field, why));
        }
    }
    Ok(Submission {
        kind: "pengaduan".into(),
        channel: channel.into(),
        title: title_of(&text),
        region: region_in(&text),
        body: text,
        category: None,
        privacy: None,
        reporter: Some(Reporter { name: None, contact: Some(from) }),
        command_id: None,
        received_at: None,
        location: None,
        media_url: None,
        source: Some(SourceRef { system, id, url: None }),
    })
}

/// The text without a leading keyword (`LAPOR`, `ADUAN`, `1708`, any case, then a space, `#` or `:`).
fn without_keyword(text: &str) -> &str {
    let trimmed = text.trim_start();
    for k in KEYWORDS {
        if let Some(head) = trimmed.get(..k.len()).filter(|h| h.eq_ignore_ascii_case(k)) {
            let rest = &trimmed[head.len()..];
            if rest.is_empty() || rest.starts_with([' ', '#', ':', '\n']) {
                return rest.trim_start_matches([' ', ':']);
            }
        }
    }
    trimmed
}

/// The first line without region tags, at most [`TITLE`] characters.
fn title_of(text: &str) -> String {
    let untagged: Vec<String> = text
        .lines()
        .map(|l| l.split_whitespace().filter(|w| !w.starts_with('#')).collect::<Vec<_>>().join(" "))
        .collect();
    text::headline(&untagged.join("\n"), TITLE).unwrap_or_else(|| "Laporan SMS".to_owned())
}

/// The first `#CODE` of the text that is a well-formed Kemendagri region code.
fn region_in(text: &str) -> Option<String> {
    text.split_whitespace()
        .filter_map(|w| w.strip_prefix('#'))
        .map(|w| w.trim_end_matches(|c: char| !c.is_ascii_digit()))
        .find_map(|w| RegionCode::parse(w).ok())
        .map(|r| r.as_str().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_gives_its_keyword_title_and_region() {
        let text = without_keyword("LAPOR #33.74 Lampu jalan di Jl. Pemuda mati sudah seminggu");
        assert_eq!(text, "#33.74 Lampu jalan di Jl. Pemuda mati sudah seminggu");
        assert_eq!(title_of(text), "Lampu jalan di Jl. Pemuda mati sudah seminggu");
        assert_eq!(region_in(text).as_deref(), Some("33.74"));
        assert_eq!(without_keyword("laporan banjir"), "laporan banjir", "a keyword is a whole word");
        assert_eq!(region_in("banjir di #semarang, #35.78."), Some("35.78".to_owned()));
        assert_eq!(region_in("nomor 12 rt 3"), None);
        assert_eq!(title_of(&"x".repeat(200)).chars().count(), TITLE);
        assert_eq!(title_of("#33.74"), "Laporan SMS");
    }
}
