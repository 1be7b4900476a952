-- name: known_reads
-- description: The statements an earlier run read for columns and partitions against the same catalog, and what it found: empty unless the stage cache filled them (`forensics/stage_cache.py`, `load_reads`, before reconstruct).
CREATE TABLE IF NOT EXISTS known_read_statements (
    query_text VARCHAR, database VARCHAR, engine VARCHAR
);
CREATE TABLE IF NOT EXISTS known_statement_reads (
    query_text VARCHAR, database VARCHAR, engine VARCHAR, object VARCHAR, columns VARCHAR,
    partitions VARCHAR
);
