-- name: quarantine
-- description: Every input line that could not be parsed, with the reason.
SELECT source_file, source_line, format, reason FROM quarantine ORDER BY ALL
