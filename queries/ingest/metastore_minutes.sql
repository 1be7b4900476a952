-- name: metastore_minutes
-- description: Each local wall-clock minute the fast lines of a metastore audit block fall in; Python gives each its UTC offset in the case timezone (exactly as the line parser reads a time, across DST changes).
SELECT DISTINCT date_trunc('minute', local_time) AS minute
FROM metastore_rows
WHERE fast
ORDER BY minute
