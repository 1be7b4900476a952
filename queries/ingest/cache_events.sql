-- name: cache_events
-- description: The events one log file added to raw_events (row ids from $since on), in the order they were added (a scan keeps the table's order: the engine preserves insertion order; an ORDER BY rowid would sort every row of the file again, wide rows with their statements, which cost more than the Parquet write): what the ingest cache keeps for that file.
-- param: since int  the first row id the file's rows may have (cache_mark's events_from)
SELECT * FROM raw_events WHERE rowid >= $since
