-- name: silences
-- description: Stretches of at least an hour in which one source wrote no event (between two of its events), with how many events the source wrote in the hour before the stretch and in the hour after it: the rate the silence is judged against.
WITH ordered AS (
    SELECT source_format, source, time,
        lag(time) OVER (PARTITION BY source_format, source ORDER BY time) AS previous
    FROM coverage_records
),
stretches AS (
    SELECT source_format, source, previous AS start, time AS "end"
    FROM ordered
    WHERE previous IS NOT NULL AND time - previous >= INTERVAL 1 HOUR
)
SELECT s.source_format, s.source, epoch_ms(s.start) AS start_ms, epoch_ms(s."end") AS end_ms,
    (SELECT count(*) FROM coverage_records r
        WHERE r.source_format = s.source_format AND r.source = s.source
        AND r.time > s.start - INTERVAL 1 HOUR AND r.time <= s.start) AS before,
    (SELECT count(*) FROM coverage_records r
        WHERE r.source_format = s.source_format AND r.source = s.source
        AND r.time >= s."end" AND r.time < s."end" + INTERVAL 1 HOUR) AS after
FROM stretches s
ORDER BY s.source_format, s.source, s.start
