-- name: ranger_audit_quarantine
-- description: Ranger audit lines that could not be used, with the reason, in the columns of forensics.schema.QUARANTINE_SCHEMA. Point the toolkit's `quarantine` at this view (or a UNION ALL of it with other sources).
CREATE VIEW IF NOT EXISTS ranger_audit_quarantine AS
SELECT source_file, CAST(NULL AS BIGINT) AS source_line, 'ranger-audit' AS format, problem AS reason
FROM ranger_audit_parsed
WHERE problem IS NOT NULL
