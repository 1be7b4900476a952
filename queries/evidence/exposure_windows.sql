-- name: exposure_windows
-- description: One row per exposure window: the object, its interval, the layer it opened (policy: Ranger's decision; file: the HDFS permissions beneath it), what opened and closed it (a policy export, policy changes or permission changes, and the users who made them), and the policies that let in someone outside the baseline.
SELECT object,
    strftime(start, '%Y-%m-%dT%H:%M:%S.%gZ') AS start,
    strftime("end", '%Y-%m-%dT%H:%M:%S.%gZ') AS "end",
    layer,
    source,
    opened_by,
    nullif(array_to_string(list_sort(opened_by_users), ';'), '') AS opened_by_users,
    nullif(closed_by, '') AS closed_by,
    nullif(array_to_string(list_sort(closed_by_users), ';'), '') AS closed_by_users,
    nullif(array_to_string(list_sort(policy_ids), ';'), '') AS policy_ids,
    nullif(array_to_string(policy_versions, ';'), '') AS policy_versions
FROM windows
ORDER BY object, windows.start, layer, source, opened_by
