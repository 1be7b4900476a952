-- name: statement_texts
-- description: Each distinct statement text behind an access to an exposed object or a copy that may have written something (a write event of its statement, or text that says so), with its first event (for provenance). Only these are read by the SQL stage: a statement that writes nothing copies nothing, and its log already names what it read.
-- param: may_write text  regular expression for a text that may write (a writing keyword)
-- The statements with a write event are those of `statement_candidates` that wrote (built
-- before copy-following from the events of the principals with a write event; the full
-- pushdown fills it with what the warehouse found): keying every event's statement again
-- to find them was most of this query's time. A text that writes is tested only where one
-- can be: an access of a statement among the candidates, or with no statement key, or
-- naming no principal. Any other access's own event, keyed the same way, would have made
-- its statement a candidate had its text written (a statement is left out of them only when
-- none of its events that may write names a principal: it is asked about by its principal,
-- reconstruct/incomplete_candidates), so the regular expression runs on a few accesses, not
-- on every one.
SELECT c.query_text,
    arg_min(c.principal, (c.time, c.source_file, c.source_line)) AS principal,
    min(c.time) AS time,
    arg_min(c.source_file, (c.time, c.source_file, c.source_line)) AS source_file,
    arg_min(c.source_line, (c.time, c.source_file, c.source_line)) AS source_line,
    count(DISTINCT c.event_id) AS events
FROM classified c
LEFT JOIN statement_candidates s ON s.statement_key = c.statement_key
WHERE c.query_text IS NOT NULL
    AND (s.wrote
        OR ((s.statement_key IS NOT NULL OR c.statement_key IS NULL OR c.principal IS NULL)
            AND regexp_matches(c.query_text, $may_write)))
GROUP BY c.query_text
ORDER BY c.query_text
