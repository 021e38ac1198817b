//! The WhatsApp Business Cloud API's webhook notification, as far as the bridge reads it
//! (docs/integrations.md#whatsapp): the text messages of each change. Meta's other fields are ignored,
//! since Meta adds fields without notice.

use serde::Deserialize;

/// One notification Meta posts: `{"object": "whatsapp_business_account", "entry": [...]}`.
#[derive(Debug, Deserialize)]
pub struct Notification {
    /// `whatsapp_business_account`.
    pub object: String,
    /// The accounts' changes.
    #[serde(default)]
    pub entry: Vec<Entry>,
}

/// One account's part of a notification.
#[derive(Debug, Deserialize)]
pub struct Entry {
    /// What changed.
    #[serde(default)]
    pub changes: Vec<Change>,
}

/// One change: for incoming messages, `field` is `messages`.
#[derive(Debug, Deserialize)]
pub struct Change {
    /// The kind of change.
    #[serde(default)]
    pub field: String,
    /// What it carries.
    #[serde(default)]
    pub value: ChangeValue,
}

/// The messages of a change (statuses and the rest are ignored).
#[derive(Debug, Default, Deserialize)]
pub struct ChangeValue {
    /// The messages received.
    #[serde(default)]
    pub messages: Vec<Message>,
}

/// One message received.
#[derive(Debug, Deserialize)]
pub struct Message {
    /// The sender's WhatsApp number.
    pub from: String,
    /// Meta's id of the message (`wamid.…`).
    pub id: String,
    /// `text`, `image`, `audio`, …
    #[serde(rename = "type", default)]
    pub kind: String,
    /// The text, for a text message.
    pub text: Option<TextBody>,
}

/// A text message's text.
#[derive(Debug, Deserialize)]
pub struct TextBody {
    /// What the sender wrote.
    pub body: String,
}
