-- name: access
-- description: One row per (event, object touched): the object the log names, and for a view every object under it.
-- A view, not a table: only the accesses to exposed objects and to copies are ever read
-- (reconstruct/exposed_access, reconstruct/classify), so no copy of every event is made.
-- Without statement keys: those readers add them (`statement_key_of`) to the rows they keep.
CREATE OR REPLACE VIEW access AS
SELECT e.*, e.object AS target,
    CASE e.engine WHEN 'hdfs' THEN 'path' WHEN 'trino' THEN 'trino' ELSE 'direct' END AS via,
    NULL::VARCHAR AS via_view
FROM resolved_events e
WHERE e.object IS NOT NULL
UNION ALL
SELECT e.*, vb.base AS target, 'view:' || e.object AS via, e.object AS via_view
FROM resolved_events e JOIN view_bases vb ON vb.view = e.object
