-- name: hdfs_minutes
-- description: Each local wall-clock minute the fast lines of an HDFS audit block fall in; Python gives each its UTC offset in the case timezone (exactly as the line parser reads a time, across DST changes).
SELECT DISTINCT date_trunc('minute', local_time) AS minute
FROM hdfs_rows
WHERE fast
ORDER BY minute
