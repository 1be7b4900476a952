-- name: access
-- description: Three table macros: one row per (event, object touched) for the objects asked for (a targets table): the event's own object, or, for an event on a view, each object under it; with the event's statement key. `access_to` for a few objects (the copies of a round), `access_once` for many (the exposed objects); `access_columns`, the columns both give (and the warehouse's pushdown/copy_access).
-- A macro over the objects asked for, not a view over every event: only the accesses to exposed objects
-- and to copies are ever read (reconstruct/exposed_access, reconstruct/classify), and so
-- each question reads the events once, with no copy of them made. The events are matched
-- to the objects first (the object the log names, or for a bare path the object it resolves
-- to, as normalize/events resolves it), and only the matches are checked against the
-- events dropped as duplicates: the engine can then skip most events as it reads them.
-- Only the columns classification and evidence read, and the statement key, computed for
-- the matched events only.

-- The rows of an access, from `matched` (the name of a relation of events, each with the object
-- it touched, its `target` and `via_view`): the events dropped as duplicates left out, the
-- columns classification and evidence read, and the statement key, computed for these
-- rows only. The tail of `access_to`, `access_once` and the warehouse's
-- pushdown/copy_access, written once.
CREATE OR REPLACE MACRO access_columns(matched) AS TABLE
SELECT e.event_id, e.time, e.source_format, e.source_file, e.source_line, e.engine,
    e.principal, e.principal_raw, e.via_principal, e.op, e.action, e.object, e.result, e.client_ip,
    e.query_id, e.query_text, e.event_count, e.target, e.columns AS log_columns, e.path,
    CASE
        WHEN e.via_view IS NOT NULL THEN 'view:' || e.object
        WHEN e.engine = 'hdfs' THEN 'path'
        WHEN e.engine = 'trino' THEN 'trino'
        ELSE 'direct'
    END AS via,
    e.via_view,
    statement_key_of(t.statement_key, e.engine, e.source_format, e.query_id, e.principal,
        e.time, e.session_id, e.query_text) AS statement_key
FROM query_table(matched) e
ANTI JOIN dropped_events d
    ON d.event_id = e.event_id AND d.source_file = e.source_file
    AND d.source_line = e.source_line
LEFT JOIN text_statement_keys t ON t.event_id = e.event_id;

CREATE OR REPLACE MACRO access_to(targets) AS TABLE
-- `targets`: the name of a table of (object, target, via_view): each object asked for as its
-- own target, and each view over one with that one as target (`exposed_targets`, made by
-- reconstruct/exposed_access, and `copy_targets`, by reconstruct/copy_targets).
WITH matched AS (
    SELECT k.*, t.target, t.via_view
    FROM raw_events k JOIN query_table(targets) t ON t.object = k.object
    UNION ALL
    SELECT k.* REPLACE (po.object AS object), t.target, t.via_view
    FROM raw_events k
    JOIN path_objects po ON po.path = k.path
    JOIN query_table(targets) t ON t.object = po.object
    WHERE k.object IS NULL
)
SELECT * FROM access_columns(matched);

-- The same rows as `access_to` for the same targets, the events read once: each event is
-- matched on one key, its object, or for an event with no object its path (the paths that
-- resolve to a target are added to the targets as keys, `by_path` telling the two kinds
-- apart). For many targets (the exposed objects: a quarter of the events at 10M), where
-- `access_to`'s second read of every event with a path cost a third of the query; for a few
-- (the copies of a round) `access_to` stays, as its reads by object and by path each let
-- the scan skip the events that match no target, which a key computed from two columns
-- cannot (tried: each round then decoded every event).
CREATE OR REPLACE MACRO access_once(targets) AS TABLE
WITH keys AS (
    SELECT t.object AS key, false AS by_path, t.object, t.target, t.via_view
    FROM query_table(targets) t
    UNION ALL
    SELECT po.path, true, t.object, t.target, t.via_view
    FROM path_objects po JOIN query_table(targets) t ON t.object = po.object
),
matched AS (
    SELECT k.* REPLACE (m.object AS object), m.target, m.via_view
    FROM raw_events k
    JOIN keys m ON m.key = coalesce(k.object, k.path) AND m.by_path = (k.object IS NULL)
)
SELECT * FROM access_columns(matched)
