-- name: known_statement_reads_from
-- description: `known_statement_reads` (`known_reads`) from a stage cache entry's Parquet file: what an earlier run found each of its statements read (with `known_read_statements_from`, in one transaction).
-- param: path text  the entry's statement_reads.parquet
CREATE OR REPLACE TABLE known_statement_reads AS
SELECT query_text::VARCHAR AS query_text, database::VARCHAR AS database,
    engine::VARCHAR AS engine, object::VARCHAR AS object, columns::VARCHAR AS columns,
    partitions::VARCHAR AS partitions
FROM read_parquet($path)
