-- name: events
-- description: The normalized events the toolkit reads (forensics investigate --profile): here the Ranger audits alone; add UNION ALL branches for other sources normalized to the same columns.
CREATE VIEW IF NOT EXISTS events AS
SELECT * FROM ranger_audit_events
