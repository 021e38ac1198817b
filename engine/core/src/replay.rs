//! Replaying a case's event log: the status, holder and escalation level its events lead to, so that
//! `aduan audit verify` can compare them with the stored case row (docs/cli.md#audit-verify).
//!
//! How each event moves the case, from the code that writes it ([`crate::case`], [`crate::sweep`]):
//! - `submitted` (first, and only first) puts the case in the workflow's `awaiting_dispatch` state;
//! - the event of a workflow action ([`EventType::action`]: `assigned` is `verify`'s, …) is allowed when the
//!   action's `from` lists the current state, and puts the case in the action's `to`;
//! - `escalated` (manual, the forward limit, a breach) puts it in the workflow's `escalated` state, from
//!   any state that is not final (or that `escalate` or `forward` lists in `from`);
//! - `closed` (a `close` breach, or a rating that closed the case) puts it in the workflow's `closed`
//!   state, from a state that is not final, or right after the `rated` event that entered `closed`;
//! - the events that leave the state as it was ([`EventType::is_still`]: `deadline_warning`,
//!   `deadline_breached`, `verify_overdue`, `deadline_changed`).
//!
//! The holder and the level: each event's envelope carries the case's `agency` and `escalation_level`
//! as they stood after the decision it belongs to (every event of one decision carries the same), so the
//! case's are the last event's. The events that move the holder say where it went in their data too
//! (`assigned`: `agency`; `forwarded`, `escalated`: `to`; `escalated`: `level`), and they are the last
//! event of their decision: where the data says it, it must agree with the envelope.
//!
//! No state is named here: every state comes from the workflow of the pack that decided the event.

use crate::event::EventType;
use crate::workflow::Workflow;
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One stored event, as the replay reads it (its hashed payload); [`crate::impact`] reads the same.
#[derive(Debug, Clone, Copy)]
pub struct ReplayEvent<'a> {
    /// 1, 2, 3… (for naming it).
    pub seq: i64,
    /// The event type.
    pub event_type: &'a str,
    /// When it happened (the decision's instant).
    pub at: DateTime<Utc>,
    /// The holder after the event's decision.
    pub agency: Option<&'a str>,
    /// The level after the event's decision (`None` only for messages about no case).
    pub escalation_level: Option<i32>,
    /// The event's data.
    pub data: &'a Value,
}

/// What a case's events lead to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Replayed {
    /// The workflow state.
    pub status: String,
    /// The holder.
    pub agency: Option<String>,
    /// The escalation level.
    pub escalation_level: i32,
}

/// Why a case's events cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReplayError {
    /// The case has no events at all.
    #[error("the case has no events")]
    NoEvents,
    /// One event does not follow from what came before it.
    #[error("event {seq} ({event_type}) cannot be replayed: {why}")]
    Event {
        /// Its seq.
        seq: i64,
        /// Its type.
        event_type: String,
        /// Why.
        why: String,
    },
}

/// Replays `events` (in seq order), each with the workflow of the pack that decided it.
pub fn replay<'a, 'w>(
    events: impl IntoIterator<Item = (ReplayEvent<'a>, &'w Workflow)>,
) -> Result<Replayed, ReplayError> {
    let mut state: Option<Replayed> = None;
    let mut previous: Option<EventType> = None;
    for (e, workflow) in events {
        let fail = |why: String| ReplayError::Event { seq: e.seq, event_type: e.event_type.to_owned(), why };
        let level = e.escalation_level.ok_or_else(|| fail("it carries no escalation_level".into()))?;
        let t = EventType::parse(e.event_type).ok_or_else(|| fail(format!("unknown event type `{}`", e.event_type)))?;
        let status = match (&state, t) {
            (None, EventType::Submitted) => workflow.meaning().awaiting_dispatch.clone(),
            (None, _) => return Err(fail("the first event of a case is `submitted`".into())),
            (Some(_), EventType::Submitted) => {
                return Err(fail("only the first event of a case is `submitted`".into()))
            }
            (Some(s), t) => next_status(workflow, &s.status, previous, t).map_err(fail)?,
        };
        check_holder(&e, t, level).map_err(fail)?;
        state = Some(Replayed { status, agency: e.agency.map(str::to_owned), escalation_level: level });
        previous = Some(t);
    }
    state.ok_or(ReplayError::NoEvents)
}

/// The state after an event of type `event_type` taken in `status` (`previous` being the type of the
/// event before it), or why it could not have happened there.
fn next_status(
    workflow: &Workflow,
    status: &str,
    previous: Option<EventType>,
    event_type: EventType,
) -> Result<String, String> {
    let meaning = workflow.meaning();
    let open_or_in = |actions: &[&str]| {
        !workflow.is_final(status)
            || actions.iter().filter_map(|a| workflow.action(a)).any(|a| a.from.iter().any(|s| s == status))
    };
    if let Some(action) = event_type.action() {
        let Some(a) = workflow.action(action) else {
            return Err(format!("the workflow has no action `{action}`"));
        };
        if !a.from.iter().any(|s| s == status) {
            return Err(format!("`{action}` is not allowed while the case is {status}"));
        }
        return Ok(a.to.clone());
    }
    match event_type {
        EventType::Escalated if open_or_in(&["escalate", "forward"]) => Ok(meaning.escalated.clone()),
        EventType::Escalated => Err(format!("a case is not escalated while it is {status}")),
        EventType::Closed
            if !workflow.is_final(status) || (previous == Some(EventType::Rated) && status == meaning.closed) =>
        {
            Ok(meaning.closed.clone())
        }
        EventType::Closed => Err(format!("a case is not closed while it is {status}")),
        t if t.is_still() => Ok(status.to_owned()),
        t => Err(format!("`{t}` is not an event of a case")),
    }
}

/// Where an event that moves the holder says the case went, against its envelope.
fn check_holder(e: &ReplayEvent<'_>, t: EventType, level: i32) -> Result<(), String> {
    let field = match t {
        EventType::Assigned => "agency",
        EventType::Forwarded | EventType::Escalated => "to",
        _ => return Ok(()),
    };
    if let Some(to) = e.data.get(field).and_then(Value::as_str) {
        if Some(to) != e.agency {
            return Err(format!(
                "its data says {field} {to}, its envelope says agency {}",
                e.agency.unwrap_or("(none)")
            ));
        }
    }
    if t == EventType::Escalated {
        if let Some(l) = e.data.get("level").and_then(Value::as_i64) {
            if l != i64::from(level) {
                return Err(format!("its data says level {l}, its envelope says escalation_level {level}"));
            }
        }
    }
    Ok(())
}
