-- name: access_rows
-- description: Classified accesses in the columns of access_events.csv (times as text, UTC), with the columns, categories and partitions each read (`classified_details`, reconstruct/access_details).
-- A view, not a table: access_events.csv is written from it in one pass (the accesses, their
-- details and redacted texts joined as they are sorted and written). A table was a second
-- whole-width copy of every access with its statement text (2.4M rows at 10M events), made
-- and then read back once; unexplained_reads reads the view for its one classification.
CREATE OR REPLACE VIEW access_rows AS
SELECT c.event_id,
    strftime(c.time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time,
    c.principal, c.principal_raw, c.via_principal, c.engine, c.action,
    c.target AS object, c.via, c.result, c.classification,
    c.client_ip, c.query_id, r.query_redacted, c.source_file, c.source_line,
    c.columns, c.categories, c.partitions
FROM classified_details c
LEFT JOIN redactions r ON r.query_text = c.query_text
