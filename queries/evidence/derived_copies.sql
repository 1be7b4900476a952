-- name: derived_copies
-- description: One row per (source object, derived object, statement): copies made from exposed data.
SELECT source_object, derived_object, principal,
    strftime(time, '%Y-%m-%dT%H:%M:%S.%gZ') AS time,
    statement_kind, generation, query_id, source_file, source_line
FROM copy_edges
ORDER BY ALL
