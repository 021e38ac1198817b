//! Column lists of the tables with a row type, and the macros that bind a row's values in the same
//! order. Each statement over a whole row is written from these.

/// Binds a [`CaseRow`]'s 23 columns in [`case_cols`] order.
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
    }};
}

/// Binds an [`EventRow`]'s 12 columns in [`event_cols`] order.
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

/// Binds a [`TimerRow`]'s 14 columns in [`timer_cols`] order.
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

/// Binds a [`CommandRecord`]'s 7 columns in [`command_cols`] order.
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

pub(super) use {bind_case, bind_command, bind_event, bind_timer};

#[cfg(test)]
mod tests {
    use crate::store::cases::{INSERT_CASE, UPDATE_CASE};
    use crate::store::commands::INSERT_COMMAND;
    use crate::store::events::INSERT_EVENT;
    use crate::store::rows::{case_cols, command_cols, event_cols, timer_cols};
    use crate::store::timers::INSERT_TIMER;

    #[test]
    fn statements_bind_every_column() {
        // Each numbered statement uses exactly as many placeholders as its column list has columns.
        let count = |cols: &str| cols.split(',').count();
        assert_eq!(count(case_cols!()), 23);
        assert_eq!(count(event_cols!()), 12);
        assert_eq!(count(timer_cols!()), 14);
        assert_eq!(count(command_cols!()), 7);
        assert!(INSERT_CASE.contains("$23)") && !INSERT_CASE.contains("$24"));
        assert!(UPDATE_CASE.contains("$24") && !UPDATE_CASE.contains("$25"));
        assert!(INSERT_EVENT.contains("$12)") && !INSERT_EVENT.contains("$13"));
        assert!(INSERT_TIMER.contains("$14)") && !INSERT_TIMER.contains("$15"));
        assert!(INSERT_COMMAND.contains("$7)") && !INSERT_COMMAND.contains("$8"));
    }
}
