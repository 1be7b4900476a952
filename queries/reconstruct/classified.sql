-- name: classified
-- description: The classified accesses evidence is written from, for the copies the last round of copy-following found: `classified_all` with text-only records, `classified` without them (they add no read events).
CREATE OR REPLACE TABLE classified_all AS
SELECT * FROM classification;

CREATE OR REPLACE VIEW classified AS
SELECT * EXCLUDE (text_only) FROM classified_all WHERE NOT text_only
