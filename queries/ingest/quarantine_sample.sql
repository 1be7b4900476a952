-- name: quarantine_sample
-- description: The first quarantined lines of one log file and their reasons, read again to tell which known format they look like (forensics/ingest/sniff.py).
-- param: source_file text  the file, relative to the case
-- param: limit int  how many lines at most
SELECT source_line, reason
FROM quarantine
WHERE source_file = $source_file
ORDER BY source_line
LIMIT $limit
