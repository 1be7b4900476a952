-- name: ranger_slow_lines
-- description: Lines of the file the line-by-line parser reads (odd shapes, other zones' times, missing ids).
SELECT coalesce(r.line, n.line, r.rowid + 1) AS source_line
FROM ranger_rows r LEFT JOIN ranger_line_numbers n ON n.idx = r.rowid
WHERE NOT r.fast
ORDER BY source_line
