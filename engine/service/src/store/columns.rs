//! The tables read and written a whole row at a time, each declared once: its name and its columns in
//! its row type's field order. Every statement over a whole row (`SELECT` lists, `INSERT` placeholders,
//! `UPDATE`'s `SET` list, the bulk `INSERT` and `COPY` column lists) is derived from that declaration,
//! and the `bind_*` macros bind a row's values in the same order.

use std::sync::LazyLock;

/// A statement built once, on first use, from a [`Table`] (`sqlx::query(STMT.as_str())`).
pub(super) type Stmt = LazyLock<String>;

/// A table's name and columns, in its row type's field order.
pub(super) struct Table {
    /// The table.
    pub(super) name: &'static str,
    /// Its columns, in the order the row type's fields, its decoder and its `bind_*` macro use.
    pub(super) cols: &'static [&'static str],
}

/// `complaints`, in [`CaseRow`](super::CaseRow) field order (30 columns).
pub(super) const CASES: Table = Table {
    name: "complaints",
    cols: &[
        "id",
        "tracking_id",
        "kind",
        "channel",
        "category",
        "region",
        "privacy",
        "status",
        "agency",
        "escalation_level",
        "flags",
        "title",
        "body",
        "reporter",
        "state",
        "created_at",
        "updated_at",
        "pack",
        "head_seq",
        "head_hash",
        "first_assigned_at",
        "first_followup_at",
        "first_followup_agency",
        "location_lat",
        "location_long",
        "location_address",
        "media_url",
        "source_system",
        "source_ref",
        "source_url",
    ],
};

/// `events`, in [`EventRow`](super::EventRow) field order (12 columns).
pub(super) const EVENTS: Table = Table {
    name: "events",
    cols: &[
        "id",
        "complaint_id",
        "seq",
        "event_type",
        "at",
        "actor",
        "agency",
        "escalation_level",
        "pack",
        "payload",
        "prev_hash",
        "hash",
    ],
};

/// `timers`, in [`TimerRow`](super::TimerRow) field order (14 columns; the claim columns are written
/// only by sweeps).
pub(super) const TIMERS: Table = Table {
    name: "timers",
    cols: &[
        "complaint_id",
        "clock",
        "generation",
        "budget_kind",
        "budget",
        "warn_permille",
        "calendar_ref",
        "started_at",
        "suspensions",
        "status",
        "due_at",
        "warn_at",
        "next_action_at",
        "sla_source",
    ],
};

/// `processed_commands`, in [`CommandRecord`](super::CommandRecord) field order (7 columns).
pub(super) const COMMANDS: Table = Table {
    name: "processed_commands",
    cols: &["scope", "key", "request_hash", "status", "complaint_id", "reporter_token_sealed", "created_at"],
};

/// `pack_publishes`, in [`PublishRow`](super::PublishRow) field order (13 columns).
pub(super) const PUBLISHES: Table = Table {
    name: "pack_publishes",
    cols: &[
        "id",
        "at",
        "actor",
        "role",
        "agency",
        "scope",
        "outcome",
        "hash_before",
        "candidate",
        "hash_after",
        "files",
        "detail",
        "bucket_revision",
    ],
};

/// `case_holders` as the bulk path writes it: (complaint_id, agency) pairs, never escalated from.
pub(super) const HOLDERS: Table = Table { name: "case_holders", cols: &["complaint_id", "agency", "escalated_from"] };

impl Table {
    /// `a, b, c`: the column list.
    pub(super) fn list(&self) -> String {
        self.cols.join(", ")
    }

    /// `x.a, x.b, x.c`: the column list qualified by the alias `x` (for joins).
    pub(super) fn list_as(&self, alias: &str) -> String {
        self.cols.iter().map(|c| format!("{alias}.{c}")).collect::<Vec<_>>().join(", ")
    }

    /// `SELECT a, b, c FROM t`.
    pub(super) fn select(&self) -> String {
        format!("SELECT {} FROM {}", self.list(), self.name)
    }

    /// `INSERT INTO t (a, b, c) VALUES ` (a bulk load appends its row groups).
    pub(super) fn insert_head(&self) -> String {
        format!("INSERT INTO {} ({}) VALUES ", self.name, self.list())
    }

    /// `INSERT INTO t (a, b, c) VALUES ($1, $2, $3)`.
    pub(super) fn insert(&self) -> String {
        let placeholders: Vec<String> = (1..=self.cols.len()).map(|n| format!("${n}")).collect();
        format!("{}({})", self.insert_head(), placeholders.join(", "))
    }

    /// `UPDATE t SET b = $2, c = $3`: every column but the first, which is the key (`$1`, for the
    /// caller's `WHERE`).
    pub(super) fn update(&self) -> String {
        let set: Vec<String> = self.cols.iter().enumerate().skip(1).map(|(i, c)| format!("{c} = ${}", i + 1)).collect();
        format!("UPDATE {} SET {}", self.name, set.join(", "))
    }

    /// `COPY t (a, b, c) FROM STDIN`.
    pub(super) fn copy_in(&self) -> String {
        format!("COPY {} ({}) FROM STDIN", self.name, self.list())
    }
}

/// Binds a [`CaseRow`](super::CaseRow)'s 30 columns in [`CASES`] order.
macro_rules! bind_case {
    ($q:expr, $r:expr) => {{
        let r: &$crate::store::model::CaseRow = $r;
        $q.bind(r.id.clone())
            .bind(r.tracking_id.clone())
            .bind(r.kind.clone())
            .bind(r.channel.clone())
            .bind(r.category.clone())
            .bind(r.region.clone())
            .bind(r.privacy.clone())
            .bind(r.status.clone())
            .bind(r.agency.clone())
            .bind(r.escalation_level)
            .bind(r.flags.clone())
            .bind(r.title.clone())
            .bind(r.body.clone())
            .bind(r.reporter.clone())
            .bind(r.state.clone())
            .bind($crate::store::rows::ms(r.created_at))
            .bind($crate::store::rows::ms(r.updated_at))
            .bind(r.pack.clone())
            .bind(r.head_seq)
            .bind(r.head_hash.clone())
            .bind($crate::store::rows::opt_ms(r.first_assigned_at))
            .bind($crate::store::rows::opt_ms(r.first_followup_at))
            .bind(r.first_followup_agency.clone())
            .bind(r.location_lat)
            .bind(r.location_long)
            .bind(r.location_address.clone())
            .bind(r.media_url.clone())
            .bind(r.source_system.clone())
            .bind(r.source_ref.clone())
            .bind(r.source_url.clone())
    }};
}

/// Binds an [`EventRow`](super::EventRow)'s 12 columns in [`EVENTS`] order.
macro_rules! bind_event {
    ($q:expr, $e:expr) => {{
        let e: &$crate::store::model::EventRow = $e;
        $q.bind(e.id.clone())
            .bind(e.complaint_id.clone())
            .bind(e.seq)
            .bind(e.event_type.clone())
            .bind($crate::store::rows::ms(e.at))
            .bind(e.actor.clone())
            .bind(e.agency.clone())
            .bind(e.escalation_level)
            .bind(e.pack.clone())
            .bind(e.payload.clone())
            .bind(e.prev_hash.clone())
            .bind(e.hash.clone())
    }};
}

/// Binds a [`TimerRow`](super::TimerRow)'s 14 columns in [`TIMERS`] order.
macro_rules! bind_timer {
    ($q:expr, $t:expr) => {{
        let t: &$crate::store::model::TimerRow = $t;
        $q.bind(t.complaint_id.clone())
            .bind(t.clock.clone())
            .bind(t.generation)
            .bind(t.budget_kind.clone())
            .bind(t.budget)
            .bind(t.warn_permille)
            .bind(t.calendar_ref.clone())
            .bind($crate::store::rows::ms(t.started_at))
            .bind(t.suspensions.clone())
            .bind(t.status.clone())
            .bind($crate::store::rows::opt_ms(t.due_at))
            .bind($crate::store::rows::opt_ms(t.warn_at))
            .bind($crate::store::rows::opt_ms(t.next_action_at))
            .bind(t.sla_source.clone())
    }};
}

/// Binds a [`CommandRecord`](super::CommandRecord)'s 7 columns in [`COMMANDS`] order.
macro_rules! bind_command {
    ($q:expr, $r:expr) => {{
        let r: &$crate::store::model::CommandRecord = $r;
        $q.bind(r.scope.clone())
            .bind(r.key.clone())
            .bind(r.request_hash.clone())
            .bind(r.status)
            .bind(r.complaint_id.clone())
            .bind(r.reporter_token_sealed.clone())
            .bind($crate::store::rows::ms(r.created_at))
    }};
}

/// Binds a [`PublishRow`](super::PublishRow)'s 13 columns in [`PUBLISHES`] order.
macro_rules! bind_publish {
    ($q:expr, $r:expr) => {{
        let r: &$crate::store::model::PublishRow = $r;
        $q.bind(r.id.clone())
            .bind($crate::store::rows::ms(r.at))
            .bind(r.actor.clone())
            .bind(r.role.clone())
            .bind(r.agency.clone())
            .bind(r.scope.clone())
            .bind(r.outcome.clone())
            .bind(r.hash_before.clone())
            .bind(r.candidate.clone())
            .bind(r.hash_after.clone())
            .bind(r.files.clone())
            .bind(r.detail.clone())
            .bind(r.bucket_revision)
    }};
}

pub(super) use {bind_case, bind_command, bind_event, bind_publish, bind_timer};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cases::{INSERT_CASE, UPDATE_CASE};
    use crate::store::commands::INSERT_COMMAND;
    use crate::store::events::INSERT_EVENT;
    use crate::store::publishes::INSERT_PUBLISH;
    use crate::store::timers::INSERT_TIMER;

    #[test]
    fn statements_bind_every_column() {
        // Each numbered statement uses exactly as many placeholders as its column list has columns.
        assert_eq!(CASES.cols.len(), 30);
        assert_eq!(EVENTS.cols.len(), 12);
        assert_eq!(TIMERS.cols.len(), 14);
        assert_eq!(COMMANDS.cols.len(), 7);
        assert_eq!(PUBLISHES.cols.len(), 13);
        assert!(INSERT_CASE.contains("$30)") && !INSERT_CASE.contains("$31"));
        assert!(UPDATE_CASE.contains("$31") && !UPDATE_CASE.contains("$32"));
        assert!(INSERT_EVENT.contains("$12)") && !INSERT_EVENT.contains("$13"));
        assert!(INSERT_TIMER.contains("$14)") && !INSERT_TIMER.contains("$15"));
        assert!(INSERT_COMMAND.contains("$7)") && !INSERT_COMMAND.contains("$8"));
        assert!(INSERT_PUBLISH.contains("$13)") && !INSERT_PUBLISH.contains("$14"));
    }

    #[test]
    fn derived_forms() {
        let t = Table { name: "t", cols: &["k", "a", "b"] };
        assert_eq!(t.select(), "SELECT k, a, b FROM t");
        assert_eq!(t.insert(), "INSERT INTO t (k, a, b) VALUES ($1, $2, $3)");
        assert_eq!(t.update(), "UPDATE t SET a = $2, b = $3");
        assert_eq!(t.copy_in(), "COPY t (k, a, b) FROM STDIN");
        assert_eq!(
            UPDATE_CASE.as_str(),
            "UPDATE complaints SET tracking_id = $2, kind = $3, channel = $4, category = $5, \
             region = $6, privacy = $7, status = $8, agency = $9, escalation_level = $10, flags = $11, title = $12, \
             body = $13, reporter = $14, state = $15, created_at = $16, updated_at = $17, pack = $18, head_seq = $19, \
             head_hash = $20, first_assigned_at = $21, first_followup_at = $22, first_followup_agency = $23, \
             location_lat = $24, location_long = $25, location_address = $26, media_url = $27, \
             source_system = $28, source_ref = $29, source_url = $30 \
             WHERE id = $1 AND head_seq = $31"
        );
    }
}
