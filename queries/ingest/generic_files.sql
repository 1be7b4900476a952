-- name: generic_files
-- description: The views of the scanned generic Parquet files, in the order they were read, and whether generic_plain_events reads each (as_is) with its time kind and UTC offset.
SELECT name, as_is, time_kind, offset_ms FROM generic_files ORDER BY number
