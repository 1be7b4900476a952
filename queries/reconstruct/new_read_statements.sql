-- name: new_read_statements
-- description: The statements of `read_statements` no earlier run read against the same catalog (`known_read_statements`): the ones the column reader must read, in a fixed order.
SELECT r.query_text, r.database, r.engine
FROM read_statements r
ANTI JOIN known_read_statements k
    ON k.query_text = r.query_text AND k.database IS NOT DISTINCT FROM r.database
    AND k.engine IS NOT DISTINCT FROM r.engine
ORDER BY ALL
