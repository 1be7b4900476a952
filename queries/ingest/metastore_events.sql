-- name: metastore_events
-- description: Normalized events of the fast lines of a metastore audit block, column for column what forensics/ingest/metastore.py makes of the same line (tests/test_ingest_bulk.py holds them to it).
-- param: source_file text  the file, relative to the case
INSERT INTO raw_events
SELECT 'hms-' || left(sha256($source_file || chr(0) || r.line::VARCHAR || chr(0) || '0'), 16) AS event_id,
    CAST(r.local_time - to_milliseconds(o.offset_ms) AS TIMESTAMP_MS) AS "time",
    'metastore-audit' AS source_format,
    $source_file AS source_file,
    r.line AS source_line,
    'metastore' AS engine,
    lower(regexp_extract(split_part(r.ugi, ' ', 1), '^[^/@]*')) AS principal,
    split_part(r.ugi, ' ', 1) AS principal_raw,
    CASE WHEN regexp_matches(lower(r.name), '^(create|alter|drop|add|append|truncate|rename)_')
        THEN 'write' ELSE 'metadata' END AS op,
    r.name AS action,
    r.object,
    NULL AS columns,
    NULL AS path,
    'allowed' AS result,
    NULL AS policy_id,
    CASE WHEN r.ip NOT IN ('', 'unknown-ip-addr') THEN r.ip END AS client_ip,
    NULL AS session_id,
    NULL AS query_id,
    NULL AS query_text,
    1 AS event_count,
    NULL AS dedup_key,
    NULL AS perm,
    NULL AS via_principal
FROM metastore_rows r JOIN metastore_offsets o ON o.minute = date_trunc('minute', r.local_time)
WHERE r.fast
