-- name: cache_agents
-- description: The Ranger agent fields one log file added to ranger_agents (row ids from $since on), in the order they were added (a scan keeps the table's order: the engine preserves insertion order; no sort): the ingest cache keeps them so that the coverage ledger need not read a cached Ranger file again.
-- param: since int  the first row id the file's rows may have (cache_mark's agents_from)
SELECT * FROM ranger_agents WHERE rowid >= $since
