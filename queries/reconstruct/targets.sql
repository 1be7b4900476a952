-- name: targets
-- description: What reconstruct/access is asked for: the exposed objects (`exposed_targets`) and the derived copies that are not exposed (`copy_targets`), each as its own target and with the views over it. Tables, so that the engine knows their size when it plans the join with every event.
CREATE OR REPLACE TABLE exposed_targets AS
WITH exposed AS (SELECT DISTINCT object FROM windows)
SELECT object, object AS target, NULL::VARCHAR AS via_view FROM exposed
UNION ALL
SELECT vb.view, vb.base, vb.view FROM view_bases vb SEMI JOIN exposed x ON x.object = vb.base;

CREATE OR REPLACE TABLE copy_targets AS
WITH copied AS (
    SELECT DISTINCT object FROM copies WHERE object NOT IN (SELECT object FROM windows)
)
SELECT object, object AS target, NULL::VARCHAR AS via_view FROM copied
UNION ALL
SELECT vb.view, vb.base, vb.view FROM view_bases vb SEMI JOIN copied c ON c.object = vb.base
