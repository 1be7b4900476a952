-- name: exposed_access
-- description: Every access to an exposed object, with the two tests its classification needs: was the principal baseline-authorized (on the object or the view it came through), and did it fall in a window of the object. Computed once; each round of copy-following only adds what the copies change (reconstruct/classify).
-- What reconstruct/access is asked for: each exposed object as its own target, and each view
-- over one; a table, so that the engine knows its size when it plans the join with every event.
CREATE OR REPLACE TABLE exposed_targets AS
WITH exposed AS (SELECT DISTINCT object FROM windows)
SELECT object, object AS target, NULL::VARCHAR AS via_view FROM exposed
UNION ALL
SELECT vb.view, vb.base, vb.view FROM view_bases vb SEMI JOIN exposed x ON x.object = vb.base;

CREATE OR REPLACE TABLE exposed_access AS
-- A window of the file layer (HDFS permissions) opened the files only: it lets in HDFS
-- reads, never reads through Hive's or Trino's own authorization.
-- The baseline is a set of principals per object (`baseline_objects`, shared by the objects
-- the policies decide alike, `baseline_members`: each principal once, or '*' alone for
-- everyone). Each test is an equality join on the set and the principal (at most one row
-- each); an `IN` list over both columns would compare every access with every baseline row.
-- The window test is an equality join too: the windows of an object are first merged into
-- disjoint intervals per layer, so each access meets at most one interval of each.
WITH ordered AS (
    SELECT object, layer, start, "end",
        max(coalesce("end", 'infinity'::TIMESTAMP)) OVER (
            PARTITION BY object, layer ORDER BY start, "end" NULLS LAST
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS reach
    FROM windows
),
islands AS (
    SELECT object, layer, start, "end",
        sum(CASE WHEN start > reach THEN 1 ELSE 0 END) OVER (
            PARTITION BY object, layer ORDER BY start, "end" NULLS LAST
            ROWS UNBOUNDED PRECEDING
        ) AS island
    FROM ordered
),
merged AS (
    SELECT object, layer, min(start) AS start,
        CASE WHEN bool_or("end" IS NULL) THEN NULL ELSE max("end") END AS "end"
    FROM islands
    GROUP BY object, layer, island
)
SELECT s.*,
    coalesce(mt.set_id, et.set_id, mv.set_id, ev.set_id) IS NOT NULL AS is_baseline,
    coalesce(pt.object, ft.object, pv.object, fv.object) IS NOT NULL AS in_window
-- The exposed objects' accesses first: the tests below are computed for those rows only.
FROM access_once('exposed_targets') s
LEFT JOIN baseline_objects bt ON bt.object = s.target
LEFT JOIN baseline_members mt ON mt.set_id = bt.set_id AND mt.principal = s.principal
LEFT JOIN baseline_members et ON et.set_id = bt.set_id AND et.principal = '*'
LEFT JOIN baseline_objects bv ON bv.object = s.via_view
LEFT JOIN baseline_members mv ON mv.set_id = bv.set_id AND mv.principal = s.principal
LEFT JOIN baseline_members ev ON ev.set_id = bv.set_id AND ev.principal = '*'
LEFT JOIN merged pt ON pt.object = s.target AND pt.layer = 'policy'
    AND s.time >= pt.start AND (pt."end" IS NULL OR s.time < pt."end")
LEFT JOIN merged ft ON ft.object = s.target AND ft.layer = 'file' AND s.engine = 'hdfs'
    AND s.time >= ft.start AND (ft."end" IS NULL OR s.time < ft."end")
LEFT JOIN merged pv ON pv.object = s.via_view AND pv.layer = 'policy'
    AND s.time >= pv.start AND (pv."end" IS NULL OR s.time < pv."end")
LEFT JOIN merged fv ON fv.object = s.via_view AND fv.layer = 'file' AND s.engine = 'hdfs'
    AND s.time >= fv.start AND (fv."end" IS NULL OR s.time < fv."end")
