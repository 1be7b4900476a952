-- name: statement_sources
-- description: Per statement, the exposure-enabled reads and the reads of derived copies in it (an audited event names the statement before a lineage record does); kept in the engine, since at 100M events they are millions of rows (only those of statements that wrote something reach Python, reconstruct/copy_sources).
CREATE OR REPLACE TABLE statement_sources AS
SELECT statement_key, target AS source_object, classification, min(principal) AS principal,
    min(time) AS time,
    arg_min(source_file, (text_only, source_file, source_line)) AS source_file,
    arg_min(source_line, (text_only, source_file, source_line)) AS source_line,
    -- The hash of the statement's text (a key made from the text has one), for
    -- reconstruct/write_statements_narrowed.
    min(hash(query_text)) AS text_hash
FROM classification
WHERE statement_key IS NOT NULL AND classification IN ('exposure_enabled', 'secondary')
GROUP BY statement_key, target, classification;

-- The statements not asked about in an earlier round, with their principal (a statement's
-- events all have it: write_statements reads only those principals' events).
CREATE OR REPLACE TABLE wanted_statements AS
SELECT DISTINCT s.statement_key, s.principal
FROM statement_sources s
ANTI JOIN asked_statements a ON a.statement_key = s.statement_key
ORDER BY ALL;

-- The (principal, text hash) of each wanted statement, which the events of a statement whose
-- key is made from its principal and text must have (reconstruct/write_statements_narrowed).
CREATE OR REPLACE TABLE wanted_texts AS
SELECT DISTINCT s.principal, s.text_hash
FROM statement_sources s
SEMI JOIN wanted_statements w ON w.statement_key = s.statement_key;

INSERT INTO asked_statements SELECT DISTINCT statement_key FROM wanted_statements;
