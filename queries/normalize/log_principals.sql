-- name: log_principals
-- description: Every principal the parsed logs name (the scope evaluates policies for these and the directory).
SELECT DISTINCT principal FROM raw_events ORDER BY principal
