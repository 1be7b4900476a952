-- name: events
-- description: Deduplicated events with storage paths resolved to objects (longest location prefix).
-- Same Ranger id (or Trino query and input) twice: the copy in the first file/line is kept.
-- One HDFS open in both the NameNode log and the Ranger HDFS plugin (same principal, path
-- and second): paired one to one, the NameNode line is kept. A text-only record (Hive lineage,
-- HiveServer2 log) takes the statement key of the audited run it describes; a lineage record
-- of a run no audit saw takes the key of the HiveServer2 statement of that run (set after the
-- table is written, below).
CREATE OR REPLACE TABLE events AS
-- Copies are rare: keys that may repeat are found by their 64-bit hash over one column,
-- and only the events of those keys are ranked (exactly, by the key itself).
WITH repeated AS (
    SELECT hash(coalesce(dedup_key, event_id)) AS h
    FROM raw_events
    GROUP BY h
    HAVING count(*) > 1
),
later_copies AS (
    SELECT event_id, source_file, source_line
    FROM (
        SELECT event_id, source_file, source_line,
            row_number() OVER (
                PARTITION BY coalesce(dedup_key, event_id)
                ORDER BY source_file, source_line, event_id
            ) AS copy_no
        FROM raw_events
        WHERE hash(coalesce(dedup_key, event_id)) IN (SELECT h FROM repeated)
    )
    WHERE copy_no > 1
),
-- Only the columns the pairing needs: the events themselves (wide rows with statement
-- text) are read once, at the end, so that no copy of them is held in between.
hdfs_reads AS (
    SELECT r.event_id, r.source_format, r.principal, r.path, r.time, r.source_file,
        r.source_line
    FROM raw_events r
    ANTI JOIN later_copies c
        ON c.event_id = r.event_id AND c.source_file = r.source_file
        AND c.source_line = r.source_line
    WHERE r.engine = 'hdfs' AND r.op = 'read' AND r.path IS NOT NULL
),
hdfs_ranked AS (
    SELECT event_id, source_format, source_file, source_line,
        row_number() OVER (
            PARTITION BY principal, path, date_trunc('second', time), source_format
            ORDER BY source_file, source_line
        ) AS rank_in_second,
        count(*) FILTER (WHERE source_format = 'hdfs-audit') OVER (
            PARTITION BY principal, path, date_trunc('second', time)
        ) AS namenode_copies
    FROM hdfs_reads
),
dropped AS (
    SELECT event_id, source_file, source_line FROM later_copies
    UNION ALL
    SELECT event_id, source_file, source_line FROM hdfs_ranked
    WHERE source_format = 'ranger-audit' AND rank_in_second <= namenode_copies
),
-- A path's prefixes are cut only at the depths some location has (a warehouse keeps its
-- tables at a few depths), not at every folder of the path.
location_depths AS (
    SELECT DISTINCT len(string_split(location, '/')) AS n
    FROM catalog_objects
    WHERE location IS NOT NULL
),
prefixes AS (
    SELECT DISTINCT p.path,
        array_to_string(list_slice(string_split(p.path, '/'), 1, d.n), '/') AS prefix
    FROM (SELECT DISTINCT path FROM raw_events WHERE path IS NOT NULL AND object IS NULL) p
    JOIN location_depths d ON d.n <= len(string_split(p.path, '/'))
),
path_objects AS (
    SELECT p.path, arg_max(c.object, length(c.location)) AS object
    FROM prefixes p JOIN catalog_objects c ON c.location = p.prefix
    GROUP BY p.path
),
resolved AS (
    SELECT k.* REPLACE (coalesce(k.object, po.object) AS object),
        CASE
            WHEN k.engine = 'trino' THEN 'trino:' || k.query_id
            WHEN k.source_format = 'hive-lineage'
                THEN 'lineage:' || md5(concat_ws('|', k.principal, strftime(k.time, '%Y-%m-%dT%H:%M:%S.%g'), k.query_text))
            WHEN k.source_format = 'hiveserver2-log' THEN 'hs2:' || k.query_id
            WHEN k.query_text IS NOT NULL
                THEN 'stmt:' || md5(concat_ws('|', k.principal, coalesce(k.session_id, ''), k.query_text))
        END AS statement_key
    FROM raw_events k
    ANTI JOIN dropped d
        ON d.event_id = k.event_id AND d.source_file = k.source_file
        AND d.source_line = k.source_line
    LEFT JOIN path_objects po ON po.path = k.path
)
SELECT * FROM resolved;

-- A text-only record and the audit events of the same run are one statement: same principal
-- and text, the audit checked at or after the query started (lineage has whole seconds)
-- and within ten minutes of it; the nearest run wins. A lineage record with no audited run
-- may join a HiveServer2 statement the same way (an audited run first). Text-only records
-- are few: their keys are found apart and set in place, not by rewriting every event.
CREATE OR REPLACE TEMP TABLE text_statement_keys AS
WITH text_runs AS (
    SELECT l.event_id, o.statement_key,
        row_number() OVER (
            PARTITION BY l.event_id
            ORDER BY o.source_format = 'hiveserver2-log',
                abs(date_diff('millisecond', l.time, o.time)), o.statement_key
        ) AS nearness
    FROM events l JOIN events o
        ON o.principal = l.principal AND trim(o.query_text) = l.query_text
        AND (o.source_format NOT IN ('hive-lineage', 'hiveserver2-log')
            OR (l.source_format = 'hive-lineage' AND o.source_format = 'hiveserver2-log'))
        AND o.time >= l.time - INTERVAL 1 SECOND AND o.time < l.time + INTERVAL 10 MINUTE
    WHERE l.source_format IN ('hive-lineage', 'hiveserver2-log')
),
-- The audited run a HiveServer2 statement joined, for the lineage records that joined it.
hs2_runs AS (
    SELECT r.statement_key AS own, min(m.statement_key) AS audited
    FROM events r JOIN text_runs m ON m.event_id = r.event_id AND m.nearness = 1
    WHERE r.source_format = 'hiveserver2-log'
    GROUP BY r.statement_key
)
SELECT m.event_id, coalesce(h.audited, m.statement_key) AS statement_key
FROM text_runs m LEFT JOIN hs2_runs h ON h.own = m.statement_key
WHERE m.nearness = 1;

UPDATE events SET statement_key = t.statement_key
FROM text_statement_keys t
WHERE events.event_id = t.event_id;
