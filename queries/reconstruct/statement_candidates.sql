-- name: statement_candidates
-- description: Every statement that may have written something (a write event, or text that says so), with what reconstruct/write_statements gives of it: built once, before the first round of copy-following; each round then takes the statements it asks about from this small table instead of reading every event again.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- A statement's events all have its principal (its key is made from it, or the engine's
-- query id names one user's query), so a statement that may write has all its events among
-- those of the principals with a write event or a writing text: only their events are keyed
-- (an md5 of every event's text and an aggregate of every statement cost seconds at 10M
-- events, in each round). The same aggregate as reconstruct/write_statements, which the
-- warehouse path runs per round on the statements asked about.
-- The storage paths written (a write event naming no object) come back as they are
-- (`written_paths`), resolved to objects after the rows are fetched
-- (pushdown/written_paths, against every location of the catalog): the warehouse knows
-- only the locations sent to it, those of the exposed objects and the copies.
CREATE OR REPLACE TABLE statement_candidates AS
WITH writers AS (
    SELECT DISTINCT principal FROM raw_events
    WHERE op = 'write' OR regexp_matches(query_text, $may_write)
)
SELECT statement_key,
    arg_min(principal, (source_format IN ('hive-lineage', 'hiveserver2-log'), time,
        source_file, source_line)) AS principal,
    coalesce(min(time) FILTER (WHERE source_format NOT IN ('hive-lineage', 'hiveserver2-log')),
        min(time)) AS time,
    arg_min(query_text, (source_file, source_line)) AS query_text,
    arg_min(query_id, (source_file, source_line)) AS query_id,
    list(DISTINCT object ORDER BY object) FILTER (WHERE op = 'write' AND object IS NOT NULL) AS written,
    list(DISTINCT path ORDER BY path) FILTER (WHERE op = 'write' AND object IS NULL
        AND path IS NOT NULL) AS written_paths,
    bool_or(op = 'write') AS wrote
FROM (
    SELECT e.*, statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
        e.principal, e.time, e.session_id, e.query_text) AS statement_key
    FROM (
        SELECT k.*
        FROM raw_events k
        ANTI JOIN dropped_events d
            ON d.event_id = k.event_id AND d.source_file = k.source_file
            AND d.source_line = k.source_line
        WHERE k.principal IN (SELECT principal FROM writers)
    ) e
    LEFT JOIN text_statement_keys t ON t.event_id = e.event_id
)
WHERE statement_key IS NOT NULL
GROUP BY statement_key
HAVING bool_or(op = 'write')
    OR bool_or(regexp_matches(query_text, $may_write))
ORDER BY statement_key
