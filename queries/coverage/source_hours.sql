-- name: source_hours
-- description: Events per source and UTC hour (hours without events are absent): the weekly pattern a long silence is judged against.
SELECT source_format, source, hour AS hour_ms, CAST(sum(events) AS BIGINT) AS events
FROM coverage_minutes
GROUP BY ALL
ORDER BY ALL
