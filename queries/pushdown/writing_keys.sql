-- name: writing_keys
-- description: The statements behind the copies' accesses (`copy_targets` holding every copy target asked for) that have a write event, with that op: what reconstruct/statement_texts takes from `statement_candidates` for them, computed in the warehouse and fetched (pushdown/exposed_writing_keys asked it of the exposed objects' accesses).
SELECT DISTINCT e.statement_key, e.op
FROM events e
SEMI JOIN access_to('copy_targets') c ON c.statement_key = e.statement_key
WHERE e.op = 'write' AND e.statement_key IS NOT NULL
