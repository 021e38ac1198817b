//! Problems in a pack, and the strict YAML parser every pack file goes through.
//!
//! A leaf: it imports nothing from the rest of the crate, so the modules that parse pack files
//! (calendars, SLAs, the directory, rules, the workflow) and [`crate::pack`], which assembles them, all
//! depend on it and not on each other.

use serde::de::DeserializeOwned;
use std::fmt;

/// One problem in a pack, located as precisely as the parser allows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Pack-relative path.
    pub file: String,
    /// 1-based line and column, when known.
    pub line: Option<(u64, u64)>,
    /// What is wrong.
    pub message: String,
}

impl Problem {
    /// A problem at a parser location.
    pub fn at(file: &str, loc: &serde_saphyr::Location, message: impl Into<String>) -> Self {
        let line = (loc.line() > 0).then(|| (loc.line(), loc.column()));
        Self { file: file.to_owned(), line, message: message.into() }
    }

    /// A problem with a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        Self { file: file.to_owned(), line: None, message: message.into() }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some((l, c)) => write!(f, "{}:{l}:{c}: {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Everything wrong with a pack, one problem a line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct PackError(pub Vec<Problem>);

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{p}")?;
        }
        Ok(())
    }
}

impl From<Problem> for PackError {
    fn from(p: Problem) -> Self {
        Self(vec![p])
    }
}

/// Parses one YAML document strictly: duplicate keys and unknown fields are errors with a location.
pub fn parse_yaml<T: DeserializeOwned>(file: &str, text: &str) -> Result<T, PackError> {
    serde_saphyr::from_str_with_options(text, yaml_limits()).map_err(|e| {
        let inner = e.without_snippet();
        let mut message = inner.to_string();
        // The parser appends its own position; we print ours in front instead.
        if let Some(i) = message.rfind(" at line ") {
            message.truncate(i);
        }
        match inner.location() {
            Some(loc) => Problem::at(file, &loc, message).into(),
            None => Problem::file(file, message).into(),
        }
    })
}

/// The parser's limits for pack YAML, tighter than the crate's defaults: a pack file is hand-written
/// configuration (the largest, a full directory, is tens of thousands of nodes), so an alias bomb or a
/// nesting storm is refused at once with a message instead of expanding.
fn yaml_limits() -> serde_saphyr::Options {
    let mut aliases = serde_saphyr::options::AliasLimits::default();
    aliases.max_total_replayed_events = 100_000;
    aliases.max_alias_expansions_per_anchor = 1_000;
    serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_events: 2_000_000,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_depth: 32,
            max_documents: 1,
            max_nodes: 500_000,
            max_total_scalar_bytes: 8 * 1024 * 1024,
        },
        alias_limits: aliases,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_alias_bomb_is_refused_not_expanded() {
        let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        // Ten billion strings if expanded.
        let err = parse_yaml::<serde_json::Value>("bomb.yaml", &bomb).unwrap_err().to_string();
        assert!(err.starts_with("bomb.yaml"), "{err}");
        assert!(err.to_lowercase().contains("alias") || err.contains("limit"), "{err}");
    }

    #[test]
    fn a_nesting_storm_is_refused() {
        let deep = format!("{}1{}", "[".repeat(100), "]".repeat(100));
        assert!(parse_yaml::<serde_json::Value>("deep.yaml", &deep).is_err());
    }
}
