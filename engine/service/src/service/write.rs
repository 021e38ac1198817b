//! The writing of a decision. [`chain_events`] is the one place a case's hash chain is built (commands,
//! sweeps, recomputes and `aduan seed` all go through it); [`CaseWrite`] is everything one decision
//! writes, in the caller's transaction (invariant 3); [`OutboxEntry`] is the one place an event becomes
//! an outbox row (a case's events and the digest).

use super::rows::{case_row, timer_rows};
use super::{new_id, ServiceError};
use crate::bus::{event_subject, queue_subject};
use crate::store::{CaseRow, CommandRecord, EventRow, StoreError, TimerRow, Tx};
use crate::wire::EventMessage;
use aduan_core::case::{Case, NewEvent, Outcome};
use aduan_core::chain::event_hash;
use aduan_core::clock::{Clock, Generation};
use aduan_core::pack::Pack;
use aduan_core::sweep::{fired_from_rows, Fired, Rung};
use chrono::{DateTime, Utc};

/// The `actor` of seeded history.
const SEED_ACTOR: &str = "system:seed";
/// The body of a seeded case.
const SEED_BODY: &str = "Seeded for benchmarks and demos.";

/// What every event row of one decision shares: the pack it was made under, who made it, and when.
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    /// The pack (its hash is stamped on every event).
    pub pack: &'a Pack,
    /// The events' `actor` (`anyone`, `reporter`, `system`, `system:sweep`, …).
    pub actor: &'a str,
    /// The decision's instant, already truncated to the millisecond it is stored at.
    pub at: DateTime<Utc>,
}

/// A rung of a clock, as recorded once under its unique key: (clock, timer generation, rung).
pub type FiredRung = (Clock, Generation, Rung);

/// The hash-chained rows of `events` about `case`, continuing its chain after `head` (the stored
/// `(head_seq, head_hash)`; `(0, "")` for a new case). Each row's payload is the published
/// [`EventMessage`], and its hash chains it to the row before ([`event_hash`]).
pub fn chain_events(
    stamp: Stamp<'_>,
    case: &Case,
    head: (i64, &str),
    events: impl IntoIterator<Item = NewEvent>,
) -> Result<Vec<EventRow>, ServiceError> {
    let (mut seq, mut prev) = (head.0, head.1.to_owned());
    let mut rows = Vec::new();
    for ev in events {
        seq += 1;
        let msg = EventMessage {
            event_id: new_id(),
            complaint_id: Some(case.id.clone()),
            tracking_id: Some(case.tracking_id.clone()),
            event_type: ev.event_type,
            at: stamp.at,
            agency: case.agency.clone(),
            escalation_level: Some(case.escalation_level as i32),
            actor: stamp.actor.to_owned(),
            pack: stamp.pack.hash.clone(),
            data: ev.data,
        };
        let payload = serde_json::to_string(&msg).map_err(|e| ServiceError::Internal(e.to_string()))?;
        let hash = event_hash(&prev, &payload);
        rows.push(EventRow {
            id: msg.event_id,
            complaint_id: case.id.clone(),
            seq,
            event_type: msg.event_type,
            at: stamp.at,
            actor: msg.actor,
            agency: msg.agency,
            escalation_level: case.escalation_level as i32,
            pack: msg.pack,
            payload,
            prev_hash: std::mem::replace(&mut prev, hash.clone()),
            hash,
        });
    }
    Ok(rows)
}

/// An event queued for the relay to publish: its id (= `Nats-Msg-Id`), subject and payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    /// The event id.
    pub event_id: String,
    /// The NATS subject ([`event_subject`]).
    pub subject: String,
    /// The wire JSON.
    pub payload: String,
}

impl OutboxEntry {
    /// The entry of one of a case's event rows, published under `prefix`.
    pub fn of_event(prefix: &str, e: &EventRow) -> Self {
        Self::new(prefix, &e.id, e.agency.as_deref(), &e.event_type, e.payload.clone())
    }

    /// The entry of a message that belongs to no case (the digest), published under `prefix`.
    pub fn of_message(prefix: &str, msg: &EventMessage) -> Result<Self, ServiceError> {
        let payload = serde_json::to_string(msg).map_err(|e| ServiceError::Internal(e.to_string()))?;
        Ok(Self::new(prefix, &msg.event_id, msg.agency.as_deref(), &msg.event_type, payload))
    }

    /// The copy of a case's event on its region's queue subject ([`queue_subject`]), for an event after
    /// which no agency holds the case. Its outbox key (and so its `Nats-Msg-Id`) is the event id with
    /// [`QUEUE_KEY_SUFFIX`], so the copy is queued and deduplicated apart from the event.
    pub fn queue_copy(prefix: &str, region: &str, e: &EventRow) -> Self {
        Self {
            event_id: format!("{}{QUEUE_KEY_SUFFIX}", e.id),
            subject: queue_subject(prefix, region, &e.event_type),
            payload: e.payload.clone(),
        }
    }

    fn new(prefix: &str, event_id: &str, agency: Option<&str>, event_type: &str, payload: String) -> Self {
        Self { event_id: event_id.to_owned(), subject: event_subject(prefix, agency, event_type), payload }
    }

    /// Queues the entry in `tx`.
    pub async fn write(&self, tx: &mut Tx, at: DateTime<Utc>) -> Result<(), ServiceError> {
        Ok(tx.insert_outbox(&self.event_id, &self.subject, &self.payload, at).await?)
    }
}

/// What a queue copy's outbox key adds to the event id ([`OutboxEntry::queue_copy`]).
pub const QUEUE_KEY_SUFFIX: &str = ".queue";

/// Everything one decision writes for a case, in the caller's transaction: built by [`CaseWrite::new`]
/// (plus [`CaseWrite::published`], [`CaseWrite::with_rungs`], [`CaseWrite::with_command`]), written by
/// [`CaseWrite::write`].
#[derive(Debug, Clone)]
pub struct CaseWrite {
    /// The case's row after the decision, at the chain's new head.
    pub row: CaseRow,
    /// The head the stored row must still be at for the write to land (0: a case this transaction
    /// inserted, with an empty head).
    pub expected_head: i64,
    /// The decision's events, hash-chained after the expected head.
    pub events: Vec<EventRow>,
    /// One entry per event, once [`CaseWrite::published`]; none for history that is not published.
    pub outbox: Vec<OutboxEntry>,
    /// The rungs this decision fired, recorded first under their unique key.
    pub rungs: Vec<FiredRung>,
    /// The case's timers, replacing the stored ones.
    pub timers: Vec<TimerRow>,
    /// Agencies that came to hold the case.
    pub holders: Vec<String>,
    /// The agency the case was escalated away from, if any.
    pub escalated_from: Option<String>,
    /// The command's idempotency record, when it carried a key.
    pub command: Option<CommandRecord>,
    /// When (rungs, outbox entries).
    pub at: DateTime<Utc>,
}

impl CaseWrite {
    /// The writes of `outcome` for `case`. `row` is the case's row after the decision ([`case_row`] for
    /// a new case, [`super::row_after`] for a stored one), still at the head it was read at; `fired` is
    /// every rung the case has fired, this decision's included (for each timer's `next_action_at`).
    pub fn new(
        stamp: Stamp<'_>,
        case: &Case,
        mut row: CaseRow,
        outcome: Outcome,
        fired: &Fired,
    ) -> Result<Self, ServiceError> {
        let expected_head = row.head_seq;
        let events = chain_events(stamp, case, (row.head_seq, &row.head_hash), outcome.events)?;
        if let Some(last) = events.last() {
            row.head_seq = last.seq;
            row.head_hash = last.hash.clone();
        }
        Ok(Self {
            row,
            expected_head,
            events,
            outbox: Vec::new(),
            rungs: Vec::new(),
            timers: timer_rows(case, stamp.pack, fired, stamp.at),
            holders: outcome.new_holders,
            escalated_from: outcome.escalated_from,
            command: None,
            at: stamp.at,
        })
    }

    /// With one outbox entry per event, published under `prefix`, each followed by its copy on the
    /// region's queue while no agency holds the case.
    pub fn published(mut self, prefix: &str) -> Self {
        let region = self.row.region.as_deref();
        self.outbox = self
            .events
            .iter()
            .flat_map(|e| {
                let copy = region.filter(|_| e.agency.is_none()).map(|r| OutboxEntry::queue_copy(prefix, r, e));
                std::iter::once(OutboxEntry::of_event(prefix, e)).chain(copy)
            })
            .collect();
        self
    }

    /// With the rungs this decision fired.
    pub fn with_rungs(mut self, rungs: Vec<FiredRung>) -> Self {
        self.rungs = rungs;
        self
    }

    /// With the command's idempotency record.
    pub fn with_command(mut self, command: Option<CommandRecord>) -> Self {
        self.command = command;
        self
    }

    /// Writes it all in `tx`: the rungs, the events, their outbox entries, the case row (only if still at
    /// `expected_head`), timers, holders, the escalation mark and the idempotency record.
    /// [`ServiceError::LostRace`] when another writer got there first (the case's head moved, or a rung
    /// or the idempotency key is already recorded): the caller rolls back and decides again.
    pub async fn write(&self, tx: &mut Tx) -> Result<(), ServiceError> {
        let id = &self.row.id;
        record_rungs(tx, id, &self.rungs, self.at).await?;
        for e in &self.events {
            tx.append_event(e).await.map_err(lost_race)?;
        }
        for o in &self.outbox {
            o.write(tx, self.at).await?;
        }
        if let Some(system) = self.row.source_system.as_deref().filter(|_| !self.outbox.is_empty()) {
            tx.enqueue_webhooks(system, id, &self.events, self.at).await?;
        }
        tx.update_case(&self.row, self.expected_head).await.map_err(lost_race)?;
        tx.replace_timers(id, &self.timers).await?;
        for h in &self.holders {
            tx.add_holder(id, h).await?;
        }
        if let Some(f) = &self.escalated_from {
            tx.mark_escalated_from(id, f).await?;
        }
        if let Some(rec) = &self.command {
            tx.insert_command(rec).await.map_err(lost_race)?;
        }
        Ok(())
    }
}

/// A store conflict on a write that assumed nothing else changed the case is a lost race.
fn lost_race(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => ServiceError::LostRace,
        other => other.into(),
    }
}

/// Records rungs a case fired under their unique (timer, generation, rung) key; [`ServiceError::LostRace`]
/// when one is already recorded (another writer acted on it).
pub async fn record_rungs(
    tx: &mut Tx,
    complaint_id: &str,
    rungs: &[FiredRung],
    at: DateTime<Utc>,
) -> Result<(), ServiceError> {
    for (clock, generation, rung) in rungs {
        tx.insert_rung(complaint_id, clock.as_str(), generation.get() as i64, rung.as_str(), at)
            .await
            .map_err(lost_race)?;
    }
    Ok(())
}

/// The rungs a case has fired, read in the writing transaction.
pub async fn fired_rungs(tx: &mut Tx, complaint_id: &str) -> Result<Fired, ServiceError> {
    Ok(fired_from_rows(tx.fired_rungs(complaint_id).await?))
}

/// The rows `aduan seed` inserts in bulk.
#[derive(Debug, Clone, Default)]
pub struct SeedRows {
    /// Case rows, at their chain's head.
    pub cases: Vec<CaseRow>,
    /// Their hash-chained events.
    pub events: Vec<EventRow>,
    /// Their timers.
    pub timers: Vec<TimerRow>,
    /// (case, agency) holders.
    pub holders: Vec<(String, String)>,
}

/// Rows for the bulk path (`aduan seed`): each case written as [`CaseWrite`] writes a decision, with no
/// outbox (seeded history is not published).
pub fn seed_rows(pack: &Pack, cases: Vec<(Case, Outcome)>, now: DateTime<Utc>) -> Result<SeedRows, ServiceError> {
    let mut out = SeedRows {
        cases: Vec::with_capacity(cases.len()),
        events: Vec::with_capacity(cases.len() * 2),
        timers: Vec::with_capacity(cases.len() * 2),
        holders: Vec::new(),
    };
    let stamp = Stamp { pack, actor: SEED_ACTOR, at: now };
    for (case, outcome) in cases {
        let row = case_row(&case, pack, SEED_BODY, None, now);
        let w = CaseWrite::new(stamp, &case, row, outcome, &Fired::new())?;
        out.cases.push(w.row);
        out.events.extend(w.events);
        out.timers.extend(w.timers);
        out.holders.extend(w.holders.into_iter().map(|h| (case.id.clone(), h)));
    }
    Ok(out)
}
