//! A case as stored rows and back: the case row and timer rows after a decision, and the core case
//! rebuilt from its rows.

use super::ServiceError;
use crate::store::{CaseRow, TimerRow};
use aduan_core::case::{Case, CaseState, CaseTimer, Privacy};
use aduan_core::clock::{Clock, Generation};
use aduan_core::domain::Kind;
use aduan_core::pack::Pack;
use aduan_core::region::RegionCode;
use aduan_core::sla::Budget;
use aduan_core::sweep::{next_action_at, Fired};
use aduan_core::timer::{CalendarRef, Suspension, Timer};
use chrono::{DateTime, Utc};
use serde_json::Value;
use std::collections::BTreeMap;

/// The row of a new case after its first decision, at an empty head (body and sealed reporter given by
/// the caller; no location or media, which a submission sets on the row it returns).
pub fn case_row(case: &Case, pack: &Pack, body: &str, reporter: Option<String>, now: DateTime<Utc>) -> CaseRow {
    CaseRow {
        id: case.id.clone(),
        tracking_id: case.tracking_id.clone(),
        kind: case.kind.as_str().into(),
        channel: case.channel.clone(),
        category: case.category.clone(),
        region: case.region.as_ref().map(|r| r.to_string()),
        privacy: case.privacy.as_str().into(),
        status: case.status.clone(),
        agency: case.agency.clone(),
        escalation_level: case.escalation_level as i32,
        flags: serde_json::to_string(&case.flags).unwrap_or_else(|_| "[]".into()),
        title: case.title.clone(),
        body: body.to_owned(),
        reporter,
        state: serde_json::to_string(&case.state).unwrap_or_else(|_| "{}".into()),
        created_at: case.created_at,
        updated_at: now,
        pack: pack.hash.clone(),
        head_seq: 0,
        head_hash: String::new(),
        first_assigned_at: case.first_assigned_at,
        first_followup_at: case.first_followup_at,
        first_followup_agency: case.first_followup_agency.clone(),
        location_lat: None,
        location_long: None,
        location_address: None,
        media_url: None,
        source_system: None,
        source_ref: None,
        source_url: None,
    }
}

/// The row of an existing case after a decision: the case's new state, with what the core does not
/// hold (body, sealed reporter, creation time, title, location, media, source, current head) carried over from
/// the stored row.
pub fn row_after(case: &Case, pack: &Pack, stored: &CaseRow, now: DateTime<Utc>) -> CaseRow {
    let mut row = case_row(case, pack, &stored.body, stored.reporter.clone(), now);
    row.created_at = stored.created_at;
    row.title = stored.title.clone();
    row.location_lat = stored.location_lat;
    row.location_long = stored.location_long;
    row.location_address = stored.location_address.clone();
    row.media_url = stored.media_url.clone();
    row.source_system = stored.source_system.clone();
    row.source_ref = stored.source_ref.clone();
    row.source_url = stored.source_url.clone();
    row.head_seq = stored.head_seq;
    row.head_hash = stored.head_hash.clone();
    row
}

/// The timers of a case as rows, with their derived deadlines and the next instant a sweep has
/// something to do (given the rungs already fired).
pub fn timer_rows(case: &Case, pack: &Pack, fired: &Fired, now: DateTime<Utc>) -> Vec<TimerRow> {
    case.timers
        .iter()
        .map(|(clock, t)| {
            let s = t.timer.schedule(&pack.calendar_for(&t.timer.calendar));
            let (kind, budget) = match t.timer.budget {
                Budget::WorkingDays(n) => ("days", n),
                Budget::WorkingHours(n) => ("hours", n),
            };
            TimerRow {
                complaint_id: case.id.clone(),
                clock: clock.to_string(),
                generation: t.generation.get() as i64,
                budget_kind: kind.into(),
                budget: i64::from(budget),
                warn_permille: i32::from(t.timer.warn_permille),
                calendar_ref: t.timer.calendar.to_string(),
                started_at: t.timer.started_at,
                suspensions: serde_json::to_string(&t.timer.suspensions).unwrap_or_else(|_| "[]".into()),
                status: if s.paused { "paused" } else { "running" }.into(),
                due_at: s.due_at(),
                warn_at: s.warn_at,
                next_action_at: next_action_at(pack, case, clock, fired, now),
                sla_source: t.sla_source.clone(),
            }
        })
        .collect()
}

/// Rebuilds the core case from its rows.
pub fn case_of(row: &CaseRow, timers: &[TimerRow]) -> Result<Case, ServiceError> {
    let bad = |what: &str| ServiceError::Internal(format!("case {}: stored {what} is unreadable", row.id));
    let kind: Kind = serde_json::from_value(Value::String(row.kind.clone())).map_err(|_| bad("kind"))?;
    let privacy = Privacy::from_wire(&row.privacy).ok_or_else(|| bad("privacy"))?;
    let state: CaseState = serde_json::from_str(&row.state).map_err(|_| bad("state"))?;
    let mut map = BTreeMap::new();
    for t in timers {
        let budget = match t.budget_kind.as_str() {
            "hours" => Budget::WorkingHours(t.budget as u32),
            _ => Budget::WorkingDays(t.budget as u32),
        };
        let suspensions: Vec<Suspension> = serde_json::from_str(&t.suspensions).map_err(|_| bad("suspensions"))?;
        let calendar = CalendarRef::parse(&t.calendar_ref).ok_or_else(|| bad("calendar ref"))?;
        let timer = Timer {
            clock: Clock::from(t.clock.as_str()),
            budget,
            warn_permille: t.warn_permille as u16,
            calendar,
            started_at: t.started_at,
            suspensions,
        };
        map.insert(
            Clock::from(t.clock.as_str()),
            CaseTimer { timer, generation: Generation::new(t.generation as u64), sla_source: t.sla_source.clone() },
        );
    }
    Ok(Case {
        id: row.id.clone(),
        tracking_id: row.tracking_id.clone(),
        kind,
        channel: row.channel.clone(),
        category: row.category.clone(),
        region: row.region.as_deref().and_then(|r| RegionCode::parse(r).ok()),
        privacy,
        title: row.title.clone(),
        status: row.status.clone(),
        agency: row.agency.clone(),
        escalation_level: row.escalation_level.max(0) as u32,
        flags: serde_json::from_str(&row.flags).unwrap_or_default(),
        state,
        created_at: row.created_at,
        first_assigned_at: row.first_assigned_at,
        first_followup_at: row.first_followup_at,
        first_followup_agency: row.first_followup_agency.clone(),
        timers: map,
    })
}
