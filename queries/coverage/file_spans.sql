-- name: file_spans
-- description: Each log file's first and last event, its event count and the source of its last event: where a file of a rotated series, or a file cut short, leaves off (from the minute buckets, `coverage_minutes`).
SELECT source_file, min(first_ms) AS first_ms, max(last_ms) AS last_ms,
    CAST(sum(events) AS BIGINT) AS events,
    arg_max(source_format, last_ms) AS source_format, arg_max(source, last_ms) AS last_source,
    arg_min(source, first_ms) AS first_source
FROM coverage_minutes
GROUP BY source_file
ORDER BY source_file
