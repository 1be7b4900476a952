-- name: incomplete_candidates
-- description: The statements not complete from the events that say they may write (a TRUNCATE logged as a write, an engine's query id, a text-only record), aggregated again from every event of their principals (a statement's events all have its principal; reconstruct/statement_aggregate); the engine skips that read when there are none. Before reconstruct/written_path_objects, which resolves the storage paths they wrote too. The warehouse path runs the INSERT's query there and adds its rows here.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
CREATE OR REPLACE TABLE incomplete_statements AS
SELECT statement_key, principal FROM statement_candidates WHERE NOT complete;

DELETE FROM statement_candidates WHERE NOT complete;

ALTER TABLE statement_candidates DROP COLUMN complete;

INSERT INTO statement_candidates
WITH theirs AS (
    SELECT e.*
    FROM kept_events e
    SEMI JOIN incomplete_statements i ON i.principal = e.principal
)
SELECT statement_key, principal, time, query_text, query_id, written, written_paths, wrote
FROM statement_aggregate(theirs, $may_write)
WHERE statement_key IN (SELECT statement_key FROM incomplete_statements)
