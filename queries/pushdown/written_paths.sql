-- name: written_paths
-- description: The objects of the storage paths the statements that may write wrote (`written_paths` of reconstruct/writing_candidates and incomplete_candidates, fetched from the warehouse), resolved here against every location of the catalog into this session's `path_objects` (empty here: no events are read here), which reconstruct/written_path_objects then adds to the objects written, as the embedded run does: the warehouse knows only the locations sent to it (the exposed objects' and the copies'), so there a write logged by its path into the folder of any other table named no object, and that table was never followed as a copy.
-- A path takes the object of its longest location prefix, cut at the depths some location
-- has (as normalize/events makes `path_objects`), over the few paths written only.
CREATE OR REPLACE TABLE path_objects AS
WITH written AS (
    SELECT DISTINCT unnest(written_paths) AS path FROM statement_candidates
),
location_depths AS (
    SELECT DISTINCT len(string_split(location, '/')) AS n
    FROM catalog_objects
    WHERE location IS NOT NULL
),
prefixes AS (
    SELECT DISTINCT p.path,
        array_to_string(list_slice(string_split(p.path, '/'), 1, d.n), '/') AS prefix
    FROM written p
    JOIN location_depths d ON d.n <= len(string_split(p.path, '/'))
),
found AS (
    SELECT p.path, arg_max(c.object, length(c.location)) AS object
    FROM prefixes p JOIN catalog_objects c ON c.location = p.prefix
    GROUP BY p.path
)
SELECT path, object FROM found
