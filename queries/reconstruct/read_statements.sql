-- name: read_statements
-- description: Table `read_statements`: each distinct statement behind a read the findings count (exposure-enabled, secondary, outside the windows), with the database of the object its log names and its engine: what the SQL stage reads for columns and partitions, each once.
-- Only these reads are parsed: at warehouse scale the baseline reads are almost every
-- event and their texts are as many as the objects, while these are few. Every other row
-- carries the columns its log names (Ranger `@column`, Trino input columns), else `*`.
-- A table: the statements an earlier run already read (`known_read_statements`) are taken
-- out of it for the reader, and its answers for these put back (`known_statement_reads`).
CREATE OR REPLACE TABLE read_statements AS
SELECT DISTINCT query_text, split_part(object, '.', 1) AS database, engine
FROM classified
WHERE op = 'read' AND query_text IS NOT NULL AND engine <> 'hdfs'
    AND classification IN ('exposure_enabled', 'secondary', 'outside_window');
