//! `aduan-core`: the pure heart of Aduan, a public-service complaint engine in the style of
//! SP4N-LAPOR!.
//!
//! It does no IO, is not async and never reads the clock: every instant is an argument (ARCHITECTURE.md,
//! invariant 1). The service crate feeds it files and rows and stores what it decides.
//!
//! - [`calendar`]: working-day calendars compiled from layered YAML; add and count in O(1).
//! - [`region`]: Kemendagri region codes and each province's time zone.
//! - [`sla`]: clock budgets resolved through national, region and agency layers, with provenance.
//! - [`clock`]: the names of SLA clocks and the generations of their rungs.
//! - [`timer`]: SLA timers (budget, start, suspension ledger, calendar) and their derived deadlines.
//! - [`pack`]: loading and validating a policy pack from its files; the pack hash.
//! - [`problem`]: a pack's problems (`file:line:col: message`) and the strict YAML parser (a leaf).
//! - [`explain`]: the `policy explain` answer for one complaint.
//! - [`impact`]: what a candidate pack would decide differently about a stored case (`policy replay`).
//! - [`pack_test`]: a pack's own test cases (`policy test`): parsing them and checking them.
//! - [`domain`]: shared vocabulary (report kinds, agency tiers).
//! - [`duplicates`]: is a new complaint one already filed? Normalised text, MinHash signatures, LSH keys.
//! - [`directory`]: the agency tree (kemenpanrb → provinces → kab/kota → units) and categories.
//! - [`workflow`]: states and actions of a pack's workflow.
//! - [`rules`]: the rhai sandbox and pluggable route/escalate policies.
//! - [`access`]: the one table of role × operation × reach, and what a viewer may see of a case.
//! - [`publish`]: whose each file of a pack is, and which changes a policy author may publish.
//! - [`case`]: a case and every decision on it (submit, actions, escalation).
//! - [`chain`]: the per-case hash chain of events.
//! - [`replay`]: the status, holder and level a case's events lead to (for `audit verify`).
//! - [`report`]: compliance reports: per-case facts, figures, rows and zones (`reports.yaml`).
//! - [`sweep`]: what a deadline sweep does to one case at one instant.
//! - [`time`]: [`time::Timestamp`], the millisecond instant every decision is taken at.

pub mod access;
pub mod calendar;
pub mod case;
pub mod chain;
pub mod clock;
pub mod directory;
pub mod domain;
pub mod duplicates;
pub mod event;
pub mod explain;
pub mod impact;
pub mod pack;
pub mod pack_test;
pub mod problem;
pub mod publish;
pub mod region;
pub mod replay;
pub mod report;
pub mod rules;
pub mod sla;
pub mod smoke;
pub mod sweep;
pub mod time;
pub mod timer;
pub mod workflow;
