-- name: write_statements
-- description: Of the statements in `wanted_statements` (those that read exposed data or a copy), the ones that may have written something: a write event, or text that says so.
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
FROM events
WHERE statement_key IN (SELECT statement_key FROM wanted_statements)
GROUP BY statement_key
HAVING bool_or(op = 'write')
    OR bool_or(regexp_matches(query_text, $may_write))
ORDER BY statement_key
