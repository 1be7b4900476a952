-- name: access
-- description: A table macro: one row per (event, object touched) for the objects asked for (a list): the event's own object, or, for an event on a view, each object under it.
-- A macro over a list, not a view over every event: only the accesses to exposed objects
-- and to copies are ever read (reconstruct/exposed_access, reconstruct/classify), and so
-- every event is read once per question, in one join, with no copy of them made.
-- Without statement keys: its readers add them (`statement_key_of`) to the rows they keep.
CREATE OR REPLACE MACRO access_to(wanted) AS TABLE
WITH targets AS (
    SELECT w AS object, w AS target, NULL::VARCHAR AS via_view
    FROM (SELECT unnest(wanted) AS w)
    UNION ALL
    SELECT vb.view, vb.base, vb.view FROM view_bases vb WHERE list_contains(wanted, vb.base)
)
SELECT e.*, t.target,
    CASE
        WHEN t.via_view IS NOT NULL THEN 'view:' || e.object
        WHEN e.engine = 'hdfs' THEN 'path'
        WHEN e.engine = 'trino' THEN 'trino'
        ELSE 'direct'
    END AS via,
    t.via_view
FROM resolved_events e JOIN targets t ON t.object = e.object
