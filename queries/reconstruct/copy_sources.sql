-- name: copy_sources
-- description: The rows of statement_sources whose statement wrote something (`writing_statements`, filled from what write_statements found): the reads each copy was made from.
SELECT s.statement_key, s.source_object, s.classification, s.principal, s.time, s.source_file,
    s.source_line
FROM statement_sources s
SEMI JOIN writing_statements w ON w.statement_key = s.statement_key
ORDER BY s.statement_key, s.source_object, s.classification
