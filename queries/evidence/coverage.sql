-- name: coverage
-- description: One row per interval of each log source, with what is known about its completeness: covered, gap, expired, unaudited or summarized (see docs/case-and-evidence.md), and the exposure windows it overlaps.
SELECT source_format,
    source,
    strftime(start, '%Y-%m-%dT%H:%M:%S.%gZ') AS start,
    strftime("end", '%Y-%m-%dT%H:%M:%S.%gZ') AS "end",
    status,
    reason,
    events,
    windows_overlapped,
    object
FROM coverage
ORDER BY source_format, source, coverage.start, coverage."end" NULLS LAST, status, reason, object
