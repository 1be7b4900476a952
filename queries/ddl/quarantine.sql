-- name: quarantine
-- description: The lines that were not parsed into events, with the reason, beside `events` (the manifest accounts for them): here the Ranger audits alone.
CREATE VIEW IF NOT EXISTS quarantine AS
SELECT * FROM ranger_audit_quarantine
