-- name: hdfs_events
-- description: Normalized events of the fast lines of an HDFS audit block, column for column what forensics/ingest/hdfs.py makes of the same line (tests/test_ingest_bulk.py holds them to it).
-- param: source_file text  the file, relative to the case
INSERT INTO raw_events
WITH named AS (
    SELECT r.*,
        -- hdfs.py's command_verb: the options a rename carries are not part of its verb
        lower(split_part(cmd, ' (', 1)) AS verb,
        split_part(ugi, ' ', 1) AS raw_user,
        nullif(nullif(src, ''), 'null') AS src_path,
        nullif(nullif(dst, ''), 'null') AS dst_path
    FROM hdfs_rows r
    WHERE fast
)
SELECT 'hdfs-' || left(sha256($source_file || chr(0) || e.line::VARCHAR || chr(0) || '0'), 16) AS event_id,
    CAST(e.local_time - to_milliseconds(o.offset_ms) AS TIMESTAMP_MS) AS "time",
    'hdfs-audit' AS source_format,
    $source_file AS source_file,
    e.line AS source_line,
    'hdfs' AS engine,
    lower(regexp_extract(e.raw_user, '^[^/@]*')) AS principal,
    e.raw_user AS principal_raw,
    CASE
        WHEN e.verb = 'open' THEN 'read'
        WHEN e.verb IN ('getfileinfo', 'liststatus', 'contentsummary', 'getaclstatus', 'getxattrs',
            'listxattrs', 'checkaccess', 'getstoragepolicy', 'listcachedirectives',
            'listencryptionzones', 'getezforpath', 'listsnapshottabledirectory') THEN 'metadata'
        WHEN e.verb IN ('create', 'append', 'rename', 'delete', 'mkdirs', 'setpermission', 'setowner',
            'setacl', 'modifyaclentries', 'removeaclentries', 'removedefaultacl', 'removeacl',
            'setreplication', 'settimes', 'truncate', 'concat', 'setxattr', 'removexattr',
            'createsymlink') THEN 'write'
        ELSE 'other'
    END AS op,
    e.cmd AS action,
    NULL AS object,
    NULL AS columns,
    CASE WHEN e.verb IN ('rename', 'concat') AND e.dst_path IS NOT NULL THEN e.dst_path ELSE e.src_path END AS path,
    CASE WHEN lower(e.allowed) = 'true' THEN 'allowed' ELSE 'denied' END AS result,
    NULL AS policy_id,
    nullif(ltrim(coalesce(nullif(nullif(e.ip, ''), 'null'), ''), '/'), '') AS client_ip,
    NULL AS session_id,
    nullif(nullif(e.caller, ''), 'null') AS query_id,
    NULL AS query_text,
    1 AS event_count,
    NULL AS dedup_key,
    nullif(nullif(e.perm, ''), 'null') AS perm,
    -- hdfs.py's via_principal: the first word after the first ' via ' of ugi
    CASE WHEN contains(e.ugi, ' via ')
        THEN nullif(split_part(substr(e.ugi, strpos(e.ugi, ' via ') + 5), ' ', 1), '')
    END AS via_principal
FROM named e JOIN hdfs_offsets o ON o.minute = date_trunc('minute', e.local_time)
