-- name: statement_texts
-- description: Each distinct statement text behind an access to an exposed object or a copy that may have written something (a write event of its statement, or text that says so), with its first event (for provenance). Only these are read by the SQL stage: a statement that writes nothing copies nothing, and its log already names what it read.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- The statements with a write event are those of `statement_candidates` that wrote (built
-- before copy-following from the events of the principals with a write event; the full
-- pushdown fills it with what the warehouse found): keying every event's statement again
-- to find them was most of this query's time.
WITH writing AS (
    SELECT statement_key FROM statement_candidates WHERE wrote
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
