-- Source systems (docs/integrations.md): a city's own hotline or app connected to Aduan. Each submits
-- with its own integration token (`token_name`, a row of api_tokens) and may receive every event of its
-- cases as a signed webhook (`webhook_url`; `webhook_secret` is sealed with the data key).
CREATE TABLE sources (
    name            TEXT    NOT NULL PRIMARY KEY,
    token_name      TEXT    NOT NULL UNIQUE REFERENCES api_tokens (name),
    webhook_url     TEXT,
    webhook_secret  TEXT,
    created_at      BIGINT  NOT NULL
);

-- A case filed by a source system carries the source's reference to it: the system, its id there and
-- its address there. The pair (system, id) is unique: a resend finds the case it filed.
ALTER TABLE complaints ADD COLUMN source_system TEXT;
ALTER TABLE complaints ADD COLUMN source_ref TEXT;
ALTER TABLE complaints ADD COLUMN source_url TEXT;
CREATE UNIQUE INDEX complaints_source ON complaints (source_system, source_ref) WHERE source_system IS NOT NULL;
