-- name: generic_start
-- description: The scanned generic Parquet files of an ingest (each a view generic_file_N, forensics/ingest/bulk_generic.py), the rows of each the row parser reads instead (as_is: none, and every row already holds its event's values, with the file's time kind and one UTC offset: generic_plain_events reads it), and the per-minute UTC offsets of files whose local times cross a zone change.
CREATE OR REPLACE TABLE generic_files (number BIGINT, name VARCHAR, source_file VARCHAR, as_is BOOLEAN,
    time_kind VARCHAR, offset_ms BIGINT);
CREATE OR REPLACE TABLE generic_slow (source_file VARCHAR, "row" BIGINT);
CREATE OR REPLACE TABLE generic_offsets (source_file VARCHAR, minute TIMESTAMP, offset_ms BIGINT);
