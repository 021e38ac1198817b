//! What a dead letter keeps of its command (docs/nats.md#dead-letters): bounded, so a letter always fits
//! in a NATS message and never blocks the consumer, and without the reporter's identity, which must not
//! leave the engine (docs/http.md#visibility).

use crate::crypto::sha256_hex;
use crate::wire::Problem;
use serde_json::{json, Value};

/// The most of a command's body a dead letter keeps; past it the body is cut (at a character boundary)
/// and the letter names the whole body's length and SHA-256, to match it with the sender's copy.
pub const BODY_KEPT: usize = 64 * 1024;

/// The dead letter of `action`'s command `body` (its `msg_id`), refused with `problem`, as JSON bytes.
pub fn letter(action: &str, body: &[u8], msg_id: Option<&str>, problem: &Problem) -> Vec<u8> {
    let mut letter = json!({"action": action, "error": problem, "msg_id": msg_id});
    let text = String::from_utf8_lossy(body);
    let (kept, withheld) = without_reporter(&text);
    if withheld {
        letter["reporter_removed"] = json!(true);
    }
    if kept.len() > BODY_KEPT {
        let mut end = BODY_KEPT;
        while !kept.is_char_boundary(end) {
            end -= 1;
        }
        letter["body"] = json!(&kept[..end]);
        letter["body_truncated"] = json!({"bytes": body.len(), "sha256": sha256_hex(body)});
    } else {
        letter["body"] = json!(kept);
    }
    serde_json::to_vec(&letter).unwrap_or_default()
}

/// The body without its `reporter` member, and whether something was withheld. A body that is not a
/// JSON object yet mentions `reporter` is withheld whole (its identity cannot be cut out safely).
fn without_reporter(text: &str) -> (String, bool) {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut o)) if o.contains_key("reporter") => {
            o.remove("reporter");
            (Value::Object(o).to_string(), true)
        }
        Ok(_) => (text.to_owned(), false),
        Err(_) if text.contains("reporter") => (String::new(), true),
        Err(_) => (text.to_owned(), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).unwrap()
    }

    #[test]
    fn a_small_body_is_kept_as_sent() {
        let l = read(&letter("verify", br#"{"n": 1}"#, Some("k"), &Problem::new(422, "x")));
        assert_eq!(l["body"], r#"{"n": 1}"#);
        assert!(l.get("body_truncated").is_none() && l.get("reporter_removed").is_none(), "{l}");
    }

    #[test]
    fn the_reporter_never_reaches_a_dead_letter() {
        let body = br#"{"kind":"x","reporter":{"name":"Siti Rahayu","contact":"0812-555"}}"#;
        let l = letter("submit", body, None, &Problem::new(422, "kind: unknown"));
        let text = String::from_utf8(l.clone()).unwrap();
        assert!(!text.contains("Siti") && !text.contains("0812-555"), "{text}");
        assert_eq!(read(&l)["reporter_removed"], true);
        assert_eq!(read(&l)["body"], r#"{"kind":"x"}"#);
        let broken = br#"{"reporter":{"name":"Siti Rahayu"},"#;
        let text = String::from_utf8(letter("submit", broken, None, &Problem::new(400, "x"))).unwrap();
        assert!(!text.contains("Siti"), "{text}");
    }

    #[test]
    fn a_huge_body_is_cut_and_referenced() {
        let body = format!(r#"{{"message":"{}"}}"#, "é".repeat(600_000));
        let l = read(&letter("respond", body.as_bytes(), Some("k"), &Problem::new(413, "x")));
        assert!(l["body"].as_str().unwrap().len() <= BODY_KEPT);
        assert_eq!(l["body_truncated"]["bytes"], body.len());
        assert_eq!(l["body_truncated"]["sha256"], sha256_hex(body.as_bytes()));
    }
}
