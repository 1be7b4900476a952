-- name: generic_exceptions
-- description: How many rows of the scanned generic Parquet files the row parser read, and how many minutes have an offset of their own (both 0: generic_kept_all).
SELECT (SELECT count(*) FROM generic_slow) + (SELECT count(*) FROM generic_offsets) AS exceptions
