-- name: statement_texts
-- description: Each distinct statement text behind an access to an exposed object or a copy that may have written something (a write event of its statement, or text that says so), with its first event (for provenance). Only these are read by the SQL stage: a statement that writes nothing copies nothing, and its log already names what it read.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
WITH writing AS (
    SELECT DISTINCT statement_key FROM events
    WHERE op = 'write' AND statement_key IS NOT NULL
)
SELECT query_text,
    arg_min(principal, (time, source_file, source_line)) AS principal,
    min(time) AS time,
    arg_min(source_file, (time, source_file, source_line)) AS source_file,
    arg_min(source_line, (time, source_file, source_line)) AS source_line,
    count(DISTINCT event_id) AS events
FROM classified
WHERE query_text IS NOT NULL
    AND (statement_key IN (SELECT statement_key FROM writing)
        OR regexp_matches(query_text, $may_write))
GROUP BY query_text
ORDER BY query_text
