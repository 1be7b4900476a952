-- name: exposure_enabled_reads
-- description: One row per (principal, object) with at least one exposure-enabled read, with the columns its reads touched (`*` when one read's are unknown), their categories and the partitions read.
WITH r AS (
    SELECT * FROM classified_details WHERE classification = 'exposure_enabled'
)
SELECT r.principal, r.target AS object,
    strftime(min(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS first_read,
    strftime(max(r.time), '%Y-%m-%dT%H:%M:%S.%gZ') AS last_read,
    sum(r.event_count) AS read_events,
    string_agg(DISTINCT r.via, ';' ORDER BY r.via) AS via,
    string_agg(DISTINCT r.engine, ';' ORDER BY r.engine) AS engines,
    any_value(oc.sensitivity) AS sensitivity,
    CASE WHEN bool_or(r.columns = '*') THEN '*' ELSE array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.columns, ';'))))), ';') END AS columns,
    array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.categories, ';'))))), ';') AS categories,
    CASE WHEN bool_or(r.partitions = '*') THEN '*' ELSE array_to_string(list_sort(list_distinct(
        flatten(list(string_split(r.partitions, ';'))))), ';') END AS partitions
FROM r LEFT JOIN object_categories oc ON oc.object = r.target
GROUP BY r.principal, r.target
ORDER BY ALL
