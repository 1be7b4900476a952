-- name: events
-- description: Deduplicated events with storage paths resolved to objects (longest location prefix).
-- Same Ranger id (or Trino query and input) twice: the copy in the first file/line is kept.
-- One HDFS open in both the NameNode log and the Ranger HDFS plugin (same principal, path
-- and second): paired one to one, the NameNode line is kept.
CREATE OR REPLACE TABLE events AS
WITH keyed AS (
    SELECT *,
        row_number() OVER (
            PARTITION BY coalesce(dedup_key, event_id)
            ORDER BY source_file, source_line, event_id
        ) AS copy_no
    FROM raw_events
),
unique_events AS (
    SELECT * EXCLUDE (copy_no) FROM keyed WHERE copy_no = 1
),
hdfs_ranked AS (
    SELECT event_id, source_format,
        row_number() OVER (
            PARTITION BY principal, path, date_trunc('second', time), source_format
            ORDER BY source_file, source_line
        ) AS rank_in_second,
        count(*) FILTER (WHERE source_format = 'hdfs-audit') OVER (
            PARTITION BY principal, path, date_trunc('second', time)
        ) AS namenode_copies
    FROM unique_events
    WHERE engine = 'hdfs' AND op = 'read' AND path IS NOT NULL
),
hdfs_doubles AS (
    SELECT event_id FROM hdfs_ranked
    WHERE source_format = 'ranger-audit' AND rank_in_second <= namenode_copies
),
kept AS (
    SELECT * FROM unique_events WHERE event_id NOT IN (SELECT event_id FROM hdfs_doubles)
),
prefixes AS (
    SELECT DISTINCT path,
        array_to_string(list_slice(string_split(path, '/'), 1, n), '/') AS prefix
    FROM (SELECT DISTINCT path FROM kept WHERE path IS NOT NULL AND object IS NULL) p,
        range(2, len(string_split(path, '/')) + 1) AS r(n)
),
path_objects AS (
    SELECT p.path, arg_max(c.object, length(c.location)) AS object
    FROM prefixes p JOIN catalog_objects c ON c.location = p.prefix
    GROUP BY p.path
)
SELECT k.* REPLACE (coalesce(k.object, po.object) AS object),
    CASE
        WHEN k.engine = 'trino' THEN 'trino:' || k.query_id
        WHEN k.query_text IS NOT NULL
            THEN 'stmt:' || md5(concat_ws('|', k.principal, coalesce(k.session_id, ''), k.query_text))
    END AS statement_key
FROM kept k LEFT JOIN path_objects po ON po.path = k.path
