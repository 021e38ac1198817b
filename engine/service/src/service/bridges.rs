//! Channel bridges (docs/integrations.md#bridges): a message a channel's gateway received becomes a
//! submission like any other, filed through `submit` as the gateway's own source, with the message's
//! id as its source reference (a gateway's retry files nothing new). What a message lacks (category,
//! region) the verifier fills in at verification: nothing is dropped for being incomplete.

use super::{Caller, Reply, Service, ServiceError};
use crate::wire::{Reporter, SmsMessage, SourceRef, Submission};
use aduan_core::region::RegionCode;
use aduan_core::time::Timestamp;

/// Longest title taken from a message's first line, in characters.
const TITLE: usize = 80;
/// The keywords an SMS may start with (`LAPOR jalan rusak …`), dropped from the text.
const KEYWORDS: [&str; 3] = ["lapor", "aduan", "1708"];

impl Service {
    /// Files the text message `msg` from the SMS gateway that `caller` authenticates as (a registered
    /// source's integration token): channel `sms`, the sender as the reporter's contact, a region
    /// code the text names after `#` (`#33.74`), the text's first line as the title.
    pub async fn receive_sms(&self, msg: SmsMessage, caller: &Caller, now: Timestamp) -> Result<Reply, ServiceError> {
        let actor = caller.actor()?;
        if *caller == Caller::Public {
            return Err(ServiceError::Unauthenticated("a gateway posts with its source's integration token".into()));
        }
        let sources = self.inner.store.sources().await?;
        let source = sources.into_iter().find(|s| s.token_name == actor.name).ok_or_else(|| {
            ServiceError::Forbidden("only a registered source's own token posts messages (aduan source create)".into())
        })?;
        let text = without_keyword(&msg.text).trim().to_owned();
        if text.is_empty() {
            return Err(ServiceError::invalid("text", "empty"));
        }
        let sub = Submission {
            kind: "pengaduan".into(),
            channel: "sms".into(),
            title: title_of(&text),
            region: region_in(&text),
            body: text,
            category: None,
            privacy: None,
            reporter: Some(Reporter { name: None, contact: Some(msg.from) }),
            command_id: None,
            received_at: None,
            location: None,
            media_url: None,
            source: Some(SourceRef { system: source.name, id: msg.id, url: None }),
        };
        self.submit(sub, None, caller, now).await
    }
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

/// The first line, without region tags, at most [`TITLE`] characters.
fn title_of(text: &str) -> String {
    let line = text.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or(text);
    let words: Vec<&str> = line.split_whitespace().filter(|w| !w.starts_with('#')).collect();
    let line = words.join(" ");
    match line.chars().count() {
        0 => "Laporan SMS".to_owned(),
        n if n > TITLE => format!("{}…", line.chars().take(TITLE - 1).collect::<String>()),
        _ => line,
    }
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
