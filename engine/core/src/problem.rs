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
    serde_saphyr::from_str(text).map_err(|e| {
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
