-- name: source_hours
-- description: Events per source and UTC hour (hours without events are absent): the weekly pattern a long silence is judged against.
SELECT source_format, source, epoch_ms(date_trunc('hour', time)) AS hour_ms, count(*) AS events
FROM coverage_records
GROUP BY ALL
ORDER BY ALL
