-- name: duplicates
-- description: Events per input file that were dropped as duplicates of an event already kept.
SELECT r.source_file, count(*) AS duplicates
FROM raw_events r SEMI JOIN dropped_events d ON d.event_id = r.event_id
    AND d.source_file = r.source_file AND d.source_line = r.source_line
GROUP BY r.source_file
ORDER BY r.source_file
