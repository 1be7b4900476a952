-- name: reads_between
-- description: Allowed reads of one object between two instants, per principal: pushed down to the warehouse that keeps the normalized events, only the summary comes back. Written in HiveQL; transpiled for DuckDB and Trino.
-- param: object object  the object read (db.table)
-- param: start timestamp  first instant, UTC, included
-- param: until timestamp  last instant, UTC, excluded
SELECT principal,
    SUM(event_count) AS read_events,
    MIN(`time`) AS first_read,
    MAX(`time`) AS last_read
FROM events
WHERE object = $object
    AND op = 'read'
    AND result = 'allowed'
    AND `time` >= $start
    AND `time` < $until
GROUP BY principal
ORDER BY principal
