-- name: generic_events
-- description: Normalized events of the fast rows of a generic log, column for column what forensics/ingest/generic.py makes of the same row (tests/test_ingest_bulk_generic.py holds them to it).
-- param: source_file text  the file, relative to the case
-- param: time_kind text  local, utc, epoch_ms or epoch_s (as for generic_rows)
INSERT INTO raw_events BY NAME
SELECT coalesce(r.event_id, 'generic-' || left(sha256($source_file || chr(0) || CAST(r."row" AS VARCHAR) || chr(0) || '0'), 16)) AS event_id,
    CAST(date_trunc('millisecond', CASE WHEN $time_kind = 'local' THEN r.moment - to_milliseconds(o.offset_ms) ELSE r.moment END) AS TIMESTAMP_MS) AS "time",
    'generic' AS source_format,
    $source_file AS source_file,
    r."row" AS source_line,
    lower(coalesce(r.engine, 'generic')) AS engine,
    lower(regexp_extract(r.principal, '^[^/@]*')) AS principal,
    r.principal AS principal_raw,
    CASE
        WHEN r.op IS NOT NULL THEN r.op
        WHEN r.action IS NULL OR regexp_matches(r.action, '(?i)^(select|read|open|query|scan|get_?object|download)\b') THEN 'read'
        WHEN regexp_matches(r.action, '(?i)^(insert|write|create|update|merge|delete|put|upload|ctas|copy|unload)\b') THEN 'write'
        WHEN regexp_matches(r.action, '(?i)^(describe|desc|show|get|list|explain|stat)') THEN 'metadata'
        ELSE 'other'
    END AS op,
    coalesce(r.action, 'read') AS action,
    r.object_name AS "object",
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
FROM generic_rows r
LEFT JOIN generic_offsets o ON $time_kind = 'local' AND o.minute = date_trunc('minute', r.moment)
WHERE r.fast
ORDER BY r."row"
