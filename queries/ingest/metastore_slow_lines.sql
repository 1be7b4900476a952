-- name: metastore_slow_lines
-- description: Lines of a metastore audit block the line-by-line parser reads (odd bytes or shapes, other loggers' lines, impossible times).
SELECT line FROM metastore_rows WHERE NOT fast ORDER BY line
