//! Row decoding shared by both backends, and the stored form of instants (epoch milliseconds). Rows
//! are read by column name, so a decoder does not depend on the order of a `SELECT` list.

use chrono::{DateTime, Utc};
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::Row;

use super::model::{CaseRow, CommandRecord, DueTimer, EventRow, OutboxRow, PublishRow, SourceRow, TimerRow, TokenRow};
use super::{StatsRow, StoreError};

/// Epoch milliseconds, the stored form of every instant.
pub(super) fn ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

/// Optional instant as epoch milliseconds.
pub(super) fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(ms)
}

/// Back from epoch milliseconds.
pub(super) fn from_ms(v: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_millis(v).ok_or_else(|| StoreError::Other(format!("instant out of range: {v} ms")))
}

/// Typed column access over either backend's row, so each row type is decoded by one function.
pub(super) trait RowExt {
    fn text(&self, col: &str) -> Result<String, StoreError>;
    fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError>;
    fn int(&self, col: &str) -> Result<i64, StoreError>;
    fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError>;
    fn int32(&self, col: &str) -> Result<i32, StoreError>;
    fn opt_float(&self, col: &str) -> Result<Option<f64>, StoreError>;
    fn float(&self, col: &str) -> Result<f64, StoreError>;
    fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError>;

    fn instant(&self, col: &str) -> Result<DateTime<Utc>, StoreError> {
        from_ms(self.int(col)?)
    }

    fn opt_instant(&self, col: &str) -> Result<Option<DateTime<Utc>>, StoreError> {
        self.opt_int(col)?.map(from_ms).transpose()
    }
}

macro_rules! impl_row_ext {
    ($row:ty) => {
        impl RowExt for $row {
            fn text(&self, col: &str) -> Result<String, StoreError> {
                Ok(self.try_get::<String, _>(col)?)
            }
            fn opt_text(&self, col: &str) -> Result<Option<String>, StoreError> {
                Ok(self.try_get::<Option<String>, _>(col)?)
            }
            fn int(&self, col: &str) -> Result<i64, StoreError> {
                Ok(self.try_get::<i64, _>(col)?)
            }
            fn opt_int(&self, col: &str) -> Result<Option<i64>, StoreError> {
                Ok(self.try_get::<Option<i64>, _>(col)?)
            }
            fn int32(&self, col: &str) -> Result<i32, StoreError> {
                Ok(self.try_get::<i32, _>(col)?)
            }
            fn opt_float(&self, col: &str) -> Result<Option<f64>, StoreError> {
                Ok(self.try_get::<Option<f64>, _>(col)?)
            }
            fn float(&self, col: &str) -> Result<f64, StoreError> {
                Ok(self.try_get::<f64, _>(col)?)
            }
            fn bytes(&self, col: &str) -> Result<Vec<u8>, StoreError> {
                Ok(self.try_get::<Vec<u8>, _>(col)?)
            }
        }
    };
}

impl_row_ext!(SqliteRow);
impl_row_ext!(PgRow);

pub(super) fn case_row(r: &impl RowExt) -> Result<CaseRow, StoreError> {
    Ok(CaseRow {
        id: r.text("id")?,
        tracking_id: r.text("tracking_id")?,
        kind: r.text("kind")?,
        channel: r.text("channel")?,
        category: r.opt_text("category")?,
        region: r.opt_text("region")?,
        privacy: r.text("privacy")?,
        status: r.text("status")?,
        agency: r.opt_text("agency")?,
        escalation_level: r.int32("escalation_level")?,
        flags: r.text("flags")?,
        title: r.text("title")?,
        body: r.text("body")?,
        reporter: r.opt_text("reporter")?,
        state: r.text("state")?,
        created_at: r.instant("created_at")?,
        updated_at: r.instant("updated_at")?,
        pack: r.text("pack")?,
        head_seq: r.int("head_seq")?,
        head_hash: r.text("head_hash")?,
        first_assigned_at: r.opt_instant("first_assigned_at")?,
        first_followup_at: r.opt_instant("first_followup_at")?,
        first_followup_agency: r.opt_text("first_followup_agency")?,
        location_lat: r.opt_float("location_lat")?,
        location_long: r.opt_float("location_long")?,
        location_address: r.opt_text("location_address")?,
        media_url: r.opt_text("media_url")?,
        source_system: r.opt_text("source_system")?,
        source_ref: r.opt_text("source_ref")?,
        source_url: r.opt_text("source_url")?,
    })
}

pub(super) fn event_row(r: &impl RowExt) -> Result<EventRow, StoreError> {
    Ok(EventRow {
        id: r.text("id")?,
        complaint_id: r.text("complaint_id")?,
        seq: r.int("seq")?,
        event_type: r.text("event_type")?,
        at: r.instant("at")?,
        actor: r.text("actor")?,
        agency: r.opt_text("agency")?,
        escalation_level: r.int32("escalation_level")?,
        pack: r.text("pack")?,
        payload: r.text("payload")?,
        prev_hash: r.text("prev_hash")?,
        hash: r.text("hash")?,
    })
}

pub(super) fn timer_row(r: &impl RowExt) -> Result<TimerRow, StoreError> {
    Ok(TimerRow {
        complaint_id: r.text("complaint_id")?,
        clock: r.text("clock")?,
        generation: r.int("generation")?,
        budget_kind: r.text("budget_kind")?,
        budget: r.int("budget")?,
        warn_permille: r.int32("warn_permille")?,
        calendar_ref: r.text("calendar_ref")?,
        started_at: r.instant("started_at")?,
        suspensions: r.text("suspensions")?,
        status: r.text("status")?,
        due_at: r.opt_instant("due_at")?,
        warn_at: r.opt_instant("warn_at")?,
        next_action_at: r.opt_instant("next_action_at")?,
        sla_source: r.text("sla_source")?,
    })
}

pub(super) fn due_timer(r: &impl RowExt) -> Result<DueTimer, StoreError> {
    Ok(DueTimer {
        complaint_id: r.text("complaint_id")?,
        tracking_id: r.text("tracking_id")?,
        agency: r.text("agency")?,
        status: r.text("status")?,
        clock: r.text("clock")?,
        due_at: r.instant("due_at")?,
    })
}

pub(super) fn token_row(r: &impl RowExt) -> Result<TokenRow, StoreError> {
    Ok(TokenRow {
        name: r.text("name")?,
        role: r.text("role")?,
        agency: r.text("agency")?,
        created_at: r.instant("created_at")?,
        revoked_at: r.opt_instant("revoked_at")?,
    })
}

pub(super) fn source_row(r: &impl RowExt) -> Result<SourceRow, StoreError> {
    Ok(SourceRow {
        name: r.text("name")?,
        token_name: r.text("token_name")?,
        webhook_url: r.opt_text("webhook_url")?,
        webhook_secret: r.opt_text("webhook_secret")?,
        whatsapp_app_secret: r.opt_text("whatsapp_app_secret")?,
        whatsapp_verify_sha256: r.opt_text("whatsapp_verify_sha256")?,
        created_at: r.instant("created_at")?,
    })
}

pub(super) fn publish_row(r: &impl RowExt) -> Result<PublishRow, StoreError> {
    Ok(PublishRow {
        id: r.text("id")?,
        at: r.instant("at")?,
        actor: r.text("actor")?,
        role: r.text("role")?,
        agency: r.text("agency")?,
        scope: r.text("scope")?,
        outcome: r.text("outcome")?,
        hash_before: r.text("hash_before")?,
        candidate: r.text("candidate")?,
        hash_after: r.text("hash_after")?,
        files: r.text("files")?,
        detail: r.opt_text("detail")?,
        bucket_revision: r.opt_int("bucket_revision")?,
    })
}

pub(super) fn outbox_row(r: &impl RowExt) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        id: r.int("id")?,
        event_id: r.text("event_id")?,
        subject: r.text("subject")?,
        payload: r.text("payload")?,
        created_at: r.instant("created_at")?,
    })
}

pub(super) fn command_row(r: &impl RowExt) -> Result<CommandRecord, StoreError> {
    Ok(CommandRecord {
        scope: r.text("scope")?,
        key: r.text("key")?,
        request_hash: r.text("request_hash")?,
        status: r.int32("status")?,
        complaint_id: r.opt_text("complaint_id")?,
        reporter_token_sealed: r.opt_text("reporter_token_sealed")?,
        created_at: r.instant("created_at")?,
    })
}

pub(super) fn report_row(r: &impl RowExt) -> Result<super::ReportRow, StoreError> {
    Ok(super::ReportRow {
        id: r.text("id")?,
        created_at: r.instant("created_at")?,
        region: r.opt_text("region")?,
        first_assigned_at: r.opt_instant("first_assigned_at")?,
        first_followup_at: r.opt_instant("first_followup_at")?,
        first_followup_agency: r.opt_text("first_followup_agency")?,
        overdue: r.int32("overdue")? != 0,
    })
}

pub(super) fn stats_row(r: &impl RowExt) -> Result<StatsRow, StoreError> {
    Ok(StatsRow {
        status: r.text("status")?,
        escalated_in_scope: r.int32("escalated_in_scope")? != 0,
        overdue: r.int32("overdue")? != 0,
        first_assigned_at: r.opt_instant("first_assigned_at")?,
        first_followup_at: r.opt_instant("first_followup_at")?,
        first_followup_agency: r.opt_text("first_followup_agency")?,
    })
}
