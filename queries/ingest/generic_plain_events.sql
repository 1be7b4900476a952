-- name: generic_plain_events
-- description: The table macro generic_plain_events(input, file_kind, file_offset_ms): the events of one scanned generic Parquet file (`input`: its view generic_file_N, forensics/ingest/bulk_generic.py) whose every row is fast and already holds its event's values (generic_slow_rows' as_is, object_plain and principal_plain; one UTC offset for the file), read straight from its columns: the same events generic_decode makes of those rows (tests/test_ingest_bulk_generic.py holds them to the parser's), without its decoding. The file's time kind and offset are the macro's arguments, so the engine folds them into the time; and since every other field is a column as it lies, each reader's filters and join keys reach the Parquet scan (row groups skipped by their statistics, columns read only for rows that match) as they do for the engine's own normalized events.
CREATE OR REPLACE MACRO generic_plain_events(input, file_kind, file_offset_ms) AS TABLE
SELECT r.event_id,
    CAST(date_trunc('millisecond', CASE file_kind
        WHEN 'epoch_ms' THEN epoch_ms(r.time_epoch)
        WHEN 'epoch_s' THEN epoch_ms(r.time_epoch * 1000)
        WHEN 'local' THEN r.time_ts - to_milliseconds(file_offset_ms)
        ELSE r.time_ts
    END) AS TIMESTAMP_MS) AS "time",
    'generic' AS source_format,
    r.source_file,
    r."row" AS source_line,
    r.engine,
    r.principal,
    r.principal AS principal_raw,
    r.op,
    r.action,
    r."object",
    r."columns",
    r.path,
    r.result,
    CAST(NULL AS BIGINT) AS policy_id,
    r.client_ip,
    r.session_id,
    r.query_id,
    r.query_text,
    r.event_count,
    'generic:' || r.event_id AS dedup_key,
    CAST(NULL AS VARCHAR) AS perm,
    CAST(NULL AS VARCHAR) AS via_principal
FROM query_table(input) r
