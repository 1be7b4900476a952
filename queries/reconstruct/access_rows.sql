-- name: access_rows
-- description: Classified accesses in the columns of access_events.csv (times as text, UTC), with the columns, categories and partitions each read (`classified_details`, reconstruct/access_details).
CREATE OR REPLACE TABLE access_rows AS
SELECT c.event_id,
    strftime(c.time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time,
    c.principal, c.principal_raw, c.via_principal, c.engine, c.action,
    c.target AS object, c.via, c.result, c.classification,
    c.client_ip, c.query_id, r.query_redacted, c.source_file, c.source_line,
    c.columns, c.categories, c.partitions
FROM classified_details c
LEFT JOIN redactions r ON r.query_text = c.query_text
