//! SLA timers: a budget, a start, a suspension ledger and a calendar reference. `due_at` and the
//! warning point are derived from those inputs and recomputed (with a journaled reason) whenever one of
//! them changes: the calendar, the SLA, the holding agency, or the ledger.

use crate::calendar::{Calendar, Deadline};
use crate::clock::Clock;
use crate::region::RegionCode;
use crate::sla::Budget;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use std::fmt;

/// Which calendar a clock counts on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CalendarRef {
    /// The calendar of a region (the `verify` clock uses the complaint's region).
    Region(RegionCode),
    /// The calendar of an agency (every other clock uses the holder's).
    Agency(String),
    /// The national calendar in Asia/Jakarta.
    National,
}

impl CalendarRef {
    /// The region an agency id names by its shape ([`crate::directory::region_in_id`]): units and
    /// governments carry their Kemendagri code (`35.78/dinas-pu` → `35.78`); national bodies (`pln`)
    /// have none. With a pack at hand, [`crate::directory::Directory::region_of`] asks the directory
    /// first.
    pub fn agency_region(agency: &str) -> Option<RegionCode> {
        crate::directory::region_in_id(agency)
    }

    /// Parses the stored form (`region:35.78`, `agency:35.78/dinas-pu`, `national`).
    pub fn parse(s: &str) -> Option<Self> {
        if s == "national" {
            return Some(Self::National);
        }
        if let Some(r) = s.strip_prefix("region:") {
            return RegionCode::parse(r).ok().map(Self::Region);
        }
        s.strip_prefix("agency:").filter(|a| !a.is_empty()).map(|a| Self::Agency(a.to_owned()))
    }
}

impl fmt::Display for CalendarRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Region(r) => write!(f, "region:{r}"),
            Self::Agency(a) => write!(f, "agency:{a}"),
            Self::National => f.write_str("national"),
        }
    }
}

/// One interval a clock stood still (the case awaited the reporter).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Suspension {
    /// When the clock paused.
    pub from: DateTime<Utc>,
    /// When it resumed; `None` while still paused.
    pub to: Option<DateTime<Utc>>,
}

/// Why a timer's pause or resume was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TimerError {
    /// Pausing a paused clock.
    #[error("the clock is already paused")]
    AlreadyPaused,
    /// Resuming a running clock.
    #[error("the clock is not paused")]
    NotPaused,
    /// Resuming before the pause began.
    #[error("a clock cannot resume before it paused")]
    ResumeBeforePause,
}

/// A running SLA clock's inputs. Everything else about it is derived by [`Timer::schedule`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timer {
    /// The clock (`verify`, `respond`, `complete`, `close`, or a pack's own).
    pub clock: Clock,
    /// Its budget.
    pub budget: Budget,
    /// Warning point in thousandths of the budget.
    pub warn_permille: u16,
    /// The calendar it counts on.
    pub calendar: CalendarRef,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// Its pauses, oldest first; only the last may be open.
    pub suspensions: Vec<Suspension>,
}

/// What a timer's inputs imply on a given calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The deadline; `None` while the clock is paused.
    pub due: Option<Deadline>,
    /// When the warning falls; `None` while paused.
    pub warn_at: Option<DateTime<Utc>>,
    /// The clock is paused now.
    pub paused: bool,
    /// Working days (day budgets) or working seconds (hour budgets) added back for closed pauses.
    pub added_back: u64,
}

impl Schedule {
    /// The exclusive deadline instant, if running.
    pub fn due_at(&self) -> Option<DateTime<Utc>> {
        self.due.map(|d| d.due_at)
    }

    /// The local due date, if running.
    pub fn due_date(&self) -> Option<NaiveDate> {
        self.due.map(|d| d.due_date)
    }
}

impl Timer {
    /// A clock started at `started_at` with no pauses.
    pub fn start(
        clock: &Clock,
        budget: Budget,
        warn_permille: u16,
        calendar: CalendarRef,
        started_at: DateTime<Utc>,
    ) -> Self {
        Self { clock: clock.clone(), budget, warn_permille, calendar, started_at, suspensions: Vec::new() }
    }

    /// Whether the clock is paused now.
    pub fn is_paused(&self) -> bool {
        self.suspensions.last().is_some_and(|s| s.to.is_none())
    }

    /// Pauses the clock at `at`.
    pub fn pause(&mut self, at: DateTime<Utc>) -> Result<(), TimerError> {
        if self.is_paused() {
            return Err(TimerError::AlreadyPaused);
        }
        self.suspensions.push(Suspension { from: at, to: None });
        Ok(())
    }

    /// Resumes a paused clock at `at`; the paused working days are added back by [`Timer::schedule`].
    pub fn resume(&mut self, at: DateTime<Utc>) -> Result<(), TimerError> {
        let last = self.suspensions.last_mut().filter(|s| s.to.is_none()).ok_or(TimerError::NotPaused)?;
        if at < last.from {
            return Err(TimerError::ResumeBeforePause);
        }
        last.to = Some(at);
        Ok(())
    }

    /// The deadline and warning point on `cal`. A pause from P to R adds back count(P, R) working days
    /// (or the working hours between them, for an hour budget).
    pub fn schedule(&self, cal: &Calendar) -> Schedule {
        let closed = self.suspensions.iter().filter_map(|s| s.to.map(|to| (s.from, to)));
        if self.is_paused() {
            return Schedule { due: None, warn_at: None, paused: true, added_back: 0 };
        }
        match self.budget {
            Budget::WorkingDays(n) => {
                let added: u64 = closed.map(|(p, r)| cal.count_working_days(p, r).days.max(0) as u64).sum();
                let total = u64::from(n) + added;
                let total32 = u32::try_from(total).unwrap_or(u32::MAX);
                let due = cal.add_working_days(self.started_at, total32);
                // Day ⌊f·N⌋+1 of the original budget, shifted by the days added back, at its opening.
                let warn_day =
                    (u64::from(n) * u64::from(self.warn_permille) / 1000 + 1).min(u64::from(n.max(1))) + added;
                let warn_at = cal.opening_of_working_day(self.started_at, u32::try_from(warn_day).unwrap_or(u32::MAX));
                Schedule { due: Some(due), warn_at: Some(warn_at.min(due.due_at)), paused: false, added_back: added }
            }
            Budget::WorkingHours(h) => {
                let added: u64 = closed.map(|(p, r)| cal.working_seconds_between(p, r)).sum();
                let secs = u64::from(h) * 3600 + added;
                let due = cal.add_working_seconds(self.started_at, secs);
                let warn_secs = u64::from(h) * 3600 * u64::from(self.warn_permille) / 1000 + added;
                let warn = cal.add_working_seconds(self.started_at, warn_secs);
                Schedule {
                    due: Some(due),
                    warn_at: Some(warn.due_at.min(due.due_at)),
                    paused: false,
                    added_back: added,
                }
            }
        }
    }
}

/// Why a timer's deadline was recomputed (as journaled in events' `deadlines`, and read back from them).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeReason {
    /// The active pack's calendars changed (a holiday added mid-year, a region's day off).
    CalendarChanged {
        /// Hash of the pack that brought the change.
        pack: String,
    },
    /// The active pack's SLA for this clock changed.
    SlaChanged {
        /// Hash of the pack that brought the change.
        pack: String,
    },
    /// The case moved to another agency, whose calendar the clock now counts on.
    HolderChanged {
        /// The previous holder.
        from: Option<String>,
        /// The new holder.
        to: String,
    },
    /// The clock paused (the case awaits the reporter).
    Paused,
    /// The clock resumed; the paused working days were added back.
    Resumed,
    /// The clock started (or restarted with a full budget).
    Started,
    /// The clock stopped.
    Stopped,
}

/// A journaled recompute: one clock's old and new deadline and why it moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadlineChange {
    /// The clock.
    pub clock: Clock,
    /// The deadline before.
    pub old_due_at: Option<DateTime<Utc>>,
    /// The deadline after.
    pub new_due_at: Option<DateTime<Utc>>,
    /// Why.
    pub reason: ChangeReason,
}

/// Recomputes a timer's schedule after one of its inputs changed, and returns the journal entry when the
/// deadline actually moved (an unchanged deadline journals nothing).
pub fn recompute(
    timer: &Timer,
    before: &Schedule,
    cal: &Calendar,
    reason: ChangeReason,
) -> (Schedule, Option<DeadlineChange>) {
    let after = timer.schedule(cal);
    let change = (after.due_at() != before.due_at()).then(|| DeadlineChange {
        clock: timer.clock.clone(),
        old_due_at: before.due_at(),
        new_due_at: after.due_at(),
        reason,
    });
    (after, change)
}
