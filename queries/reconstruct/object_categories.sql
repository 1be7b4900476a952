-- name: object_categories
-- description: Sensitivity categories per object; a view has those of the objects under it, a derived copy those of its sources.
CREATE OR REPLACE TABLE object_categories AS
WITH RECURSIVE inherited(object, category) AS (
    SELECT object, category FROM sensitivity
    UNION
    SELECT vb.view, s.category FROM view_bases vb JOIN sensitivity s ON s.object = vb.base
    UNION
    SELECT e.derived_object, i.category
    FROM copy_edges e JOIN inherited i ON i.object = e.source_object
)
SELECT object, string_agg(DISTINCT category, ';' ORDER BY category) AS sensitivity
FROM inherited
GROUP BY object
