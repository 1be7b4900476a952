-- name: generic_events
-- description: `raw_events` as a view: the events the parsers made (the table, renamed parsed_events), the decoded rows of the scanned generic Parquet files (generic_events, made by generic_decode over generic_kept: generic_rows over them, except the rows the row parser read), and the events of the files read as they lie (generic_direct: generic_plain_events of each). Nothing is copied: each reader of raw_events scans the columns it needs from the files.
ALTER TABLE raw_events RENAME TO parsed_events;
CREATE VIEW raw_events AS
SELECT * FROM parsed_events
UNION ALL BY NAME
SELECT * FROM generic_events
UNION ALL BY NAME
SELECT * FROM generic_direct;
