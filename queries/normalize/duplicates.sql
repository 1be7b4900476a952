-- name: duplicates
-- description: Events per input file that were dropped as duplicates of an event already kept.
SELECT r.source_file, count(*) AS duplicates
FROM raw_events r ANTI JOIN events e ON e.event_id = r.event_id AND e.source_file = r.source_file
    AND e.source_line = r.source_line
GROUP BY r.source_file
ORDER BY r.source_file
