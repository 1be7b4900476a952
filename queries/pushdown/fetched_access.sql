-- name: fetched_access
-- description: The accesses of derived copies fetched from the warehouse (`fetched_access`, empty until a round adds some), and `access_to` redefined over them: reconstruct/classify then reads the copies' accesses the warehouse selected, as it reads the events' in the embedded run.
CREATE OR REPLACE TABLE fetched_access AS
SELECT * EXCLUDE (is_baseline, in_window) FROM exposed_access WHERE false;

-- The rows of the targets asked for: each copy as its own target, each view over one with
-- the copy as target (the targets tables of reconstruct/access).
CREATE OR REPLACE MACRO access_to(targets) AS TABLE
SELECT a.*
FROM fetched_access a
SEMI JOIN query_table(targets) t
    ON t.target = a.target AND t.via_view IS NOT DISTINCT FROM a.via_view;
