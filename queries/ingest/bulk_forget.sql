-- name: bulk_forget
-- description: Take back the events a bulk reader inserted for a file it could not read to the end (a gzip stream cut short); the line parser then reads the file.
-- param: source_file text  the file, relative to the case
DELETE FROM raw_events WHERE source_file = $source_file
