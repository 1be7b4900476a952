-- name: known_statement_reads
-- description: Adds to `statement_reads` (the answers for the statements read this run) the known answers of the other statements this run asks about.
INSERT INTO statement_reads
SELECT k.query_text, k.database, k.engine, k.object, k.columns, k.partitions
FROM known_statement_reads k
SEMI JOIN read_statements r
    ON k.query_text = r.query_text AND k.database IS NOT DISTINCT FROM r.database
    AND k.engine IS NOT DISTINCT FROM r.engine
