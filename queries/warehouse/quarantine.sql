-- name: quarantine
-- description: Every input line that was not parsed into events where the logs were parsed, with the reason (the warehouse keeps them beside the events).
SELECT source_file, source_line, format, reason
FROM quarantine
ORDER BY source_file, source_line, format, reason
