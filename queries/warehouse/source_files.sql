-- name: source_files
-- description: Events the warehouse holds per source file and format: the manifest's account of input that was parsed elsewhere.
SELECT source_file, source_format, count(*) AS events
FROM events
GROUP BY source_file, source_format
ORDER BY source_file, source_format
