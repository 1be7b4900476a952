-- name: events
-- description: Deduplicated events with storage paths resolved to objects (longest location prefix), as a view over raw_events.
-- Same Ranger id (or Trino query and input) twice: the copy in the first file/line is kept.
-- One HDFS open in both the NameNode log and the Ranger HDFS plugin (same principal, path
-- and second): paired one to one, the NameNode line is kept. A text-only record (Hive lineage,
-- HiveServer2 log) takes the statement key of the audited run it describes; a lineage record
-- of a run no audit saw takes the key of the HiveServer2 statement of that run.
-- `events` is a view, not a copy: what is dropped, the objects of paths and the keys of
-- text-only records are small tables, and each reader of `events` reads only the columns
-- and rows it needs from raw_events (a copy of every event, statement texts included, was
-- most of the run's time and memory at 10M events).
-- Only the Ranger HDFS plugin's opens can be dropped, and each only for a NameNode line of
-- its own (principal, path, second): only those seconds are ranked (none, when no Ranger
-- HDFS log is read). A table, so that the engine knows when there are none and does not
-- read the HDFS reads at all (as a CTE it read every one of them to pair them with none).
CREATE OR REPLACE TABLE ranger_seconds AS
SELECT DISTINCT principal, path, date_trunc('second', time) AS second
FROM raw_events
WHERE engine = 'hdfs' AND op = 'read' AND path IS NOT NULL
    AND source_format = 'ranger-audit';

-- The hashes of the keys more than one event has. The embedded engine has made this table
-- already (normalize/repeated_keys, by a sort); the warehouse makes it here, by a grouping
-- (there a window over every event with no partition would run as one task).
CREATE TABLE IF NOT EXISTS repeated_keys AS
SELECT hash(coalesce(dedup_key, event_id)) AS h
FROM raw_events
GROUP BY h
HAVING count(*) > 1;

CREATE OR REPLACE TABLE dropped_events AS
WITH later_copies AS (
    SELECT event_id, source_file, source_line
    FROM (
        SELECT event_id, source_file, source_line,
            row_number() OVER (
                PARTITION BY coalesce(dedup_key, event_id)
                ORDER BY source_file, source_line, event_id
            ) AS copy_no
        FROM raw_events
        WHERE hash(coalesce(dedup_key, event_id)) IN (SELECT h FROM repeated_keys)
    )
    WHERE copy_no > 1
),
-- The HDFS reads in those seconds, only the columns the pairing needs.
hdfs_reads AS (
    SELECT r.event_id, r.source_format, r.principal, r.path, r.time, r.source_file,
        r.source_line
    FROM raw_events r
    SEMI JOIN ranger_seconds s
        ON s.principal IS NOT DISTINCT FROM r.principal AND s.path = r.path
        AND s.second IS NOT DISTINCT FROM date_trunc('second', r.time)
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
)
SELECT event_id, source_file, source_line FROM dropped;

-- A path's prefixes are cut only at the depths some location has (a warehouse keeps its
-- tables at a few depths), not at every folder of the path; each path is split once, and
-- its (path, depth) pairs are distinct already.
CREATE OR REPLACE TABLE path_objects AS
WITH location_depths AS (
    SELECT DISTINCT len(string_split(location, '/')) AS n
    FROM catalog_objects
    WHERE location IS NOT NULL
),
prefixes AS (
    SELECT p.path, array_to_string(list_slice(p.parts, 1, d.n), '/') AS prefix
    FROM (
        SELECT path, string_split(path, '/') AS parts
        FROM (SELECT DISTINCT path FROM raw_events WHERE path IS NOT NULL AND object IS NULL)
    ) p
    JOIN location_depths d ON d.n <= array_length(p.parts)
),
found AS (
    SELECT p.path, arg_max(c.object, length(c.location)) AS object
    FROM prefixes p JOIN catalog_objects c ON c.location = p.prefix
    GROUP BY p.path
)
SELECT path, object FROM found;

-- A statement's key: the query id where the engine gives one, else the principal, session
-- and text. A text-only record takes the key of the audited run it describes (`text_key`,
-- from text_statement_keys). A macro, so that a reader of a few events computes it for
-- those only, after its filters (an md5 of every event's text costs seconds at 10M).
CREATE OR REPLACE MACRO statement_key_of(
    text_key, engine, source_format, query_id, principal, time, session_id, query_text
) AS coalesce(text_key, CASE
    WHEN engine = 'trino' THEN 'trino:' || query_id
    WHEN source_format = 'hive-lineage'
        THEN 'lineage:' || md5(concat_ws('|', principal, strftime(time, '%Y-%m-%dT%H:%M:%S.%g'), query_text))
    WHEN source_format = 'hiveserver2-log' THEN 'hs2:' || query_id
    WHEN query_text IS NOT NULL
        THEN 'stmt:' || md5(concat_ws('|', principal, coalesce(session_id, ''), query_text))
END);

-- The events kept (every event but those dropped as duplicates), as the log named them.
-- Read with a filter (reconstruct/writing_candidates, incomplete_candidates), the engine
-- applies it to the events before the anti join.
CREATE OR REPLACE VIEW kept_events AS
SELECT k.*
FROM raw_events k
ANTI JOIN dropped_events d
    ON d.event_id = k.event_id AND d.source_file = k.source_file
    AND d.source_line = k.source_line;

-- The events kept, with their objects, without statement keys.
CREATE OR REPLACE VIEW resolved_events AS
SELECT k.* REPLACE (coalesce(k.object, po.object) AS object)
FROM kept_events k
LEFT JOIN path_objects po ON po.path = k.path;

-- The events with their own statement keys, before text-only records take the keys of the
-- runs they describe.
CREATE OR REPLACE VIEW keyed_events AS
SELECT *, statement_key_of(NULL, engine, source_format, query_id, principal, time, session_id,
    query_text) AS statement_key
FROM resolved_events;

-- Filled by normalize/text_statement_keys when there are text-only records.
CREATE OR REPLACE TABLE text_statement_keys (event_id VARCHAR, statement_key VARCHAR);

CREATE OR REPLACE VIEW events AS
SELECT k.*, statement_key_of(t.statement_key, k.engine, k.source_format, k.query_id,
    k.principal, k.time, k.session_id, k.query_text) AS statement_key
FROM resolved_events k LEFT JOIN text_statement_keys t ON t.event_id = k.event_id;
