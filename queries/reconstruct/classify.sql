-- name: classify
-- description: Classify every access to an exposed object or a derived copy, per the evidence contract.
-- Order matters: a denied attempt is 'denied' whoever made it; metadata calls and writes are
-- never reads; an on-behalf service's file opens are never its own reads; reads of a copy
-- made from an exposed object are 'secondary'; then baseline, window, or outside the window.
-- A window of the file layer (HDFS permissions) opened the files only: it lets in HDFS
-- reads, never reads through Hive's or Trino's own authorization.
-- Text-only sources (Hive lineage, HiveServer2 log) are classified too, so that copies can
-- be followed from them, but `classified` (what evidence counts) leaves them out: they add
-- no read events.
CREATE OR REPLACE TABLE classified_all AS
WITH in_scope AS (
    SELECT a.*, c.generation AS copy_generation
    FROM access a LEFT JOIN copies c ON c.object = a.target
    WHERE a.target IN (SELECT object FROM windows)
        OR (c.object IS NOT NULL AND a.time >= c.created_at)
),
-- The baseline is a set of principals per object (`baseline_objects`, shared by the objects
-- the policies decide alike, `baseline_members`; principal '*' = everyone). Each test is an
-- equality on the set and the principal (hash joins); an `IN` list over both columns would
-- make the engine compare every access with every baseline row.
flags AS (
    SELECT s.*,
        EXISTS (
            SELECT 1 FROM baseline_members m
            WHERE m.set_id = bt.set_id AND m.principal = s.principal
        ) OR EXISTS (
            SELECT 1 FROM baseline_members m WHERE m.set_id = bt.set_id AND m.principal = '*'
        ) OR EXISTS (
            SELECT 1 FROM baseline_members m
            WHERE m.set_id = bv.set_id AND m.principal = s.principal
        ) OR EXISTS (
            SELECT 1 FROM baseline_members m WHERE m.set_id = bv.set_id AND m.principal = '*'
        ) AS is_baseline,
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
    FROM in_scope s
    LEFT JOIN baseline_objects bt ON bt.object = s.target
    LEFT JOIN baseline_objects bv ON bv.object = s.via_view
)
SELECT f.* EXCLUDE (is_baseline, in_window),
    f.source_format IN ('hive-lineage', 'hiveserver2-log') AS text_only,
    CASE
        WHEN f.result = 'denied' THEN 'denied'
        WHEN f.op = 'metadata' THEN 'metadata'
        WHEN f.op = 'write' THEN 'write'
        WHEN f.op = 'other' THEN 'other'
        WHEN f.engine = 'hdfs' AND f.principal IN (SELECT principal FROM on_behalf) THEN 'on_behalf'
        WHEN f.copy_generation IS NOT NULL THEN 'secondary'
        WHEN f.is_baseline THEN 'baseline'
        WHEN f.in_window THEN 'exposure_enabled'
        ELSE 'outside_window'
    END AS classification
FROM flags f;

CREATE OR REPLACE TABLE classified AS
SELECT * EXCLUDE (text_only) FROM classified_all WHERE NOT text_only
