-- name: silences
-- description: Stretches of at least an hour in which one source wrote no event (between two of its events), with how many events the source wrote in the hour before the stretch and in the hour after it: the rate the silence is judged against. Two events less than an hour apart never lie in minutes with an hour between them, so the stretches are the ones between a source's consecutive non-empty minutes (`coverage_minutes`), not between each pair of its events.
WITH merged AS (  -- a source's minutes, over all its files
    SELECT source_format, source, minute, min(first_ms) AS first_ms, max(last_ms) AS last_ms
    FROM coverage_minutes
    GROUP BY source_format, source, minute
),
ordered AS (
    SELECT source_format, source, first_ms,
        lag(last_ms) OVER (PARTITION BY source_format, source ORDER BY minute) AS previous
    FROM merged
),
stretches AS (
    SELECT source_format, source, previous AS start_ms, first_ms AS end_ms
    FROM ordered
    WHERE previous IS NOT NULL AND first_ms - previous >= 3600000
)
SELECT s.source_format, s.source, s.start_ms, s.end_ms,
    (SELECT CAST(coalesce(sum(coverage_count(m.minute, m.events, m.first_ms, m.last_ms, m.offsets,
            s.start_ms - 3600000 + 1, s.start_ms + 1)), 0) AS BIGINT)
        FROM coverage_minutes m WHERE m.source_format = s.source_format AND m.source = s.source
        AND m.last_ms > s.start_ms - 3600000 AND m.first_ms <= s.start_ms) AS before,
    (SELECT CAST(coalesce(sum(coverage_count(m.minute, m.events, m.first_ms, m.last_ms, m.offsets,
            s.end_ms, s.end_ms + 3600000)), 0) AS BIGINT)
        FROM coverage_minutes m WHERE m.source_format = s.source_format AND m.source = s.source
        AND m.last_ms >= s.end_ms AND m.first_ms < s.end_ms + 3600000) AS after
FROM stretches s
ORDER BY s.source_format, s.source, s.start_ms
