-- name: columns
-- description: Every table and view of the embedded engine with its columns: the schema the Spark translation expands `* EXCLUDE`/`* REPLACE` from (forensics/pushdown_full.py).
SELECT table_name, column_name
FROM information_schema.columns
ORDER BY table_name, ordinal_position
