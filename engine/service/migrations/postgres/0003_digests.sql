-- Morning digests (PostgreSQL; the SQLite migration creates the same table). One row per agency and
-- local date (YYYY-MM-DD in the agency's time zone), inserted in the same transaction as the digest's
-- outbox row: the primary key is what makes the digest go out once, however many workers fire.
-- event_id is the published event's id (Nats-Msg-Id); at (epoch ms) when it was queued.
CREATE TABLE digests (
    agency     TEXT   NOT NULL,
    local_date TEXT   NOT NULL,
    event_id   TEXT   NOT NULL,
    at         BIGINT NOT NULL,
    PRIMARY KEY (agency, local_date)
);
