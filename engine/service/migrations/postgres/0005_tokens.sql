-- API tokens (docs/access.md): 32 random bytes shown once at creation, kept only as their SHA-256.
-- A revoked token keeps its row (revoked_at set), so its name is never reused and the history's actor
-- names stay unambiguous.
CREATE TABLE api_tokens (
    name        TEXT    NOT NULL PRIMARY KEY,
    role        TEXT    NOT NULL,
    agency      TEXT    NOT NULL,
    sha256      TEXT    NOT NULL UNIQUE,
    created_at  BIGINT  NOT NULL,
    revoked_at  BIGINT
);
