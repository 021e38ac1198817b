-- Pack publishes (docs/access.md#publishing-packs): one row per pack a policy author offered through
-- POST /v1/packs, published or refused, for the national admin (GET /v1/packs/publishes). Never a
-- secret: the author is named by its token's name (or OIDC subject), role and agency. files is the JSON
-- list of the files the candidate changed ({path, change, scope}); detail says why a refused one was
-- refused; bucket_revision is the {PREFIX}_PACKS revision it was written at (NULL: not written).
-- Rows are only ever added.
CREATE TABLE pack_publishes (
    id              TEXT    NOT NULL PRIMARY KEY,
    at              BIGINT  NOT NULL,
    actor           TEXT    NOT NULL,
    role            TEXT    NOT NULL,
    agency          TEXT    NOT NULL,
    scope           TEXT    NOT NULL,
    outcome         TEXT    NOT NULL,
    hash_before     TEXT    NOT NULL,
    candidate       TEXT    NOT NULL,
    hash_after      TEXT    NOT NULL,
    files           TEXT    NOT NULL,
    detail          TEXT,
    bucket_revision BIGINT
);
