-- name: candidate_writes
-- description: Of the statements in `wanted_statements` (those a round of copy-following asks about: they read exposed data or a copy), the ones that may have written something, from `statement_candidates` (built once, before the first round).
SELECT c.statement_key, c.principal, c.time, c.query_text, c.query_id, c.written
FROM statement_candidates c
SEMI JOIN wanted_statements w ON w.statement_key = c.statement_key
ORDER BY c.statement_key
