-- name: unparsed_statements
-- description: Statements touching exposed objects or copies whose text the SQL stage could not read: the objects they named beyond what the log says are unknown, so they are listed, never dropped.
SELECT u.principal,
    strftime(u.time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time,
    u.events,
    u.reason,
    r.query_redacted,
    u.source_file,
    u.source_line
FROM unparsed u LEFT JOIN redactions r ON r.query_text = u.query_text
ORDER BY ALL
