-- Aduan schema, SQLite. The PostgreSQL schema (migrations/postgres) has the same tables and columns.
-- Instants are INTEGER epoch milliseconds (64-bit, SQLite's BIGINT); booleans INTEGER 0/1; payloads
-- TEXT, byte for byte what an event's hash covers. STRICT tables reject a value of the wrong type.

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
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    pack                  TEXT    NOT NULL,
    head_seq              INTEGER NOT NULL,
    head_hash             TEXT    NOT NULL,
    first_assigned_at     INTEGER,
    first_followup_at     INTEGER,
    first_followup_agency TEXT
) STRICT;
CREATE INDEX complaints_newest ON complaints (created_at DESC, id DESC);
CREATE INDEX complaints_agency ON complaints (agency);
CREATE INDEX complaints_status ON complaints (status);

-- The append-only, hash-chained event log. The code has no UPDATE or DELETE for it.
CREATE TABLE events (
    id               TEXT    NOT NULL PRIMARY KEY,
    complaint_id     TEXT    NOT NULL,
    seq              INTEGER NOT NULL,
    event_type       TEXT    NOT NULL,
    at               INTEGER NOT NULL,
    actor            TEXT    NOT NULL,
    agency           TEXT,
    escalation_level INTEGER NOT NULL,
    pack             TEXT    NOT NULL,
    payload          TEXT    NOT NULL,
    prev_hash        TEXT    NOT NULL,
    hash             TEXT    NOT NULL,
    UNIQUE (complaint_id, seq)
) STRICT;

-- One row per running or paused clock; due_at and next_action_at are derived and stored for indexing.
CREATE TABLE timers (
    complaint_id   TEXT    NOT NULL REFERENCES complaints (id),
    clock          TEXT    NOT NULL,
    generation     INTEGER NOT NULL,
    budget_kind    TEXT    NOT NULL,
    budget         INTEGER NOT NULL,
    warn_permille  INTEGER NOT NULL,
    calendar_ref   TEXT    NOT NULL,
    started_at     INTEGER NOT NULL,
    suspensions    TEXT    NOT NULL,
    status         TEXT    NOT NULL,
    due_at         INTEGER,
    warn_at        INTEGER,
    next_action_at INTEGER,
    sla_source     TEXT    NOT NULL,
    PRIMARY KEY (complaint_id, clock)
) STRICT;
CREATE INDEX timers_next_action ON timers (next_action_at) WHERE next_action_at IS NOT NULL;
CREATE INDEX timers_due ON timers (due_at);

-- Sweeper rungs already acted on: the unique row, inserted in the action's own transaction, is what
-- makes a warning or escalation happen exactly once per (timer, generation, rung).
CREATE TABLE timer_actions (
    complaint_id TEXT    NOT NULL REFERENCES complaints (id),
    clock        TEXT    NOT NULL,
    generation   INTEGER NOT NULL,
    rung         TEXT    NOT NULL,
    at           INTEGER NOT NULL,
    PRIMARY KEY (complaint_id, clock, generation, rung)
) STRICT;

-- Events waiting for the relay, published in id order.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    subject    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER
) STRICT;
CREATE INDEX outbox_unsent ON outbox (id) WHERE sent_at IS NULL;

-- Idempotency keys and what they answered.
CREATE TABLE processed_commands (
    scope                 TEXT    NOT NULL,
    key                   TEXT    NOT NULL,
    request_hash          TEXT    NOT NULL,
    status                INTEGER NOT NULL,
    complaint_id          TEXT,
    reporter_token_sealed TEXT,
    created_at            INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) STRICT;
CREATE INDEX processed_commands_created ON processed_commands (created_at);

-- Every agency that has held a case, and whether the case was escalated away from it (statistics).
CREATE TABLE case_holders (
    complaint_id   TEXT    NOT NULL REFERENCES complaints (id),
    agency         TEXT    NOT NULL,
    escalated_from INTEGER NOT NULL DEFAULT 0 CHECK (escalated_from IN (0, 1)),
    PRIMARY KEY (complaint_id, agency)
) STRICT;
CREATE INDEX case_holders_agency ON case_holders (agency);

-- Policy packs, content-addressed; files is a JSON array of {"path", "bytes_base64"}.
CREATE TABLE packs (
    hash       TEXT    NOT NULL PRIMARY KEY,
    files      TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    active     INTEGER NOT NULL DEFAULT 0 CHECK (active IN (0, 1))
) STRICT;
CREATE UNIQUE INDEX packs_one_active ON packs (active) WHERE active = 1;

-- Work-sharing leases (outbox relay, sweeper shards).
CREATE TABLE leases (
    name       TEXT    NOT NULL PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT;
