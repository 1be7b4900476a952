-- name: write_statements
-- description: Of the statements in `wanted_statements` (key and principal of those that read exposed data or a copy), the ones that may have written something: a write event, or text that says so. The warehouse path (forensics/pushdown_full.py) asks it each round; the embedded run takes them from reconstruct/statement_candidates, the same aggregate made once.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- Only these are parsed for derived copies (most statements only read, and most never
-- touch exposed data). An audited event
-- gives the statement's principal and time before a text-only record of the same run does
-- (HiveServer2 logs the start of compilation, before Ranger checks the statement).
SELECT statement_key,
    arg_min(principal, (source_format IN ('hive-lineage', 'hiveserver2-log'), time,
        source_file, source_line)) AS principal,
    coalesce(min(time) FILTER (WHERE source_format NOT IN ('hive-lineage', 'hiveserver2-log')),
        min(time)) AS time,
    arg_min(query_text, (source_file, source_line)) AS query_text,
    arg_min(query_id, (source_file, source_line)) AS query_id,
    list(DISTINCT object ORDER BY object) FILTER (WHERE op = 'write' AND object IS NOT NULL) AS written
FROM (
    -- A statement's events all have its principal (its key is made from it, or the engine's
    -- query id names one user's query): keys are computed for those principals' events only.
    SELECT e.*, statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id,
        e.principal, e.time, e.session_id, e.query_text) AS statement_key
    FROM resolved_events e
    SEMI JOIN (SELECT DISTINCT principal FROM wanted_statements) w ON w.principal = e.principal
    LEFT JOIN text_statement_keys t ON t.event_id = e.event_id
)
WHERE statement_key IN (SELECT statement_key FROM wanted_statements)
GROUP BY statement_key
HAVING bool_or(op = 'write')
    OR bool_or(regexp_matches(query_text, $may_write))
ORDER BY statement_key
