-- name: ranger_minutes
-- description: Each local wall-clock minute the fast Ranger lines fall in; Python gives each its UTC offset in the case timezone (exactly as the line parser reads a time, across DST changes).
SELECT DISTINCT date_trunc('minute', local_time) AS minute
FROM ranger_rows
WHERE fast AND repo_type IN (1, 3)
ORDER BY minute
