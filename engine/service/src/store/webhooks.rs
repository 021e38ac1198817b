//! `webhook_deliveries`: the source systems' webhooks (docs/integrations.md#webhooks): queued with a
//! case's events in their transaction, taken in order per case, marked delivered, retried or
//! dead-lettered.

use chrono::{DateTime, Utc};

use super::model::{EventRow, FailedWebhook, WebhookDue};
use super::rows::{ms, RowExt};
use super::tx::{with_reader, with_tx};
use super::{Store, StoreError, Tx};

/// Queues one event for the source's webhook, when the source has one (nothing otherwise).
const ENQUEUE: &str = "INSERT INTO webhook_deliveries \
     (source, complaint_id, event_id, event_type, payload, created_at, next_at) \
     SELECT name, $2, $3, $4, $5, $6, $6 FROM sources WHERE name = $1 AND webhook_url IS NOT NULL \
     ON CONFLICT DO NOTHING";

/// The deliveries due now that are the earliest undelivered of their case (so a case's events arrive
/// in order, and a later one waits while an earlier one is retried).
const DUE: &str = "SELECT d.id, d.source, d.event_id, d.event_type, d.payload, d.attempts, \
     s.webhook_url, s.webhook_secret \
     FROM webhook_deliveries d JOIN sources s ON s.name = d.source \
     WHERE d.delivered_at IS NULL AND d.failed_at IS NULL AND d.next_at <= $1 \
     AND s.webhook_url IS NOT NULL AND s.webhook_secret IS NOT NULL \
     AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e WHERE e.complaint_id = d.complaint_id \
                     AND e.id < d.id AND e.delivered_at IS NULL AND e.failed_at IS NULL) \
     ORDER BY d.id LIMIT $2";

const FAILED: &str = "SELECT source, complaint_id, event_id, event_type, attempts, last_error, failed_at \
     FROM webhook_deliveries WHERE failed_at IS NOT NULL ORDER BY failed_at DESC, id DESC LIMIT $1";

impl Tx {
    /// Queues `events` of case `complaint_id` for source `system`'s webhook, if it has one.
    pub async fn enqueue_webhooks(
        &mut self,
        system: &str,
        complaint_id: &str,
        events: &[EventRow],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        for e in events {
            with_tx!(self, c => {
                sqlx::query(ENQUEUE)
                    .bind(system.to_owned())
                    .bind(complaint_id.to_owned())
                    .bind(e.id.clone())
                    .bind(e.event_type.clone())
                    .bind(e.payload.clone())
                    .bind(ms(at))
                    .execute(&mut *c)
                    .await?;
            });
        }
        Ok(())
    }
}

impl Store {
    /// At most `limit` deliveries due at `now`, the earliest undelivered of each case, oldest first.
    pub async fn due_webhooks(&self, now: DateTime<Utc>, limit: i64) -> Result<Vec<WebhookDue>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(DUE).bind(ms(now)).bind(limit).fetch_all(&mut *c).await?;
            rows.iter().map(due_row).collect()
        })
    }

    /// Marks delivery `id` delivered.
    pub async fn webhook_delivered(&self, id: i64, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.update_webhook(
            "UPDATE webhook_deliveries SET delivered_at = $2, attempts = attempts + 1, \
             last_error = $3 WHERE id = $1",
            id,
            ms(at),
            None,
        )
        .await
    }

    /// Records a failed attempt of delivery `id`, to be tried again at `next_at`.
    pub async fn webhook_retry(&self, id: i64, next_at: DateTime<Utc>, error: &str) -> Result<(), StoreError> {
        self.update_webhook(
            "UPDATE webhook_deliveries SET next_at = $2, attempts = attempts + 1, \
             last_error = $3 WHERE id = $1",
            id,
            ms(next_at),
            Some(error),
        )
        .await
    }

    /// Dead-letters delivery `id` after its last attempt failed: it is never tried again, and the
    /// case's later events go on.
    pub async fn webhook_failed(&self, id: i64, at: DateTime<Utc>, error: &str) -> Result<(), StoreError> {
        self.update_webhook(
            "UPDATE webhook_deliveries SET failed_at = $2, attempts = attempts + 1, \
             last_error = $3 WHERE id = $1",
            id,
            ms(at),
            Some(error),
        )
        .await
    }

    /// The latest `limit` dead-lettered deliveries, newest first.
    pub async fn failed_webhooks(&self, limit: i64) -> Result<Vec<FailedWebhook>, StoreError> {
        with_reader!(self, c => {
            let rows = sqlx::query(FAILED).bind(limit).fetch_all(&mut *c).await?;
            rows.iter().map(failed_row).collect()
        })
    }

    async fn update_webhook(&self, sql: &'static str, id: i64, at: i64, error: Option<&str>) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        with_tx!(tx, c => {
            sqlx::query(sql).bind(id).bind(at).bind(error.map(str::to_owned)).execute(&mut *c).await?;
        });
        tx.commit().await
    }
}

fn due_row(r: &impl RowExt) -> Result<WebhookDue, StoreError> {
    Ok(WebhookDue {
        id: r.int("id")?,
        source: r.text("source")?,
        event_id: r.text("event_id")?,
        event_type: r.text("event_type")?,
        payload: r.text("payload")?,
        attempts: r.int("attempts")?,
        url: r.text("webhook_url")?,
        secret_sealed: r.text("webhook_secret")?,
    })
}

fn failed_row(r: &impl RowExt) -> Result<FailedWebhook, StoreError> {
    Ok(FailedWebhook {
        source: r.text("source")?,
        complaint_id: r.text("complaint_id")?,
        event_id: r.text("event_id")?,
        event_type: r.text("event_type")?,
        attempts: r.int("attempts")?,
        last_error: r.opt_text("last_error")?,
        failed_at: r.instant("failed_at")?,
    })
}
