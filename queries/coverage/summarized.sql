-- name: summarized
-- description: Per source and hour, the events a Ranger plugin summarized (`event_count` > 1): how many records, and how many accesses they stand for. Their times are approximate.
SELECT source_format, source, epoch_ms(date_trunc('hour', time)) AS hour_ms,
    count(*) AS records, sum(event_count) AS accesses
FROM coverage_records
WHERE event_count > 1
GROUP BY ALL
ORDER BY ALL
