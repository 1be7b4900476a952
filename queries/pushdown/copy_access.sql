-- name: copy_access
-- description: The accesses of a round's new copy targets (`copy_targets`, sent from the embedded engine) in the warehouse, in one scan of the events: the rows reconstruct/access's `access_to('copy_targets')` gives, without resolving every storage path again (the locations sent with the round are the copies' only, `copy_locations`) and without a second scan for the events named by path.
-- The storage paths under a copy's location, each with the object of its longest location
-- prefix (as normalize/events resolves paths; `copy_locations` holds each new copy's
-- location and every location under it, so a deeper object wins there as it does over the
-- whole catalog), kept when that object is asked for: a few rows, cached by the server and
-- broadcast to the scan of the events below.
CREATE OR REPLACE TABLE copy_paths AS
WITH location_depths AS (
    SELECT DISTINCT len(string_split(location, '/')) AS n
    FROM copy_locations
    WHERE location IS NOT NULL
),
prefixes AS (
    SELECT DISTINCT p.path,
        array_to_string(list_slice(string_split(p.path, '/'), 1, d.n), '/') AS prefix
    FROM (SELECT DISTINCT path FROM raw_events WHERE path IS NOT NULL AND object IS NULL) p
    JOIN location_depths d ON d.n <= len(string_split(p.path, '/'))
),
found AS (
    SELECT p.path, arg_max(c.object, length(c.location)) AS object
    FROM prefixes p JOIN copy_locations c ON c.location = p.prefix
    GROUP BY p.path
)
SELECT path, object FROM found WHERE object IN (SELECT object FROM copy_targets);

-- Each event once: its own object, or for a bare path the object the path resolves to;
-- then reconstruct/access's `access_columns`, as `access_to` ends. A table (cached by the
-- server, a few rows): computed by every core of the server at once, where the rows of a
-- query are computed one partition after another as they are fetched.
CREATE OR REPLACE TABLE copy_access AS
WITH matched AS (
    SELECT k.* REPLACE (coalesce(k.object, cp.object) AS object), t.target, t.via_view
    FROM raw_events k
    LEFT JOIN copy_paths cp ON k.object IS NULL AND cp.path = k.path
    JOIN copy_targets t ON t.object = coalesce(k.object, cp.object)
)
SELECT * FROM access_columns(matched)
