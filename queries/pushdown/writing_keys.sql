-- name: writing_keys
-- description: The statements among the classified accesses' that have a write event (what reconstruct/statement_texts asks of `events`), with that op, fetched from the warehouse.
SELECT DISTINCT e.statement_key, e.op
FROM events e
SEMI JOIN classification c ON c.statement_key = e.statement_key
WHERE e.op = 'write' AND e.statement_key IS NOT NULL
