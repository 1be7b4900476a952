-- name: source_spans
-- description: Each source's first and last event, its event count, and the events it wrote in its first and in its last hour (the rate a start or stop of the source is judged against), from the minute buckets (`coverage_minutes`).
WITH spans AS (
    SELECT source_format, source, min(first_ms) AS first_ms, max(last_ms) AS last_ms,
        sum(events) AS events
    FROM coverage_minutes
    GROUP BY source_format, source
)
SELECT s.source_format, s.source, s.first_ms, s.last_ms, CAST(s.events AS BIGINT) AS events,
    (SELECT CAST(coalesce(sum(coverage_count(m.minute, m.events, m.first_ms, m.last_ms, m.offsets,
            s.first_ms, s.first_ms + 3600000)), 0) AS BIGINT)
        FROM coverage_minutes m WHERE m.source_format = s.source_format AND m.source = s.source
        AND m.minute < s.first_ms + 3600000) AS first_hour,
    (SELECT CAST(coalesce(sum(coverage_count(m.minute, m.events, m.first_ms, m.last_ms, m.offsets,
            s.last_ms - 3600000 + 1, s.last_ms + 1)), 0) AS BIGINT)
        FROM coverage_minutes m WHERE m.source_format = s.source_format AND m.source = s.source
        AND m.last_ms > s.last_ms - 3600000) AS last_hour
FROM spans s
ORDER BY s.source_format, s.source
