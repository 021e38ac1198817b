-- Possible duplicates (docs/duplicates.md): each case's MinHash signature (engine/core/src/duplicates),
-- its LSH band keys scoped to its kab/kota (a lookup finds the cases sharing a band there), and the
-- candidates found for a case when it was filed, with their similarity. A suggestion for the
-- verifier: nothing here changes a case.
CREATE TABLE case_signatures (
    complaint_id  TEXT  NOT NULL PRIMARY KEY,
    signature     BYTEA NOT NULL
);
CREATE TABLE case_bands (
    band_key      BIGINT NOT NULL,
    complaint_id  TEXT   NOT NULL,
    PRIMARY KEY (band_key, complaint_id)
);
CREATE TABLE duplicate_candidates (
    complaint_id  TEXT             NOT NULL,
    candidate_id  TEXT             NOT NULL,
    score         DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (complaint_id, candidate_id)
);
