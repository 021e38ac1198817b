//! A case's life decided by the core, with its history stamped as the service stamps it (every event
//! of a decision carries the decision's instant and the case's agency and level after it), for the
//! suites that read histories back (`replay`, `impact`).
#![allow(dead_code)]

use super::t;
use aduan_core::case::{decide, submit, Actor, Case, Command, NewEvent};
use aduan_core::pack::Pack;
use aduan_core::replay::ReplayEvent;
use aduan_core::sweep::{sweep_case, Fired};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// A stored event as a history reader sees it.
#[derive(Debug, Clone)]
pub struct Stored {
    pub event_type: String,
    pub at: DateTime<Utc>,
    pub agency: Option<String>,
    pub level: i32,
    pub data: Value,
}

/// A case and its history so far.
pub struct Life {
    pub case: Case,
    pub events: Vec<Stored>,
}

impl Life {
    /// A pengaduan about a road (`infrastruktur`) filed in `region` at `at`.
    pub fn new(pack: &Pack, region: &str, at: &str) -> Self {
        let n = super::filing(region, "infrastruktur", at);
        let (case, out) = submit(pack, n, t(at));
        let mut life = Life { case, events: Vec::new() };
        life.stamp(out.events, at);
        life
    }

    /// Appends a decision's events, stamped with its instant and the case after it (`chain_events` in
    /// the service).
    pub fn stamp(&mut self, events: Vec<NewEvent>, at: &str) {
        for e in events {
            self.events.push(Stored {
                event_type: e.event_type,
                at: t(at),
                agency: self.case.agency.clone(),
                level: self.case.escalation_level as i32,
                data: e.data,
            });
        }
    }

    /// Takes `cmd` as the system at `at`.
    pub fn act(&mut self, pack: &Pack, cmd: Command, at: &str) {
        let out =
            decide(pack, &mut self.case, &Actor::system(), &cmd, t(at)).unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        self.stamp(out.events, at);
    }

    /// One sweep at `at` (no rung fired before); how many escalations it made.
    pub fn sweep(&mut self, pack: &Pack, at: &str) -> u32 {
        let out = sweep_case(pack, &mut self.case, &Fired::new(), t(at));
        self.stamp(out.outcome.events, at);
        out.escalated
    }

    /// The history as the core reads it back.
    pub fn history(&self) -> Vec<ReplayEvent<'_>> {
        self.events.iter().enumerate().map(|(i, e)| view(i, e)).collect()
    }
}

/// The `i`-th stored event as the core reads it back.
pub fn view(i: usize, e: &Stored) -> ReplayEvent<'_> {
    ReplayEvent {
        seq: i as i64 + 1,
        event_type: &e.event_type,
        at: e.at,
        agency: e.agency.as_deref(),
        escalation_level: Some(e.level),
        data: &e.data,
    }
}

/// `verify` without an agency: routing decides.
pub fn verify() -> Command {
    Command::Verify { agency: None, category: None, investigation: None }
}
