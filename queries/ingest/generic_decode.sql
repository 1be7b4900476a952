-- name: generic_decode
-- description: The view generic_events: each row of generic_kept (generic_rows of generic Parquet files, or of one block of a CSV file, forensics/ingest/bulk_csv.py, with its UTC offset) as the event forensics/ingest/generic.py makes of the same row, column for column (tests/test_ingest_bulk_generic.py and tests/test_ingest_bulk_csv.py hold them to it).
CREATE OR REPLACE TEMP VIEW generic_events AS
SELECT coalesce(r.event_id, 'generic-' || left(sha256(r.source_file || chr(0) || CAST(r."row" AS VARCHAR) || chr(0) || '0'), 16)) AS event_id,
    CAST(date_trunc('millisecond', CASE WHEN r.time_kind = 'local' THEN r.moment - to_milliseconds(r.offset_ms) ELSE r.moment END) AS TIMESTAMP_MS) AS "time",
    'generic' AS source_format,
    r.source_file,
    r."row" AS source_line,
    lower(coalesce(r.engine, 'generic')) AS engine,
    CASE WHEN r.principal_plain THEN r.principal ELSE lower(regexp_extract(r.principal, '^[^/@]*')) END AS principal,
    r.principal AS principal_raw,
    CASE
        WHEN r.op IS NOT NULL THEN r.op
        WHEN r.action IS NULL OR regexp_matches(r.action, '(?i)^(select|read|open|query|scan|get_?object|download)\b') THEN 'read'
        WHEN regexp_matches(r.action, '(?i)^(insert|write|create|update|merge|delete|put|upload|ctas|copy|unload)\b') THEN 'write'
        WHEN regexp_matches(r.action, '(?i)^(describe|desc|show|get|list|explain|stat)') THEN 'metadata'
        ELSE 'other'
    END AS op,
    coalesce(r.action, 'read') AS action,
    -- generic_rows' object_name, written out: a file whose objects are already names skips it.
    CASE
        WHEN r.object_plain THEN r."object"
        WHEN r."object" IS NOT NULL THEN lower(regexp_extract(r."object", '[A-Za-z0-9_]+\.[A-Za-z0-9_]+$'))
        WHEN r."database" IS NOT NULL AND r."table" IS NOT NULL THEN lower(r."database" || '.' || r."table")
    END AS "object",
    CASE WHEN r."columns" IS NOT NULL THEN array_to_string(list_sort(list_distinct(list_filter(
        list_transform(regexp_split_to_array(r."columns", '[,;]'), lambda x: lower(trim(x))), lambda x: x <> ''))), ';') END AS "columns",
    r.path,
    CASE WHEN r.result IN ('denied', 'deny', '0', 'false', 'failure', 'failed', 'error', 'rejected') THEN 'denied' ELSE 'allowed' END AS result,
    CAST(NULL AS BIGINT) AS policy_id,
    r.client_ip,
    r.session_id,
    r.query_id,
    r.query_text,
    coalesce(r.event_count, 1) AS event_count,
    CASE WHEN r.event_id IS NOT NULL THEN 'generic:' || r.event_id END AS dedup_key,
    CAST(NULL AS VARCHAR) AS perm,
    CAST(NULL AS VARCHAR) AS via_principal
FROM generic_kept r
