-- name: statement_aggregate
-- description: A table macro: each statement of a relation of events with what copy-following needs of it (its principal, time, text, query id, the objects and storage paths it wrote, whether it wrote, whether it may write, and whether the events given complete it). Written once for reconstruct/writing_candidates, incomplete_candidates and write_statements, and for the warehouse path, which runs the same files transpiled (the macro expanded, forensics/transpile.py).
-- `events`: the name of a relation of events (raw_events' or resolved_events' columns, no
-- statement key); `pattern`: the regular expression of a text that may write. Each event
-- is keyed as every query keys it (a text-only record takes the key of the run it
-- describes, text_statement_keys), after the caller's filters: an md5 of every event's
-- text costs seconds at 10M events.
-- An audited event gives the statement's principal and time before a text-only record of
-- the same run does (HiveServer2 logs the start of compilation, before Ranger checks it).
-- `completes`: the event is keyed from its own principal, session and text (`stmt:`) and
-- its text says it may write, so every event of its key has that text (the same md5 of
-- `principal|session|text`; an event whose principal or session holds a `|` could split
-- that string elsewhere). Never NULL (a NULL principal or format): such a statement is
-- not complete.
CREATE OR REPLACE MACRO statement_aggregate(events, pattern) AS TABLE
WITH keyed AS (
    SELECT statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
            e.principal, e.time, e.session_id, e.query_text) AS statement_key,
        e.*,
        coalesce(t.statement_key IS NULL AND e.engine IS DISTINCT FROM 'trino'
            AND e.source_format NOT IN ('hive-lineage', 'hiveserver2-log')
            AND regexp_matches(e.query_text, pattern)
            AND NOT contains(e.principal, '|') AND NOT contains(coalesce(e.session_id, ''), '|'),
            false) AS completes
    FROM query_table(events) e
    LEFT JOIN text_statement_keys t ON t.event_id = e.event_id
)
SELECT statement_key,
    arg_min(principal, (source_format IN ('hive-lineage', 'hiveserver2-log'), time,
        source_file, source_line)) AS principal,
    coalesce(min(time) FILTER (WHERE source_format NOT IN ('hive-lineage', 'hiveserver2-log')),
        min(time)) AS time,
    arg_min(query_text, (source_file, source_line)) AS query_text,
    arg_min(query_id, (source_file, source_line)) AS query_id,
    list_sort(list_distinct(list(object) FILTER (WHERE op = 'write' AND object IS NOT NULL)))
        AS written,
    list_distinct(list(path) FILTER (WHERE op = 'write' AND object IS NULL)) AS written_paths,
    bool_or(op = 'write') AS wrote,
    bool_or(op = 'write') OR bool_or(regexp_matches(query_text, pattern)) AS may_write,
    bool_or(completes) AS completes
FROM keyed
WHERE statement_key IS NOT NULL
GROUP BY statement_key
