//! The engine's one notion of "now": an instant truncated to the millisecond, the precision the store
//! keeps. It is made once at the edge that receives a request or fires a worker (HTTP, the NATS
//! consumer, the workers, the CLI) and passed in, so an event's payload and its stored row always carry
//! the same instant. The core never reads the clock (invariant 1): it only converts.

use chrono::{DateTime, Utc};

/// A UTC instant in whole milliseconds. Comparing, storing and serializing it never loses precision,
/// because it has none to lose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    /// Truncates `t` to the millisecond.
    pub fn new(t: DateTime<Utc>) -> Self {
        Timestamp(DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t))
    }

    /// The instant as a chrono value, for calendar arithmetic.
    pub fn utc(self) -> DateTime<Utc> {
        self.0
    }

    /// Milliseconds since the Unix epoch, as stored.
    pub fn millis(self) -> i64 {
        self.0.timestamp_millis()
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp::new(t)
    }
}

impl From<Timestamp> for DateTime<Utc> {
    fn from(t: Timestamp) -> Self {
        t.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncates_to_the_millisecond_and_keeps_whole_milliseconds() {
        let t = DateTime::parse_from_rfc3339("2026-12-02T07:30:00.123456789Z").unwrap().with_timezone(&Utc);
        let s = Timestamp::new(t);
        assert_eq!(s.utc().to_rfc3339(), "2026-12-02T07:30:00.123+00:00");
        assert_eq!(Timestamp::new(s.utc()), s);
        assert_eq!(s.millis(), t.timestamp_millis());
    }
}
