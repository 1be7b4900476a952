-- name: permission_changes
-- description: Every allowed change of an HDFS path's permissions, owner or ACL that the parsed logs record, in time order: the file layer's windows come from these (forensics.policy.posix).
SELECT time, path, action AS command, perm, principal, source_file, source_line
FROM raw_events
WHERE engine = 'hdfs'
    AND result = 'allowed'
    AND path IS NOT NULL
    AND lower(action) IN ('setpermission', 'setowner', 'setacl', 'modifyaclentries',
        'removeaclentries', 'removeacl', 'removedefaultacl')
ORDER BY time, source_file, source_line
