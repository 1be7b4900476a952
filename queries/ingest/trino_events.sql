-- name: trino_events
-- description: Normalized events of the fast Trino lines, column for column what forensics/ingest/trino.py makes of the same line: one read per input table, one write for the output table (tests/test_ingest_bulk.py holds them to it).
-- param: source_file text  the file, relative to the case
INSERT INTO raw_events
WITH timed AS (
    SELECT coalesce(n.line, r.rowid + 1) AS source_line, r.*,
        CAST(date_trunc('millisecond', r.local_time - to_milliseconds(coalesce(r.zone_ms, o.offset_ms))) AS TIMESTAMP_MS) AS "time"
    FROM trino_rows r
    LEFT JOIN trino_line_numbers n ON n.idx = r.rowid
    LEFT JOIN trino_offsets o ON r.zone_ms IS NULL AND o.minute = date_trunc('minute', r.local_time)
    WHERE r.fast
),
events AS (
    SELECT t.*, e.item.schema AS object_schema, e.item.table AS object_table, e.item.columns AS columns,
        t.query_id || '#in' || (e.i - 1) AS event_id, 'read' AS op, 'SELECT' AS action
    FROM timed t,
        unnest(list_transform(t.inputs, lambda x, i: {item: x, i: i})) AS e(e)
    UNION ALL
    SELECT t.*, t.output.schema, t.output.table, NULL,
        t.query_id || '#out', 'write', coalesce(nullif(t.update_type, ''), 'INSERT')
    FROM timed t
    WHERE t.output IS NOT NULL
)
SELECT e.event_id,
    e."time",
    'trino-event' AS source_format,
    $source_file AS source_file,
    e.source_line,
    'trino' AS engine,
    lower(regexp_extract(e.user_name, '^[^/@]*')) AS principal,
    coalesce(nullif(e.principal, ''), e.user_name) AS principal_raw,
    e.op,
    e.action,
    CASE WHEN coalesce(e.object_schema, '') <> '' AND coalesce(e.object_table, '') <> ''
        THEN lower(trim(e.object_schema, '`')) || '.' || lower(trim(e.object_table, '`')) END AS object,
    e.columns,
    NULL AS path,
    CASE WHEN coalesce(e.denied, false) THEN 'denied' ELSE 'allowed' END AS result,
    NULL AS policy_id,
    nullif(e.client_ip, '') AS client_ip,
    NULL AS session_id,
    e.query_id,
    nullif(e.query_text, '') AS query_text,
    1 AS event_count,
    'trino:' || e.event_id AS dedup_key,
    NULL AS perm,
    NULL AS via_principal
FROM events e
