//! What a compliance report reads of one case: the facts, derived from its row and its event history
//! (each deadline as the history journals it, so a figure is judged against the deadline that was in
//! force at the time, whatever pack is active now).

use crate::clock::Clock;
use crate::event::EventType;
use crate::pack::Pack;
use crate::region::RegionCode;
use crate::replay::ReplayEvent;
use crate::timer::{CalendarRef, DeadlineChange};
use chrono::{DateTime, Utc};
use serde::Deserialize;

/// One case as the store reads it for a report: the columns that matter and its events in order.
#[derive(Debug, Clone, Copy)]
pub struct CaseRecord<'a> {
    /// When the report was received (`received_at`, else the submission).
    pub received_at: DateTime<Utc>,
    /// The complaint's region, if any.
    pub region: Option<&'a RegionCode>,
    /// The first dispatch (`verify`).
    pub first_assigned_at: Option<DateTime<Utc>>,
    /// The first follow-up (`respond`, `request_info` or `resolve`).
    pub first_followup_at: Option<DateTime<Utc>>,
    /// The agency that followed up first.
    pub first_followup_agency: Option<&'a str>,
    /// Open now, with a running clock at or past its `due_at` (the store knows the timers).
    pub overdue: bool,
    /// Its events, in `seq` order.
    pub history: &'a [ReplayEvent<'a>],
}

/// What the report counts of one case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseFacts {
    /// The agency that received the case: its first holder, else (never dispatched) the government of
    /// its region, whose admin dispatches it (`kemenpanrb` without one).
    pub received_by: String,
    /// Dispatched: whether before `verify`'s deadline.
    pub dispatched: Option<bool>,
    /// Followed up: whether before `respond`'s deadline in force then, and how many working days
    /// after the first dispatch.
    pub followed_up: Option<FollowUp>,
    /// Resolved at least once: whether the first resolution came before `complete`'s deadline.
    pub completed: Option<bool>,
    /// The reporter rated it.
    pub rated: bool,
    /// Escalated at least once (by hand, at the forward limit, or at a breach).
    pub escalated: bool,
    /// Open now with a clock past its deadline.
    pub overdue: bool,
}

/// The first follow-up of a case.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowUp {
    /// It came before the `respond` deadline in force at that instant.
    pub within_deadline: bool,
    /// Working days from the first dispatch ([`first_response_days`]).
    pub working_days: i64,
}

/// The facts of one case on `pack` (its directory and calendars).
pub fn facts(pack: &Pack, case: &CaseRecord<'_>) -> CaseFacts {
    let first = |t: EventType| case.history.iter().find(|e| EventType::parse(e.event_type) == Some(t));
    let received_by = first(EventType::Assigned)
        .and_then(|e| e.agency)
        .map(str::to_owned)
        .unwrap_or_else(|| crate::access::subject_of(&pack.directory, None, case.region));
    let met = |clock: &Clock, at: DateTime<Utc>| deadline_at(case.history, clock, at).is_some_and(|due| at < due);
    let followed_up = case.first_followup_at.map(|at| FollowUp {
        within_deadline: met(&Clock::RESPOND, at),
        working_days: case
            .first_assigned_at
            .map_or(0, |from| first_response_days(pack, from, at, case.first_followup_agency.unwrap_or_default())),
    });
    CaseFacts {
        received_by,
        dispatched: case.first_assigned_at.map(|at| met(&Clock::VERIFY, at)),
        followed_up,
        completed: first(EventType::Resolved).map(|e| met(&Clock::COMPLETE, e.at)),
        rated: first(EventType::Rated).is_some(),
        escalated: first(EventType::Escalated).is_some(),
        overdue: case.overdue,
    }
}

/// The first response time of `GET /v1/stats` and of the report: count(first dispatch, first
/// follow-up) in working days (docs/deadlines.md#counting) on the calendar of the agency that followed
/// up; never negative.
pub fn first_response_days(pack: &Pack, assigned: DateTime<Utc>, followed_up: DateTime<Utc>, agency: &str) -> i64 {
    let cal = pack.calendar_for(&CalendarRef::Agency(agency.to_owned()));
    cal.count_working_days(assigned, followed_up).days.max(0)
}

/// `clock`'s `due_at` in force just before the decision taken at `at`, from the history's journals:
/// the entry for the clock of an event at that instant (its `old_due_at`: the decision's own, since a
/// seeded or back-dated case may be submitted and dispatched at one instant), else the last deadline
/// an earlier event journaled for it. `None`: the clock was not running (or was paused) then.
fn deadline_at(history: &[ReplayEvent<'_>], clock: &Clock, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut due = None;
    for e in history {
        if e.at > at {
            break;
        }
        let entry = journal(e).into_iter().find(|d| d.clock == *clock);
        match entry {
            Some(d) if e.at == at => return d.old_due_at,
            Some(d) => due = d.new_due_at,
            None => {}
        }
    }
    due
}

/// The deadline changes an event journals: `deadlines` of a decision, `changes` of a recompute.
fn journal(e: &ReplayEvent<'_>) -> Vec<DeadlineChange> {
    let v = if e.data["deadlines"].is_array() { &e.data["deadlines"] } else { &e.data["changes"] };
    Vec::<DeadlineChange>::deserialize(v).unwrap_or_default()
}
