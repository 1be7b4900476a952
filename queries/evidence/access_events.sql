-- name: access_events
-- description: Every event that touched an exposed object, a view over one, or a derived copy.
SELECT * FROM access_rows ORDER BY ALL
