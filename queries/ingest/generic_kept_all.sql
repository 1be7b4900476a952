-- name: generic_kept_all
-- description: The rows of the scanned generic Parquet files the engine decodes, when it decodes all of them and each file has one UTC offset (generic_kept otherwise).
CREATE OR REPLACE TEMP VIEW generic_kept AS SELECT * FROM generic_rows
