-- name: quarantine_sample
-- description: The first quarantined lines of one log file and their reasons, read again to tell which known format they look like (forensics/ingest/sniff.py).
-- param: source_file text  the file, relative to the case
-- param: limit int  how many lines at most
-- param: blank text  the reason of a blank line (not sampled: it looks like nothing)
SELECT source_line, reason
FROM quarantine
WHERE source_file = $source_file AND reason <> $blank
ORDER BY source_line
LIMIT $limit
