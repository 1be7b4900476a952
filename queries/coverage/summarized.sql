-- name: summarized
-- description: Per source and hour, the events a Ranger plugin summarized (`event_count` > 1): how many records, and how many accesses they stand for. Their times are approximate.
SELECT source_format, source, hour AS hour_ms,
    sum(summarized) AS records, sum(accesses) AS accesses
FROM coverage_minutes
WHERE summarized > 0
GROUP BY ALL
ORDER BY ALL
