-- name: statement_sources
-- description: Per statement, the exposure-enabled reads and the reads of derived copies in it (an audited event names the statement before a lineage record does); kept in the engine, since at 100M events they are millions of rows (only those of statements that wrote something reach Python, reconstruct/copy_sources).
-- The rows of the objects not (yet) known as copies are those made before the first round
-- (reconstruct/exposed_sources): only the accesses of the copies are grouped again.
CREATE OR REPLACE TABLE statement_sources AS
SELECT s.* FROM exposed_sources s ANTI JOIN copies c ON c.object = s.source_object
UNION ALL
SELECT statement_key, target AS source_object, classification, min(principal) AS principal,
    min(time) AS time,
    arg_min(source_file, (text_only, source_file, source_line)) AS source_file,
    arg_min(source_line, (text_only, source_file, source_line)) AS source_line
FROM classification
WHERE statement_key IS NOT NULL AND classification IN ('exposure_enabled', 'secondary')
    AND target IN (SELECT object FROM copies)
GROUP BY statement_key, target, classification;

-- The statements not asked about in an earlier round, with their principal (a statement's
-- events all have it: write_statements reads only those principals' events).
CREATE OR REPLACE TABLE wanted_statements AS
SELECT DISTINCT s.statement_key, s.principal
FROM statement_sources s
ANTI JOIN asked_statements a ON a.statement_key = s.statement_key
ORDER BY ALL;

INSERT INTO asked_statements SELECT DISTINCT statement_key FROM wanted_statements;
