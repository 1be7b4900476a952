-- name: text_records
-- description: Whether any event is a text-only record (Hive lineage, HiveServer2 log), which normalize/text_statement_keys then keys.
SELECT EXISTS (
    SELECT 1 FROM raw_events WHERE source_format IN ('hive-lineage', 'hiveserver2-log')
) AS present
