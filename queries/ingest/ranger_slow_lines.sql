-- name: ranger_slow_lines
-- description: Lines of the file the line-by-line parser reads (odd shapes, other zones' times, missing ids).
SELECT rowid + 1 AS source_line FROM ranger_rows WHERE NOT fast ORDER BY source_line
