-- name: read_paths
-- description: Each distinct file a classified HDFS read opened, with the object it lies under and that object's location: the partition is the file's folders below the location.
SELECT DISTINCT c.path, c.target AS object, co.location
FROM classified c JOIN catalog_objects co ON co.object = c.target
WHERE c.engine = 'hdfs' AND c.op = 'read' AND c.path IS NOT NULL AND co.location IS NOT NULL
ORDER BY ALL
