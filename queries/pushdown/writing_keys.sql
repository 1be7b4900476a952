-- name: writing_keys
-- description: The statements behind accesses in scope (the exposed objects' and the copies', `copy_targets` holding every copy target asked for) that have a write event, with that op: what reconstruct/statement_texts asks of `events`, computed in the warehouse and fetched.
SELECT DISTINCT e.statement_key, e.op
FROM events e
SEMI JOIN (
    SELECT statement_key FROM exposed_access
    UNION ALL
    SELECT statement_key FROM access_to('copy_targets')
) c ON c.statement_key = e.statement_key
WHERE e.op = 'write' AND e.statement_key IS NOT NULL
