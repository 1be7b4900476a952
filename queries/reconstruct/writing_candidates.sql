-- name: writing_candidates
-- description: The embedded run's `statement_candidates` (reconstruct/statement_candidates, which the warehouse path runs, gives the same rows): every statement that may have written something (a write event, or text that says so), with what reconstruct/write_statements gives of it, built once before the first round of copy-following. Then reconstruct/incomplete_candidates (statements in the engine: a warehouse's temporary views cannot be updated).
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- The same aggregate as reconstruct/write_statements (which the warehouse path runs per
-- round on the statements asked about), over the events of the statements that may write.
-- Those are found from the few events that say so (a write event or a writing text), keyed
-- alone: keying every event of the principals who wrote read most events at 100M (a few
-- hundred principals at 10M, thousands at 100M), and its aggregate spilled.
-- A statement is `complete` from those events alone when it is keyed from its own
-- principal, session and text (`stmt:`), one of them says so by its text, and no text-only
-- record takes its key: its events then share that text (the same md5 of
-- `principal|session|text`; an event whose principal or session holds a `|` could split
-- that string elsewhere, so those events are read too), so they all say so. The others (a
-- TRUNCATE logged as a write, an engine's query id, a text-only record; none in the synth
-- incident) are aggregated again from every event of their principals, as a statement's
-- events all have its principal (reconstruct/incomplete_candidates: the engine skips that
-- read when there are none). The storage paths written are resolved to objects there too
-- (`written_paths`), after the aggregate: joined here, the events were the hash table the
-- path objects were matched against (millions of wide rows at 100M, out of memory).
CREATE OR REPLACE TABLE statement_candidates AS
WITH said AS (
    SELECT * FROM raw_events
    WHERE op = 'write' OR regexp_matches(query_text, $may_write)
        OR contains(principal, '|') OR contains(session_id, '|')
),
keyed AS (
    SELECT statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
            e.principal, e.time, e.session_id, e.query_text) AS statement_key,
        e.*,
        -- never NULL (a NULL principal or format): such a statement is not complete, and
        -- incomplete_candidates asks about it by its principal, as every other query does
        coalesce(t.statement_key IS NULL AND e.engine IS DISTINCT FROM 'trino'
            AND e.source_format NOT IN ('hive-lineage', 'hiveserver2-log')
            AND regexp_matches(e.query_text, $may_write)
            AND NOT contains(e.principal, '|') AND NOT contains(coalesce(e.session_id, ''), '|'),
            false) AS completes
    FROM said e
    ANTI JOIN dropped_events d
        ON d.event_id = e.event_id AND d.source_file = e.source_file
        AND d.source_line = e.source_line
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
    bool_or(completes) AND statement_key NOT IN (SELECT statement_key FROM text_statement_keys)
        AS complete
FROM keyed
WHERE statement_key IS NOT NULL
GROUP BY statement_key
HAVING bool_or(op = 'write') OR bool_or(regexp_matches(query_text, $may_write))
