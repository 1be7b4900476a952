-- name: cache_mark
-- description: Where the next log file's rows will start in raw_events, quarantine and ranger_agents (the next row id of each) and how many rows each holds, taken before the file is read, so that the ingest cache (forensics/ingest/cache.py) keeps exactly the rows that file added.
SELECT
    (SELECT coalesce(max(rowid) + 1, 0) FROM raw_events) AS events_from,
    (SELECT count(*) FROM raw_events) AS events,
    (SELECT coalesce(max(rowid) + 1, 0) FROM quarantine) AS quarantine_from,
    (SELECT count(*) FROM quarantine) AS quarantined,
    (SELECT coalesce(max(rowid) + 1, 0) FROM ranger_agents) AS agents_from,
    (SELECT count(*) FROM ranger_agents) AS agents
