-- name: hdfs_slow_lines
-- description: Lines of an HDFS audit block the line-by-line parser reads (odd bytes or shapes, other loggers' lines, impossible times).
SELECT line FROM hdfs_rows WHERE NOT fast ORDER BY line
