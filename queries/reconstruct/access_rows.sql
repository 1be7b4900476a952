-- name: access_rows
-- description: Classified accesses in the columns of access_events.csv (times as text, UTC), with the columns, categories and partitions each read (access_details).
CREATE OR REPLACE TABLE access_rows AS
SELECT c.event_id,
    strftime(c.time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time,
    c.principal, c.principal_raw, c.via_principal, c.engine, c.action,
    c.target AS object, c.via, c.result, c.classification,
    c.client_ip, c.query_id, r.query_redacted, c.source_file, c.source_line,
    d.columns, d.categories, d.partitions
FROM classified c
LEFT JOIN redactions r ON r.query_text = c.query_text
LEFT JOIN access_details d
    ON d.event_id = c.event_id AND d.source_file = c.source_file
    AND d.source_line = c.source_line AND d.target = c.target
