-- name: cache_quarantine
-- description: The quarantined lines one log file added (row ids from $since on), in the order they were added (a scan keeps the table's order: the engine preserves insertion order; no sort): what the ingest cache keeps for that file.
-- param: since int  the first row id the file's rows may have (cache_mark's quarantine_from)
SELECT * FROM quarantine WHERE rowid >= $since
