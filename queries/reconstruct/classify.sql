-- name: classify
-- description: The classification view: every access to an exposed object or a derived copy, classified per the evidence contract, for the copies in `copies` when it is read.
-- Order matters: a denied attempt is 'denied' whoever made it; metadata calls and writes are
-- never reads; an on-behalf service's file opens are never its own reads; reads of a copy
-- made from an exposed object are 'secondary'; then baseline, window, or outside the window.
-- Text-only sources (Hive lineage, HiveServer2 log) are classified too, so that copies can
-- be followed from them, but `classified` (what evidence counts) leaves them out: they add
-- no read events.
-- A view: each round of copy-following reads it once (reconstruct/statement_sources) with
-- that round's copies; reconstruct/classified keeps the last round's.
-- A table macro over the reads of the copies (`copy_reads`: each round's, read from the events;
-- reconstruct/classified: the last round's, kept), so that the classified accesses are never
-- a copy of the exposed objects' accesses (2.4M wide rows at 10M events).
CREATE OR REPLACE MACRO classified_from(copy_reads) AS TABLE
-- The accesses to exposed objects (tested once, reconstruct/exposed_access), and the reads of
-- each derived copy made after the copy was (a read before it existed read something else).
WITH f AS (
    SELECT e.* EXCLUDE (is_baseline, in_window), c.generation AS copy_generation,
        e.is_baseline, e.in_window
    FROM exposed_access e LEFT JOIN copies c ON c.object = e.target AND e.time >= c.created_at
    UNION ALL
    SELECT r.*, false AS is_baseline, false AS in_window
    FROM query_table(copy_reads) r
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
FROM f;

CREATE OR REPLACE VIEW copy_reads AS
SELECT a.*, c.generation AS copy_generation
FROM access_to('copy_targets') a
JOIN copies c ON c.object = a.target AND a.time >= c.created_at;

CREATE OR REPLACE VIEW classification AS
SELECT * FROM classified_from('copy_reads')
