-- name: copy_targets
-- description: What reconstruct/access is asked for in a round of copy-following: each derived copy that is not exposed as its own target, and each view over one. A table, so that the engine knows its size when it plans the join with every event.
CREATE OR REPLACE TABLE copy_targets AS
WITH copied AS (
    SELECT DISTINCT object FROM copies WHERE object NOT IN (SELECT object FROM windows)
)
SELECT object, object AS target, NULL::VARCHAR AS via_view FROM copied
UNION ALL
SELECT vb.view, vb.base, vb.view FROM view_bases vb SEMI JOIN copied c ON c.object = vb.base
