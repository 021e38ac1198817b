-- Recomputes of open deadlines (DESIGN.md invariant 5): one row per pack that became active while cases
-- were open. after_id is the last case id the walk finished (cases are walked in id order), so a
-- process that stops midway is resumed from there by the next one that starts on the same pack;
-- finished_at is set when the walk ends, or when a newer pack supersedes it.
CREATE TABLE recomputes (
    pack        TEXT    NOT NULL PRIMARY KEY,
    after_id    TEXT,
    changed     BIGINT NOT NULL DEFAULT 0,
    started_at  BIGINT NOT NULL,
    finished_at BIGINT
);
