-- Where a complaint is, and a picture of it (docs/http.md#submission, docs/open311.md): WGS 84
-- latitude and longitude in degrees (both or neither), the address as the reporter wrote it, and an
-- http(s) URL of a photo or document. Facts of the submission like the body: written once, shown only
-- where the viewer may see the case's text (a confidential case's location is withheld from the
-- public). Cases filed before this migration have none. The SQLite migration adds the same columns.
ALTER TABLE complaints ADD COLUMN location_lat DOUBLE PRECISION;
ALTER TABLE complaints ADD COLUMN location_long DOUBLE PRECISION;
ALTER TABLE complaints ADD COLUMN location_address TEXT;
ALTER TABLE complaints ADD COLUMN media_url TEXT;
