-- name: generic_csv_kept
-- description: The rows of one block of a generic CSV log the engine decodes (the fast ones), each with the UTC offset of its minute (generic_csv_offsets), as generic_kept for generic_decode.
CREATE OR REPLACE TEMP VIEW generic_kept AS
SELECT r.* REPLACE (o.offset_ms AS offset_ms)
FROM generic_csv_rows r
LEFT JOIN generic_csv_offsets o ON r.time_kind = 'local' AND o.minute = date_trunc('minute', r.moment)
WHERE r.fast
