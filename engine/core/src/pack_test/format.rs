//! The YAML a pack's test file is written in (policies/README.md#tests), parsed strictly: unknown
//! fields and duplicate keys are errors at their line.
//!
//! A file is a list of cases. Each value that can fail keeps its location, so a failure names the line
//! of the expectation that did not hold.

use crate::clock::Clock;
use crate::domain::Kind;
use chrono::NaiveDate;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

/// One case as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct CaseSpec {
    pub name: Spanned<String>,
    pub complaint: Spanned<ComplaintSpec>,
    pub at: Spanned<String>,
    #[serde(default)]
    pub forwards: Vec<Spanned<String>>,
    pub known_issue: Option<String>,
    pub expect: Spanned<ExpectSpec>,
}

/// The complaint: the submission fields `policy explain` reads.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ComplaintSpec {
    pub kind: Kind,
    pub channel: Option<String>,
    pub title: Option<String>,
    #[allow(dead_code)]
    pub body: Option<String>,
    pub category: Option<String>,
    pub region: Option<Spanned<String>>,
    pub privacy: Option<Spanned<String>>,
    #[serde(default)]
    pub investigation: bool,
}

/// What the case expects; every field may be left out.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectSpec {
    pub agency: Option<Spanned<String>>,
    pub reason: Option<Spanned<String>>,
    pub holder: Option<Spanned<String>>,
    #[serde(default)]
    pub deadlines: BTreeMap<Clock, Spanned<Short<DeadlineSpec>>>,
    #[serde(default)]
    pub escalation: Vec<Spanned<Short<RungSpec>>>,
    #[serde(default)]
    pub trace: Vec<Spanned<String>>,
    #[serde(default)]
    pub not_in_trace: Vec<Spanned<String>>,
}

/// A clock's expected deadline. The short form is a date (`due_date`) or an instant (`due_at`).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct DeadlineSpec {
    pub due_date: Option<NaiveDate>,
    pub due_at: Option<String>,
    pub warn_at: Option<String>,
    pub budget: Option<String>,
    pub provisional: Option<bool>,
    pub sla_source: Option<String>,
    pub calendar: Option<String>,
    pub skipped: Option<Vec<NaiveDate>>,
}

/// One expected escalation, in order (the first is level 1). The short form is the target's id.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RungSpec {
    pub to: String,
    pub clocks: Option<Vec<Clock>>,
    pub reason: Option<String>,
    pub at: Option<String>,
    pub respond: Option<Short<DeadlineSpec>>,
}

/// A value written either in full (a mapping) or in its short form (one string).
#[derive(Debug)]
pub(super) struct Short<T>(pub T);

/// How the short form of a value reads one string.
pub(super) trait FromShort: Sized {
    /// The value a string stands for, or why it cannot.
    fn from_short(s: &str) -> Result<Self, String>;
}

impl FromShort for DeadlineSpec {
    fn from_short(s: &str) -> Result<Self, String> {
        if s.contains('T') {
            chrono::DateTime::parse_from_rfc3339(s).map_err(|e| format!("`{s}` is not an RFC 3339 instant ({e})"))?;
            Ok(Self { due_at: Some(s.to_owned()), ..Self::default() })
        } else {
            let d = s.parse().map_err(|_| format!("`{s}` is neither a date (YYYY-MM-DD) nor an instant"))?;
            Ok(Self { due_date: Some(d), ..Self::default() })
        }
    }
}

impl FromShort for RungSpec {
    fn from_short(s: &str) -> Result<Self, String> {
        Ok(Self { to: s.to_owned(), ..Self::default() })
    }
}

impl<'de, T: Deserialize<'de> + FromShort> Deserialize<'de> for Short<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de> + FromShort> Visitor<'de> for V<T> {
            type Value = Short<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or a mapping")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                T::from_short(s).map(Short).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, m: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(m)).map(Short)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Err(E::custom(format!("quote region codes and agency ids (\"{v}\"), or YAML reads a number")))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Err(E::custom(format!("quote region codes and agency ids (\"{v}\"), or YAML reads a number")))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Err(E::custom(format!("quote region codes and agency ids (\"{v}\"), or YAML reads a number")))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}
