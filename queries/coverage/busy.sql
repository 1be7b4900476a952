-- name: busy
-- description: How many events every other source wrote between two instants: whether the warehouse was in use while one source was silent at the edge of the period.
-- param: source_format text  the silent source's format
-- param: source text  the silent source
-- param: start timestamp  start of the silence
-- param: end timestamp  end of the silence
SELECT count(*) AS events
FROM coverage_records
WHERE time >= $start AND time < $end
    AND NOT (source_format = $source_format AND source = $source)
