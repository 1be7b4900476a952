-- name: written_path_objects
-- description: The objects of the storage paths each statement that may write wrote (`written_paths` of the candidates, as `path_objects` resolves them: the longest location prefix) added to the objects it wrote; the embedded run's `path_objects` holds every path of the events (normalize/events), the warehouse path's the paths written only (pushdown/written_paths).
UPDATE statement_candidates c
SET written = list_sort(list_distinct(coalesce(c.written, []) || w.objects))
FROM (
    SELECT p.statement_key, list(po.object) AS objects
    FROM (
        SELECT statement_key, unnest(written_paths) AS path
        FROM statement_candidates WHERE len(written_paths) > 0
    ) p
    JOIN path_objects po ON po.path = p.path
    GROUP BY p.statement_key
) w
WHERE w.statement_key = c.statement_key;

ALTER TABLE statement_candidates DROP COLUMN written_paths
