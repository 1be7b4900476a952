-- name: exposed_access
-- description: Every access to an exposed object, with the two tests its classification needs: was the principal baseline-authorized (on the object or the view it came through), and did it fall in a window of the object. Computed once; each round of copy-following only adds what the copies change (reconstruct/classify).
CREATE OR REPLACE TABLE exposed_access AS
-- A window of the file layer (HDFS permissions) opened the files only: it lets in HDFS
-- reads, never reads through Hive's or Trino's own authorization.
-- The baseline is a set of principals per object (`baseline_objects`, shared by the objects
-- the policies decide alike, `baseline_members`: each principal once, or '*' alone for
-- everyone). Each test is an equality join on the set and the principal (at most one row
-- each); an `IN` list over both columns would compare every access with every baseline row.
SELECT s.*,
    coalesce(mt.set_id, et.set_id, mv.set_id, ev.set_id) IS NOT NULL AS is_baseline,
    EXISTS (
        SELECT 1 FROM windows w
        WHERE w.object = s.target AND s.time >= w.start
            AND (w."end" IS NULL OR s.time < w."end")
            AND (w.layer = 'policy' OR s.engine = 'hdfs')
    ) OR EXISTS (
        SELECT 1 FROM windows w
        WHERE w.object = s.via_view AND s.time >= w.start
            AND (w."end" IS NULL OR s.time < w."end")
            AND (w.layer = 'policy' OR s.engine = 'hdfs')
    ) AS in_window
FROM (
    -- The exposed objects' accesses first: the tests below (and the statement keys) are
    -- then computed for those rows only.
    SELECT a.*, statement_key_of(t.statement_key, a.engine, a.source_format, a.query_id,
        a.principal, a.time, a.session_id, a.query_text) AS statement_key
    FROM access_to((SELECT list(DISTINCT object ORDER BY object) FROM windows)) a
    LEFT JOIN text_statement_keys t ON t.event_id = a.event_id
) s
LEFT JOIN baseline_objects bt ON bt.object = s.target
LEFT JOIN baseline_members mt ON mt.set_id = bt.set_id AND mt.principal = s.principal
LEFT JOIN baseline_members et ON et.set_id = bt.set_id AND et.principal = '*'
LEFT JOIN baseline_objects bv ON bv.object = s.via_view
LEFT JOIN baseline_members mv ON mv.set_id = bv.set_id AND mv.principal = s.principal
LEFT JOIN baseline_members ev ON ev.set_id = bv.set_id AND ev.principal = '*'
