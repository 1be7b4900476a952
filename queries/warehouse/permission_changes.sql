-- name: permission_changes
-- description: Every allowed change of an HDFS path's permissions, owner or ACL among the warehouse's events, in time order, as the embedded run reads them from the parsed logs (queries/normalize/permission_changes.sql).
SELECT `time`, path, action AS command, perm, principal, source_file, source_line
FROM events
WHERE engine = 'hdfs'
    AND result = 'allowed'
    AND path IS NOT NULL
    AND lower(action) IN ('setpermission', 'setowner', 'setacl', 'modifyaclentries',
        'removeaclentries', 'removeacl', 'removedefaultacl')
ORDER BY `time`, source_file, source_line
