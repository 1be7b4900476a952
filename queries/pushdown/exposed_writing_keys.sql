-- name: exposed_writing_keys
-- description: The statements behind the exposed objects' accesses that have a write event, with that op (what reconstruct/statement_texts takes from `statement_candidates`), computed in the warehouse and fetched right after those accesses, while the server still holds them cached: a later query would see the scope's storage locations grown by the copies' and compute the accesses again (forensics/pushdown_full.py).
SELECT DISTINCT e.statement_key, e.op
FROM events e
SEMI JOIN exposed_access c ON c.statement_key = e.statement_key
WHERE e.op = 'write' AND e.statement_key IS NOT NULL
