-- name: write_statements
-- description: Of the statements in `wanted_statements` (key and principal of those that read exposed data or a copy), the ones that may have written something: a write event, or text that says so, from every event of their principals (reconstruct/statement_aggregate). The per-round query the candidates found once (reconstruct/writing_candidates) are checked against (tests/test_statement_candidates.py), and the Spark peer's.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- Only these are parsed for derived copies (most statements only read, and most never
-- touch exposed data). A statement's events all have its principal (its key is made from
-- it, or the engine's query id names one user's query): only those principals' events are
-- keyed.
WITH theirs AS (
    SELECT e.* FROM resolved_events e
    SEMI JOIN (SELECT DISTINCT principal FROM wanted_statements) w ON w.principal = e.principal
)
SELECT statement_key, principal, time, query_text, query_id, written
FROM statement_aggregate(theirs, $may_write)
WHERE may_write AND statement_key IN (SELECT statement_key FROM wanted_statements)
ORDER BY statement_key
