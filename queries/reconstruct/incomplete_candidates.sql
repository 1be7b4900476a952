-- name: incomplete_candidates
-- description: The statements not complete from the events that say they may write (a TRUNCATE logged as a write, an engine's query id, a text-only record), aggregated again from every event of their principals (a statement's events all have its principal); the engine skips that read when there are none.
CREATE OR REPLACE TABLE incomplete_statements AS
SELECT statement_key, principal FROM statement_candidates WHERE NOT complete;

DELETE FROM statement_candidates WHERE NOT complete;

INSERT INTO statement_candidates
SELECT statement_key,
    arg_min(principal, (source_format IN ('hive-lineage', 'hiveserver2-log'), time,
        source_file, source_line)) AS principal,
    coalesce(min(time) FILTER (WHERE source_format NOT IN ('hive-lineage', 'hiveserver2-log')),
        min(time)) AS time,
    arg_min(query_text, (source_file, source_line)) AS query_text,
    arg_min(query_id, (source_file, source_line)) AS query_id,
    list_sort(list_distinct(list(object) FILTER (WHERE op = 'write' AND object IS NOT NULL)))
        AS written,
    bool_or(op = 'write') AS wrote,
    true AS complete
FROM (
    SELECT statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
        e.principal, e.time, e.session_id, e.query_text) AS statement_key, e.*
    FROM resolved_events e
    SEMI JOIN incomplete_statements i ON i.principal = e.principal
    LEFT JOIN text_statement_keys t ON t.event_id = e.event_id
)
WHERE statement_key IN (SELECT statement_key FROM incomplete_statements)
GROUP BY statement_key;

ALTER TABLE statement_candidates DROP COLUMN complete
