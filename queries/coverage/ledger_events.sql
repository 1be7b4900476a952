-- name: ledger_events
-- description: The coverage ledger with the events behind each row: for a source's row, the events that source wrote in the interval (its minute buckets, `coverage_minutes`, counted exactly by `coverage_count`); for a `summarized` row (a whole hour), the source's summarized records of that hour; for an `unaudited` row, the Ranger events of that object the named policy decided in the interval (`coverage_decided`; none, when its audit was off).
CREATE OR REPLACE TEMP TABLE coverage AS
WITH bounds AS (
    SELECT l.*, epoch_ms(CAST(l.start AS TIMESTAMP)) AS lo, coalesce(epoch_ms(CAST(l."end" AS TIMESTAMP)), 9223372036854775807) AS hi
    FROM coverage_rows l
)
SELECT l.* EXCLUDE (lo, hi),
    CAST(CASE WHEN l.status = 'unaudited' THEN (
        SELECT count(*) FROM coverage_decided d
        WHERE d.object = l.object AND d.policy_id = l.policy_id AND d.ms >= l.lo AND d.ms < l.hi)
    WHEN l.status = 'summarized' THEN (  -- hour-aligned: whole buckets
        SELECT coalesce(sum(m.summarized), 0) FROM coverage_minutes m
        WHERE m.source_format = l.source_format AND m.source = l.source
            AND m.minute >= l.lo AND m.minute < l.hi)
    ELSE (
        SELECT coalesce(sum(coverage_count(m.minute, m.events, m.first_ms, m.last_ms, m.offsets,
                l.lo, l.hi)), 0)
        FROM coverage_minutes m
        WHERE m.source_format = l.source_format AND m.source = l.source
            AND m.last_ms >= l.lo AND m.first_ms < l.hi)
    END AS BIGINT) AS events
FROM bounds l
