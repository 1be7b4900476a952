-- name: statement_sources
-- description: Per statement, the exposure-enabled reads and the reads of derived copies in it (an audited event names the statement before a lineage record does).
SELECT statement_key, target AS source_object, classification, min(principal) AS principal,
    min(time) AS time,
    arg_min(source_file, (text_only, source_file, source_line)) AS source_file,
    arg_min(source_line, (text_only, source_file, source_line)) AS source_line
FROM classification
WHERE statement_key IS NOT NULL AND classification IN ('exposure_enabled', 'secondary')
GROUP BY statement_key, target, classification
ORDER BY statement_key, target, classification
