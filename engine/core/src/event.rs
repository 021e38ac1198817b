//! The types of event the engine writes (docs/nats.md#event-payload): one name each, here, used by the
//! code that writes events and by the replay that reads them back ([`crate::replay`]).

/// What happened to a case (or, for `Digest`, to an agency's day; for `Pack*`, to a replica's pack).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EventType {
    /// A complaint was filed.
    Submitted,
    /// `verify`: dispatched to its first holder.
    Assigned,
    /// `archive`.
    Archived,
    /// `forward`.
    Forwarded,
    /// `respond`.
    Responded,
    /// `request_info`: the clocks pause for the reporter.
    InfoRequested,
    /// `provide_info`.
    InfoProvided,
    /// `resolve`.
    Resolved,
    /// `reopen`.
    Reopened,
    /// `rate`.
    Rated,
    /// Closed: by a rating, or when the reporter stayed silent.
    Closed,
    /// Handed up the hierarchy (manually, at the forward limit, or on a breach).
    Escalated,
    /// A clock reached its warning rung.
    DeadlineWarning,
    /// A clock reached its breach rung.
    DeadlineBreached,
    /// The `verify` clock breached: for the admins' queue.
    VerifyOverdue,
    /// A recompute moved a deadline.
    DeadlineChanged,
    /// An agency's morning digest (no case).
    Digest,
    /// A replica took a new policy pack into use (no case; on the national admin's subject).
    PackActivated,
    /// A replica refused a candidate policy pack and kept the one it runs (no case).
    PackRejected,
}

impl EventType {
    /// Every type, in declaration order.
    pub const ALL: [EventType; 19] = [
        Self::Submitted,
        Self::Assigned,
        Self::Archived,
        Self::Forwarded,
        Self::Responded,
        Self::InfoRequested,
        Self::InfoProvided,
        Self::Resolved,
        Self::Reopened,
        Self::Rated,
        Self::Closed,
        Self::Escalated,
        Self::DeadlineWarning,
        Self::DeadlineBreached,
        Self::VerifyOverdue,
        Self::DeadlineChanged,
        Self::Digest,
        Self::PackActivated,
        Self::PackRejected,
    ];

    /// The name on the wire and in the database (`info_requested`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "submitted",
            Self::Assigned => "assigned",
            Self::Archived => "archived",
            Self::Forwarded => "forwarded",
            Self::Responded => "responded",
            Self::InfoRequested => "info_requested",
            Self::InfoProvided => "info_provided",
            Self::Resolved => "resolved",
            Self::Reopened => "reopened",
            Self::Rated => "rated",
            Self::Closed => "closed",
            Self::Escalated => "escalated",
            Self::DeadlineWarning => "deadline_warning",
            Self::DeadlineBreached => "deadline_breached",
            Self::VerifyOverdue => "verify_overdue",
            Self::DeadlineChanged => "deadline_changed",
            Self::Digest => "digest",
            Self::PackActivated => "pack_activated",
            Self::PackRejected => "pack_rejected",
        }
    }

    /// The type named `name`, if the engine writes one.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The workflow action whose step records this event (`assigned` ← `verify`), if one does. The
    /// submission and the escalating and closing paths record theirs without an action of their own.
    pub const fn action(self) -> Option<&'static str> {
        match self {
            Self::Assigned => Some("verify"),
            Self::Archived => Some("archive"),
            Self::Forwarded => Some("forward"),
            Self::Responded => Some("respond"),
            Self::InfoRequested => Some("request_info"),
            Self::InfoProvided => Some("provide_info"),
            Self::Resolved => Some("resolve"),
            Self::Reopened => Some("reopen"),
            Self::Rated => Some("rate"),
            _ => None,
        }
    }

    /// Whether the event leaves a case's state as it was (warnings, breaches, recomputes).
    pub const fn is_still(self) -> bool {
        matches!(self, Self::DeadlineWarning | Self::DeadlineBreached | Self::VerifyOverdue | Self::DeadlineChanged)
    }
}

impl From<EventType> for String {
    fn from(t: EventType) -> String {
        t.as_str().to_owned()
    }
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back() {
        for t in EventType::ALL {
            assert_eq!(EventType::parse(t.as_str()), Some(t));
        }
        assert_eq!(EventType::parse("nope"), None);
    }
}
