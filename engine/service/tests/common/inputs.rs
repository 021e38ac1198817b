//! Hostile or plausible request bodies for the property tests (`fuzz.rs`) and the HTTP sweep (`api.rs`).

use proptest::prelude::*;
use serde_json::{json, Map, Value};

pub const SUBMISSION_FIELDS: [&str; 11] = [
    "kind",
    "channel",
    "title",
    "body",
    "category",
    "region",
    "privacy",
    "reporter",
    "command_id",
    "received_at",
    "extra",
];
pub const ACTION_FIELDS: [&str; 10] =
    ["action", "complaint", "agency", "category", "investigation", "reason", "message", "score", "command_id", "x"];

/// A hostile or plausible JSON value.
pub fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>().prop_map(|f| json!(f)),
        "[a-z_.0-9]{0,12}".prop_map(Value::String),
        any::<String>().prop_map(Value::String),
        Just(json!("ab\u{0}cd")),
        (0usize..30_000).prop_map(|n| json!("x".repeat(n))),
        prop::sample::select(vec!["pengaduan", "web", "counter", "35.78", "verify", "respond", "rate", "public"])
            .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(2, 8, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,8}", inner, 0..4).prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// An object over some of `fields`, each with a [`value`].
pub fn object(fields: &'static [&'static str]) -> impl Strategy<Value = Value> {
    prop::collection::vec((prop::sample::select(fields), value()), 0..fields.len()).prop_map(|pairs| {
        let mut m = Map::new();
        for (k, v) in pairs {
            m.insert(k.to_owned(), v);
        }
        Value::Object(m)
    })
}
