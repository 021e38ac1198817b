-- Webhook deliveries (docs/integrations.md#webhooks): every event of a case a source system filed,
-- queued for that source's webhook in the same transaction as the event (so nothing is sent for a
-- command that did not commit), delivered in order per case, retried with a backoff, and
-- dead-lettered (`failed_at`) after the last attempt. (source, event_id) is unique.
CREATE TABLE webhook_deliveries (
    id            BIGSERIAL PRIMARY KEY,
    source        TEXT    NOT NULL,
    complaint_id  TEXT    NOT NULL,
    event_id      TEXT    NOT NULL,
    event_type    TEXT    NOT NULL,
    payload       TEXT    NOT NULL,
    created_at    BIGINT  NOT NULL,
    attempts      BIGINT  NOT NULL DEFAULT 0,
    next_at       BIGINT  NOT NULL,
    delivered_at  BIGINT,
    failed_at     BIGINT,
    last_error    TEXT,
    UNIQUE (source, event_id)
);
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (next_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
CREATE INDEX webhook_deliveries_case ON webhook_deliveries (complaint_id, id);
CREATE INDEX webhook_deliveries_failed ON webhook_deliveries (failed_at) WHERE failed_at IS NOT NULL;
