//! The names of SLA clocks and the generations of a clock's rungs (a leaf: no other module of the
//! core is imported here).
//!
//! The set of clocks is open: a pack's national SLA (`sla/national.yaml` `clocks:`) defines them and its
//! workflow starts and stops them by name, so [`Clock`] is a name, not an enum. The engine gives four of
//! them a meaning of their own (the associated constants); a breach of any other clock emits
//! `deadline_breached` and does nothing else.

use serde::{Deserialize, Serialize};
use std::borrow::{Borrow, Cow};
use std::fmt;

/// The name of an SLA clock (`verify`, `respond`, a pack's own). Serialized as the bare name, so event
/// payloads, stored JSON and rows carry the same text as before the type existed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Clock(Cow<'static, str>);

impl Clock {
    /// The admin verifies and dispatches; counts on the complaint's region, never on the holder's
    /// calendar; its breach emits `verify_overdue`.
    pub const VERIFY: Clock = Clock::from_static("verify");
    /// The agency's first follow-up: stopped by a follow-up at level 0, restarted by a forward and by an
    /// escalation (with the target tier's budget); its breach escalates.
    pub const RESPOND: Clock = Clock::from_static("respond");
    /// Resolution, from first dispatch; its breach escalates once in a case's life.
    pub const COMPLETE: Clock = Clock::from_static("complete");
    /// No reply from the reporter: an escalation from a paused state drops it; its breach closes the case.
    pub const CLOSE: Clock = Clock::from_static("close");

    /// A clock whose name is known at compile time (usable in `const` and `static` items).
    pub const fn from_static(name: &'static str) -> Self {
        Self(Cow::Borrowed(name))
    }

    /// A clock by name.
    pub fn new(name: impl Into<String>) -> Self {
        Self(Cow::Owned(name.into()))
    }

    /// Its name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether a breach of this clock escalates the case (`respond`, `complete`).
    pub fn escalates(&self) -> bool {
        *self == Self::RESPOND || *self == Self::COMPLETE
    }

    /// Whether it counts on the holder's calendar once the case has one (every clock but `verify`).
    pub fn follows_holder(&self) -> bool {
        *self != Self::VERIFY
    }
}

impl Borrow<str> for Clock {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Clock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Clock {
    fn from(name: &str) -> Self {
        Self::new(name)
    }
}

impl From<String> for Clock {
    fn from(name: String) -> Self {
        Self::new(name)
    }
}

impl PartialEq<str> for Clock {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Clock {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// A generation of one clock's rungs: starting or restarting a clock, and a manual escalation, make a
/// new one, so no rung of an older generation fires again. The first is 1; stored as an integer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Generation(u64);

impl Generation {
    /// The generation numbered `n`.
    pub const fn new(n: u64) -> Self {
        Self(n)
    }

    /// Its number.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The generation after this one (after [`Generation::default`], the first).
    pub const fn next(self) -> Self {
        Self(self.0 + 1)
    }
}

impl fmt::Display for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_clock_serializes_as_its_bare_name() {
        let map: std::collections::BTreeMap<Clock, Generation> =
            [(Clock::RESPOND, Generation::new(2)), (Clock::new("custom"), Generation::default().next())].into();
        let json = serde_json::to_string(&map).expect("serializes");
        assert_eq!(json, r#"{"custom":1,"respond":2}"#);
        let back: std::collections::BTreeMap<Clock, Generation> = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, map);
        assert_eq!(back.get("respond"), Some(&Generation::new(2)), "looked up by &str");
    }
}
