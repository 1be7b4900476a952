-- name: generic_files
-- description: The views of the scanned generic Parquet files, in the order they were read.
SELECT name FROM generic_files ORDER BY number
