//! The one error path: a service error, or a request body that does not decode, as an RFC 9457
//! problem ([`Problem`]). HTTP (`api.rs`), the NATS consumer's dead letters and failures, and the
//! `Aduan-Reply-To` answers (`runtime.rs`) all go through here, so a failure reads the same wherever it
//! is reported (docs/http.md, docs/nats.md).

use crate::service::ServiceError;
use crate::wire::Problem;
use serde::de::DeserializeOwned;

/// The problem answering `e`: its status and titled by [`crate::wire::title_of`], `detail` its message,
/// `field` for a 422, `allowed` for a 409 on the case's state.
pub fn problem(e: &ServiceError) -> Problem {
    let p = Problem::new(e.status(), e.to_string());
    match e {
        ServiceError::Invalid { field, .. } => p.with_field(field.clone()),
        ServiceError::Conflict { allowed, .. } => p.with_allowed(allowed.clone()),
        _ => p,
    }
}

/// Whether `e` is worth retrying as is, with nothing else changing first: the database is away, or
/// the case head moved under the command on every retry. HTTP answers it with `Retry-After: 1`; the
/// NATS consumer naks it and never dead-letters it.
pub fn is_transient(e: &ServiceError) -> bool {
    matches!(e, ServiceError::Unavailable(_) | ServiceError::LostRace)
}

/// Decodes a JSON request body: 400 when it is not JSON, 422 naming the field (a dotted path such as
/// `reporter.name`) when it is JSON of the wrong shape.
///
/// The field comes from the deserializer's path (serde_path_to_error), not from the error's text; only
/// a missing field, which serde reports on the enclosing object, is named from serde's fixed message
/// ``missing field `x` ``.
pub fn decode_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, Problem> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let (path, inner) = (e.path().clone(), e.into_inner());
        match inner.classify() {
            // A wrong field may be met before a syntax error further on (`{"x":1,}`): not JSON comes first.
            serde_json::error::Category::Data => match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => invalid_at(&path, &without_position(&inner)),
                Err(syntax) => not_json(&syntax),
            },
            _ => not_json(&inner),
        }
    })?;
    de.end().map_err(|e| not_json(&e))?;
    Ok(value)
}

/// serde_json's message without its ` at line L column C`: the field path says where.
fn without_position(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let suffix = format!(" at line {} column {}", e.line(), e.column());
    text.strip_suffix(&suffix).map_or_else(|| text.clone(), str::to_owned)
}

fn not_json(e: &serde_json::Error) -> Problem {
    Problem::bad_request(format!("the body is not valid JSON: {e}"))
}

/// The 422 for a value of the wrong shape at `path` (of a JSON body or a query string), `message`
/// being the deserializer's. `detail` starts with the field (`reporter.name`, `files[0].path`), as the
/// service's own 422s do.
pub fn invalid_at(path: &serde_path_to_error::Path, message: &str) -> Problem {
    let mut segments: Vec<String> = path.iter().map(|s| s.to_string()).collect();
    if let Some(missing) = message.strip_prefix("missing field `").and_then(|m| m.split('`').next()) {
        segments.push(missing.to_owned());
    }
    if segments.is_empty() {
        return Problem::new(422, message);
    }
    let message = if segments[0] == "reporter" { about_reporter(&mut segments, message) } else { message };
    // `files[0].path`: an index follows its array without a dot.
    let field = segments.iter().enumerate().fold(String::new(), |mut out, (i, s)| {
        if i > 0 && !s.starts_with('[') {
            out.push('.');
        }
        out.push_str(s);
        out
    });
    Problem::new(422, format!("{field}: {message}")).with_field(field)
}

/// The members a `reporter` has (`wire::Reporter`).
const REPORTER_MEMBERS: [&str; 2] = ["name", "contact"];

/// What a 422 under `reporter` may say. serde quotes the value it refused (`invalid type: string
/// "Budi"`) and names an unknown member (``unknown field `Budi` ``, also in the path): either may be the
/// reporter's identity, which no problem, log line or dead letter may carry. So the path keeps only
/// `reporter` and a known member, and the message only our own words (the text bounds).
fn about_reporter<'m>(segments: &mut Vec<String>, message: &'m str) -> &'m str {
    let member = segments.get(1).map(String::as_str);
    let known = member.is_some_and(|m| REPORTER_MEMBERS.contains(&m));
    let unknown = message.starts_with("unknown field") || (member.is_some() && !known);
    segments.truncate(if known { 2 } else { 1 });
    // `wire::text::refusal`'s words, which never repeat the text.
    let ours =
        message == "contains a NUL character" || (message.starts_with("at most ") && message.ends_with(" characters"));
    if unknown {
        "unknown member (its name is not repeated); a reporter has `name` and `contact`"
    } else if ours {
        message
    } else {
        "wrong type (the value is not repeated)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{ActionRequest, Submission};

    fn field_of<T: DeserializeOwned + std::fmt::Debug>(body: &str) -> (u16, Option<String>) {
        let p = decode_json::<T>(body.as_bytes()).expect_err(body);
        (p.status, p.field)
    }

    #[test]
    fn decoding_names_the_field_not_the_value() {
        let f = |s: &str| field_of::<Submission>(s);
        let base = r#""channel":"web","title":"t","body":"b""#;
        assert_eq!(f(&format!(r#"{{"kind":5,{base}}}"#)), (422, Some("kind".into())));
        assert_eq!(f(&format!(r#"{{"kind":null,{base}}}"#)), (422, Some("kind".into())));
        assert_eq!(f(r#"{"channel":"web","title":"t","body":"b"}"#), (422, Some("kind".into())));
        assert_eq!(f(&format!(r#"{{"kind":"pengaduan",{base},"oops":1}}"#)), (422, Some("oops".into())));
        assert_eq!(
            f(&format!(r#"{{"kind":"pengaduan",{base},"reporter":{{"name":7}}}}"#)),
            (422, Some("reporter.name".into()))
        );
        assert_eq!(
            f(&format!(r#"{{"kind":"pengaduan",{base},"received_at":"yesterday"}}"#)),
            (422, Some("received_at".into()))
        );
        assert_eq!(field_of::<ActionRequest>(r#"{"action":"rate","score":"5"}"#), (422, Some("score".into())));
        assert_eq!(field_of::<ActionRequest>(r#""x""#), (422, None));
    }

    #[test]
    fn a_refused_reporter_value_is_not_repeated() {
        let body = r#"{"kind":"pengaduan","channel":"web","title":"t","body":"b","reporter":"Siti Rahayu"}"#;
        let p = decode_json::<Submission>(body.as_bytes()).expect_err(body);
        assert_eq!((p.status, p.field.as_deref()), (422, Some("reporter")));
        assert!(!p.detail.contains("Siti"), "{}", p.detail);
        let body =
            r#"{"kind":"pengaduan","channel":"web","title":"t","body":"b","reporter":{"Siti Rahayu":"0812-555"}}"#;
        let p = decode_json::<Submission>(body.as_bytes()).expect_err(body);
        assert_eq!((p.status, p.field.as_deref()), (422, Some("reporter")), "an unknown member is not named");
        assert!(!p.detail.contains("Siti") && !p.detail.contains("0812"), "{}", p.detail);
        let long = format!(
            r#"{{"kind":"pengaduan","channel":"web","title":"t","body":"b","reporter":{{"name":"{}"}}}}"#,
            "S".repeat(201)
        );
        let p = decode_json::<Submission>(long.as_bytes()).expect_err("too long");
        assert_eq!(p.field.as_deref(), Some("reporter.name"));
        assert_eq!(p.detail, "reporter.name: at most 200 characters");
        let p = decode_json::<Submission>(br#"{"kind":5,"channel":"web","title":"t","body":"b"}"#).unwrap_err();
        assert!(
            p.detail.starts_with("kind: invalid type: integer `5`"),
            "outside `reporter` serde's words stay: {}",
            p.detail
        );
        assert!(!p.detail.contains(" at line "), "no position: {}", p.detail);
    }

    #[test]
    fn text_that_is_not_json_is_a_400() {
        for body in ["{\"kind\":", "", "nope", "{} {}", "{\"a\":1,}"] {
            assert_eq!(field_of::<ActionRequest>(body), (400, None), "{body:?}");
        }
    }

    #[test]
    fn service_errors_keep_their_status_field_and_allowed() {
        let p = problem(&ServiceError::Invalid { field: "title".into(), detail: "required".into() });
        assert_eq!((p.status, p.title.as_str(), p.detail.as_str()), (422, "invalid field", "title: required"));
        assert_eq!(p.field.as_deref(), Some("title"));
        let p = problem(&ServiceError::Conflict { detail: "no".into(), allowed: vec!["verify".into()] });
        assert_eq!((p.status, p.allowed), (409, Some(vec!["verify".to_owned()])));
        let p = problem(&ServiceError::LostRace);
        assert_eq!((p.status, p.title.as_str()), (503, "service unavailable"));
        assert!(is_transient(&ServiceError::LostRace) && is_transient(&ServiceError::Unavailable("db".into())));
        assert!(!is_transient(&ServiceError::NotFound("x".into())));
    }
}
