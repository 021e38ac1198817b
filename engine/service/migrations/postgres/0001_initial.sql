-- Aduan schema, PostgreSQL. The SQLite schema (migrations/sqlite) has the same tables and columns.
-- Instants are BIGINT epoch milliseconds; booleans BOOLEAN; payloads TEXT (never jsonb), byte for byte
-- what an event's hash covers. Agency columns filtered with LIKE 'prefix%' use text_pattern_ops.

-- A case's current state (pengaduan). head_seq/head_hash point at the last event of its chain.
CREATE TABLE complaints (
    id                    TEXT    NOT NULL PRIMARY KEY,
    tracking_id           TEXT    NOT NULL UNIQUE,
    kind                  TEXT    NOT NULL,
    channel               TEXT    NOT NULL,
    category              TEXT,
    region                TEXT,
    privacy               TEXT    NOT NULL,
    status                TEXT    NOT NULL,
    agency                TEXT,
    escalation_level      INTEGER NOT NULL,
    flags                 TEXT    NOT NULL,
    title                 TEXT    NOT NULL,
    body                  TEXT    NOT NULL,
    reporter              TEXT,
    state                 TEXT    NOT NULL,
    created_at            BIGINT  NOT NULL,
    updated_at            BIGINT  NOT NULL,
    pack                  TEXT    NOT NULL,
    head_seq              BIGINT  NOT NULL,
    head_hash             TEXT    NOT NULL,
    first_assigned_at     BIGINT,
    first_followup_at     BIGINT,
    first_followup_agency TEXT
);
CREATE INDEX complaints_newest ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_agency ON complaints (agency text_pattern_ops);
CREATE INDEX complaints_status ON complaints (status);

-- The append-only, hash-chained event log. The code has no UPDATE or DELETE for it.
CREATE TABLE events (
    id               TEXT    NOT NULL PRIMARY KEY,
    complaint_id     TEXT    NOT NULL,
    seq              BIGINT  NOT NULL,
    event_type       TEXT    NOT NULL,
    at               BIGINT  NOT NULL,
    actor            TEXT    NOT NULL,
    agency           TEXT,
    escalation_level INTEGER NOT NULL,
    pack             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    UNIQUE (complaint_id, seq)
);

-- One row per running or paused clock; due_at and next_action_at are derived and stored for indexing.
CREATE TABLE timers (
    complaint_id   TEXT    NOT NULL REFERENCES complaints (id),
    clock          TEXT    NOT NULL,
    generation     BIGINT  NOT NULL,
    budget_kind    TEXT    NOT NULL,
    budget         BIGINT  NOT NULL,
    warn_permille  INTEGER NOT NULL,
    calendar_ref   TEXT    NOT NULL,
    started_at     BIGINT  NOT NULL,
    suspensions    TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    due_at         BIGINT,
    warn_at        BIGINT,
    next_action_at BIGINT,
    sla_source     TEXT    NOT NULL,
    PRIMARY KEY (complaint_id, clock)
);
CREATE INDEX timers_next_action ON timers (next_action_at) WHERE next_action_at IS NOT NULL;
CREATE INDEX timers_due ON timers (due_at);

-- Sweeper rungs already acted on: the unique row, inserted in the action's own transaction, is what
-- makes a warning or escalation happen exactly once per (timer, generation, rung).
CREATE TABLE timer_actions (
    complaint_id TEXT   NOT NULL REFERENCES complaints (id),
    clock        TEXT   NOT NULL,
    generation   BIGINT NOT NULL,
    rung         TEXT   NOT NULL,
    at           BIGINT NOT NULL,
    PRIMARY KEY (complaint_id, clock, generation, rung)
);

-- Events waiting for the relay, published in id order.
CREATE TABLE outbox (
    id         BIGSERIAL PRIMARY KEY,
    event_id   TEXT   NOT NULL UNIQUE,
    subject    TEXT   NOT NULL,
    payload    TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at    BIGINT
);
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Idempotency keys and what they answered.
CREATE TABLE processed_commands (
    scope                 TEXT    NOT NULL,
    key                   TEXT    NOT NULL,
    request_hash          TEXT    NOT NULL,
    status                INTEGER NOT NULL,
    complaint_id          TEXT,
    reporter_token_sealed TEXT,
    created_at            BIGINT  NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX processed_commands_created ON processed_commands (created_at);

-- Every agency that has held a case, and whether the case was escalated away from it (statistics).
CREATE TABLE case_holders (
    complaint_id   TEXT    NOT NULL REFERENCES complaints (id),
    agency         TEXT    NOT NULL,
    escalated_from BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (complaint_id, agency)
);
CREATE INDEX case_holders_agency ON case_holders (agency text_pattern_ops);

-- Policy packs, content-addressed; files is a JSON array of {"path", "bytes_base64"}.
CREATE TABLE packs (
    hash       TEXT    NOT NULL PRIMARY KEY,
    files      TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    active     BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE UNIQUE INDEX packs_one_active ON packs (active) WHERE active;

-- Work-sharing leases (outbox relay, sweeper shards).
CREATE TABLE leases (
    name       TEXT   NOT NULL PRIMARY KEY,
    holder     TEXT   NOT NULL,
    expires_at BIGINT NOT NULL
);
