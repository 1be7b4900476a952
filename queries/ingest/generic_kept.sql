-- name: generic_kept
-- description: The rows of the scanned generic Parquet files the engine decodes: all but those the row parser read (generic_slow), each with its UTC offset (that of its file, else that of its minute: generic_offsets). Used when some file has such rows or minutes; otherwise generic_kept_all spares every scan these joins.
CREATE OR REPLACE TEMP VIEW generic_kept AS
SELECT r.* REPLACE (coalesce(r.offset_ms, o.offset_ms) AS offset_ms)
FROM generic_rows r
LEFT JOIN generic_offsets o ON o.source_file = r.source_file AND o.minute = date_trunc('minute', r.moment)
ANTI JOIN generic_slow s ON s.source_file = r.source_file AND s."row" = r."row"
