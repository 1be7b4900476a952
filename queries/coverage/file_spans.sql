-- name: file_spans
-- description: Each log file's first and last event, its event count and the source of its last event: where a file of a rotated series, or a file cut short, leaves off.
SELECT source_file, epoch_ms(min(time)) AS first_ms, epoch_ms(max(time)) AS last_ms, count(*) AS events,
    arg_max(source_format, time) AS source_format, arg_max(source, time) AS last_source,
    arg_min(source, time) AS first_source
FROM coverage_records
GROUP BY source_file
ORDER BY source_file
