-- name: statement_texts
-- description: Each distinct statement text behind an access to an exposed object or a copy, with its first event (for provenance).
SELECT query_text,
    arg_min(principal, (time, source_file, source_line)) AS principal,
    min(time) AS time,
    arg_min(source_file, (time, source_file, source_line)) AS source_file,
    arg_min(source_line, (time, source_file, source_line)) AS source_line,
    count(DISTINCT event_id) AS events
FROM classified
WHERE query_text IS NOT NULL
GROUP BY query_text
ORDER BY query_text
