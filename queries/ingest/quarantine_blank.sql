-- name: quarantine_blank
-- description: How many of one log file's quarantined lines are blank (forensics/ingest/sniff.py leaves them out: a blank line is no sign of a wrong format).
-- param: source_file text  the file, relative to the case
-- param: blank text  the reason of a blank line
SELECT count(*) AS blank
FROM quarantine
WHERE source_file = $source_file AND reason = $blank
