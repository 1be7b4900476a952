-- name: access
-- description: A table macro: one row per (event, object touched) for the objects asked for (a list): the event's own object, or, for an event on a view, each object under it.
-- A macro over a list, not a view over every event: only the accesses to exposed objects
-- and to copies are ever read (reconstruct/exposed_access, reconstruct/classify), and so
-- each question reads the events once, with no copy of them made. The events are matched
-- to the objects first (the object the log names, or for a bare path the object it resolves
-- to, as normalize/events resolves it), and only the matches are checked against the
-- events dropped as duplicates: the engine can then skip most events as it reads them.
-- Without statement keys: its readers add them (`statement_key_of`) to the rows they keep.
CREATE OR REPLACE MACRO access_to(wanted) AS TABLE
WITH targets AS (
    SELECT w AS object, w AS target, NULL::VARCHAR AS via_view
    FROM (SELECT unnest(wanted) AS w)
    UNION ALL
    SELECT vb.view, vb.base, vb.view FROM view_bases vb WHERE list_contains(wanted, vb.base)
),
matched AS (
    SELECT k.*, t.target, t.via_view
    FROM raw_events k JOIN targets t ON t.object = k.object
    UNION ALL
    SELECT k.* REPLACE (po.object AS object), t.target, t.via_view
    FROM raw_events k
    JOIN path_objects po ON po.path = k.path
    JOIN targets t ON t.object = po.object
    WHERE k.object IS NULL
)
SELECT e.* EXCLUDE (target, via_view), e.target,
    CASE
        WHEN e.via_view IS NOT NULL THEN 'view:' || e.object
        WHEN e.engine = 'hdfs' THEN 'path'
        WHEN e.engine = 'trino' THEN 'trino'
        ELSE 'direct'
    END AS via,
    e.via_view
FROM matched e
ANTI JOIN dropped_events d
    ON d.event_id = e.event_id AND d.source_file = e.source_file
    AND d.source_line = e.source_line
