//! Reading an `application/x-www-form-urlencoded` form. A form's fields become the JSON object the
//! API's wire type reads (a blank field is left out), so a page's submission is checked by exactly
//! the decoder of `POST /v1/complaints` and names the same fields when it is wrong.

use crate::problem;
use crate::wire::Problem;
use axum::http::{header, HeaderMap};
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A form's fields by name (the last of a repeated name).
#[derive(Debug, Default, Clone)]
pub struct Fields(BTreeMap<String, String>);

impl Fields {
    /// Reads a form body: 415 unless it is urlencoded, 400 when it is not UTF-8 text or holds a NUL
    /// (the decoders name the field for everything else).
    pub fn read(headers: &HeaderMap, body: &[u8]) -> Result<Fields, Problem> {
        let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
        let essence = ct.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        if essence != "application/x-www-form-urlencoded" {
            let shown: String = ct.chars().take(100).collect();
            return Err(Problem::new(415, format!("a form must be application/x-www-form-urlencoded, not `{shown}`")));
        }
        if std::str::from_utf8(body).is_err() {
            return Err(Problem::bad_request("the form is not UTF-8 text"));
        }
        Ok(Fields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect()))
    }

    /// A field's text, trimmed; blank is `None`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(|v| v.trim()).filter(|v| !v.is_empty())
    }

    /// A field's text as entered (for showing a form again), empty when absent.
    pub fn value(&self, name: &str) -> &str {
        self.0.get(name).map_or("", String::as_str)
    }

    /// The fields `names` that are filled in, as a JSON object of strings (`prefix.name` fields nest
    /// into an object `prefix`; `score` becomes a number and `investigation` a boolean, the types the
    /// API reads).
    pub fn json(&self, names: &[&str]) -> Value {
        let mut out = Map::new();
        for name in names {
            let Some(v) = self.get(name) else { continue };
            let value = match *name {
                "score" => v.parse::<i64>().map_or_else(|_| Value::from(v), Value::from),
                "investigation" => Value::Bool(matches!(v, "on" | "true" | "1")),
                _ => Value::from(v),
            };
            crate::wire::insert_dotted(&mut out, name, value);
        }
        Value::Object(out)
    }

    /// The fields `names` decoded as the wire type `T`, by the API's own decoder.
    pub fn decode<T: DeserializeOwned>(&self, names: &[&str]) -> Result<T, Problem> {
        let bytes = serde_json::to_vec(&self.json(names)).unwrap_or_default();
        problem::decode_json(&bytes)
    }
}
