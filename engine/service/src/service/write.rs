//! The writing of a decision: hash-chained events, the case row, timers, holders and outbox rows in the
//! caller's transaction; and the same rows in bulk for `aduan seed`.

use super::rows::{case_row, timer_rows};
use super::{new_id, Service, ServiceError};
use crate::bus::event_subject;
use crate::store::{CaseRow, EventRow, StoreError, TimerRow, Tx};
use crate::wire::EventMessage;
use aduan_core::case::{Case, Outcome};
use aduan_core::chain::event_hash;
use aduan_core::pack::Pack;
use aduan_core::sweep::Fired;
use chrono::{DateTime, Utc};

impl Service {
    /// Appends a decision's events (hash-chained), the new state, timers, holders and outbox rows.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn append(
        &self,
        tx: &mut Tx,
        row: CaseRow,
        head_seq: i64,
        case: &Case,
        pack: &Pack,
        outcome: Outcome,
        actor: &str,
        now: DateTime<Utc>,
    ) -> Result<(CaseRow, Vec<TimerRow>), ServiceError> {
        let fired = if head_seq == 0 { Fired::new() } else { fired_of(tx, &case.id).await? };
        self.append_with(tx, row, head_seq, case, pack, outcome, actor, now, &fired).await
    }

    /// [`Service::append`] with the case's fired rungs already known.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn append_with(
        &self,
        tx: &mut Tx,
        mut row: CaseRow,
        head_seq: i64,
        case: &Case,
        pack: &Pack,
        outcome: Outcome,
        actor: &str,
        now: DateTime<Utc>,
        fired: &Fired,
    ) -> Result<(CaseRow, Vec<TimerRow>), ServiceError> {
        let mut prev = std::mem::take(&mut row.head_hash);
        let mut seq = head_seq;
        for ev in outcome.events {
            seq += 1;
            let msg = EventMessage {
                event_id: new_id(),
                complaint_id: Some(case.id.clone()),
                tracking_id: Some(case.tracking_id.clone()),
                event_type: ev.event_type.clone(),
                at: now,
                agency: case.agency.clone(),
                escalation_level: Some(case.escalation_level as i32),
                actor: actor.to_owned(),
                pack: pack.hash.clone(),
                data: ev.data,
            };
            let payload = serde_json::to_string(&msg).map_err(|e| ServiceError::Internal(e.to_string()))?;
            let hash = event_hash(&prev, &payload);
            let er = EventRow {
                id: msg.event_id.clone(),
                complaint_id: case.id.clone(),
                seq,
                event_type: msg.event_type.clone(),
                at: now,
                actor: actor.to_owned(),
                agency: case.agency.clone(),
                escalation_level: case.escalation_level as i32,
                pack: pack.hash.clone(),
                payload: payload.clone(),
                prev_hash: prev.clone(),
                hash: hash.clone(),
            };
            match tx.append_event(&er).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
            let subject = event_subject(&self.inner.prefix, case.agency.as_deref(), &msg.event_type);
            tx.insert_outbox(&msg.event_id, &subject, &payload, now).await?;
            prev = hash;
        }
        row.head_seq = seq;
        row.head_hash = prev;
        if head_seq == 0 {
            // A new case was inserted with an empty head; set it now.
            match tx.update_case(&row, 0).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
        } else {
            match tx.update_case(&row, head_seq).await {
                Err(StoreError::Conflict(m)) => return Err(ServiceError::Conflict { detail: m, allowed: vec![] }),
                other => other?,
            }
        }
        let timers = timer_rows(case, pack, fired, now);
        tx.replace_timers(&case.id, &timers).await?;
        for h in &outcome.new_holders {
            tx.add_holder(&case.id, h).await?;
        }
        if let Some(f) = &outcome.escalated_from {
            tx.mark_escalated_from(&case.id, f).await?;
        }
        Ok((row, timers))
    }
}

async fn fired_of(tx: &mut Tx, id: &str) -> Result<Fired, ServiceError> {
    Ok(tx.fired_rungs(id).await?.into_iter().map(|(c, g, r)| (c, g as u64, r)).collect())
}

/// Rows for the bulk path (`aduan seed`): cases with their hash-chained events (no outbox: seeded history
/// is not published), timers and holders.
#[allow(clippy::type_complexity)]
pub fn seed_rows(
    pack: &Pack,
    cases: &[(Case, Outcome)],
    now: DateTime<Utc>,
) -> (Vec<CaseRow>, Vec<EventRow>, Vec<TimerRow>, Vec<(String, String)>) {
    let mut rows = Vec::with_capacity(cases.len());
    let mut events = Vec::with_capacity(cases.len() * 2);
    let mut timers = Vec::with_capacity(cases.len() * 2);
    let mut holders = Vec::new();
    for (case, outcome) in cases {
        let mut prev = String::new();
        let mut seq = 0;
        for ev in &outcome.events {
            seq += 1;
            let msg = EventMessage {
                event_id: new_id(),
                complaint_id: Some(case.id.clone()),
                tracking_id: Some(case.tracking_id.clone()),
                event_type: ev.event_type.clone(),
                at: now,
                agency: case.agency.clone(),
                escalation_level: Some(case.escalation_level as i32),
                actor: "system:seed".into(),
                pack: pack.hash.clone(),
                data: ev.data.clone(),
            };
            let payload = serde_json::to_string(&msg).unwrap_or_default();
            let hash = event_hash(&prev, &payload);
            events.push(EventRow {
                id: msg.event_id,
                complaint_id: case.id.clone(),
                seq,
                event_type: msg.event_type,
                at: now,
                actor: msg.actor,
                agency: case.agency.clone(),
                escalation_level: case.escalation_level as i32,
                pack: pack.hash.clone(),
                payload,
                prev_hash: prev.clone(),
                hash: hash.clone(),
            });
            prev = hash;
        }
        let mut row = case_row(case, pack, "Seeded for benchmarks and demos.", None, now);
        row.head_seq = seq;
        row.head_hash = prev;
        rows.push(row);
        timers.extend(timer_rows(case, pack, &Fired::new(), now));
        for h in &outcome.new_holders {
            holders.push((case.id.clone(), h.clone()));
        }
    }
    (rows, events, timers, holders)
}
