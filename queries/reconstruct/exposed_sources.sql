-- name: exposed_sources
-- description: reconstruct/statement_sources of the exposed objects' accesses when no copy is known (`copies` empty), made once before the first round of copy-following: a round changes these rows only for the objects it found to be copies, so each round takes the others from here instead of grouping every exposed access again (24M rows at 100M events).
CREATE OR REPLACE TABLE exposed_sources AS
SELECT statement_key, target AS source_object, classification, min(principal) AS principal,
    min(time) AS time,
    arg_min(source_file, (text_only, source_file, source_line)) AS source_file,
    arg_min(source_line, (text_only, source_file, source_line)) AS source_line
FROM classification
WHERE statement_key IS NOT NULL AND classification IN ('exposure_enabled', 'secondary')
GROUP BY statement_key, target, classification
