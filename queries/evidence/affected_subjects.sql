-- name: affected_subjects
-- description: One row per data subject of the owner's index whose rows an exposure-enabled read may have returned: the objects and categories, first and last such read, number of readers, and the bound (`lower` when a read could have read a partition naming the subject, `upper` when only the whole object was read). Empty with counts (no subject is named).
SELECT i.subject,
    string_agg(DISTINCT r.object, ';' ORDER BY r.object) AS objects,
    array_to_string(list_sort(list_distinct(list_filter(
        flatten(list(string_split(r.categories, ';'))), lambda c: c <> ''))), ';') AS categories,
    strftime(min(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_read,
    strftime(max(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_read,
    count(DISTINCT r.principal) AS readers,
    CASE WHEN bool_or(r.bound = 'lower') THEN 'lower' ELSE 'upper' END AS bound
FROM subject_reach r
JOIN subject_input i ON i.object = r.object AND i.partition = r.partition
WHERE i.subject IS NOT NULL
GROUP BY i.subject
ORDER BY ALL
