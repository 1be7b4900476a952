-- name: trino_minutes
-- description: Each local wall-clock minute of the fast Trino lines whose createTime has no zone; Python gives each its UTC offset in the case timezone (exactly as the line parser reads such a time, across DST changes).
SELECT DISTINCT date_trunc('minute', local_time) AS minute
FROM trino_rows
WHERE fast AND zone_ms IS NULL
ORDER BY minute
