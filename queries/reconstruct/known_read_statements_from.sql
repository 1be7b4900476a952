-- name: known_read_statements_from
-- description: `known_read_statements` (`known_reads`) from a stage cache entry's Parquet file: the statements an earlier run read (with `known_statement_reads_from`, in one transaction).
-- param: path text  the entry's read_statements.parquet
CREATE OR REPLACE TABLE known_read_statements AS
SELECT query_text::VARCHAR AS query_text, database::VARCHAR AS database,
    engine::VARCHAR AS engine
FROM read_parquet($path)
