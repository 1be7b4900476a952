-- name: ranger_events
-- description: Normalized events of the fast Ranger lines, column for column what forensics/ingest/ranger.py makes of the same line (tests/test_ingest_bulk.py holds them to it).
-- param: source_file text  the file, relative to the case
INSERT INTO raw_events
-- NOT MATERIALIZED: each of the two readers below scans ranger_rows itself; a materialized
-- CTE buffered every row (statements included) for the second reader, a copy that cost a
-- fifth of this query and passed the rows on in blocks of 2,048 in whatever order threads
-- took them (tests/test_ingest_bulk.py holds the line order)
WITH numbered AS NOT MATERIALIZED (
    SELECT coalesce(r.line, n.line, r.rowid + 1) AS source_line, r.*
    FROM ranger_rows r LEFT JOIN ranger_line_numbers n ON n.idx = r.rowid
),
hive AS (
    SELECT r.*,
        regexp_extract(coalesce(resource, ''), '^([^/]*)/([^/]*)(/(.*))?$', ['db', 'tbl', 'rest', 'cols']) AS parts,
        upper(coalesce(access, '')) AS verb
    FROM numbered r
    WHERE fast AND repo_type = 3
),
hive_events AS (
    SELECT h.*,
        coalesce(res_type, '') IN ('@table', '@column', '') AND parts.db <> '' AND parts.tbl <> '' AS named,
        CASE
            WHEN verb IN ('UPDATE', 'CREATE', 'WRITE', 'INSERT') THEN 'write'
            WHEN verb = 'SELECT' THEN
                CASE WHEN regexp_matches(coalesce(req_data, ''), '^\s*(desc|describe|show|explain)\b', 'i')
                    THEN 'metadata' ELSE 'read' END
            WHEN verb IN ('USE', '_ANY', 'ANY', 'SHOW', 'DESCRIBE', 'READ_METADATA') THEN 'metadata'
            ELSE 'other'
        END AS verb_op
    FROM hive h
),
events AS (
    SELECT source_line, local_time, req_user, access, result, policy, cli_ip, sess, id,
        event_count, 'hive' AS engine, NULL AS path,
        CASE WHEN named THEN lower(trim(parts.db, '`')) || '.' || lower(trim(parts.tbl, '`')) END AS object,
        CASE WHEN named AND parts.rest <> '' AND parts.cols <> '' THEN array_to_string(
            list_sort(list_transform(list_filter(string_split(parts.cols, ','), lambda c: c <> ''), lambda c: lower(trim(c)))),
            ';'
        ) END AS columns,
        CASE WHEN NOT named AND verb_op = 'read' THEN 'metadata' ELSE verb_op END AS op,
        nullif(req_data, '') AS query_text
    FROM hive_events
    UNION ALL
    SELECT source_line, local_time, req_user, access, result, policy, cli_ip, sess, id,
        event_count, 'hdfs', nullif(resource, ''), NULL, NULL,
        CASE
            WHEN lower(coalesce(access, '')) IN ('open', 'read') THEN 'read'
            WHEN lower(coalesce(access, '')) IN ('write', 'create', 'append', 'delete', 'rename', 'mkdirs', 'truncate', 'concat')
                OR lower(coalesce(action, '')) = 'write' THEN 'write'
            WHEN lower(coalesce(access, '')) IN ('read_execute', 'execute', 'liststatus', 'getfileinfo', 'contentsummary') THEN 'metadata'
            WHEN lower(coalesce(action, '')) = 'read' THEN 'read'
            ELSE 'other'
        END,
        NULL
    FROM numbered
    WHERE fast AND repo_type = 1
)
SELECT e.id AS event_id,
    CAST(date_trunc('millisecond', e.local_time - to_milliseconds(o.offset_ms)) AS TIMESTAMP_MS) AS "time",
    'ranger-audit' AS source_format,
    $source_file AS source_file,
    e.source_line,
    e.engine,
    lower(regexp_extract(e.req_user, '^[^/@]*')) AS principal,
    e.req_user AS principal_raw,
    e.op,
    coalesce(e.access, '') AS action,
    e.object,
    e.columns,
    e.path,
    CASE e.result WHEN 1 THEN 'allowed' ELSE 'denied' END AS result,
    e.policy AS policy_id,
    nullif(e.cli_ip, '') AS client_ip,
    nullif(e.sess, '') AS session_id,
    NULL AS query_id,
    e.query_text,
    greatest(1, coalesce(nullif(e.event_count, 0), 1)) AS event_count,
    e.id AS dedup_key,
    NULL AS perm,
    NULL AS via_principal
FROM events e JOIN ranger_offsets o ON o.minute = date_trunc('minute', e.local_time)
