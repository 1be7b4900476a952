-- name: trino_slow_lines
-- description: Lines of a Trino events file the line-by-line parser reads (odd types or shapes, other time layouts, unreadable lines).
SELECT coalesce(n.line, r.rowid + 1) AS source_line
FROM trino_rows r LEFT JOIN trino_line_numbers n ON n.idx = r.rowid
WHERE NOT r.fast
ORDER BY source_line
