-- name: busy
-- description: How many events every other source wrote between two instants: whether the warehouse was in use while one source was silent at the edge of the period.
-- param: source_format text  the silent source's format
-- param: source text  the silent source
-- param: start timestamp  start of the silence
-- param: end timestamp  end of the silence
SELECT CAST(coalesce(sum(coverage_count(minute, events, first_ms, last_ms, offsets,
        epoch_ms(CAST($start AS TIMESTAMP)), epoch_ms(CAST($end AS TIMESTAMP)))), 0) AS BIGINT) AS events
FROM coverage_minutes
WHERE last_ms >= epoch_ms(CAST($start AS TIMESTAMP)) AND first_ms < epoch_ms(CAST($end AS TIMESTAMP))
    AND NOT (source_format = $source_format AND source = $source)
