-- name: source_spans
-- description: Each source's first and last event, its event count, and the events it wrote in its first and in its last hour (the rate a start or stop of the source is judged against).
WITH spans AS (
    SELECT source_format, source, min(time) AS first, max(time) AS last, count(*) AS events
    FROM coverage_records
    GROUP BY source_format, source
)
SELECT s.source_format, s.source, epoch_ms(s.first) AS first_ms, epoch_ms(s.last) AS last_ms, s.events,
    (SELECT count(*) FROM coverage_records r WHERE r.source_format = s.source_format
        AND r.source = s.source AND r.time < s.first + INTERVAL 1 HOUR) AS first_hour,
    (SELECT count(*) FROM coverage_records r WHERE r.source_format = s.source_format
        AND r.source = s.source AND r.time > s.last - INTERVAL 1 HOUR) AS last_hour
FROM spans s
ORDER BY s.source_format, s.source
