-- name: write_statements_narrowed
-- description: What reconstruct/write_statements gives (the wanted statements that may have written something, with principal, time, text, query id and the objects the log says were written), reading only the events that can belong to a wanted statement: the embedded engine's spelling.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- reconstruct/write_statements computes the statement key (an md5 of principal, session and
-- text) of every event of every principal who read exposed data, each round: most of the
-- events. A key made from an event's principal and text can be a wanted one only when the
-- event has the principal and text of that statement's accesses: (principal, text hash) is
-- in `wanted_texts` (reconstruct/statement_sources). Keys made otherwise are kept whole:
-- Trino's (the query id), the text-only records' own, and every event while any text-only
-- record takes the key of the run it describes (`text_statement_keys`: that run's text may
-- be no access's). A hash collision only lets an event through to the exact key test below.
-- The aggregate is reconstruct/write_statements' own (tests/test_evidence_speed.py holds
-- the two to the same rows); the warehouse path runs that one.
SELECT statement_key,
    arg_min(principal, (source_format IN ('hive-lineage', 'hiveserver2-log'), time,
        source_file, source_line)) AS principal,
    coalesce(min(time) FILTER (WHERE source_format NOT IN ('hive-lineage', 'hiveserver2-log')),
        min(time)) AS time,
    arg_min(query_text, (source_file, source_line)) AS query_text,
    arg_min(query_id, (source_file, source_line)) AS query_id,
    list(DISTINCT object ORDER BY object) FILTER (WHERE op = 'write' AND object IS NOT NULL) AS written
FROM (
    SELECT e.*, statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
        e.principal, e.time, e.session_id, e.query_text) AS statement_key
    FROM resolved_events e
    SEMI JOIN (SELECT DISTINCT principal FROM wanted_statements) w ON w.principal = e.principal
    LEFT JOIN wanted_texts x ON x.principal = e.principal AND x.text_hash = hash(e.query_text)
    LEFT JOIN text_statement_keys t ON t.event_id = e.event_id
    WHERE x.principal IS NOT NULL
        OR e.engine = 'trino'
        OR e.source_format IN ('hive-lineage', 'hiveserver2-log')
        OR (SELECT count(*) FROM text_statement_keys) > 0
)
WHERE statement_key IN (SELECT statement_key FROM wanted_statements)
GROUP BY statement_key
HAVING bool_or(op = 'write')
    OR bool_or(regexp_matches(query_text, $may_write))
ORDER BY statement_key
