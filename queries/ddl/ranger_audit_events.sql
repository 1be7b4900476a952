-- name: ranger_audit_events
-- description: Ranger audit lines of the Hive (repoType 3) and HDFS (1) plugins as normalized events: the columns of forensics.schema.EVENT_SCHEMA, with the rules of forensics.ingest.ranger (principal short and lower-cased, db.table lower-cased from resource, op from access, evtTime from the plugin zone to UTC). An event delivered twice (same id) is kept once. Point the toolkit's `events` at this view (or a UNION ALL of it with other sources).
CREATE VIEW IF NOT EXISTS ranger_audit_events AS
WITH usable AS (
    SELECT *,
        repo_type = '3' AS is_hive,
        upper(access) AS access_upper,
        lower(access) AS access_lower,
        CASE
            WHEN repo_type = '3' AND res_type IN ('@table', '@column', '')
                AND size(parts) >= 2 AND parts[0] <> '' AND parts[1] <> ''
            THEN concat(lower(regexp_replace(parts[0], '`', '')), '.', lower(regexp_replace(parts[1], '`', '')))
        END AS hive_object,
        regexp_extract(resource, '^[^/]*/[^/]*/(.*)$', 1) AS column_list,
        row_number() OVER (PARTITION BY coalesce(id, md5(line)) ORDER BY source_file, line) AS copy_no
    FROM ranger_audit_parsed
    WHERE problem IS NULL AND repo_type IN ('1', '3')
)
SELECT
    coalesce(nullif(id, ''), concat('ranger-', substr(md5(line), 1, 16))) AS event_id,
    utc_time AS `time`,
    'ranger-audit' AS source_format,
    source_file,
    CAST(NULL AS BIGINT) AS source_line,
    CASE WHEN is_hive THEN 'hive' ELSE 'hdfs' END AS engine,
    lower(regexp_extract(trim(req_user), '^([^/@]*)', 1)) AS principal,
    req_user AS principal_raw,
    CASE
        WHEN is_hive AND access_upper IN ('UPDATE', 'CREATE', 'WRITE', 'INSERT') THEN 'write'
        WHEN is_hive AND access_upper = 'SELECT' AND hive_object IS NULL THEN 'metadata'
        WHEN is_hive AND access_upper = 'SELECT'
            AND lower(coalesce(req_data, '')) RLIKE '^\\s*(desc|describe|show|explain)\\b' THEN 'metadata'
        WHEN is_hive AND access_upper = 'SELECT' THEN 'read'
        WHEN is_hive AND access_upper IN ('USE', '_ANY', 'ANY', 'SHOW', 'DESCRIBE', 'READ_METADATA') THEN 'metadata'
        WHEN is_hive THEN 'other'
        WHEN access_lower IN ('open', 'read') THEN 'read'
        WHEN access_lower IN ('write', 'create', 'append', 'delete', 'rename', 'mkdirs', 'truncate', 'concat')
            OR lower(verb) = 'write' THEN 'write'
        WHEN access_lower IN ('read_execute', 'execute', 'liststatus', 'getfileinfo', 'contentsummary') THEN 'metadata'
        WHEN lower(verb) = 'read' THEN 'read'
        ELSE 'other'
    END AS op,
    access AS action,
    hive_object AS object,
    CASE
        WHEN hive_object IS NOT NULL AND column_list <> ''
        THEN concat_ws(';', sort_array(split(lower(regexp_replace(column_list, ' ', '')), ',')))
    END AS columns,
    CASE WHEN NOT is_hive THEN nullif(resource, '') END AS path,
    CASE result WHEN '1' THEN 'allowed' ELSE 'denied' END AS result,
    CASE WHEN policy RLIKE '^-?[0-9]{1,18}$' THEN CAST(policy AS BIGINT) END AS policy_id,
    nullif(cli_ip, '') AS client_ip,
    nullif(sess, '') AS session_id,
    CAST(NULL AS STRING) AS query_id,
    CASE WHEN is_hive THEN nullif(req_data, '') END AS query_text,
    CASE WHEN event_count RLIKE '^[0-9]{1,18}$' AND CAST(event_count AS BIGINT) > 1
        THEN CAST(event_count AS BIGINT) ELSE 1 END AS event_count,
    nullif(id, '') AS dedup_key,
    CAST(NULL AS STRING) AS perm,
    CAST(NULL AS STRING) AS via_principal
FROM usable
WHERE copy_no = 1
