-- name: repeated_keys
-- description: The hashes of the deduplication keys (Ranger id, Trino query and input, else the event id) that more than one event has, found by a sort of every event's hash; normalize/events then drops the later copies of those keys.
-- A hash equal to the one before it in order repeats. At 10M events this sort took 3.3 CPU s
-- of dropped_events against 4.2 for a hash table of every key (`GROUP BY h HAVING count(*)
-- > 1`, which normalize/events keeps for the warehouse). Two keys may share a hash: the
-- copies are numbered by the key itself (normalize/events), so such a pair drops nothing.
CREATE OR REPLACE TABLE repeated_keys AS
SELECT DISTINCT h
FROM (
    SELECT h, lag(h) OVER (ORDER BY h) AS before
    FROM (SELECT hash(coalesce(dedup_key, event_id)) AS h FROM raw_events)
)
WHERE h = before;
